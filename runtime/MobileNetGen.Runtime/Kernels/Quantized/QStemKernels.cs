using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// The uint8 stem: 3×3 convolution of the [InH][InW][3] image to Cout channels (stride 2 in MobileNet, TensorFlow SAME
/// padding), exact to TFLite's reference <c>Conv</c>.
/// </summary>
/// <remarks>
/// <para>Packed (<see cref="QuantizedPacking.Stem"/>, one layout for every ISA): the 9 values of a kernel row
/// (<c>t = kx·3 + ci</c>) as five int16 pairs, the tenth value 0: <c>w'[((ky·5 + t/2)·Cout + co)·2 + t%2] = w − w_zp</c>;
/// bias <c>b'[co] = bias[co] − x_zp·Σ_27 w'</c>.</para>
/// <para>Per output row the three input rows it reads are widened once into an int16 stack buffer with their SAME padding
/// written as <c>x_zp</c> (which, the zero point being folded into the bias, contributes what the reference's skipped tap
/// does: nothing). Every output pixel is then an interior pixel: a window row is five int32 words of the buffer, each
/// broadcast and multiplied with a weight vector by a pairs multiply-add (pmaddwd; SMULL/SMULL2/ADDP on ARM64): 15 per
/// pixel and channel vector instead of 27 multiply-adds. Tiles of 4 pixels × 1 or 2 channel vectors (8 accumulators, 2
/// weight vectors, the broadcast and the product: 12 registers, none spilled on AVX2).</para>
/// </remarks>
public static unsafe class QStemKernels
{
    private const int MR = 4;

    /// <summary>Output rows <c>[rowStart, rowEnd)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TShape>(QuantizedIsa isa, byte* input, byte* output, short* weights, int* bias, int rowStart, int rowEnd)
        where TShape : struct, IQStemShape
    {
        switch (isa)
        {
            case QuantizedIsa.Vector512 or QuantizedIsa.Vector512Vnni when Has512: Rows<TShape>(3, input, output, weights, bias, rowStart, rowEnd); break;
            case QuantizedIsa.Vector256 or QuantizedIsa.Vector256Vnni when Has256: Rows<TShape>(2, input, output, weights, bias, rowStart, rowEnd); break;
            case QuantizedIsa.Vector128 or QuantizedIsa.Vector128Dot when Has128: Rows<TShape>(1, input, output, weights, bias, rowStart, rowEnd); break;
            case QuantizedIsa.Scalar: ScalarKernel<TShape>(input, output, weights, bias, rowStart, rowEnd); break;
            default: throw Unsupported(isa);
        }
    }

    /// <summary>int16 values per widened row: every window of the row, and the tenth (zero-weight) value of the last.</summary>
    private static int RowLength<TShape>() where TShape : struct, IQStemShape =>
        Math.Max((TShape.OutW - 1) * TShape.Stride * 3 + 10, (TShape.PadLeft + TShape.InW) * 3);

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TShape>(int level, byte* input, byte* output, short* w, int* bias, int rowStart, int rowEnd)
        where TShape : struct, IQStemShape
    {
        int L = RowLength<TShape>();
        short* buf = stackalloc short[3 * L];
        int cout = TShape.Cout;
        for (int outY = rowStart; outY < rowEnd; outY++)
        {
            int inY0 = outY * TShape.Stride - TShape.PadTop;
            for (int r = 0; r < 3; r++) WidenRow<TShape>(input, inY0 + r, buf + r * L, L);
            byte* o = output + (long)outY * TShape.OutW * cout;
            int c = 0;
            if (Has512 && level >= 3)
            {
                for (; c + 32 <= cout; c += 32) Row<Q32x16, Vector512<int>, TShape, Two>(buf, L, o, w, bias, c);
                for (; c + 16 <= cout; c += 16) Row<Q32x16, Vector512<int>, TShape, One>(buf, L, o, w, bias, c);
            }
            if (Has256 && level >= 2)
            {
                for (; c + 16 <= cout; c += 16) Row<Q32x8, Vector256<int>, TShape, Two>(buf, L, o, w, bias, c);
                for (; c + 8 <= cout; c += 8) Row<Q32x8, Vector256<int>, TShape, One>(buf, L, o, w, bias, c);
            }
            if (Has128 && level >= 1)
            {
                for (; c + 8 <= cout; c += 8) Row<Q32x4, Vector128<int>, TShape, Two>(buf, L, o, w, bias, c);
                for (; c + 4 <= cout; c += 4) Row<Q32x4, Vector128<int>, TShape, One>(buf, L, o, w, bias, c);
            }
            for (; c < cout; c++) Row<Q32x1, int, TShape, One>(buf, L, o, w, bias, c);
        }
    }

