using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using MobileNetGen.Model;
using static MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels;
using static MobileNetGen.Runtime.Kernels.Quantized.QuantizedRequantization;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// uint8 pointwise (1×1) convolution as a GEMM over pixels, exact to TFLite's reference <c>Conv</c>:
/// <c>out[p, co] = requantize(bias[co] + Σ_ci (x[p, ci] − x_zp)·(w[ci, co] − w_zp))</c>.
/// </summary>
/// <remarks>
/// <para>Packed bias (every layout): <c>b'[co] = bias[co] − x_zp·Σ_ci (w[ci, co] − w_zp)</c>, so the kernels sum raw
/// inputs. Weights in panels of <see cref="KernelContract.PanelWidth"/> (16) output channels, in one of two layouts
/// (<see cref="QuantizedKernels.LayoutOf"/>, <see cref="QuantizedPacking.Pointwise"/>):</para>
/// <list type="bullet">
/// <item><b>Octets</b> (Scalar, Vector128, Vector256, Vector512): int16 <c>w' = w − w_zp</c>, input channels in octets
/// (Cin rounded up to KP, a multiple of 8, with zero weights), per panel and octet four 64-byte vectors j = 0..3 whose
/// 128-bit lane L holds output channel 4L + j: <c>packed[((panel·KP/8 + k)·4 + j)·32 + L·8 + i] = w'[8k + i, panel·16 + 4L + j]</c>.
/// The kernels widen a tile's input rows to int16 once (a stack buffer), broadcast a pixel's octet to every 128-bit lane
/// (one load) and multiply-add adjacent pairs (vpmaddwd, 32 MACs per 512-bit instruction; ARM64 SMULL + SMULL2 + ADDP), so
/// each accumulator lane holds four partial sums of one channel; a tile ends with a horizontal reduction (unpack + add, or
/// phaddd / ADDP) that, by the lane order above, leaves the channels in natural order. Each 128-bit lane is one channel,
/// so the same bytes serve 512-bit (4 channels a vector), 256-bit (2) and 128-bit (1) loads. (The earlier layout, pairs of
/// input channels with a 32-bit broadcast per pair, measured 11 % fewer MACs per ns on Zen 4: its broadcasts take vector
/// slots that the octet's single 128-bit broadcast, serving four pmaddwd, does not.)</item>
/// <item><b>Quads</b> (Vector128Dot, Vector256Vnni): uint8 <c>w</c> as published,
/// <c>packed[((panel·Cin/4 + k)·16 + j)·4 + i] = w[4k + i, panel·16 + j]</c>, for byte dot products of 4 input channels.
/// UDOT (u8·u8) gives <c>Σ x·w</c>, so <c>−w_zp·Σ_ci x</c> (the pixel's row sum) is added per pixel; vpdpbusd multiplies
/// u8 by s8, so the VNNI kernel flips each weight's sign bit as it loads it (<c>w − 128</c>) and adds <c>(128 − w_zp)·Σ x</c>.
/// One layout serves both because only the pixel constant differs; it cannot be the Octets one, whose values are int16.</item>
/// </list>
/// <para>Register tiles (accumulators, weight vectors, inputs, one product; no spill): Vector512 5 pixels × 16 channels =
/// 20 + 4 + 1 + 1 of 32; Vector256 2 × 8 = 8 + 4 + 1 + 1 of 16; Vector128 2 × 4 = 8 + 4 + 2 + 1 of 16 (SSE) / 32 (NEON);
/// Dot 4 × 16 = 16 + 4 + 1 of NEON's 32; VNNI 4 × 16 = 8 + 2 + 1 (+ the sign-bit constant). The loops walk one input pointer
/// and one weight pointer; the other pixels of a tile are constant displacements (Cin is a constant of the shape). Tiles go
/// over the pixels (outer: each tile's input is widened once and reused by every panel), panels inner; the last tile may
/// overlap the one before it (recomputing the same bytes), as in the float kernel.</para>
/// </remarks>
public static unsafe class QPointwiseKernels
{
    public const int PanelWidth = KernelContract.PanelWidth;

