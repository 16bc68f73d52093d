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
    public const int PanelWidth = MobileNetGen.Model.KernelContract.PanelWidth;

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
            case SimdPath.Vector512 when SimdPaths.Vector512Compiled: Vector512Kernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
            case SimdPath.Vector256 when SimdPaths.Vector256Compiled: Vector256Kernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
            case SimdPath.Vector128: Vector128Kernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
            default: ScalarKernel(input, output, packed, bias, pixels, cin, cout, panelStart, panelEnd); break;
        }
    }

    // Register budget: every kernel keeps exactly its accumulators, the weight vectors of one input channel and one
    // broadcast in registers (AVX2: 12 + 2 + 1 of 16). The bias is reloaded per tile and 0 / 6 are constants, so
    // nothing else is live across the channel loop and the JIT spills nothing. The loop walks two pointers (input
    // channel, weight row); the other pixels of the tile sit at constant offsets once the generated layer inlines
    // this with its literal cin. ReLU6 is ISimd's StoreRelu6 (MaxNative/MinNative: one instruction each; identical
    // to Math.Clamp for every non-NaN value, and the sums are never NaN).

    /// <summary>
    /// A software prefetch (to L2) of a line of the next weight panels (the next pair on AVX-512, the next panel on AVX2).
    /// The weights of the last layers come from
    /// DRAM at every inference (1.0_128: 2 and 4 MiB for 16 pixels each), and the first tile of a pair used to wait for
    /// all of its 128 KiB; spread over the pair before, the stream overlaps the multiply-adds. Prefetches never fault, so
    /// the lines past the last panel are harmless. Measured alone (Zen 4, family 25 model 17; 16 × 1024 → 1024, caches
    /// flushed by a 64 MiB walk before each run, weights on 2 MiB pages): 0.88–0.89× the time (best of 37 runs; 0.78–0.86×
    /// their mean); without large pages it gave nothing, and prefetching to L1 (prefetcht0) was slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchNextPanels(float* line)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch1(line);
    }

    /// <summary>6 pixels × 32 channels (two panels) per register tile: 12 accumulators of AVX-512's 32 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] // too large to inline: optimized from its first call, never tier-0 code
    public static void Vector512Kernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        const int MR = MobileNetGen.Model.KernelContract.PointwiseTilePixelsX64;
        int tileEnd = TileEnd(pixels, MR);
        int panel = panelStart;
        for (; panel + 2 <= panelEnd; panel += 2)
        {
            float* w0 = packed + (long)panel * cin * PanelWidth;
            float* b = bias + panel * PanelWidth;
            long panelFloats = (long)cin * PanelWidth;
            for (int t = 0; t < tileEnd; t += MR)
            {
                int p = Math.Min(t, pixels - MR); // the last tile may overlap the one before (see TileEnd)
                float* a = input + (long)p * cin;
                Vector512<float> vacc00 = Vector512.Load(b), vacc01 = Vector512.Load(b + 16);
                Vector512<float> vacc10 = vacc00, vacc11 = vacc01, vacc20 = vacc00, vacc21 = vacc01,
                                 vacc30 = vacc00, vacc31 = vacc01, vacc40 = vacc00, vacc41 = vacc01, vacc50 = vacc00, vacc51 = vacc01;
                float* wk = w0;
                // The first two tiles pull the next pair of panels towards L2, a line per input channel (the pair is
                // 2·cin lines); later tiles touch their own panel's line, already in cache (see PrefetchNextPanels).
                float* pk = t < 2 * MR ? w0 + (2 + t / MR) * panelFloats : w0;
                for (float* ak = a, end = a + cin; ak < end; ak++, wk += PanelWidth, pk += PanelWidth)
                {
                    PrefetchNextPanels(pk);
                    var vw0 = Vector512.Load(wk);
                    var vw1 = Vector512.Load(wk + panelFloats);
                    var va = Vector512.Create(ak[0]);
                    vacc00 = Vector512.FusedMultiplyAdd(va, vw0, vacc00); vacc01 = Vector512.FusedMultiplyAdd(va, vw1, vacc01);
                    va = Vector512.Create(ak[cin]);
                    vacc10 = Vector512.FusedMultiplyAdd(va, vw0, vacc10); vacc11 = Vector512.FusedMultiplyAdd(va, vw1, vacc11);
                    va = Vector512.Create(ak[2 * cin]);
                    vacc20 = Vector512.FusedMultiplyAdd(va, vw0, vacc20); vacc21 = Vector512.FusedMultiplyAdd(va, vw1, vacc21);
                    va = Vector512.Create(ak[3 * cin]);
                    vacc30 = Vector512.FusedMultiplyAdd(va, vw0, vacc30); vacc31 = Vector512.FusedMultiplyAdd(va, vw1, vacc31);
                    va = Vector512.Create(ak[4 * cin]);
                    vacc40 = Vector512.FusedMultiplyAdd(va, vw0, vacc40); vacc41 = Vector512.FusedMultiplyAdd(va, vw1, vacc41);
                    va = Vector512.Create(ak[5 * cin]);
                    vacc50 = Vector512.FusedMultiplyAdd(va, vw0, vacc50); vacc51 = Vector512.FusedMultiplyAdd(va, vw1, vacc51);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                F32x16.StoreRelu6(vacc00, o); F32x16.StoreRelu6(vacc01, o + 16); o += cout;
                F32x16.StoreRelu6(vacc10, o); F32x16.StoreRelu6(vacc11, o + 16); o += cout;
                F32x16.StoreRelu6(vacc20, o); F32x16.StoreRelu6(vacc21, o + 16); o += cout;
                F32x16.StoreRelu6(vacc30, o); F32x16.StoreRelu6(vacc31, o + 16); o += cout;
                F32x16.StoreRelu6(vacc40, o); F32x16.StoreRelu6(vacc41, o + 16); o += cout;
                F32x16.StoreRelu6(vacc50, o); F32x16.StoreRelu6(vacc51, o + 16);
            }
            for (int p = tileEnd; p < pixels; p++) // one or two pixels left
            {
                float* a = input + (long)p * cin;
                float* w1 = w0 + (long)cin * PanelWidth;
                Vector512<float> vacc0 = Vector512.Load(b), vacc1 = Vector512.Load(b + 16);
                for (int ci = 0; ci < cin; ci++)
                {
                    var va = Vector512.Create(a[ci]);
                    vacc0 = Vector512.FusedMultiplyAdd(va, Vector512.Load(w0 + ci * PanelWidth), vacc0);
                    vacc1 = Vector512.FusedMultiplyAdd(va, Vector512.Load(w1 + ci * PanelWidth), vacc1);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                F32x16.StoreRelu6(vacc0, o);
                F32x16.StoreRelu6(vacc1, o + 16);
            }
        }
        if (panel < panelEnd) // odd panel count (e.g. 48 or 96 channels): one panel, 6 pixels × 16 channels
        {
            float* w0 = packed + (long)panel * cin * PanelWidth;
            float* b = bias + panel * PanelWidth;
            for (int t = 0; t < tileEnd; t += MR)
            {
                int p = Math.Min(t, pixels - MR); // the last tile may overlap the one before (see TileEnd)
                float* a = input + (long)p * cin;
                Vector512<float> vacc0 = Vector512.Load(b), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0, vacc4 = vacc0, vacc5 = vacc0;
                float* wk = w0;
                for (float* ak = a, end = a + cin; ak < end; ak++, wk += PanelWidth)
                {
                    var vw0 = Vector512.Load(wk);
                    vacc0 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[0]), vw0, vacc0);
                    vacc1 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[cin]), vw0, vacc1);
                    vacc2 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[2 * cin]), vw0, vacc2);
                    vacc3 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[3 * cin]), vw0, vacc3);
                    vacc4 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[4 * cin]), vw0, vacc4);
                    vacc5 = Vector512.FusedMultiplyAdd(Vector512.Create(ak[5 * cin]), vw0, vacc5);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                F32x16.StoreRelu6(vacc0, o); o += cout;
                F32x16.StoreRelu6(vacc1, o); o += cout;
                F32x16.StoreRelu6(vacc2, o); o += cout;
                F32x16.StoreRelu6(vacc3, o); o += cout;
                F32x16.StoreRelu6(vacc4, o); o += cout;
                F32x16.StoreRelu6(vacc5, o);
            }
            for (int p = tileEnd; p < pixels; p++)
            {
                float* a = input + (long)p * cin;
                Vector512<float> vacc0 = Vector512.Load(b);
                for (int ci = 0; ci < cin; ci++)
                    vacc0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[ci]), Vector512.Load(w0 + ci * PanelWidth), vacc0);
                F32x16.StoreRelu6(vacc0, output + (long)p * cout + panel * PanelWidth);
            }
        }
    }

    /// <summary>6 pixels × 16 channels (one panel = two vectors) per tile: 12 accumulators, fits AVX2's 16 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Vector256Kernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        const int MR = MobileNetGen.Model.KernelContract.PointwiseTilePixelsX64;
        int tileEnd = TileEnd(pixels, MR);
        for (int panel = panelStart; panel < panelEnd; panel++)
        {
            float* w = packed + (long)panel * cin * PanelWidth;
            float* b = bias + panel * PanelWidth;
            for (int t = 0; t < tileEnd; t += MR)
            {
                int p = Math.Min(t, pixels - MR); // the last tile may overlap the one before (see TileEnd)
                float* a = input + (long)p * cin;
                Vector256<float> vacc00 = Vector256.Load(b), vacc01 = Vector256.Load(b + 8);
                Vector256<float> vacc10 = vacc00, vacc11 = vacc01, vacc20 = vacc00, vacc21 = vacc01,
                                 vacc30 = vacc00, vacc31 = vacc01, vacc40 = vacc00, vacc41 = vacc01, vacc50 = vacc00, vacc51 = vacc01;
                float* wk = w;
                float* pk = t < MR ? w + (long)cin * PanelWidth : w; // the first tile pulls in the next panel (PrefetchNextPanels)
                for (float* ak = a, end = a + cin; ak < end; ak++, wk += PanelWidth, pk += PanelWidth)
                {
                    PrefetchNextPanels(pk);
                    var vw0 = Vector256.Load(wk);
                    var vw1 = Vector256.Load(wk + 8);
                    var va = Vector256.Create(ak[0]);
                    vacc00 = Vector256.FusedMultiplyAdd(va, vw0, vacc00); vacc01 = Vector256.FusedMultiplyAdd(va, vw1, vacc01);
                    va = Vector256.Create(ak[cin]);
                    vacc10 = Vector256.FusedMultiplyAdd(va, vw0, vacc10); vacc11 = Vector256.FusedMultiplyAdd(va, vw1, vacc11);
                    va = Vector256.Create(ak[2 * cin]);
                    vacc20 = Vector256.FusedMultiplyAdd(va, vw0, vacc20); vacc21 = Vector256.FusedMultiplyAdd(va, vw1, vacc21);
                    va = Vector256.Create(ak[3 * cin]);
                    vacc30 = Vector256.FusedMultiplyAdd(va, vw0, vacc30); vacc31 = Vector256.FusedMultiplyAdd(va, vw1, vacc31);
                    va = Vector256.Create(ak[4 * cin]);
                    vacc40 = Vector256.FusedMultiplyAdd(va, vw0, vacc40); vacc41 = Vector256.FusedMultiplyAdd(va, vw1, vacc41);
                    va = Vector256.Create(ak[5 * cin]);
                    vacc50 = Vector256.FusedMultiplyAdd(va, vw0, vacc50); vacc51 = Vector256.FusedMultiplyAdd(va, vw1, vacc51);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                F32x8.StoreRelu6(vacc00, o); F32x8.StoreRelu6(vacc01, o + 8); o += cout;
                F32x8.StoreRelu6(vacc10, o); F32x8.StoreRelu6(vacc11, o + 8); o += cout;
                F32x8.StoreRelu6(vacc20, o); F32x8.StoreRelu6(vacc21, o + 8); o += cout;
                F32x8.StoreRelu6(vacc30, o); F32x8.StoreRelu6(vacc31, o + 8); o += cout;
                F32x8.StoreRelu6(vacc40, o); F32x8.StoreRelu6(vacc41, o + 8); o += cout;
                F32x8.StoreRelu6(vacc50, o); F32x8.StoreRelu6(vacc51, o + 8);
            }
            for (int p = tileEnd; p < pixels; p++) // one or two pixels left
            {
                float* a = input + (long)p * cin;
                Vector256<float> vacc0 = Vector256.Load(b), vacc1 = Vector256.Load(b + 8);
                for (int ci = 0; ci < cin; ci++)
                {
                    var va = Vector256.Create(a[ci]);
                    vacc0 = Vector256.FusedMultiplyAdd(va, Vector256.Load(w + ci * PanelWidth), vacc0);
                    vacc1 = Vector256.FusedMultiplyAdd(va, Vector256.Load(w + ci * PanelWidth + 8), vacc1);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                F32x8.StoreRelu6(vacc0, o);
                F32x8.StoreRelu6(vacc1, o + 8);
            }
        }
    }

    /// <summary>4 pixels × 16 channels (one panel = four vectors) per tile: 16 accumulators, for NEON's 32 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Vector128Kernel(float* input, float* output, float* packed, float* bias, int pixels, int cin, int cout, int panelStart, int panelEnd)
    {
        const int MR = MobileNetGen.Model.KernelContract.PointwiseTilePixelsNeon;
        int tileEnd = TileEnd(pixels, MR);
        for (int panel = panelStart; panel < panelEnd; panel++)
        {
            float* w = packed + (long)panel * cin * PanelWidth;
            float* b = bias + panel * PanelWidth;
            for (int t = 0; t < tileEnd; t += MR)
            {
                int p = Math.Min(t, pixels - MR); // the last tile may overlap the one before (see TileEnd)
                float* a = input + (long)p * cin;
                Vector128<float> vacc00 = Vector128.Load(b), vacc01 = Vector128.Load(b + 4), vacc02 = Vector128.Load(b + 8), vacc03 = Vector128.Load(b + 12);
                Vector128<float> vacc10 = vacc00, vacc11 = vacc01, vacc12 = vacc02, vacc13 = vacc03;
                Vector128<float> vacc20 = vacc00, vacc21 = vacc01, vacc22 = vacc02, vacc23 = vacc03;
                Vector128<float> vacc30 = vacc00, vacc31 = vacc01, vacc32 = vacc02, vacc33 = vacc03;
                float* wk = w;
                for (float* ak = a, end = a + cin; ak < end; ak++, wk += PanelWidth)
                {
                    var vw0 = Vector128.Load(wk); var vw1 = Vector128.Load(wk + 4); var vw2 = Vector128.Load(wk + 8); var vw3 = Vector128.Load(wk + 12);
                    var va = Vector128.Create(ak[0]);
                    vacc00 = Vector128.FusedMultiplyAdd(va, vw0, vacc00); vacc01 = Vector128.FusedMultiplyAdd(va, vw1, vacc01);
                    vacc02 = Vector128.FusedMultiplyAdd(va, vw2, vacc02); vacc03 = Vector128.FusedMultiplyAdd(va, vw3, vacc03);
                    va = Vector128.Create(ak[cin]);
                    vacc10 = Vector128.FusedMultiplyAdd(va, vw0, vacc10); vacc11 = Vector128.FusedMultiplyAdd(va, vw1, vacc11);
                    vacc12 = Vector128.FusedMultiplyAdd(va, vw2, vacc12); vacc13 = Vector128.FusedMultiplyAdd(va, vw3, vacc13);
                    va = Vector128.Create(ak[2 * cin]);
                    vacc20 = Vector128.FusedMultiplyAdd(va, vw0, vacc20); vacc21 = Vector128.FusedMultiplyAdd(va, vw1, vacc21);
                    vacc22 = Vector128.FusedMultiplyAdd(va, vw2, vacc22); vacc23 = Vector128.FusedMultiplyAdd(va, vw3, vacc23);
                    va = Vector128.Create(ak[3 * cin]);
                    vacc30 = Vector128.FusedMultiplyAdd(va, vw0, vacc30); vacc31 = Vector128.FusedMultiplyAdd(va, vw1, vacc31);
                    vacc32 = Vector128.FusedMultiplyAdd(va, vw2, vacc32); vacc33 = Vector128.FusedMultiplyAdd(va, vw3, vacc33);
                }
                float* o = output + (long)p * cout + panel * PanelWidth;
                StoreRelu6x4(o, vacc00, vacc01, vacc02, vacc03); o += cout;
                StoreRelu6x4(o, vacc10, vacc11, vacc12, vacc13); o += cout;
                StoreRelu6x4(o, vacc20, vacc21, vacc22, vacc23); o += cout;
                StoreRelu6x4(o, vacc30, vacc31, vacc32, vacc33);
            }
            for (int p = tileEnd; p < pixels; p++)
            {
                float* a = input + (long)p * cin;
                Vector128<float> vacc0 = Vector128.Load(b), vacc1 = Vector128.Load(b + 4), vacc2 = Vector128.Load(b + 8), vacc3 = Vector128.Load(b + 12);
                for (int ci = 0; ci < cin; ci++)
                {
                    float* wk = w + ci * PanelWidth;
                    var va = Vector128.Create(a[ci]);
                    vacc0 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk), vacc0);
                    vacc1 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk + 4), vacc1);
                    vacc2 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk + 8), vacc2);
                    vacc3 = Vector128.FusedMultiplyAdd(va, Vector128.Load(wk + 12), vacc3);
                }
                StoreRelu6x4(output + (long)p * cout + panel * PanelWidth, vacc0, vacc1, vacc2, vacc3);
            }
        }
    }

    /// <summary>
    /// Where the register tiles stop: after the last full tile, or at <paramref name="pixels"/> when three or more
    /// pixels are left over. Those get one more tile that starts at <c>pixels − mr</c> and so recomputes a few outputs of
    /// the tile before it (the same sums in the same order, so the same bits). One pixel against one panel is a chain of
    /// dependent multiply-adds: the four left over in a 196- or 784-pixel layer cost 3–5 % of the layer that way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TileEnd(int pixels, int mr) => pixels % mr >= 3 && pixels >= mr ? pixels : pixels - pixels % mr;

    /// <summary>One 16-channel panel row from four Vector128 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRelu6x4(float* o, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3)
    {
        F32x4.StoreRelu6(v0, o);
        F32x4.StoreRelu6(v1, o + 4);
        F32x4.StoreRelu6(v2, o + 8);
        F32x4.StoreRelu6(v3, o + 12);
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
