using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Pointwise (1×1) convolution + bias + ReLU6 as a GEMM over pixels: <c>out[p, co] = clamp(bias[co] + Σ_ci in[p, ci]·W[ci, co], 0, 6)</c>.
/// </summary>
/// <remarks>
/// Packed weight layout (written once by the generator, <c>PackPointwise</c>): panels of 16 output channels,
/// <c>packed[(panel·Cin + ci)·16 + j] = W[ci, panel·16 + j]</c> with BatchNorm's scale folded in. Every MobileNet v1
/// pointwise width is a multiple of 16, so panels are always full. One panel is one Vector512, two Vector256 or four
/// Vector128, so the same packed bytes serve every SIMD width.
/// Every path accumulates each output in the same order (bias, then ci = 0..Cin−1, one fused multiply-add each), so
/// all widths give bit-identical results.
/// </remarks>
public static unsafe class PointwiseKernels
{
    public const int PanelWidth = 16;

    /// <summary>Computes output channels <c>[panelStart·16, panelEnd·16)</c> of <paramref name="pixels"/> pixels
    /// (<paramref name="cout"/> stays the row stride of the output). A thread's share is a range of pixels (pass offset
    /// pointers and its pixel count) or a range of panels; either way each output is summed in the same order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(SimdPath path, float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout,
        int panelStart, int panelEnd)
    {
        Debug.Assert(cout % PanelWidth == 0 && 0 <= panelStart && panelStart <= panelEnd && panelEnd <= cout / PanelWidth);
        switch (path)
        {
            case SimdPath.Vector512: Vector512Kernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
            case SimdPath.Vector256: Vector256Kernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
            case SimdPath.Vector128: Vector128Kernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
            default: ScalarKernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
        }
    }

    /// <summary>6 pixels × 32 channels (two panels) per register tile: 12 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector512Kernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        const int MR = 6;
        var zero = Vector512<float>.Zero;
        var six = Vector512.Create(6f);
        int panels = panelEnd;
        int panel = panelStart;
        for (; panel + 2 <= panels; panel += 2)
        {
            float* w0 = packed + (long)panel * cin * PanelWidth;
            float* w1 = w0 + (long)cin * PanelWidth;
            var vb0 = Vector512.Load(bias + panel * PanelWidth);
            var vb1 = Vector512.Load(bias + panel * PanelWidth + 16);
            int p = 0;
            for (; p + MR <= pixels; p += MR)
            {
                float* a = input + (long)p * cin;
                Vector512<float> vacc00 = vb0, vacc01 = vb1, vacc10 = vb0, vacc11 = vb1, vacc20 = vb0, vacc21 = vb1,
                                 vacc30 = vb0, vacc31 = vb1, vacc40 = vb0, vacc41 = vb1, vacc50 = vb0, vacc51 = vb1;
                for (int ci = 0; ci < cin; ci++)
                {
                    var vw0 = Vector512.Load(w0 + ci * PanelWidth);
                    var vw1 = Vector512.Load(w1 + ci * PanelWidth);
                    var va = Vector512.Create(a[ci]);
                    vacc00 = Vector512.FusedMultiplyAdd(va, vw0, vacc00); vacc01 = Vector512.FusedMultiplyAdd(va, vw1, vacc01);
                    va = Vector512.Create(a[cin + ci]);
                    vacc10 = Vector512.FusedMultiplyAdd(va, vw0, vacc10); vacc11 = Vector512.FusedMultiplyAdd(va, vw1, vacc11);
                    va = Vector512.Create(a[2 * cin + ci]);
                    vacc20 = Vector512.FusedMultiplyAdd(va, vw0, vacc20); vacc21 = Vector512.FusedMultiplyAdd(va, vw1, vacc21);
                    va = Vector512.Create(a[3 * cin + ci]);
                    vacc30 = Vector512.FusedMultiplyAdd(va, vw0, vacc30); vacc31 = Vector512.FusedMultiplyAdd(va, vw1, vacc31);
                    va = Vector512.Create(a[4 * cin + ci]);
                    vacc40 = Vector512.FusedMultiplyAdd(va, vw0, vacc40); vacc41 = Vector512.FusedMultiplyAdd(va, vw1, vacc41);
                    va = Vector512.Create(a[5 * cin + ci]);
                    vacc50 = Vector512.FusedMultiplyAdd(va, vw0, vacc50); vacc51 = Vector512.FusedMultiplyAdd(va, vw1, vacc51);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                Vector512.Min(Vector512.Max(vacc00, zero), six).Store(o); Vector512.Min(Vector512.Max(vacc01, zero), six).Store(o + 16); o += cout;
                Vector512.Min(Vector512.Max(vacc10, zero), six).Store(o); Vector512.Min(Vector512.Max(vacc11, zero), six).Store(o + 16); o += cout;
                Vector512.Min(Vector512.Max(vacc20, zero), six).Store(o); Vector512.Min(Vector512.Max(vacc21, zero), six).Store(o + 16); o += cout;
                Vector512.Min(Vector512.Max(vacc30, zero), six).Store(o); Vector512.Min(Vector512.Max(vacc31, zero), six).Store(o + 16); o += cout;
                Vector512.Min(Vector512.Max(vacc40, zero), six).Store(o); Vector512.Min(Vector512.Max(vacc41, zero), six).Store(o + 16); o += cout;
                Vector512.Min(Vector512.Max(vacc50, zero), six).Store(o); Vector512.Min(Vector512.Max(vacc51, zero), six).Store(o + 16);
            }
            for (; p < pixels; p++) // row tail: fewer than MR pixels left
            {
                float* a = input + (long)p * cin;
                Vector512<float> vacc0 = vb0, vacc1 = vb1;
                for (int ci = 0; ci < cin; ci++)
                {
                    var va = Vector512.Create(a[ci]);
                    vacc0 = Vector512.FusedMultiplyAdd(va, Vector512.Load(w0 + ci * PanelWidth), vacc0);
                    vacc1 = Vector512.FusedMultiplyAdd(va, Vector512.Load(w1 + ci * PanelWidth), vacc1);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                Vector512.Min(Vector512.Max(vacc0, zero), six).Store(o);
                Vector512.Min(Vector512.Max(vacc1, zero), six).Store(o + 16);
            }
        }
        if (panel < panels) // odd panel count (e.g. 48 or 96 channels): one panel, 6 pixels × 16 channels
        {
            float* w0 = packed + (long)panel * cin * PanelWidth;
            var vb0 = Vector512.Load(bias + panel * PanelWidth);
            int p = 0;
            for (; p + MR <= pixels; p += MR)
            {
                float* a = input + (long)p * cin;
                Vector512<float> vacc0 = vb0, vacc1 = vb0, vacc2 = vb0, vacc3 = vb0, vacc4 = vb0, vacc5 = vb0;
                for (int ci = 0; ci < cin; ci++)
                {
                    var vw0 = Vector512.Load(w0 + ci * PanelWidth);
                    vacc0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[ci]), vw0, vacc0);
                    vacc1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[cin + ci]), vw0, vacc1);
                    vacc2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2 * cin + ci]), vw0, vacc2);
                    vacc3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3 * cin + ci]), vw0, vacc3);
                    vacc4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4 * cin + ci]), vw0, vacc4);
                    vacc5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5 * cin + ci]), vw0, vacc5);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                Vector512.Min(Vector512.Max(vacc0, zero), six).Store(o); o += cout;
                Vector512.Min(Vector512.Max(vacc1, zero), six).Store(o); o += cout;
                Vector512.Min(Vector512.Max(vacc2, zero), six).Store(o); o += cout;
                Vector512.Min(Vector512.Max(vacc3, zero), six).Store(o); o += cout;
                Vector512.Min(Vector512.Max(vacc4, zero), six).Store(o); o += cout;
                Vector512.Min(Vector512.Max(vacc5, zero), six).Store(o);
            }
            for (; p < pixels; p++)
            {
                float* a = input + (long)p * cin;
                Vector512<float> vacc0 = vb0;
                for (int ci = 0; ci < cin; ci++)
                    vacc0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[ci]), Vector512.Load(w0 + ci * PanelWidth), vacc0);
                Vector512.Min(Vector512.Max(vacc0, zero), six).Store(output + (long)p * cout + panel * PanelWidth);
            }
        }
    }

    /// <summary>6 pixels × 16 channels (one panel = two vectors) per tile: 12 accumulators, fits AVX2's 16 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector256Kernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        const int MR = 6;
        var zero = Vector256<float>.Zero;
        var six = Vector256.Create(6f);
        for (int panel = panelStart; panel < panelEnd; panel++)
        {
            float* w = packed + (long)panel * cin * PanelWidth;
            var vb0 = Vector256.Load(bias + panel * PanelWidth);
            var vb1 = Vector256.Load(bias + panel * PanelWidth + 8);
            int p = 0;
            for (; p + MR <= pixels; p += MR)
            {
                float* a = input + (long)p * cin;
                Vector256<float> vacc00 = vb0, vacc01 = vb1, vacc10 = vb0, vacc11 = vb1, vacc20 = vb0, vacc21 = vb1,
                                 vacc30 = vb0, vacc31 = vb1, vacc40 = vb0, vacc41 = vb1, vacc50 = vb0, vacc51 = vb1;
                for (int ci = 0; ci < cin; ci++)
                {
                    var vw0 = Vector256.Load(w + ci * PanelWidth);
                    var vw1 = Vector256.Load(w + ci * PanelWidth + 8);
                    var va = Vector256.Create(a[ci]);
                    vacc00 = Vector256.FusedMultiplyAdd(va, vw0, vacc00); vacc01 = Vector256.FusedMultiplyAdd(va, vw1, vacc01);
                    va = Vector256.Create(a[cin + ci]);
                    vacc10 = Vector256.FusedMultiplyAdd(va, vw0, vacc10); vacc11 = Vector256.FusedMultiplyAdd(va, vw1, vacc11);
                    va = Vector256.Create(a[2 * cin + ci]);
                    vacc20 = Vector256.FusedMultiplyAdd(va, vw0, vacc20); vacc21 = Vector256.FusedMultiplyAdd(va, vw1, vacc21);
                    va = Vector256.Create(a[3 * cin + ci]);
                    vacc30 = Vector256.FusedMultiplyAdd(va, vw0, vacc30); vacc31 = Vector256.FusedMultiplyAdd(va, vw1, vacc31);
                    va = Vector256.Create(a[4 * cin + ci]);
                    vacc40 = Vector256.FusedMultiplyAdd(va, vw0, vacc40); vacc41 = Vector256.FusedMultiplyAdd(va, vw1, vacc41);
                    va = Vector256.Create(a[5 * cin + ci]);
                    vacc50 = Vector256.FusedMultiplyAdd(va, vw0, vacc50); vacc51 = Vector256.FusedMultiplyAdd(va, vw1, vacc51);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                Vector256.Min(Vector256.Max(vacc00, zero), six).Store(o); Vector256.Min(Vector256.Max(vacc01, zero), six).Store(o + 8); o += cout;
                Vector256.Min(Vector256.Max(vacc10, zero), six).Store(o); Vector256.Min(Vector256.Max(vacc11, zero), six).Store(o + 8); o += cout;
                Vector256.Min(Vector256.Max(vacc20, zero), six).Store(o); Vector256.Min(Vector256.Max(vacc21, zero), six).Store(o + 8); o += cout;
                Vector256.Min(Vector256.Max(vacc30, zero), six).Store(o); Vector256.Min(Vector256.Max(vacc31, zero), six).Store(o + 8); o += cout;
                Vector256.Min(Vector256.Max(vacc40, zero), six).Store(o); Vector256.Min(Vector256.Max(vacc41, zero), six).Store(o + 8); o += cout;
                Vector256.Min(Vector256.Max(vacc50, zero), six).Store(o); Vector256.Min(Vector256.Max(vacc51, zero), six).Store(o + 8);
            }
            for (; p < pixels; p++)
            {
                float* a = input + (long)p * cin;
                Vector256<float> vacc0 = vb0, vacc1 = vb1;
                for (int ci = 0; ci < cin; ci++)
                {
                    var va = Vector256.Create(a[ci]);
                    vacc0 = Vector256.FusedMultiplyAdd(va, Vector256.Load(w + ci * PanelWidth), vacc0);
                    vacc1 = Vector256.FusedMultiplyAdd(va, Vector256.Load(w + ci * PanelWidth + 8), vacc1);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                Vector256.Min(Vector256.Max(vacc0, zero), six).Store(o);
                Vector256.Min(Vector256.Max(vacc1, zero), six).Store(o + 8);
            }
        }
    }

    /// <summary>4 pixels × 16 channels (one panel = four vectors) per tile: 16 accumulators, for NEON's 32 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector128Kernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        const int MR = 4;
        var zero = Vector128<float>.Zero;
        var six = Vector128.Create(6f);
        for (int panel = panelStart; panel < panelEnd; panel++)
        {
            float* w = packed + (long)panel * cin * PanelWidth;
            float* b = bias + panel * PanelWidth;
            var vb0 = Vector128.Load(b); var vb1 = Vector128.Load(b + 4); var vb2 = Vector128.Load(b + 8); var vb3 = Vector128.Load(b + 12);
            int p = 0;
            for (; p + MR <= pixels; p += MR)
            {
                float* a = input + (long)p * cin;
                Vector128<float> vacc00 = vb0, vacc01 = vb1, vacc02 = vb2, vacc03 = vb3;
                Vector128<float> vacc10 = vb0, vacc11 = vb1, vacc12 = vb2, vacc13 = vb3;
                Vector128<float> vacc20 = vb0, vacc21 = vb1, vacc22 = vb2, vacc23 = vb3;
                Vector128<float> vacc30 = vb0, vacc31 = vb1, vacc32 = vb2, vacc33 = vb3;
                for (int ci = 0; ci < cin; ci++)
                {
                    float* wk = w + ci * PanelWidth;
                    var vw0 = Vector128.Load(wk); var vw1 = Vector128.Load(wk + 4); var vw2 = Vector128.Load(wk + 8); var vw3 = Vector128.Load(wk + 12);
                    var va = Vector128.Create(a[ci]);
                    vacc00 = Vector128.FusedMultiplyAdd(va, vw0, vacc00); vacc01 = Vector128.FusedMultiplyAdd(va, vw1, vacc01);
                    vacc02 = Vector128.FusedMultiplyAdd(va, vw2, vacc02); vacc03 = Vector128.FusedMultiplyAdd(va, vw3, vacc03);
                    va = Vector128.Create(a[cin + ci]);
                    vacc10 = Vector128.FusedMultiplyAdd(va, vw0, vacc10); vacc11 = Vector128.FusedMultiplyAdd(va, vw1, vacc11);
                    vacc12 = Vector128.FusedMultiplyAdd(va, vw2, vacc12); vacc13 = Vector128.FusedMultiplyAdd(va, vw3, vacc13);
                    va = Vector128.Create(a[2 * cin + ci]);
                    vacc20 = Vector128.FusedMultiplyAdd(va, vw0, vacc20); vacc21 = Vector128.FusedMultiplyAdd(va, vw1, vacc21);
                    vacc22 = Vector128.FusedMultiplyAdd(va, vw2, vacc22); vacc23 = Vector128.FusedMultiplyAdd(va, vw3, vacc23);
                    va = Vector128.Create(a[3 * cin + ci]);
                    vacc30 = Vector128.FusedMultiplyAdd(va, vw0, vacc30); vacc31 = Vector128.FusedMultiplyAdd(va, vw1, vacc31);
                    vacc32 = Vector128.FusedMultiplyAdd(va, vw2, vacc32); vacc33 = Vector128.FusedMultiplyAdd(va, vw3, vacc33);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                StoreRelu6(o, vacc00, vacc01, vacc02, vacc03, zero, six); o += cout;
                StoreRelu6(o, vacc10, vacc11, vacc12, vacc13, zero, six); o += cout;
                StoreRelu6(o, vacc20, vacc21, vacc22, vacc23, zero, six); o += cout;
                StoreRelu6(o, vacc30, vacc31, vacc32, vacc33, zero, six);
            }
            for (; p < pixels; p++)
            {
                float* a = input + (long)p * cin;
                Vector128<float> vacc0 = vb0, vacc1 = vb1, vacc2 = vb2, vacc3 = vb3;
                for (int ci = 0; ci < cin; ci++)
                {
                    float* wk = w + ci * PanelWidth;
                    var va = Vector128.Create(a[ci]);
                    vacc0 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk), vacc0);
                    vacc1 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk + 4), vacc1);
                    vacc2 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk + 8), vacc2);
                    vacc3 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk + 12), vacc3);
                }
                StoreRelu6(output + (long)p * cout + panel * PanelWidth, vacc0, vacc1, vacc2, vacc3, zero, six);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRelu6(float* o, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3, Vector128<float> zero, Vector128<float> six)
    {
        Vector128.Min(Vector128.Max(v0, zero), six).Store(o);
        Vector128.Min(Vector128.Max(v1, zero), six).Store(o + 4);
        Vector128.Min(Vector128.Max(v2, zero), six).Store(o + 8);
        Vector128.Min(Vector128.Max(v3, zero), six).Store(o + 12);
    }

    /// <summary>The reference: one output at a time, same accumulation order as the SIMD paths.</summary>
    public static void ScalarKernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        for (int p = 0; p < pixels; p++)
        {
            float* a = input + (long)p * cin;
            for (int co = panelStart * PanelWidth; co < panelEnd * PanelWidth; co++)
            {
                float* w = packed + (long)(co / PanelWidth) * cin * PanelWidth + co % PanelWidth;
                float acc = bias[co];
                for (int ci = 0; ci < cin; ci++) acc = MathF.FusedMultiplyAdd(a[ci], w[ci * PanelWidth], acc);
                output[(long)p * cout + co] = Math.Clamp(acc, 0f, 6f);
            }
        }
    }
}