    /// <summary>
    /// Pixels <c>[pixelStart, pixelEnd)</c> of the <c>[pixels][Cin]</c> input → the same rows of the <c>[pixels][Cout]</c>
    /// output, output channels <c>[panelStart·16, panelEnd·16)</c>. Threads may split by pixels or by panels; every split gives
    /// the same bytes. Nothing outside those rows and channels is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TShape>(QuantizedIsa isa, byte* input, byte* output, void* weights, int* bias, int pixelStart, int pixelEnd, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        Debug.Assert(TShape.Cin % 4 == 0 && TShape.Cout % PanelWidth == 0);
        Debug.Assert(0 <= panelStart && panelStart <= panelEnd && panelEnd <= TShape.Cout / PanelWidth && pixelStart <= pixelEnd);
        byte* a = input + (long)pixelStart * TShape.Cin;
        byte* o = output + (long)pixelStart * TShape.Cout;
        int pixels = pixelEnd - pixelStart;
        switch (isa)
        {
            case QuantizedIsa.Vector512 when Has512: Octets5x16Avx512<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Vector256 when Has256: Octets2x8Avx2<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Vector256Vnni when Has256: Quads4x16AvxVnni<TShape>(a, o, (byte*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Vector128 when Has128: Octets2x4Vector128<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Vector128Dot when Has128: Quads4x16Dot<TShape>(a, o, (byte*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Scalar: ScalarKernel<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd); break;
            default: throw Unsupported(isa);
        }
    }

    /// <summary>Where the register tiles stop (the float kernel's rule): after the last full tile, or at
    /// <paramref name="pixels"/> when three or more are left, which then get one more tile overlapping the one before.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TileEnd(int pixels, int mr) => pixels % mr >= 3 && pixels >= mr ? pixels : pixels - pixels % mr;

    /// <summary>Bytes → int16 (contiguous pixel rows: a tile's input is one block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(byte* src, short* dst, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var v = Vector128.Load(src + i);
            Vector128.WidenLower(v).AsInt16().Store(dst + i);
            Vector128.WidenUpper(v).AsInt16().Store(dst + i + 8);
        }
        for (; i < n; i++) dst[i] = src[i];
    }

