using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// uint8 depthwise 3×3 convolution (stride 1 or 2, TensorFlow SAME padding, depth multiplier 1), NHWC, exact to TFLite's
/// reference <c>DepthwiseConv</c>: <c>acc = bias[c] + Σ_taps (x − x_zp)·(w − w_zp)</c> over the taps inside the image, then
/// <see cref="QuantizedRequantization"/>.
/// </summary>
/// <remarks>
/// <para>Packed (<see cref="QuantizedPacking.Depthwise"/>, one layout for every ISA): weights tap-major int16
/// <c>w'[(ky·3 + kx)·C + c] = w − w_zp</c>; bias <c>b'[c] = bias[c] − x_zp·Σ_taps w'</c>. With the input zero point folded
/// into the bias the kernel sums <c>x·w'</c> over all nine taps, a padding tap taking <c>x = x_zp</c> (which contributes
/// exactly what the fold took away: the reference's "skip the tap"). Each product is |x·w'| ≤ 255·255.</para>
/// <para>The loop structure is the float kernel's (<see cref="DepthwiseKernels"/>): output row by output row, eight
/// neighbouring interior pixels at a time (then four, then one), every channel block in turn (16, 8, 4 int32 lanes, then
/// scalar lanes), each input vector widened once and fed to every pixel of the group that reads it; the first and last
/// rows are separate instantiations in which a missing tap row contributes <c>x_zp·(w'0 + w'1 + w'2)</c>. An accumulator
/// is one int32 vector per pixel (8 of them, 3 weight vectors, the input vector and a product: 13 registers of AVX2's
/// 16, so nothing is spilled), and the whole int32 → uint8 step runs once per pixel and channel block.</para>
/// <para>On x64, stride-1 rows take row pairs instead (<see cref="RowPairs8"/>, <see cref="RowPairs4"/>): the window's two
/// first rows (the two inside the image, when one is padding) go into one pmaddwd as int16 pairs, so a pixel costs six
/// multiply-adds instead of nine, or three instead of six in a border row, whose padding row is a constant folded into
/// the accumulators' start. With SAME padding the groups take the whole row, the border pixels too: a window column left
/// or right of the image is read from a column of x_zp, and the last group overlaps the one before it; on small layers
/// (8×8, 4×4) the per-pixel border form had cost most of the time. The products and their sums are exact integers, so the
/// bytes are those of the other form and of the scalar reference. Measured alone (Zen 4, family 25 model 17; MobileNet shapes, best of 4 × 25 runs, alternating
/// with the build before, equal output bytes; with the requantization's vpternlogd, which alone gave 0.95–0.97×):
/// Vector512 0.85–0.97× the time, most for the wide early layers (112×112×32, 56×56×128) and least for the 7×7 ones,
/// whose border pixels keep the per-pixel form; Vector256 (groups of four) 0.93–0.95× for the wide layers, Vector128
/// 0.90–0.97×. The whole rows then, against that: Vector512 8×8×128 0.62×, 4×4×256 0.55×, 16×16×64 0.70×, 7×7×1024 0.78×,
/// 28×28×256 0.86×, 14×14×512 1.03× (16 pixels computed for 14); Vector256 0.36–0.92×, Vector128 0.31–0.91×.</para>
/// </remarks>
public static unsafe class QDepthwiseKernels
{
    /// <summary>Output rows <c>[rowStart, rowEnd)</c> (a thread's share: rows are independent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TShape>(QuantizedIsa isa, byte* input, byte* output, void* weights, int* bias, int rowStart, int rowEnd)
        where TShape : struct, IQDepthwiseShape
    {
        short* w = (short*)weights;
        switch (isa)
        {
            case QuantizedIsa.Vector512 or QuantizedIsa.Vector512Vnni when Has512: Rows<TShape>(3, input, output, w, bias, rowStart, rowEnd); break;
            case QuantizedIsa.Vector256 or QuantizedIsa.Vector256Vnni when Has256: Rows<TShape>(2, input, output, w, bias, rowStart, rowEnd); break;
            case QuantizedIsa.Vector128 or QuantizedIsa.Vector128Dot when Has128: Rows<TShape>(1, input, output, w, bias, rowStart, rowEnd); break;
            case QuantizedIsa.Scalar: ScalarKernel<TShape>(input, output, w, bias, rowStart, rowEnd); break;
            default: throw Unsupported(isa);
        }
    }

