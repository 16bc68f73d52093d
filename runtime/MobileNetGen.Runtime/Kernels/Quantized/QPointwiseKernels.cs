using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
/// inputs. Weights in panels of <see cref="KernelContract.PanelWidth"/> (16) output channels, in one of three layouts
/// (<see cref="QuantizedKernels.LayoutOf"/>, <see cref="QuantizedPacking.Pointwise"/>):</para>
/// <list type="bullet">
/// <item><b>Pairs</b> (Scalar, Vector128, Vector256, Vector512): int16 <c>w' = w − w_zp</c>,
/// <c>packed[((panel·Cin/2 + k)·16 + j)·2 + i] = w'[2k + i, panel·16 + j]</c>: one 64-byte row per pair of input channels,
/// 16 (output channel) × 2 (input channel). The kernels widen a tile's input rows to int16 once (a stack buffer), broadcast
/// the pixel's pair as one int32 and multiply-add adjacent pairs (vpmaddwd: 32 MACs per 512-bit instruction, twice the
/// float FMA's 16; ARM64: SMULL + SMULL2 + ADDP).</item>
/// <item><b>Quads</b> (Vector128Dot, Vector256Vnni): uint8 <c>w</c> as published,
/// <c>packed[((panel·Cin/4 + k)·16 + j)·4 + i] = w[4k + i, panel·16 + j]</c>, for byte dot products of 4 input channels.
/// UDOT (u8·u8) gives <c>Σ x·w</c>, so <c>−w_zp·Σ_ci x</c> (the pixel's row sum) is added per pixel; vpdpbusd multiplies
/// u8 by s8, so the VNNI kernel flips each weight's sign bit as it loads it (<c>w − 128</c>) and adds <c>(128 − w_zp)·Σ x</c>.
/// One layout serves both because only the pixel-constant differs; it cannot be the Pairs one, whose values are int16.</item>
/// <item><b>Octets</b> (Vector512): the Pairs values of a layer with at least <see cref="QuantizedKernels.OctetsMinCin"/>
/// input channels reordered by <see cref="QuantizedPacking.OctetIndex"/> so that one 128-bit broadcast of a pixel's eight
/// channels feeds four pmaddwd (<see cref="Octets6x16Avx512{TShape}"/>); the narrower layers stay Pairs
/// (<see cref="QuantizedKernels.UsesOctets"/>, the one rule packing and kernels read).</item>
/// </list>
/// <para>Register tiles (accumulators, weight vectors, one broadcast, one product; no spill): Vector512 6 pixels × 32
/// channels = 12 + 2 + 2 of 32; Vector256 4 × 16 = 8 + 2 + 2 of 16; Vector128 2 × 16 = 8 + 4 + 2 of 16 (SSE) / 32 (NEON);
/// Dot 4 × 16 = 16 + 4 + 1 of NEON's 32; VNNI 4 × 16 = 8 + 2 + 1 (+ the sign-bit constant). The loops walk one input pointer
/// and one weight pointer; the other pixels of a tile are constant displacements (Cin is a constant of the shape). Tiles go
/// over the pixels (outer: each tile's input is widened once and reused by every panel), panels inner; the last tile may
/// overlap the one before it (recomputing the same bytes), as in the float kernel.</para>
/// <para>Why not faster without VNNI: every 32 MACs cost a vpmaddwd and a vpaddd, and the 32-bit broadcast of each input
/// pair takes a slot too. On an AMD Zen 4 core (family 25 model 17, AVX-512 but no AVX-VNNI, so <see cref="QuantizedIsa.Vector512"/>:
/// .NET 10 exposes 512-bit VNNI only through Avx10v1, which AMD cores do not report) the bare vpmaddwd + vpaddd loop of
/// <c>IntegerPeak</c> (printed by <c>bench</c> and <c>profile</c>) runs at 197–200 GOP/s, and this kernel from a hot cache at
/// 160 GOP/s for 14×14×512→512 (80 %) and 148 for 56×56×128→128 (74 %). An earlier note here put the bare loop near twice
/// this kernel's rate; a loop whose products are equal measures about that, because the JIT computes them once. Tried and
/// dropped: 4 × 64 tiles (fewer broadcasts per multiply, no gain). The octet layout (one 128-bit broadcast per four
/// vpmaddwd) was dropped once as a layout for every ISA (slower for small Cin, and 20–40 % slower on AVX2, whose 16
/// registers allow only 2 × 8 tiles and which then needs phaddd reductions); as AVX-512's layout for Cin ≥ 128 only it
/// gains: alone, alternating with the Pairs kernel, equal bytes, 0.97× the time for 3136 pixels × 128 → 128, 0.92–0.94× for
/// 256 channels and up, 1.03× for 64 (hence the threshold).</para>
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
            case QuantizedIsa.Vector512 when Has512:
                if (UsesOctets(QuantizedWeightLayout.Octets, TShape.Cin)) Octets6x16Avx512<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd);
                else Pairs6x32Avx512<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd);
                break;
            case QuantizedIsa.Vector256 when Has256: Pairs4x16Avx2<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Vector256Vnni or QuantizedIsa.Vector512Vnni when Has256: Quads4x16AvxVnni<TShape>(a, o, (byte*)weights, bias, pixels, panelStart, panelEnd); break;
            case QuantizedIsa.Vector128 when Has128: Pairs2x16Vector128<TShape>(a, o, (short*)weights, bias, pixels, panelStart, panelEnd); break;
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

    // ---------------------------------------------------------------------------------------------------------- AVX-512

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pairs6x32Avx512<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 6;
        int cin = TShape.Cin, cout = TShape.Cout;
        short* xw = stackalloc short[MR * cin];
        int tileEnd = TileEnd(pixels, MR);
        for (int t = 0; t < tileEnd; t += MR)
        {
            int p = Math.Min(t, pixels - MR);
            Widen(input + (long)p * cin, xw, MR * cin);
            byte* o = output + (long)p * cout;
            int panel = panelStart;
            for (; panel + 2 <= panelEnd; panel += 2) Tile6x32Avx512<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
            if (panel < panelEnd) Tile6x16Avx512<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
        for (int p = tileEnd; p < pixels; p++) // one or two pixels left
        {
            Widen(input + (long)p * cin, xw, cin);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) Tile1x16Avx512<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile6x32Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout, panel = 16 * cin; // the second panel: a constant displacement
        Vector512<int> vacc00 = Vector512.Load(b), vacc01 = Vector512.Load(b + 16);
        Vector512<int> vacc10 = vacc00, vacc11 = vacc01, vacc20 = vacc00, vacc21 = vacc01,
                       vacc30 = vacc00, vacc31 = vacc01, vacc40 = vacc00, vacc41 = vacc01, vacc50 = vacc00, vacc51 = vacc01;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 2, wk += 32)
        {
            var vk0 = Vector512.Load(wk);
            var vk1 = Vector512.Load(wk + panel);
            var vi = Vector512.Create(*(int*)xk).AsInt16();
            vacc00 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc01 += Avx512BW.MultiplyAddAdjacent(vi, vk1);
            vi = Vector512.Create(*(int*)(xk + cin)).AsInt16();
            vacc10 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc11 += Avx512BW.MultiplyAddAdjacent(vi, vk1);
            vi = Vector512.Create(*(int*)(xk + 2 * cin)).AsInt16();
            vacc20 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc21 += Avx512BW.MultiplyAddAdjacent(vi, vk1);
            vi = Vector512.Create(*(int*)(xk + 3 * cin)).AsInt16();
            vacc30 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc31 += Avx512BW.MultiplyAddAdjacent(vi, vk1);
            vi = Vector512.Create(*(int*)(xk + 4 * cin)).AsInt16();
            vacc40 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc41 += Avx512BW.MultiplyAddAdjacent(vi, vk1);
            vi = Vector512.Create(*(int*)(xk + 5 * cin)).AsInt16();
            vacc50 += Avx512BW.MultiplyAddAdjacent(vi, vk0); vacc51 += Avx512BW.MultiplyAddAdjacent(vi, vk1);
        }
        Store16(Requantize512<TShape>(vacc00), o); Store16(Requantize512<TShape>(vacc01), o + 16); o += cout;
        Store16(Requantize512<TShape>(vacc10), o); Store16(Requantize512<TShape>(vacc11), o + 16); o += cout;
        Store16(Requantize512<TShape>(vacc20), o); Store16(Requantize512<TShape>(vacc21), o + 16); o += cout;
        Store16(Requantize512<TShape>(vacc30), o); Store16(Requantize512<TShape>(vacc31), o + 16); o += cout;
        Store16(Requantize512<TShape>(vacc40), o); Store16(Requantize512<TShape>(vacc41), o + 16); o += cout;
        Store16(Requantize512<TShape>(vacc50), o); Store16(Requantize512<TShape>(vacc51), o + 16);
    }

    /// <summary>An odd panel count (e.g. 48 or 1001 → 63 panels): 6 pixels × 16 channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile6x16Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        Vector512<int> vacc0 = Vector512.Load(b), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0, vacc4 = vacc0, vacc5 = vacc0;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 2, wk += 32)
        {
            var vk = Vector512.Load(wk);
            vacc0 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)xk).AsInt16(), vk);
            vacc1 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(xk + cin)).AsInt16(), vk);
            vacc2 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(xk + 2 * cin)).AsInt16(), vk);
            vacc3 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(xk + 3 * cin)).AsInt16(), vk);
            vacc4 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(xk + 4 * cin)).AsInt16(), vk);
            vacc5 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(xk + 5 * cin)).AsInt16(), vk);
        }
        Store16(Requantize512<TShape>(vacc0), o); o += cout;
        Store16(Requantize512<TShape>(vacc1), o); o += cout;
        Store16(Requantize512<TShape>(vacc2), o); o += cout;
        Store16(Requantize512<TShape>(vacc3), o); o += cout;
        Store16(Requantize512<TShape>(vacc4), o); o += cout;
        Store16(Requantize512<TShape>(vacc5), o);
    }

    /// <summary>One pixel × 16 channels, with two accumulators over alternate pairs (two independent add chains).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x16Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin;
        Vector512<int> vacc0 = Vector512.Load(b), vacc1 = Vector512<int>.Zero;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 4, wk += 64) // Cin is a multiple of 4
        {
            vacc0 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)xk).AsInt16(), Vector512.Load(wk));
            vacc1 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(xk + 2)).AsInt16(), Vector512.Load(wk + 32));
        }
        Store16(Requantize512<TShape>(vacc0 + vacc1), o);
    }

    /// <summary>
    /// The Octets layout (<see cref="QuantizedPacking.OctetIndex"/>): per octet of input channels one 128-bit broadcast of
    /// each pixel's four int16 pairs (vbroadcasti32x4) feeds four pmaddwd, one per weight vector V_q, where the Pairs kernel
    /// broadcasts each pair on its own: per 768 multiply-adds 6 broadcasts instead of 12 for the same 24 pmaddwd + 24 vpaddd.
    /// Each (pixel, V_q) accumulator holds four partial sums per 128-bit group; <see cref="SumOctetPartials"/> adds them at
    /// the end. 6 pixels × 16 channels: 24 accumulators + 4 weight vectors + the broadcast + a product = 30 of 32 registers.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Octets6x16Avx512<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 6;
        int cin = TShape.Cin, cout = TShape.Cout;
        short* xw = stackalloc short[MR * cin];
        int tileEnd = TileEnd(pixels, MR);
        for (int t = 0; t < tileEnd; t += MR)
        {
            int p = Math.Min(t, pixels - MR);
            Widen(input + (long)p * cin, xw, MR * cin);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) TileOctets6x16Avx512<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
        for (int p = tileEnd; p < pixels; p++) // one or two pixels left (and the logits' one)
        {
            Widen(input + (long)p * cin, xw, cin);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) TileOctets1x16Avx512<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)] // past the inliner's budget it is called: then optimized from its first call
    private static void TileOctets6x16Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        Vector512<int> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default,
                       a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default,
                       a40 = default, a41 = default, a42 = default, a43 = default, a50 = default, a51 = default, a52 = default, a53 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 8, wk += 128)
        {
            var v0 = Vector512.Load(wk).AsInt16();
            var v1 = Vector512.Load(wk + 32).AsInt16();
            var v2 = Vector512.Load(wk + 64).AsInt16();
            var v3 = Vector512.Load(wk + 96).AsInt16();
            var x = Avx512F.BroadcastVector128ToVector512((int*)(xk)).AsInt16();
            a00 += Avx512BW.MultiplyAddAdjacent(x, v0); a01 += Avx512BW.MultiplyAddAdjacent(x, v1); a02 += Avx512BW.MultiplyAddAdjacent(x, v2); a03 += Avx512BW.MultiplyAddAdjacent(x, v3);
            x = Avx512F.BroadcastVector128ToVector512((int*)(xk + cin)).AsInt16();
            a10 += Avx512BW.MultiplyAddAdjacent(x, v0); a11 += Avx512BW.MultiplyAddAdjacent(x, v1); a12 += Avx512BW.MultiplyAddAdjacent(x, v2); a13 += Avx512BW.MultiplyAddAdjacent(x, v3);
            x = Avx512F.BroadcastVector128ToVector512((int*)(xk + 2 * cin)).AsInt16();
            a20 += Avx512BW.MultiplyAddAdjacent(x, v0); a21 += Avx512BW.MultiplyAddAdjacent(x, v1); a22 += Avx512BW.MultiplyAddAdjacent(x, v2); a23 += Avx512BW.MultiplyAddAdjacent(x, v3);
            x = Avx512F.BroadcastVector128ToVector512((int*)(xk + 3 * cin)).AsInt16();
            a30 += Avx512BW.MultiplyAddAdjacent(x, v0); a31 += Avx512BW.MultiplyAddAdjacent(x, v1); a32 += Avx512BW.MultiplyAddAdjacent(x, v2); a33 += Avx512BW.MultiplyAddAdjacent(x, v3);
            x = Avx512F.BroadcastVector128ToVector512((int*)(xk + 4 * cin)).AsInt16();
            a40 += Avx512BW.MultiplyAddAdjacent(x, v0); a41 += Avx512BW.MultiplyAddAdjacent(x, v1); a42 += Avx512BW.MultiplyAddAdjacent(x, v2); a43 += Avx512BW.MultiplyAddAdjacent(x, v3);
            x = Avx512F.BroadcastVector128ToVector512((int*)(xk + 5 * cin)).AsInt16();
            a50 += Avx512BW.MultiplyAddAdjacent(x, v0); a51 += Avx512BW.MultiplyAddAdjacent(x, v1); a52 += Avx512BW.MultiplyAddAdjacent(x, v2); a53 += Avx512BW.MultiplyAddAdjacent(x, v3);
        }
        var vb = Vector512.Load(b);
        Store16(Requantize512<TShape>(vb + SumOctetPartials(a00, a01, a02, a03)), o); o += cout;
        Store16(Requantize512<TShape>(vb + SumOctetPartials(a10, a11, a12, a13)), o); o += cout;
        Store16(Requantize512<TShape>(vb + SumOctetPartials(a20, a21, a22, a23)), o); o += cout;
        Store16(Requantize512<TShape>(vb + SumOctetPartials(a30, a31, a32, a33)), o); o += cout;
        Store16(Requantize512<TShape>(vb + SumOctetPartials(a40, a41, a42, a43)), o); o += cout;
        Store16(Requantize512<TShape>(vb + SumOctetPartials(a50, a51, a52, a53)), o);
    }

    /// <summary>One pixel × 16 channels of the Octets layout (the tiles' leftovers, and the logits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileOctets1x16Avx512<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin;
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 8, wk += 128)
        {
            var x = Avx512F.BroadcastVector128ToVector512((int*)(xk)).AsInt16();
            a0 += Avx512BW.MultiplyAddAdjacent(x, Vector512.Load(wk).AsInt16());
            a1 += Avx512BW.MultiplyAddAdjacent(x, Vector512.Load(wk + 32).AsInt16());
            a2 += Avx512BW.MultiplyAddAdjacent(x, Vector512.Load(wk + 64).AsInt16());
            a3 += Avx512BW.MultiplyAddAdjacent(x, Vector512.Load(wk + 96).AsInt16());
        }
        Store16(Requantize512<TShape>(Vector512.Load(b) + SumOctetPartials(a0, a1, a2, a3)), o);
    }

    /// <summary>The 16 channel sums of an octet tile's four accumulators: in each 128-bit group g, lane q of the result is the
    /// sum of the four lanes of group g of <c>a_q</c> (channel 4g + q). Two rounds of unpack-and-add: 6 unpacks, 3 adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SumOctetPartials(Vector512<int> a0, Vector512<int> a1, Vector512<int> a2, Vector512<int> a3)
    {
        var t0 = Avx512F.UnpackLow(a0, a1) + Avx512F.UnpackHigh(a0, a1); // per group: a0.0+a0.2, a1.0+a1.2, a0.1+a0.3, a1.1+a1.3
        var t1 = Avx512F.UnpackLow(a2, a3) + Avx512F.UnpackHigh(a2, a3);
        return Avx512F.UnpackLow(t0.AsInt64(), t1.AsInt64()).AsInt32() + Avx512F.UnpackHigh(t0.AsInt64(), t1.AsInt64()).AsInt32(); // 32-bit adds (a 64-bit one carries)
    }

    // ------------------------------------------------------------------------------------------------------------- AVX2

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pairs4x16Avx2<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 4;
        int cin = TShape.Cin, cout = TShape.Cout;
        short* xw = stackalloc short[MR * cin];
        int tileEnd = TileEnd(pixels, MR);
        for (int t = 0; t < tileEnd; t += MR)
        {
            int p = Math.Min(t, pixels - MR);
            Widen(input + (long)p * cin, xw, MR * cin);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) Tile4x16Avx2<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
        for (int p = tileEnd; p < pixels; p++)
        {
            Widen(input + (long)p * cin, xw, cin);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) Tile1x16Avx2<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x16Avx2<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        Vector256<int> vacc00 = Vector256.Load(b), vacc01 = Vector256.Load(b + 8);
        Vector256<int> vacc10 = vacc00, vacc11 = vacc01, vacc20 = vacc00, vacc21 = vacc01, vacc30 = vacc00, vacc31 = vacc01;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 2, wk += 32)
        {
            var vk0 = Vector256.Load(wk);
            var vk1 = Vector256.Load(wk + 16);
            var vi = Vector256.Create(*(int*)xk).AsInt16();
            vacc00 += Avx2.MultiplyAddAdjacent(vi, vk0); vacc01 += Avx2.MultiplyAddAdjacent(vi, vk1);
            vi = Vector256.Create(*(int*)(xk + cin)).AsInt16();
            vacc10 += Avx2.MultiplyAddAdjacent(vi, vk0); vacc11 += Avx2.MultiplyAddAdjacent(vi, vk1);
            vi = Vector256.Create(*(int*)(xk + 2 * cin)).AsInt16();
            vacc20 += Avx2.MultiplyAddAdjacent(vi, vk0); vacc21 += Avx2.MultiplyAddAdjacent(vi, vk1);
            vi = Vector256.Create(*(int*)(xk + 3 * cin)).AsInt16();
            vacc30 += Avx2.MultiplyAddAdjacent(vi, vk0); vacc31 += Avx2.MultiplyAddAdjacent(vi, vk1);
        }
        Store16(Requantize256<TShape>(vacc00), Requantize256<TShape>(vacc01), o); o += cout;
        Store16(Requantize256<TShape>(vacc10), Requantize256<TShape>(vacc11), o); o += cout;
        Store16(Requantize256<TShape>(vacc20), Requantize256<TShape>(vacc21), o); o += cout;
        Store16(Requantize256<TShape>(vacc30), Requantize256<TShape>(vacc31), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x16Avx2<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin;
        Vector256<int> vacc0 = Vector256.Load(b), vacc1 = Vector256.Load(b + 8);
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 2, wk += 32)
        {
            var vi = Vector256.Create(*(int*)xk).AsInt16();
            vacc0 += Avx2.MultiplyAddAdjacent(vi, Vector256.Load(wk));
            vacc1 += Avx2.MultiplyAddAdjacent(vi, Vector256.Load(wk + 16));
        }
        Store16(Requantize256<TShape>(vacc0), Requantize256<TShape>(vacc1), o);
    }

    // --------------------------------------------------------------------------------------------- Vector128 (SSE / NEON)

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pairs2x16Vector128<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        const int MR = 2;
        int cin = TShape.Cin, cout = TShape.Cout;
        short* xw = stackalloc short[MR * cin];
        int tileEnd = pixels - pixels % MR;
        for (int p = 0; p < tileEnd; p += MR)
        {
            Widen(input + (long)p * cin, xw, MR * cin);
            byte* o = output + (long)p * cout;
            for (int panel = panelStart; panel < panelEnd; panel++) Tile2x16Vector128<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, o + panel * 16);
        }
        if (tileEnd < pixels)
        {
            int p = pixels >= MR ? pixels - MR : 0; // overlap the tile before; a lone pixel runs as a tile of one
            if (pixels >= MR)
            {
                Widen(input + (long)p * cin, xw, MR * cin);
                for (int panel = panelStart; panel < panelEnd; panel++) Tile2x16Vector128<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, output + (long)p * cout + panel * 16);
            }
            else
            {
                Widen(input, xw, cin);
                for (int panel = panelStart; panel < panelEnd; panel++) Tile1x16Vector128<TShape>(xw, w + (long)panel * 16 * cin, bias + panel * 16, output + panel * 16);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile2x16Vector128<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        Vector128<int> vacc00 = Vector128.Load(b), vacc01 = Vector128.Load(b + 4), vacc02 = Vector128.Load(b + 8), vacc03 = Vector128.Load(b + 12);
        Vector128<int> vacc10 = vacc00, vacc11 = vacc01, vacc12 = vacc02, vacc13 = vacc03;
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 2, wk += 32)
        {
            var vk0 = Vector128.Load(wk); var vk1 = Vector128.Load(wk + 8); var vk2 = Vector128.Load(wk + 16); var vk3 = Vector128.Load(wk + 24);
            var vi = Vector128.Create(*(int*)xk).AsInt16();
            vacc00 += Q32x4.MultiplyAddAdjacent(vi, vk0); vacc01 += Q32x4.MultiplyAddAdjacent(vi, vk1);
            vacc02 += Q32x4.MultiplyAddAdjacent(vi, vk2); vacc03 += Q32x4.MultiplyAddAdjacent(vi, vk3);
            vi = Vector128.Create(*(int*)(xk + cin)).AsInt16();
            vacc10 += Q32x4.MultiplyAddAdjacent(vi, vk0); vacc11 += Q32x4.MultiplyAddAdjacent(vi, vk1);
            vacc12 += Q32x4.MultiplyAddAdjacent(vi, vk2); vacc13 += Q32x4.MultiplyAddAdjacent(vi, vk3);
        }
        Store16(Requantize128<TShape>(vacc00), Requantize128<TShape>(vacc01), Requantize128<TShape>(vacc02), Requantize128<TShape>(vacc03), o);
        o += cout;
        Store16(Requantize128<TShape>(vacc10), Requantize128<TShape>(vacc11), Requantize128<TShape>(vacc12), Requantize128<TShape>(vacc13), o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x16Vector128<TShape>(short* xw, short* w, int* b, byte* o) where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin;
        Vector128<int> vacc0 = Vector128.Load(b), vacc1 = Vector128.Load(b + 4), vacc2 = Vector128.Load(b + 8), vacc3 = Vector128.Load(b + 12);
        short* wk = w;
        for (short* xk = xw, end = xw + cin; xk < end; xk += 2, wk += 32)
        {
            var vi = Vector128.Create(*(int*)xk).AsInt16();
            vacc0 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk)); vacc1 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk + 8));
            vacc2 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk + 16)); vacc3 += Q32x4.MultiplyAddAdjacent(vi, Vector128.Load(wk + 24));
        }
        Store16(Requantize128<TShape>(vacc0), Requantize128<TShape>(vacc1), Requantize128<TShape>(vacc2), Requantize128<TShape>(vacc3), o);
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

    /// <summary>The reference (Pairs layout): one output at a time.</summary>
    public static void ScalarKernel<TShape>(byte* input, byte* output, short* w, int* bias, int pixels, int panelStart, int panelEnd)
        where TShape : struct, IQPointwiseShape
    {
        int cin = TShape.Cin, cout = TShape.Cout;
        for (int p = 0; p < pixels; p++)
            for (int co = panelStart * PanelWidth; co < panelEnd * PanelWidth; co++)
            {
                short* wc = w + (long)(co / PanelWidth) * PanelWidth * cin + (co % PanelWidth) * 2;
                int acc = bias[co];
                for (int ci = 0; ci < cin; ci++) acc += input[(long)p * cin + ci] * wc[(ci / 2) * 32 + ci % 2];
                output[(long)p * cout + co] = (byte)QuantizedRequantization.Reference<TShape>(acc);
            }
    }
}