    /// <summary>Input row <paramref name="iy"/> as int16, shifted right by PadLeft pixels, padding = x_zp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow<TShape>(byte* input, int iy, short* dst, int L) where TShape : struct, IQStemShape
    {
        short zp = (short)TShape.InputZeroPoint;
        if (iy < 0 || iy >= TShape.InH)
        {
            new Span<short>(dst, L).Fill(zp);
            return;
        }
        int begin = TShape.PadLeft * 3, n = Math.Min(TShape.InW * 3, L - begin);
        new Span<short>(dst, begin).Fill(zp);
        byte* src = input + (long)iy * TShape.InW * 3;
        ushort* d = (ushort*)dst + begin;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var v = Vector128.Load(src + i);
            Vector128.WidenLower(v).Store(d + i);
            Vector128.WidenUpper(v).Store(d + i + 8);
        }
        for (; i < n; i++) d[i] = src[i];
        new Span<short>(dst + begin + n, L - begin - n).Fill(zp);
    }

    private interface IVectors { static abstract bool Pair { get; } }
    private struct One : IVectors { public static bool Pair => false; }
    private struct Two : IVectors { public static bool Pair => true; }

    /// <summary>Output channels <c>[c, c + (Pair ? 2 : 1)·W)</c> of one row, <see cref="MR"/> pixels a tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TSimd, TVec, TShape, TVectors>(short* buf, int L, byte* o, short* w, int* bias, int c)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TShape : struct, IQStemShape where TVectors : struct, IVectors
    {
        int C = TShape.Cout, W = TSimd.Width, d = TShape.Stride * 3; // d: the next pixel's window, in values
        int* wc = (int*)(w + 2 * c);                                    // pair (ky, p) of channel c: wc[(ky·5 + p)·C]
        int outX = 0;
        for (; outX + MR <= TShape.OutW; outX += MR)
        {
            TVec vb0 = TSimd.Load(bias + c), vb1 = TVectors.Pair ? TSimd.Load(bias + c + W) : default;
            TVec vacc00 = vb0, vacc10 = vb0, vacc20 = vb0, vacc30 = vb0;
            TVec vacc01 = vb1, vacc11 = vb1, vacc21 = vb1, vacc31 = vb1;
            short* a = buf + outX * d;
            for (int ky = 0; ky < 3; ky++, a += L)
            {
                int* wk = wc + ky * 5 * C;
                Pair<TSimd, TVec, TVectors>(a, d, wk, W, ref vacc00, ref vacc10, ref vacc20, ref vacc30, ref vacc01, ref vacc11, ref vacc21, ref vacc31);
                Pair<TSimd, TVec, TVectors>(a + 2, d, wk + C, W, ref vacc00, ref vacc10, ref vacc20, ref vacc30, ref vacc01, ref vacc11, ref vacc21, ref vacc31);
                Pair<TSimd, TVec, TVectors>(a + 4, d, wk + 2 * C, W, ref vacc00, ref vacc10, ref vacc20, ref vacc30, ref vacc01, ref vacc11, ref vacc21, ref vacc31);
                Pair<TSimd, TVec, TVectors>(a + 6, d, wk + 3 * C, W, ref vacc00, ref vacc10, ref vacc20, ref vacc30, ref vacc01, ref vacc11, ref vacc21, ref vacc31);
                Pair<TSimd, TVec, TVectors>(a + 8, d, wk + 4 * C, W, ref vacc00, ref vacc10, ref vacc20, ref vacc30, ref vacc01, ref vacc11, ref vacc21, ref vacc31);
            }
            byte* q = o + (long)outX * C + c;
            TSimd.StoreRequantized<TShape>(vacc00, q); TSimd.StoreRequantized<TShape>(vacc10, q + C);
            TSimd.StoreRequantized<TShape>(vacc20, q + 2 * C); TSimd.StoreRequantized<TShape>(vacc30, q + 3 * C);
            if (TVectors.Pair)
            {
                TSimd.StoreRequantized<TShape>(vacc01, q + W); TSimd.StoreRequantized<TShape>(vacc11, q + C + W);
                TSimd.StoreRequantized<TShape>(vacc21, q + 2 * C + W); TSimd.StoreRequantized<TShape>(vacc31, q + 3 * C + W);
            }
        }
        for (; outX < TShape.OutW; outX++)
        {
            TVec vacc0 = TSimd.Load(bias + c), vacc1 = TVectors.Pair ? TSimd.Load(bias + c + W) : default;
            for (int ky = 0; ky < 3; ky++)
                for (int p = 0; p < 5; p++)
                {
                    int* wk = wc + (ky * 5 + p) * C;
                    TVec va = TSimd.Broadcast(Unsafe.ReadUnaligned<int>(buf + ky * L + outX * d + 2 * p));
                    vacc0 = TSimd.MultiplyAddPairs(vacc0, va, TSimd.Load(wk));
                    if (TVectors.Pair) vacc1 = TSimd.MultiplyAddPairs(vacc1, va, TSimd.Load(wk + W));
                }
            byte* q = o + (long)outX * C + c;
            TSimd.StoreRequantized<TShape>(vacc0, q);
            if (TVectors.Pair) TSimd.StoreRequantized<TShape>(vacc1, q + W);
        }
    }

    /// <summary>One int16 pair of the window row (<paramref name="a"/>) of the tile's four pixels, <paramref name="d"/> values
    /// apart, times the pair's weight vector(s) at <paramref name="wk"/>: written out five times per window row (the loop
    /// over the five pairs kept its counter, index and pointer updates in the hot loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TSimd, TVec, TVectors>(short* a, int d, int* wk, int W,
        ref TVec vacc00, ref TVec vacc10, ref TVec vacc20, ref TVec vacc30, ref TVec vacc01, ref TVec vacc11, ref TVec vacc21, ref TVec vacc31)
        where TSimd : struct, IQSimd<TVec> where TVec : struct where TVectors : struct, IVectors
    {
        TVec vw0 = TSimd.Load(wk), vw1 = TVectors.Pair ? TSimd.Load(wk + W) : default;
        TVec va = TSimd.Broadcast(Unsafe.ReadUnaligned<int>(a));
        vacc00 = TSimd.MultiplyAddPairs(vacc00, va, vw0);
        if (TVectors.Pair) vacc01 = TSimd.MultiplyAddPairs(vacc01, va, vw1);
        va = TSimd.Broadcast(Unsafe.ReadUnaligned<int>(a + d));
        vacc10 = TSimd.MultiplyAddPairs(vacc10, va, vw0);
        if (TVectors.Pair) vacc11 = TSimd.MultiplyAddPairs(vacc11, va, vw1);
        va = TSimd.Broadcast(Unsafe.ReadUnaligned<int>(a + 2 * d));
        vacc20 = TSimd.MultiplyAddPairs(vacc20, va, vw0);
        if (TVectors.Pair) vacc21 = TSimd.MultiplyAddPairs(vacc21, va, vw1);
        va = TSimd.Broadcast(Unsafe.ReadUnaligned<int>(a + 3 * d));
        vacc30 = TSimd.MultiplyAddPairs(vacc30, va, vw0);
        if (TVectors.Pair) vacc31 = TSimd.MultiplyAddPairs(vacc31, va, vw1);
    }

    /// <summary>The reference: one output at a time from the packed weights, padding taps as x_zp.</summary>
    public static void ScalarKernel<TShape>(byte* input, byte* output, short* w, int* bias, int rowStart, int rowEnd)
        where TShape : struct, IQStemShape
    {
        int C = TShape.Cout;
        for (int y = rowStart; y < rowEnd; y++)
            for (int x = 0; x < TShape.OutW; x++)
                for (int co = 0; co < C; co++)
                {
                    int acc = bias[co];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = y * TShape.Stride - TShape.PadTop + ky, ix = x * TShape.Stride - TShape.PadLeft + kx;
                            bool inside = iy >= 0 && iy < TShape.InH && ix >= 0 && ix < TShape.InW;
                            for (int ci = 0; ci < 3; ci++)
                            {
                                int v = inside ? input[((long)iy * TShape.InW + ix) * 3 + ci] : TShape.InputZeroPoint;
                                int t = kx * 3 + ci;
                                acc += v * w[((ky * 5 + t / 2) * C + co) * 2 + t % 2];
                            }
                        }
                    output[((long)y * TShape.OutW + x) * C + co] = (byte)QuantizedRequantization.Reference<TShape>(acc);
                }
    }
}