    /// <summary>Σ of <paramref name="n"/> bytes (a pixel's row sum for the Quads kernels' zero-point term).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RowSum(byte* a, int n)
    {
        var vsum = Vector128<uint>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var v = Vector128.Load(a + i);
            var vh = Vector128.WidenLower(v) + Vector128.WidenUpper(v); // ≤ 510 per lane
            vsum += Vector128.WidenLower(vh) + Vector128.WidenUpper(vh);
        }
        int s = (int)Vector128.Sum(vsum);
        for (; i < n; i++) s += a[i];
        return s;
    }

    // ------------------------------------------------------------------------------------------- Octets: input widening

    /// <summary>Input channels rounded up to the octets of the int16 layout.</summary>
    private static int KP<TShape>() where TShape : struct, IQPointwiseShape => (TShape.Cin + 7) / 8 * 8;

    /// <summary>Pixel rows <c>[p, p + rows)</c> to int16, <see cref="KP{TShape}"/> values a row (the padding zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRows<TShape>(byte* input, short* xw, int rows) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, kp = KP<TShape>();
        if (kp == cin) { Widen(input, xw, rows * cin); return; }
        for (int r = 0; r < rows; r++)
        {
            Widen(input + (long)r * cin, xw + r * kp, cin);
            for (int k = cin; k < kp; k++) xw[r * kp + k] = 0;
        }
    }

    // ---------------------------------------------------------------------------------------------------------- AVX-512

    /// <summary>Tiles of 5 pixels × 16 channels (one panel), panels inner so that each tile's input is widened once. Per
    /// octet of input channels: 4 weight vectors (4 lanes × 8 channels each), one 128-bit broadcast per pixel serving 4
    /// pmaddwd. Register budget: 20 accumulators + 4 weights + 1 input + 1 product = 26 of 32. (Measured on Zen 4: 11 %
    /// more MACs per ns than 6 × 32 with a 32-bit broadcast per pair of channels, whose broadcasts take vector slots.)</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Octets5x16Avx512<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 5;
        int cin = TShape.Cin, cout = TShape.Cout, kp = KP<TShape>();
        short* xw = stackalloc short[MR * kp];
        int tileEnd = TileEnd(pixels, MR);
        for (int t = 0; t < tileEnd; t += MR)
        {
            int p = Math.Min(t, pixels - MR);
            WidenRows<TShape>(input + (long)p * cin, xw, MR);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) Tile5x16Avx512<TShape>(xw, w + (long)panel * 16 * kp, bias + panel * 16, o + panel * 16);
        }
        for (int p = tileEnd; p < pixels; p++)
        {
            WidenRows<TShape>(input + (long)p * cin, xw, 1);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) Tile1x16Avx512<TShape>(xw, w + (long)panel * 16 * kp, bias + panel * 16, o + panel * 16);
        }
    }

    /// <summary>Four accumulators of one pixel (vector j, lane L: the partial sums of channel 4L + j) → the 16 channels in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Reduce(Vector512<int> a0, Vector512<int> a1, Vector512<int> a2, Vector512<int> a3)
    {
        var t0 = Avx512F.UnpackLow(a0, a1) + Avx512F.UnpackHigh(a0, a1); // [a0 (d0+d2), a1 (d0+d2), a0 (d1+d3), a1 (d1+d3)] per lane
        var t1 = Avx512F.UnpackLow(a2, a3) + Avx512F.UnpackHigh(a2, a3);
        // the 64-bit unpacks pair the halves; the sum is in 32-bit lanes (a 64-bit add would carry between channels)
        return Avx512F.UnpackLow(t0.AsInt64(), t1.AsInt64()).AsInt32() + Avx512F.UnpackHigh(t0.AsInt64(), t1.AsInt64()).AsInt32(); // [a0, a1, a2, a3] per lane
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile5x16Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cout = TShape.Cout, kp = KP<TShape>();
        Vector512<int> vacc00 = default, vacc01 = default, vacc02 = default, vacc03 = default;
        Vector512<int> vacc10 = default, vacc11 = default, vacc12 = default, vacc13 = default;
        Vector512<int> vacc20 = default, vacc21 = default, vacc22 = default, vacc23 = default;
        Vector512<int> vacc30 = default, vacc31 = default, vacc32 = default, vacc33 = default;
        Vector512<int> vacc40 = default, vacc41 = default, vacc42 = default, vacc43 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + kp; xk < end; xk += 8, wk += 128)
        {
            var vk0 = Vector512.Load(wk); var vk1 = Vector512.Load(wk + 32); var vk2 = Vector512.Load(wk + 64); var vk3 = Vector512.Load(wk + 96);
            Vector512<short> vi;
            vi = Avx512F.BroadcastVector128ToVector512((int*)(xk)).AsInt16();
            vacc00 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc01 += Avx512BW.MultiplyAddAdjacent(vi, vk1); vacc02 += Avx512BW.MultiplyAddAdjacent(vi, vk2); vacc03 += Avx512BW.MultiplyAddAdjacent(vi, vk3);
            vi = Avx512F.BroadcastVector128ToVector512((int*)(xk + kp)).AsInt16();
            vacc10 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc11 += Avx512BW.MultiplyAddAdjacent(vi, vk1); vacc12 += Avx512BW.MultiplyAddAdjacent(vi, vk2); vacc13 += Avx512BW.MultiplyAddAdjacent(vi, vk3);
            vi = Avx512F.BroadcastVector128ToVector512((int*)(xk + 2 * kp)).AsInt16();
            vacc20 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc21 += Avx512BW.MultiplyAddAdjacent(vi, vk1); vacc22 += Avx512BW.MultiplyAddAdjacent(vi, vk2); vacc23 += Avx512BW.MultiplyAddAdjacent(vi, vk3);
            vi = Avx512F.BroadcastVector128ToVector512((int*)(xk + 3 * kp)).AsInt16();
            vacc30 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc31 += Avx512BW.MultiplyAddAdjacent(vi, vk1); vacc32 += Avx512BW.MultiplyAddAdjacent(vi, vk2); vacc33 += Avx512BW.MultiplyAddAdjacent(vi, vk3);
            vi = Avx512F.BroadcastVector128ToVector512((int*)(xk + 4 * kp)).AsInt16();
            vacc40 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc41 += Avx512BW.MultiplyAddAdjacent(vi, vk1); vacc42 += Avx512BW.MultiplyAddAdjacent(vi, vk2); vacc43 += Avx512BW.MultiplyAddAdjacent(vi, vk3);
        }
        var vb = Vector512.Load(b);
        Store16(Requantize512<TShape>(Reduce(vacc00, vacc01, vacc02, vacc03) + vb), o);
        Store16(Requantize512<TShape>(Reduce(vacc10, vacc11, vacc12, vacc13) + vb), o + 1 * cout);
        Store16(Requantize512<TShape>(Reduce(vacc20, vacc21, vacc22, vacc23) + vb), o + 2 * cout);
        Store16(Requantize512<TShape>(Reduce(vacc30, vacc31, vacc32, vacc33) + vb), o + 3 * cout);
        Store16(Requantize512<TShape>(Reduce(vacc40, vacc41, vacc42, vacc43) + vb), o + 4 * cout);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x16Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int kp = KP<TShape>();
        Vector512<int> vacc0 = default, vacc1 = default, vacc2 = default, vacc3 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + kp; xk < end; xk += 8, wk += 128)
        {
            var vi = Avx512F.BroadcastVector128ToVector512((int*)xk).AsInt16();
            vacc0 += Avx512BW.MultiplyAddAdjacent(vi, Vector512.Load(wk)); vacc1 += Avx512BW.MultiplyAddAdjacent(vi, Vector512.Load(wk + 32));
            vacc2 += Avx512BW.MultiplyAddAdjacent(vi, Vector512.Load(wk + 64)); vacc3 += Avx512BW.MultiplyAddAdjacent(vi, Vector512.Load(wk + 96));
        }
        Store16(Requantize512<TShape>(Reduce(vacc0, vacc1, vacc2, vacc3) + Vector512.Load(b)), o);
    }

    // ------------------------------------------------------------------------------------------------------------- AVX2

    /// <summary>Tiles of 2 pixels × 8 channels (half a panel: the 256-bit halves h of the four weight vectors hold
    /// channels 8h + j and 8h + 4 + j). Register budget: 8 accumulators + 4 weights + 1 input + 1 product = 14 of 16.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Octets2x8Avx2<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout, kp = KP<TShape>();
        short* xw = stackalloc short[2 * kp];
        for (int t = 0; t < pixels; t += 2)
        {
            int p = pixels >= 2 ? Math.Min(t, pixels - 2) : 0; // a last odd pixel: overlap the tile before
            int rows = Math.Min(2, pixels);
            WidenRows<TShape>(input + (long)p * cin, xw, rows);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++)
                for (int h = 0; h < 2; h++)
                {
                    short* wp = w + (long)panel * 16 * kp + 16 * h;
                    if (rows == 2) Tile2x8Avx2<TShape>(xw, wp, bias + panel * 16 + 8 * h, o + panel * 16 + 8 * h);
                    else Tile1x8Avx2<TShape>(xw, wp, bias + panel * 16 + 8 * h, o + panel * 16 + 8 * h);
                }
        }
    }

    /// <summary>Four accumulators (vector j, 128-bit lane l: channel 4l + j of the half panel) → its 8 channels in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Reduce(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3) =>
        Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile2x8Avx2<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cout = TShape.Cout, kp = KP<TShape>();
        Vector256<int> vacc00 = default, vacc01 = default, vacc02 = default, vacc03 = default, vacc10 = default, vacc11 = default, vacc12 = default, vacc13 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + kp; xk < end; xk += 8, wk += 128)
        {
            var vk0 = Vector256.Load(wk); var vk1 = Vector256.Load(wk + 32); var vk2 = Vector256.Load(wk + 64); var vk3 = Vector256.Load(wk + 96);
            var vi = Avx2.BroadcastVector128ToVector256((int*)xk).AsInt16();
            vacc00 += Avx2.MultiplyAddAdjacent(vi, vk0); vacc01 += Avx2.MultiplyAddAdjacent(vi, vk1); vacc02 += Avx2.MultiplyAddAdjacent(vi, vk2); vacc03 += Avx2.MultiplyAddAdjacent(vi, vk3);
            vi = Avx2.BroadcastVector128ToVector256((int*)(xk + kp)).AsInt16();
            vacc10 += Avx2.MultiplyAddAdjacent(vi, vk0); vacc11 += Avx2.MultiplyAddAdjacent(vi, vk1); vacc12 += Avx2.MultiplyAddAdjacent(vi, vk2); vacc13 += Avx2.MultiplyAddAdjacent(vi, vk3);
        }
        var vb = Vector256.Load(b);
        Store8(Requantize256<TShape>(Reduce(vacc00, vacc01, vacc02, vacc03) + vb), o);
        Store8(Requantize256<TShape>(Reduce(vacc10, vacc11, vacc12, vacc13) + vb), o + cout);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x8Avx2<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int kp = KP<TShape>();
        Vector256<int> vacc0 = default, vacc1 = default, vacc2 = default, vacc3 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + kp; xk < end; xk += 8, wk += 128)
        {
            var vi = Avx2.BroadcastVector128ToVector256((int*)xk).AsInt16();
            vacc0 += Avx2.MultiplyAddAdjacent(vi, Vector256.Load(wk)); vacc1 += Avx2.MultiplyAddAdjacent(vi, Vector256.Load(wk + 32));
            vacc2 += Avx2.MultiplyAddAdjacent(vi, Vector256.Load(wk + 64)); vacc3 += Avx2.MultiplyAddAdjacent(vi, Vector256.Load(wk + 96));
        }
        Store8(Requantize256<TShape>(Reduce(vacc0, vacc1, vacc2, vacc3) + Vector256.Load(b)), o);
    }

    // --------------------------------------------------------------------------------------------- Vector128 (SSE / NEON)

    /// <summary>Tiles of 2 pixels × 4 channels (a quarter panel: lane L of the four weight vectors is channel 4L + j). The
    /// input octet is one plain 128-bit load. Register budget: 8 accumulators + 4 weights + 2 inputs + 1 product = 15.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Octets2x4Vector128<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout, kp = KP<TShape>();
        short* xw = stackalloc short[2 * kp];
        for (int t = 0; t < pixels; t += 2)
        {
            int p = pixels >= 2 ? Math.Min(t, pixels - 2) : 0;
            int rows = Math.Min(2, pixels);
            WidenRows<TShape>(input + (long)p * cin, xw, rows);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++)
                for (int l = 0; l < 4; l++)
                {
                    short* wp = w + (long)panel * 16 * kp + 8 * l;
                    if (rows == 2) Tile2x4Vector128<TShape>(xw, wp, bias + panel * 16 + 4 * l, o + panel * 16 + 4 * l);
                    else Tile1x4Vector128<TShape>(xw, wp, bias + panel * 16 + 4 * l, o + panel * 16 + 4 * l);
                }
        }
    }

    /// <summary>Four accumulators (one channel each, four partial sums) → the four channels: phaddd / ADDP, twice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Reduce(Vector128<int> a0, Vector128<int> a1, Vector128<int> a2, Vector128<int> a3)
    {
        if (Ssse3.IsSupported) return Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(a0, a1), Ssse3.HorizontalAdd(a2, a3));
        return AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(a0, a1), AdvSimd.Arm64.AddPairwise(a2, a3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile2x4Vector128<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cout = TShape.Cout, kp = KP<TShape>();
        Vector128<int> vacc00 = default, vacc01 = default, vacc02 = default, vacc03 = default, vacc10 = default, vacc11 = default, vacc12 = default, vacc13 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + kp; xk < end; xk += 8, wk += 128)
        {
            var vk0 = Vector128.Load(wk); var vk1 = Vector128.Load(wk + 32); var vk2 = Vector128.Load(wk + 64); var vk3 = Vector128.Load(wk + 96);
            var vi = Vector128.Load(xk);
            vacc00 += Q32x4.MultiplyAddAdjacent(vi, vk0); vacc01 += Q32x4.MultiplyAddAdjacent(vi, vk1); vacc02 += Q32x4.MultiplyAddAdjacent(vi, vk2); vacc03 += Q32x4.MultiplyAddAdjacent(vi, vk3);
            vi = Vector128.Load(xk + kp);
            vacc10 += Q32x4.MultiplyAddAdjacent(vi, vk0); vacc11 += Q32x4.MultiplyAddAdjacent(vi, vk1); vacc12 += Q32x4.MultiplyAddAdjacent(vi, vk2); vacc13 += Q32x4.MultiplyAddAdjacent(vi, vk3);
        }
        var vb = Vector128.Load(b);
        Store4(Requantize128<TShape>(Reduce(vacc00, vacc01, vacc02, vacc03) + vb), o);
        Store4(Requantize128<TShape>(Reduce(vacc10, vacc11, vacc12, vacc13) + vb), o + cout);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x4Vector128<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int kp = KP<TShape>();
        Vector128<int> vacc0 = default, vacc1 = default, vacc2 = default, vacc3 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + kp; xk < end; xk += 8, wk += 128)
        {
            var vi = Vector128.Load(xk);
            vacc0 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk)); vacc1 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk + 32));
            vacc2 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk + 64)); vacc3 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk + 96));
        }
        Store4(Requantize128<TShape>(Reduce(vacc0, vacc1, vacc2, vacc3) + Vector128.Load(b)), o);
    }

    // ------------------------------------------------------------------------------------------------- ARM Dp (UDOT)

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Quads4x16Dot<TShape>(byte* input, byte* output, byte* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 4;
        int cin = TShape.Cin, cout = TShape.Cout;
        int tileEnd = TileEnd(pixels, MR);
        for (int t = 0; t < tileEnd; t += MR)
        {
            int p = Math.Min(t, pixels - MR);
            byte* a = input + (long)p * cin;
            // UDOT sums x·w: the −w_zp·Σx of each pixel is its start value (the zero point's other terms are in the bias).
            int zp = TShape.WeightZeroPoint;
            int c0 = -zp * RowSum(a, cin), c1 = -zp * RowSum(a + cin, cin), c2 = -zp * RowSum(a + 2 * cin, cin), c3 = -zp * RowSum(a + 3 * cin, cin);
            for (int panel = panelStart; panel < panelEnd; panel++)
                Tile4x16Dot<TShape>(a, w + (long)panel * 16 * cin, bias + panel * 16, output + (long)p * cout + panel * 16, c0, c1, c2, c3);
        }
        for (int p = tileEnd; p < pixels; p++)
        {
            byte* a = input + (long)p * cin;
            int c0 = -TShape.WeightZeroPoint * RowSum(a, cin);
            for (int panel = panelStart; panel < panelEnd; panel++)
                Tile1x16Dot<TShape>(a, w + (long)panel * 16 * cin, bias + panel * 16, output + (long)p * cout + panel * 16, c0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x16Dot<TShape>(byte* a, byte* w, int* b, byte* o, int c0, int c1, int c2, int c3) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        Vector128<uint> vb0 = Vector128.Load(b).AsUInt32(), vb1 = Vector128.Load(b + 4).AsUInt32(), vb2 = Vector128.Load(b + 8).AsUInt32(), vb3 = Vector128.Load(b + 12).AsUInt32();
        var vc = Vector128.Create((uint)c0);
        Vector128<uint> vacc00 = vb0 + vc, vacc01 = vb1 + vc, vacc02 = vb2 + vc, vacc03 = vb3 + vc;
        vc = Vector128.Create((uint)c1);
        Vector128<uint> vacc10 = vb0 + vc, vacc11 = vb1 + vc, vacc12 = vb2 + vc, vacc13 = vb3 + vc;
        vc = Vector128.Create((uint)c2);
        Vector128<uint> vacc20 = vb0 + vc, vacc21 = vb1 + vc, vacc22 = vb2 + vc, vacc23 = vb3 + vc;
        vc = Vector128.Create((uint)c3);
        Vector128<uint> vacc30 = vb0 + vc, vacc31 = vb1 + vc, vacc32 = vb2 + vc, vacc33 = vb3 + vc;
        byte* wk = w;
        for (byte* ak = a, end = a + cin; ak < end; ak += 4, wk += 64)
        {
            var vk0 = Vector128.Load(wk); var vk1 = Vector128.Load(wk + 16); var vk2 = Vector128.Load(wk + 32); var vk3 = Vector128.Load(wk + 48);
            var vi = Vector128.Create(*(uint*)ak).AsByte();
            vacc00 = DotProductU8(vacc00, vk0, vi); vacc01 = DotProductU8(vacc01, vk1, vi); vacc02 = DotProductU8(vacc02, vk2, vi); vacc03 = DotProductU8(vacc03, vk3, vi);
            vi = Vector128.Create(*(uint*)(ak + cin)).AsByte();
            vacc10 = DotProductU8(vacc10, vk0, vi); vacc11 = DotProductU8(vacc11, vk1, vi); vacc12 = DotProductU8(vacc12, vk2, vi); vacc13 = DotProductU8(vacc13, vk3, vi);
            vi = Vector128.Create(*(uint*)(ak + 2 * cin)).AsByte();
            vacc20 = DotProductU8(vacc20, vk0, vi); vacc21 = DotProductU8(vacc21, vk1, vi); vacc22 = DotProductU8(vacc22, vk2, vi); vacc23 = DotProductU8(vacc23, vk3, vi);
            vi = Vector128.Create(*(uint*)(ak + 3 * cin)).AsByte();
            vacc30 = DotProductU8(vacc30, vk0, vi); vacc31 = DotProductU8(vacc31, vk1, vi); vacc32 = DotProductU8(vacc32, vk2, vi); vacc33 = DotProductU8(vacc33, vk3, vi);
        }
        // Unsigned sums wrap mod 2^32 like the int32 ones: reinterpreted, they are the exact int32 accumulators.
        Store16(Requantize128<TShape>(vacc00.AsInt32()), Requantize128<TShape>(vacc01.AsInt32()), Requantize128<TShape>(vacc02.AsInt32()), Requantize128<TShape>(vacc03.AsInt32()), o);
        o += cout;
        Store16(Requantize128<TShape>(vacc10.AsInt32()), Requantize128<TShape>(vacc11.AsInt32()), Requantize128<TShape>(vacc12.AsInt32()), Requantize128<TShape>(vacc13.AsInt32()), o);
        o += cout;
        Store16(Requantize128<TShape>(vacc20.AsInt32()), Requantize128<TShape>(vacc21.AsInt32()), Requantize128<TShape>(vacc22.AsInt32()), Requantize128<TShape>(vacc23.AsInt32()), o);
        o += cout;
        Store16(Requantize128<TShape>(vacc30.AsInt32()), Requantize128<TShape>(vacc31.AsInt32()), Requantize128<TShape>(vacc32.AsInt32()), Requantize128<TShape>(vacc33.AsInt32()), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x16Dot<TShape>(byte* a, byte* w, int* b, byte* o, int c0) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin;
        var vc = Vector128.Create((uint)c0);
        Vector128<uint> vacc0 = Vector128.Load(b).AsUInt32() + vc, vacc1 = Vector128.Load(b + 4).AsUInt32() + vc,
                        vacc2 = Vector128.Load(b + 8).AsUInt32() + vc, vacc3 = Vector128.Load(b + 12).AsUInt32() + vc;
        byte* wk = w;
        for (byte* ak = a, end = a + cin; ak < end; ak += 4, wk += 64)
        {
            var vi = Vector128.Create(*(uint*)ak).AsByte();
            vacc0 = DotProductU8(vacc0, Vector128.Load(wk), vi); vacc1 = DotProductU8(vacc1, Vector128.Load(wk + 16), vi);
            vacc2 = DotProductU8(vacc2, Vector128.Load(wk + 32), vi); vacc3 = DotProductU8(vacc3, Vector128.Load(wk + 48), vi);
        }
        Store16(Requantize128<TShape>(vacc0.AsInt32()), Requantize128<TShape>(vacc1.AsInt32()), Requantize128<TShape>(vacc2.AsInt32()), Requantize128<TShape>(vacc3.AsInt32()), o);
    }

    // ------------------------------------------------------------------------------------------------- AVX-VNNI (vpdpbusd)

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Quads4x16AvxVnni<TShape>(byte* input, byte* output, byte* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 4;
        int cin = TShape.Cin, cout = TShape.Cout;
        int tileEnd = TileEnd(pixels, MR);
        // vpdpbusd sums x·(w − 128): (128 − w_zp)·Σx per pixel completes Σ x·(w − w_zp); the rest is in the bias.
        int zc = 128 - TShape.WeightZeroPoint;
        for (int t = 0; t < tileEnd; t += MR)
        {
            int p = Math.Min(t, pixels - MR);
            byte* a = input + (long)p * cin;
            int c0 = zc * RowSum(a, cin), c1 = zc * RowSum(a + cin, cin), c2 = zc * RowSum(a + 2 * cin, cin), c3 = zc * RowSum(a + 3 * cin, cin);
            for (int panel = panelStart; panel < panelEnd; panel++)
                Tile4x16AvxVnni<TShape>(a, w + (long)panel * 16 * cin, bias + panel * 16, output + (long)p * cout + panel * 16, c0, c1, c2, c3);
        }
        for (int p = tileEnd; p < pixels; p++)
        {
            byte* a = input + (long)p * cin;
            int c0 = zc * RowSum(a, cin);
            for (int panel = panelStart; panel < panelEnd; panel++)
                Tile1x16AvxVnni<TShape>(a, w + (long)panel * 16 * cin, bias + panel * 16, output + (long)p * cout + panel * 16, c0);
        }
    }

    /// <summary>A weight vector as vpdpbusd's signed operand: the uint8 weight with its sign bit flipped is w − 128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> LoadSigned(byte* p) => (Vector256.Load(p) ^ Vector256.Create((byte)0x80)).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x16AvxVnni<TShape>(byte* a, byte* w, int* b, byte* o, int c0, int c1, int c2, int c3) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        Vector256<int> vb0 = Vector256.Load(b), vb1 = Vector256.Load(b + 8);
        var vc = Vector256.Create(c0);
        Vector256<int> vacc00 = vb0 + vc, vacc01 = vb1 + vc;
        vc = Vector256.Create(c1);
        Vector256<int> vacc10 = vb0 + vc, vacc11 = vb1 + vc;
        vc = Vector256.Create(c2);
        Vector256<int> vacc20 = vb0 + vc, vacc21 = vb1 + vc;
        vc = Vector256.Create(c3);
        Vector256<int> vacc30 = vb0 + vc, vacc31 = vb1 + vc;
        byte* wk = w;
        for (byte* ak = a, end = a + cin; ak < end; ak += 4, wk += 64)
        {
            var vk0 = LoadSigned(wk);
            var vk1 = LoadSigned(wk + 32);
            var vi = Vector256.Create(*(uint*)ak).AsByte();
            vacc00 = MultiplyWideningAndAddU8S8(vacc00, vi, vk0); vacc01 = MultiplyWideningAndAddU8S8(vacc01, vi, vk1);
            vi = Vector256.Create(*(uint*)(ak + cin)).AsByte();
            vacc10 = MultiplyWideningAndAddU8S8(vacc10, vi, vk0); vacc11 = MultiplyWideningAndAddU8S8(vacc11, vi, vk1);
            vi = Vector256.Create(*(uint*)(ak + 2 * cin)).AsByte();
            vacc20 = MultiplyWideningAndAddU8S8(vacc20, vi, vk0); vacc21 = MultiplyWideningAndAddU8S8(vacc21, vi, vk1);
            vi = Vector256.Create(*(uint*)(ak + 3 * cin)).AsByte();
            vacc30 = MultiplyWideningAndAddU8S8(vacc30, vi, vk0); vacc31 = MultiplyWideningAndAddU8S8(vacc31, vi, vk1);
        }
        Store16(Requantize256<TShape>(vacc00), Requantize256<TShape>(vacc01), o); o += cout;
        Store16(Requantize256<TShape>(vacc10), Requantize256<TShape>(vacc11), o); o += cout;
        Store16(Requantize256<TShape>(vacc20), Requantize256<TShape>(vacc21), o); o += cout;
        Store16(Requantize256<TShape>(vacc30), Requantize256<TShape>(vacc31), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x16AvxVnni<TShape>(byte* a, byte* w, int* b, byte* o, int c0) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin;
        var vc = Vector256.Create(c0);
        Vector256<int> vacc0 = Vector256.Load(b) + vc, vacc1 = Vector256.Load(b + 8) + vc;
        byte* wk = w;
        for (byte* ak = a, end = a + cin; ak < end; ak += 4, wk += 64)
        {
            var vi = Vector256.Create(*(uint*)ak).AsByte();
            vacc0 = MultiplyWideningAndAddU8S8(vacc0, vi, LoadSigned(wk));
            vacc1 = MultiplyWideningAndAddU8S8(vacc1, vi, LoadSigned(wk + 32));
        }
        Store16(Requantize256<TShape>(vacc0), Requantize256<TShape>(vacc1), o);
    }

    // ----------------------------------------------------------------------------------------------------------- Scalar

    /// <summary>The reference (Octets layout): one output at a time.</summary>
    public static void ScalarKernel<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout, kp = KP<TShape>();
        for (int p = 0; p < pixels; p++)
            for (int co = panelStart * PanelWidth; co < panelEnd * PanelWidth; co++)
            {
                // weight (ci, co): octet ci/8, vector j = co % 4, lane L = (co % 16) / 4, element ci % 8
                short* wc = w + (long)(co / PanelWidth) * PanelWidth * kp + (co % 4) * 32 + (co % PanelWidth / 4) * 8;
                int acc = bias[co];
                for (int ci = 0; ci < cin; ci++) acc += input[(long)p * cin + ci] * wc[(ci / 8) * 128 + ci % 8];
                output[(long)p * cout + co] = (byte)QuantizedRequantization.Reference<TShape>(acc);
            }
    }
}