    /// <summary><paramref name="level"/>: 3 = 16-lane blocks first, 2 = 8-lane, 1 = 4-lane. Where rows take the row-pair groups
    /// (<see cref="WholeRowPairs"/>), the x_zp column their padding columns read is written here, once per call.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // holds a stackalloc, so it is not inlined: never tier-0 code
    private static void Rows<TShape>(int level, byte* input, byte* output, short* w, int* bias, int rowStart, int rowEnd)
        where TShape : struct, IQDepthwiseShape
    {
        byte* pad = null;
        if (WholeRowPairs<TShape>())
        {
            byte* column = stackalloc byte[3 * TShape.Channels];
            new Span<byte>(column, 3 * TShape.Channels).Fill((byte)TShape.InputZeroPoint);
            pad = column;
        }
        for (int outY = rowStart; outY < rowEnd; outY++)
        {
            int inY0 = outY * TShape.Stride - TShape.PadTop;
            bool top = inY0 >= 0, bottom = inY0 + 2 < TShape.InH;
            // A missing top row needs top padding, and a missing top and bottom row an input of at most two rows: said
            // with the shape's constants, so that a shape never compiles the row kinds it cannot run (NativeAOT keeps every
            // instantiation it can reach: for MobileNet's shapes that was a third of these kernels' code).
            if (top && bottom) Blocks<TShape, AllRows>(level, input, output, w, bias, pad, outY);
            else if (top) Blocks<TShape, NoBottomRow>(level, input, output, w, bias, pad, outY);
            else if (TShape.PadTop > 0 && bottom) Blocks<TShape, NoTopRow>(level, input, output, w, bias, pad, outY);
            else if (TShape.PadTop > 0 && TShape.InH <= 2) Blocks<TShape, MiddleRowOnly>(level, input, output, w, bias, pad, outY);
            else ThrowImpossibleRow(outY);
        }
    }

    /// <summary>Which of a pixel's three input rows exist (the others are padding), as constants.</summary>
    private interface IRows { static abstract bool Top { get; } static abstract bool Bottom { get; } }
    private struct AllRows : IRows { public static bool Top => true; public static bool Bottom => true; }
    private struct NoTopRow : IRows { public static bool Top => false; public static bool Bottom => true; }
    private struct NoBottomRow : IRows { public static bool Top => true; public static bool Bottom => false; }
    private struct MiddleRowOnly : IRows { public static bool Top => false; public static bool Bottom => false; }

    /// <summary>Unreachable: a row whose window misses its top row has top padding, and one missing both has InH ≤ 2.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowImpossibleRow(int outY) =>
        throw new InvalidOperationException($"depthwise output row {outY}: its window misses rows that the shape's padding cannot explain");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Blocks<TShape, TRows>(int level, byte* input, byte* output, short* w, int* bias, byte* pad, int outY)
        where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int channels = TShape.Channels;
        int c16 = Has512 && level >= 3 ? channels / 16 * 16 : 0;
        int c8 = Has256 && level >= 2 ? c16 + (channels - c16) / 8 * 8 : c16;
        int c4 = Has128 && level >= 1 ? c8 + (channels - c8) / 4 * 4 : c8;
        if (c16 > 0) Row<Q32x16, Vector512<int>, TShape, TRows>(input, output, w, bias, pad, outY, 0, c16);
        if (c8 > c16) Row<Q32x8, Vector256<int>, TShape, TRows>(input, output, w, bias, pad, outY, c16, c8);
        if (c4 > c8) Row<Q32x4, Vector128<int>, TShape, TRows>(input, output, w, bias, pad, outY, c8, c4);
        if (channels > c4) Row<Q32x1, int, TShape, TRows>(input, output, w, bias, pad, outY, c4, channels);
    }

    /// <summary>One output row, channels <c>[cBegin, cEnd)</c>: on x64 at stride 1 with SAME padding, row-pair groups over the
    /// whole row (<see cref="RowPairs"/>; <paramref name="pad"/> is the x_zp column); otherwise border pixels, interior
    /// groups of 8 and 4, the tail. The
    /// groups are methods of their own: with all of it in one method the JIT's inlining budget runs out and the per-vector
    /// helpers are called with vectors on the stack (3–15× slower). Inside a group each accumulator is requantized and
    /// stored straight from its register (an earlier form spilled the group to the stack and requantized it in a call of
    /// its own: 1–9 % slower by kernel and width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TSimd, TVec, TShape, TRows>(byte* input, byte* output, short* w, int* bias, byte* pad, int outY, int cBegin, int cEnd)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, S = TShape.Stride, inW = TShape.InW, outW = TShape.OutW;
        int inY0 = outY * S - TShape.PadTop;
        byte* r0 = input + inY0 * (long)inW * C - (long)TShape.PadLeft * C; // pixel (inY0, −PadLeft): only real taps are read
        byte* o = output + (long)outY * outW * C;
        int firstInterior = (TShape.PadLeft + S - 1) / S;
        int lastInterior = Math.Min(outW - 1, (inW - 3 + TShape.PadLeft) / S);
        int outX = 0;
        if (RowPairs<TVec, TShape, TRows>())
        {
            // The whole row in groups, the border pixels too: a window column left of the image or right of it is read from
            // the column of x_zp (what the fold into the bias makes a padding tap contribute: nothing), and the last group
            // overlaps the one before it (recomputing the same bytes).
            if (typeof(TVec) == typeof(Vector512<int>) && outW >= 8) outX = RowPairs8<TSimd, TVec, TShape, TRows>(r0, o, w, bias, pad, cBegin, cEnd);
            RowPairs4<TSimd, TVec, TShape, TRows>(r0, o, w, bias, pad, outX, cBegin, cEnd);
            return;
        }
        for (; outX < firstInterior && outX < outW; outX++)
            PixelAllChannels<TSimd, TVec, TShape, TRows>(r0, o, w, bias, outX, cBegin, cEnd);
        if (outX + 7 <= lastInterior) outX = Interior8<TSimd, TVec, TShape, TRows>(r0, o, w, bias, outX, lastInterior, cBegin, cEnd);
        if (outX + 3 <= lastInterior) outX = Interior4<TSimd, TVec, TShape, TRows>(r0, o, w, bias, outX, lastInterior, cBegin, cEnd);
        for (; outX < outW; outX++)
            PixelAllChannels<TSimd, TVec, TShape, TRows>(r0, o, w, bias, outX, cBegin, cEnd);
    }

    /// <summary>Interior pixels eight at a time from <paramref name="outX"/>; returns the first pixel not done. Register budget
    /// (AVX2): 8 accumulators, 3 weight vectors, the widened input and a product = 13 of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Interior8<TSimd, TVec, TShape, TRows>(byte* r0, byte* o, short* w, int* bias, int outX, int lastInterior, int cBegin, int cEnd)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, S = TShape.Stride, W = TSimd.Width;
        long rowStride = (long)TShape.InW * C;
        TVec vzp = TSimd.Broadcast(TShape.InputZeroPoint);
        for (; outX + 7 <= lastInterior; outX += 8)
        {
            byte* p = r0 + (long)outX * S * C;
            byte* q = o + (long)outX * C;
            for (int c = cBegin; c < cEnd; c += W)
            {
                byte* pc = p + c;
                short* k = w + c;
                TVec vacc0 = TSimd.Load(bias + c), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0, vacc4 = vacc0, vacc5 = vacc0, vacc6 = vacc0, vacc7 = vacc0;
                if (TRows.Top) TapRow8<TSimd, TVec, TShape>(pc, k, ref vacc0, ref vacc1, ref vacc2, ref vacc3, ref vacc4, ref vacc5, ref vacc6, ref vacc7);
                else MissingRow8<TSimd, TVec, TShape>(vzp, k, ref vacc0, ref vacc1, ref vacc2, ref vacc3, ref vacc4, ref vacc5, ref vacc6, ref vacc7);
                TapRow8<TSimd, TVec, TShape>(pc + rowStride, k + 3 * C, ref vacc0, ref vacc1, ref vacc2, ref vacc3, ref vacc4, ref vacc5, ref vacc6, ref vacc7);
                if (TRows.Bottom) TapRow8<TSimd, TVec, TShape>(pc + 2 * rowStride, k + 6 * C, ref vacc0, ref vacc1, ref vacc2, ref vacc3, ref vacc4, ref vacc5, ref vacc6, ref vacc7);
                else MissingRow8<TSimd, TVec, TShape>(vzp, k + 6 * C, ref vacc0, ref vacc1, ref vacc2, ref vacc3, ref vacc4, ref vacc5, ref vacc6, ref vacc7);
                byte* qc = q + c;
                TSimd.StoreRequantized<TShape>(vacc0, qc); TSimd.StoreRequantized<TShape>(vacc1, qc + C);
                TSimd.StoreRequantized<TShape>(vacc2, qc + 2 * C); TSimd.StoreRequantized<TShape>(vacc3, qc + 3 * C);
                TSimd.StoreRequantized<TShape>(vacc4, qc + 4 * C); TSimd.StoreRequantized<TShape>(vacc5, qc + 5 * C);
                TSimd.StoreRequantized<TShape>(vacc6, qc + 6 * C); TSimd.StoreRequantized<TShape>(vacc7, qc + 7 * C);
            }
        }
        return outX;
    }

    /// <summary>Whether a layer's rows take the row-pair groups (<see cref="RowPairs8"/>, <see cref="RowPairs4"/>) over the whole
    /// row, border pixels included: x64, TensorFlow SAME padding at stride 1 (one column each side, as wide out as in) and
    /// at least one group of four. Then a group's first window column is the only one that can lie left of the image, and
    /// its last the only one right of it. On ARM64 the int32 multiply-add is one instruction (MLA) and a pair costs three
    /// (SMULL, SMULL2, ADDP), so there the rows stay apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool WholeRowPairs<TShape>() where TShape : struct, IQDepthwiseShape =>
        TShape.Stride == 1 && TShape.PadLeft == 1 && TShape.OutW == TShape.InW && TShape.OutW >= 4 && Sse2.IsSupported;

    /// <summary><see cref="WholeRowPairs"/> for one row kind and width: at least two of the window rows inside the image (two
    /// to pair), vector lanes (the scalar channel tail keeps the per-pixel form).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool RowPairs<TVec, TShape, TRows>() where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows =>
        WholeRowPairs<TShape>() && (TRows.Top || TRows.Bottom) && typeof(TVec) != typeof(int);

    /// <summary>
    /// A row's pixels eight at a time from its start (AVX-512; returns the first pixel not done), the window's first two rows
    /// multiplied as int16 pairs: every input column
    /// j of the group becomes one vector of pairs <c>(x[row 0][j], x[row 1][j])</c> (a shift and an or), which one pmaddwd
    /// multiplies by <c>(w'[0][kx], w'[1][kx])</c> for each of the up to three pixels that read it; row 2 is multiplied alone.
    /// Six pmaddwd + add per pixel and channel block instead of nine, for two extra instructions per column. In a row whose
    /// window has a padding row the pair is the two rows inside and the padding row's constant starts the accumulators
    /// (<see cref="PairWeights"/>): three instead of six. The channel
    /// blocks are the outer loop, so the six weight vectors (three pairs, three of row 2) stay in registers across the row:
    /// 8 accumulators + 6 weights + the bias + a pair, a row-2 vector and a product = 18 of AVX-512's 32 registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RowPairs8<TSimd, TVec, TShape, TRows>(byte* r0, byte* o, short* w, int* bias, byte* pad, int cBegin, int cEnd)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, W = TSimd.Width;
        long rs = (long)TShape.InW * C;
        int groups = TShape.OutW / 8;
        for (int c = cBegin; c < cEnd; c += W)
        {
            short* k = w + c;
            PairWeights<TSimd, TVec, TShape, TRows>(k, bias + c, out TVec wp0, out TVec wp1, out TVec wp2, out TVec w20, out TVec w21, out TVec w22, out TVec vb);
            for (int g = 0; g < groups; g++)
            {
                int x = 8 * g;
                byte* p = r0 + (long)x * C + c + (TRows.Top ? 0 : rs); // window column 0 of pixel x, the first row of the pair
                byte* q = o + (long)x * C + c;
                EdgeColumns<TShape>(x, 8, p, rs, pad + c, out byte* p0, out long rs0, out byte* pLast, out long rsLast);
                TVec a0 = vb, a1 = vb, a2 = vb, a3 = vb, a4 = vb, a5 = vb, a6 = vb, a7 = vb;
                Column<TSimd, TVec, TRows, First>(p0, rs0, wp0, wp1, wp2, w20, w21, w22, ref a0, ref a0, ref a0);
                Column<TSimd, TVec, TRows, Second>(p + C, rs, wp0, wp1, wp2, w20, w21, w22, ref a1, ref a0, ref a0);
                Column<TSimd, TVec, TRows, Full>(p + 2 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a2, ref a1, ref a0);
                Column<TSimd, TVec, TRows, Full>(p + 3 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a3, ref a2, ref a1);
                Column<TSimd, TVec, TRows, Full>(p + 4 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a4, ref a3, ref a2);
                Column<TSimd, TVec, TRows, Full>(p + 5 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a5, ref a4, ref a3);
                Column<TSimd, TVec, TRows, Full>(p + 6 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a6, ref a5, ref a4);
                Column<TSimd, TVec, TRows, Full>(p + 7 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a7, ref a6, ref a5);
                Column<TSimd, TVec, TRows, NextToLast>(p + 8 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a7, ref a7, ref a6);
                Column<TSimd, TVec, TRows, Last>(pLast, rsLast, wp0, wp1, wp2, w20, w21, w22, ref a7, ref a7, ref a7);
                TSimd.StoreRequantized<TShape>(a0, q); TSimd.StoreRequantized<TShape>(a1, q + C);
                TSimd.StoreRequantized<TShape>(a2, q + 2 * C); TSimd.StoreRequantized<TShape>(a3, q + 3 * C);
                TSimd.StoreRequantized<TShape>(a4, q + 4 * C); TSimd.StoreRequantized<TShape>(a5, q + 5 * C);
                TSimd.StoreRequantized<TShape>(a6, q + 6 * C); TSimd.StoreRequantized<TShape>(a7, q + 7 * C);
            }
        }
        return 8 * groups;
    }

    /// <summary><see cref="RowPairs8"/> four pixels at a time, from <paramref name="outX"/> to the end of the row: the rest of
    /// an AVX-512 row, and every pixel of the row on AVX2 and SSE (16 registers: 4 accumulators + 6 weights + the bias + 3
    /// temporaries). When fewer than four are left, one more group ends at the row's end, overlapping the pixels before
    /// (recomputing the same bytes; a row holds at least four, <see cref="WholeRowPairs"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowPairs4<TSimd, TVec, TShape, TRows>(byte* r0, byte* o, short* w, int* bias, byte* pad, int outX, int cBegin, int cEnd)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, W = TSimd.Width, end = TShape.OutW;
        long rs = (long)TShape.InW * C;
        int groups = (end - outX) / 4;
        bool overlap = (end - outX) % 4 != 0;
        for (int c = cBegin; c < cEnd; c += W)
        {
            short* k = w + c;
            PairWeights<TSimd, TVec, TShape, TRows>(k, bias + c, out TVec wp0, out TVec wp1, out TVec wp2, out TVec w20, out TVec w21, out TVec w22, out TVec vb);
            for (int g = 0, n = groups + (overlap ? 1 : 0); g < n; g++)
            {
                int x = g < groups ? outX + 4 * g : end - 4;
                byte* p = r0 + (long)x * C + c + (TRows.Top ? 0 : rs); // window column 0 of pixel x, the first row of the pair
                byte* q = o + (long)x * C + c;
                EdgeColumns<TShape>(x, 4, p, rs, pad + c, out byte* p0, out long rs0, out byte* pLast, out long rsLast);
                TVec a0 = vb, a1 = vb, a2 = vb, a3 = vb;
                Column<TSimd, TVec, TRows, First>(p0, rs0, wp0, wp1, wp2, w20, w21, w22, ref a0, ref a0, ref a0);
                Column<TSimd, TVec, TRows, Second>(p + C, rs, wp0, wp1, wp2, w20, w21, w22, ref a1, ref a0, ref a0);
                Column<TSimd, TVec, TRows, Full>(p + 2 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a2, ref a1, ref a0);
                Column<TSimd, TVec, TRows, Full>(p + 3 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a3, ref a2, ref a1);
                Column<TSimd, TVec, TRows, NextToLast>(p + 4 * C, rs, wp0, wp1, wp2, w20, w21, w22, ref a3, ref a3, ref a2);
                Column<TSimd, TVec, TRows, Last>(pLast, rsLast, wp0, wp1, wp2, w20, w21, w22, ref a3, ref a3, ref a3);
                TSimd.StoreRequantized<TShape>(a0, q); TSimd.StoreRequantized<TShape>(a1, q + C);
                TSimd.StoreRequantized<TShape>(a2, q + 2 * C); TSimd.StoreRequantized<TShape>(a3, q + 3 * C);
            }
        }
    }

    /// <summary>Where a group of <paramref name="size"/> pixels from <paramref name="x"/> reads its first and last window
    /// columns (<c>x − 1</c> and <c>x + size</c> of the image): from the row (at <paramref name="p"/>, rows
    /// <paramref name="rs"/> apart), or, when the column is padding, from the x_zp column <paramref name="pad"/> (rows C apart;
    /// in the whole rows of <see cref="WholeRowPairs"/> no other column can be padding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EdgeColumns<TShape>(int x, int size, byte* p, long rs, byte* pad, out byte* p0, out long rs0, out byte* pLast, out long rsLast)
        where TShape : struct, IQDepthwiseShape
    {
        bool left = x == 0, right = x + size == TShape.InW;
        p0 = left ? pad : p; rs0 = left ? TShape.Channels : rs;
        pLast = right ? pad : p + (size + 1) * TShape.Channels; rsLast = right ? TShape.Channels : rs;
    }

    /// <summary>Which of the pixels <c>j</c>, <c>j − 1</c>, <c>j − 2</c> an input column <c>j</c> of a group feeds (as the
    /// window's column 0, 1, 2): all three inside the group, and fewer at its first two and last two columns.</summary>
    private interface IColumn { static abstract bool Tap0 { get; } static abstract bool Tap1 { get; } static abstract bool Tap2 { get; } }
    private struct First : IColumn { public static bool Tap0 => true; public static bool Tap1 => false; public static bool Tap2 => false; }
    private struct Second : IColumn { public static bool Tap0 => true; public static bool Tap1 => true; public static bool Tap2 => false; }
    private struct Full : IColumn { public static bool Tap0 => true; public static bool Tap1 => true; public static bool Tap2 => true; }
    private struct NextToLast : IColumn { public static bool Tap0 => false; public static bool Tap1 => true; public static bool Tap2 => true; }
    private struct Last : IColumn { public static bool Tap0 => false; public static bool Tap1 => false; public static bool Tap2 => true; }

    /// <summary>A row-pair group's weights for one channel block: the pairs of the window's two paired rows (0 and 1, or 1
    /// and 2 when row 0 is padding) per kx, row 2's own vectors when all three rows are inside, and the bias with a padding
    /// row's constant <c>x_zp·(w'0 + w'1 + w'2)</c> folded in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairWeights<TSimd, TVec, TShape, TRows>(short* k, int* bias, out TVec wp0, out TVec wp1, out TVec wp2,
        out TVec w20, out TVec w21, out TVec w22, out TVec vb)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels;
        short* ka = k + (TRows.Top ? 0 : 3 * C); // kx = 0 of the first paired row
        wp0 = TSimd.PairUp(TSimd.LoadU16(ka), TSimd.LoadU16(ka + 3 * C));
        wp1 = TSimd.PairUp(TSimd.LoadU16(ka + C), TSimd.LoadU16(ka + 4 * C));
        wp2 = TSimd.PairUp(TSimd.LoadU16(ka + 2 * C), TSimd.LoadU16(ka + 5 * C));
        bool single = TRows.Top && TRows.Bottom;
        w20 = single ? TSimd.LoadS16(k + 6 * C) : default;
        w21 = single ? TSimd.LoadS16(k + 7 * C) : default;
        w22 = single ? TSimd.LoadS16(k + 8 * C) : default;
        vb = TSimd.Load(bias);
        if (!single)
        {
            short* km = k + (TRows.Top ? 6 * C : 0); // the padding row
            vb = TSimd.MultiplyAddSmall(vb, TSimd.Broadcast(TShape.InputZeroPoint),
                TSimd.Add(TSimd.Add(TSimd.LoadS16(km), TSimd.LoadS16(km + C)), TSimd.LoadS16(km + 2 * C)));
        }
    }

    /// <summary>One input column of a row-pair group: its two paired rows as one vector of pairs (<paramref name="pj"/> is the
    /// first of them), and row 2 alone when all three are inside, multiplied into the accumulators of the pixels that read
    /// it as their window column 0 (<paramref name="t0"/>), 1 and 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<TSimd, TVec, TRows, TColumn>(byte* pj, long rs, TVec wp0, TVec wp1, TVec wp2, TVec w20, TVec w21, TVec w22,
        ref TVec t0, ref TVec t1, ref TVec t2)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TRows : struct, IRows where TColumn : struct, IColumn
    {
        bool single = TRows.Top && TRows.Bottom;
        TVec pair = TSimd.PairUp(TSimd.LoadU8(pj), TSimd.LoadU8(pj + rs)), x2 = single ? TSimd.LoadU8(pj + 2 * rs) : default;
        if (TColumn.Tap0) { t0 = TSimd.MultiplyAddPairs(t0, pair, wp0); if (single) t0 = TSimd.MultiplyAddSmall(t0, x2, w20); }
        if (TColumn.Tap1) { t1 = TSimd.MultiplyAddPairs(t1, pair, wp1); if (single) t1 = TSimd.MultiplyAddSmall(t1, x2, w21); }
        if (TColumn.Tap2) { t2 = TSimd.MultiplyAddPairs(t2, pair, wp2); if (single) t2 = TSimd.MultiplyAddSmall(t2, x2, w22); }
    }

    /// <summary>Interior pixels four at a time (the rest of the interior after the groups of eight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Interior4<TSimd, TVec, TShape, TRows>(byte* r0, byte* o, short* w, int* bias, int outX, int lastInterior, int cBegin, int cEnd)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, S = TShape.Stride, W = TSimd.Width;
        long rowStride = (long)TShape.InW * C;
        TVec vzp = TSimd.Broadcast(TShape.InputZeroPoint);
        for (; outX + 3 <= lastInterior; outX += 4)
        {
            byte* p = r0 + (long)outX * S * C;
            byte* q = o + (long)outX * C;
            for (int c = cBegin; c < cEnd; c += W)
            {
                byte* pc = p + c;
                short* k = w + c;
                TVec vacc0 = TSimd.Load(bias + c), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0;
                if (TRows.Top) TapRow4<TSimd, TVec, TShape>(pc, k, ref vacc0, ref vacc1, ref vacc2, ref vacc3);
                else MissingRow4<TSimd, TVec, TShape>(vzp, k, ref vacc0, ref vacc1, ref vacc2, ref vacc3);
                TapRow4<TSimd, TVec, TShape>(pc + rowStride, k + 3 * C, ref vacc0, ref vacc1, ref vacc2, ref vacc3);
                if (TRows.Bottom) TapRow4<TSimd, TVec, TShape>(pc + 2 * rowStride, k + 6 * C, ref vacc0, ref vacc1, ref vacc2, ref vacc3);
                else MissingRow4<TSimd, TVec, TShape>(vzp, k + 6 * C, ref vacc0, ref vacc1, ref vacc2, ref vacc3);
                byte* qc = q + c;
                TSimd.StoreRequantized<TShape>(vacc0, qc); TSimd.StoreRequantized<TShape>(vacc1, qc + C);
                TSimd.StoreRequantized<TShape>(vacc2, qc + 2 * C); TSimd.StoreRequantized<TShape>(vacc3, qc + 3 * C);
            }
        }
        return outX;
    }

    /// <summary>A padding tap row of four pixels: each takes <c>x_zp·(w'0 + w'1 + w'2)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MissingRow4<TSimd, TVec, TShape>(TVec vzp, short* k, ref TVec a, ref TVec b, ref TVec c, ref TVec d)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape
    {
        int C = TShape.Channels;
        TVec vrow = TSimd.MultiplyAddSmall(default, vzp, TSimd.Add(TSimd.Add(TSimd.LoadS16(k), TSimd.LoadS16(k + C)), TSimd.LoadS16(k + 2 * C)));
        a = TSimd.Add(a, vrow); b = TSimd.Add(b, vrow); c = TSimd.Add(c, vrow); d = TSimd.Add(d, vrow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MissingRow8<TSimd, TVec, TShape>(TVec vzp, short* k, ref TVec a0, ref TVec a1, ref TVec a2, ref TVec a3, ref TVec a4, ref TVec a5, ref TVec a6, ref TVec a7)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape
    {
        int C = TShape.Channels;
        TVec vrow = TSimd.MultiplyAddSmall(default, vzp, TSimd.Add(TSimd.Add(TSimd.LoadS16(k), TSimd.LoadS16(k + C)), TSimd.LoadS16(k + 2 * C)));
        a0 = TSimd.Add(a0, vrow); a1 = TSimd.Add(a1, vrow); a2 = TSimd.Add(a2, vrow); a3 = TSimd.Add(a3, vrow);
        a4 = TSimd.Add(a4, vrow); a5 = TSimd.Add(a5, vrow); a6 = TSimd.Add(a6, vrow); a7 = TSimd.Add(a7, vrow);
    }

    /// <summary>One tap row (three taps) of four neighbouring pixels; each input vector is widened once for every pixel that
    /// reads it (stride 1: 6 for 12 multiply-adds, stride 2: 9).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapRow4<TSimd, TVec, TShape>(byte* pc, short* k, ref TVec a, ref TVec b, ref TVec c, ref TVec d)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape
    {
        int C = TShape.Channels;
        TVec w0 = TSimd.LoadS16(k), w1 = TSimd.LoadS16(k + C), w2 = TSimd.LoadS16(k + 2 * C), x;
        if (TShape.Stride == 1)
        {
            x = TSimd.LoadU8(pc); a = TSimd.MultiplyAddSmall(a, x, w0);
            x = TSimd.LoadU8(pc + C); a = TSimd.MultiplyAddSmall(a, x, w1); b = TSimd.MultiplyAddSmall(b, x, w0);
            x = TSimd.LoadU8(pc + 2 * C); a = TSimd.MultiplyAddSmall(a, x, w2); b = TSimd.MultiplyAddSmall(b, x, w1); c = TSimd.MultiplyAddSmall(c, x, w0);
            x = TSimd.LoadU8(pc + 3 * C); b = TSimd.MultiplyAddSmall(b, x, w2); c = TSimd.MultiplyAddSmall(c, x, w1); d = TSimd.MultiplyAddSmall(d, x, w0);
            x = TSimd.LoadU8(pc + 4 * C); c = TSimd.MultiplyAddSmall(c, x, w2); d = TSimd.MultiplyAddSmall(d, x, w1);
            x = TSimd.LoadU8(pc + 5 * C); d = TSimd.MultiplyAddSmall(d, x, w2);
        }
        else
        {
            x = TSimd.LoadU8(pc); a = TSimd.MultiplyAddSmall(a, x, w0);
            x = TSimd.LoadU8(pc + C); a = TSimd.MultiplyAddSmall(a, x, w1);
            x = TSimd.LoadU8(pc + 2 * C); a = TSimd.MultiplyAddSmall(a, x, w2); b = TSimd.MultiplyAddSmall(b, x, w0);
            x = TSimd.LoadU8(pc + 3 * C); b = TSimd.MultiplyAddSmall(b, x, w1);
            x = TSimd.LoadU8(pc + 4 * C); b = TSimd.MultiplyAddSmall(b, x, w2); c = TSimd.MultiplyAddSmall(c, x, w0);
            x = TSimd.LoadU8(pc + 5 * C); c = TSimd.MultiplyAddSmall(c, x, w1);
            x = TSimd.LoadU8(pc + 6 * C); c = TSimd.MultiplyAddSmall(c, x, w2); d = TSimd.MultiplyAddSmall(d, x, w0);
            x = TSimd.LoadU8(pc + 7 * C); d = TSimd.MultiplyAddSmall(d, x, w1);
            x = TSimd.LoadU8(pc + 8 * C); d = TSimd.MultiplyAddSmall(d, x, w2);
        }
    }

    /// <summary><see cref="TapRow4{TSimd, TVec, TShape}"/> for eight pixels (stride 1: 10 widenings for 24 multiply-adds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapRow8<TSimd, TVec, TShape>(byte* pc, short* k, ref TVec a0, ref TVec a1, ref TVec a2, ref TVec a3, ref TVec a4, ref TVec a5, ref TVec a6, ref TVec a7)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape
    {
        int C = TShape.Channels;
        TVec w0 = TSimd.LoadS16(k), w1 = TSimd.LoadS16(k + C), w2 = TSimd.LoadS16(k + 2 * C), x;
        if (TShape.Stride == 1)
        {
            x = TSimd.LoadU8(pc); a0 = TSimd.MultiplyAddSmall(a0, x, w0);
            x = TSimd.LoadU8(pc + C); a0 = TSimd.MultiplyAddSmall(a0, x, w1); a1 = TSimd.MultiplyAddSmall(a1, x, w0);
            x = TSimd.LoadU8(pc + 2 * C); a0 = TSimd.MultiplyAddSmall(a0, x, w2); a1 = TSimd.MultiplyAddSmall(a1, x, w1); a2 = TSimd.MultiplyAddSmall(a2, x, w0);
            x = TSimd.LoadU8(pc + 3 * C); a1 = TSimd.MultiplyAddSmall(a1, x, w2); a2 = TSimd.MultiplyAddSmall(a2, x, w1); a3 = TSimd.MultiplyAddSmall(a3, x, w0);
            x = TSimd.LoadU8(pc + 4 * C); a2 = TSimd.MultiplyAddSmall(a2, x, w2); a3 = TSimd.MultiplyAddSmall(a3, x, w1); a4 = TSimd.MultiplyAddSmall(a4, x, w0);
            x = TSimd.LoadU8(pc + 5 * C); a3 = TSimd.MultiplyAddSmall(a3, x, w2); a4 = TSimd.MultiplyAddSmall(a4, x, w1); a5 = TSimd.MultiplyAddSmall(a5, x, w0);
            x = TSimd.LoadU8(pc + 6 * C); a4 = TSimd.MultiplyAddSmall(a4, x, w2); a5 = TSimd.MultiplyAddSmall(a5, x, w1); a6 = TSimd.MultiplyAddSmall(a6, x, w0);
            x = TSimd.LoadU8(pc + 7 * C); a5 = TSimd.MultiplyAddSmall(a5, x, w2); a6 = TSimd.MultiplyAddSmall(a6, x, w1); a7 = TSimd.MultiplyAddSmall(a7, x, w0);
            x = TSimd.LoadU8(pc + 8 * C); a6 = TSimd.MultiplyAddSmall(a6, x, w2); a7 = TSimd.MultiplyAddSmall(a7, x, w1);
            x = TSimd.LoadU8(pc + 9 * C); a7 = TSimd.MultiplyAddSmall(a7, x, w2);
        }
        else
        {
            x = TSimd.LoadU8(pc); a0 = TSimd.MultiplyAddSmall(a0, x, w0);
            x = TSimd.LoadU8(pc + C); a0 = TSimd.MultiplyAddSmall(a0, x, w1);
            x = TSimd.LoadU8(pc + 2 * C); a0 = TSimd.MultiplyAddSmall(a0, x, w2); a1 = TSimd.MultiplyAddSmall(a1, x, w0);
            x = TSimd.LoadU8(pc + 3 * C); a1 = TSimd.MultiplyAddSmall(a1, x, w1);
            x = TSimd.LoadU8(pc + 4 * C); a1 = TSimd.MultiplyAddSmall(a1, x, w2); a2 = TSimd.MultiplyAddSmall(a2, x, w0);
            x = TSimd.LoadU8(pc + 5 * C); a2 = TSimd.MultiplyAddSmall(a2, x, w1);
            x = TSimd.LoadU8(pc + 6 * C); a2 = TSimd.MultiplyAddSmall(a2, x, w2); a3 = TSimd.MultiplyAddSmall(a3, x, w0);
            x = TSimd.LoadU8(pc + 7 * C); a3 = TSimd.MultiplyAddSmall(a3, x, w1);
            x = TSimd.LoadU8(pc + 8 * C); a3 = TSimd.MultiplyAddSmall(a3, x, w2); a4 = TSimd.MultiplyAddSmall(a4, x, w0);
            x = TSimd.LoadU8(pc + 9 * C); a4 = TSimd.MultiplyAddSmall(a4, x, w1);
            x = TSimd.LoadU8(pc + 10 * C); a4 = TSimd.MultiplyAddSmall(a4, x, w2); a5 = TSimd.MultiplyAddSmall(a5, x, w0);
            x = TSimd.LoadU8(pc + 11 * C); a5 = TSimd.MultiplyAddSmall(a5, x, w1);
            x = TSimd.LoadU8(pc + 12 * C); a5 = TSimd.MultiplyAddSmall(a5, x, w2); a6 = TSimd.MultiplyAddSmall(a6, x, w0);
            x = TSimd.LoadU8(pc + 13 * C); a6 = TSimd.MultiplyAddSmall(a6, x, w1);
            x = TSimd.LoadU8(pc + 14 * C); a6 = TSimd.MultiplyAddSmall(a6, x, w2); a7 = TSimd.MultiplyAddSmall(a7, x, w0);
            x = TSimd.LoadU8(pc + 15 * C); a7 = TSimd.MultiplyAddSmall(a7, x, w1);
            x = TSimd.LoadU8(pc + 16 * C); a7 = TSimd.MultiplyAddSmall(a7, x, w2);
        }
    }

    /// <summary>A border pixel or the interior's tail, all channel blocks: the nine taps, padding ones as <c>x_zp</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PixelAllChannels<TSimd, TVec, TShape, TRows>(byte* r0, byte* o, short* w, int* bias, int outX, int cBegin, int cEnd)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, W = TSimd.Width;
        long rowStride = (long)TShape.InW * C;
        int inX0 = outX * TShape.Stride - TShape.PadLeft;
        byte* p = r0 + (long)outX * TShape.Stride * C;
        TVec vzp = TSimd.Broadcast(TShape.InputZeroPoint);
        for (int c = cBegin; c < cEnd; c += W)
        {
            TVec vacc = TSimd.Load(bias + c);
            for (int ky = 0; ky < 3; ky++)
            {
                bool rowInside = ky == 0 ? TRows.Top : ky == 2 ? TRows.Bottom : true;
                for (int kx = 0; kx < 3; kx++)
                {
                    bool inside = rowInside && inX0 + kx >= 0 && inX0 + kx < TShape.InW;
                    TVec vx = inside ? TSimd.LoadU8(p + ky * rowStride + kx * C + c) : vzp;
                    vacc = TSimd.MultiplyAddSmall(vacc, vx, TSimd.LoadS16(w + (ky * 3 + kx) * C + c));
                }
            }
            TSimd.StoreRequantized<TShape>(vacc, o + (long)outX * C + c);
        }
    }

    /// <summary>The reference: one output at a time from the packed weights and bias.</summary>
    public static void ScalarKernel<TShape>(byte* input, byte* output, short* w, int* bias, int rowStart, int rowEnd)
        where TShape : struct, IQDepthwiseShape
    {
        int C = TShape.Channels;
        for (int y = rowStart; y < rowEnd; y++)
            for (int x = 0; x < TShape.OutW; x++)
                for (int c = 0; c < C; c++)
                {
                    int acc = bias[c];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = y * TShape.Stride - TShape.PadTop + ky, ix = x * TShape.Stride - TShape.PadLeft + kx;
                            bool inside = iy >= 0 && iy < TShape.InH && ix >= 0 && ix < TShape.InW;
                            int v = inside ? input[((long)iy * TShape.InW + ix) * C + c] : TShape.InputZeroPoint;
                            acc += v * w[(ky * 3 + kx) * C + c];
                        }
                    output[((long)y * TShape.OutW + x) * C + c] = (byte)QuantizedRequantization.Reference<TShape>(acc);
                }
    }
}
