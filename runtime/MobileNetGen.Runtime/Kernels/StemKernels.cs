using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>The stem's shape as compile-time constants (one struct per generated model; see <see cref="IDepthwiseShape"/>).</summary>
public interface IStemShape
{
    static abstract int InH { get; }
    static abstract int InW { get; }
    static abstract int OutH { get; }
    static abstract int OutW { get; }
    static abstract int Cout { get; }
    static abstract int Stride { get; }
    static abstract int PadTop { get; }
    static abstract int PadLeft { get; }
}

/// <summary>
/// The stem: full 3×3 convolution, stride 2, SAME padding, 3 input channels, + bias + ReLU6, NHWC.
/// </summary>
/// <remarks>
/// Packed weights (<c>PackStem</c>): TensorFlow HWIO as is, <c>packed[((ky·3 + kx)·3 + ci)·C + co]</c>, BatchNorm
/// scale folded in; output channels are the vector lanes. It is a small GEMM in disguise: for one kernel row ky, the
/// nine values (kx, ci) a pixel reads are contiguous in the input, so a register tile of 6 pixels × 2 vectors of output
/// channels (12 accumulators, as in <see cref="PointwiseKernels"/>; 12 pixels × 1 vector when the channels fill only one)
/// takes one broadcast per pixel and two weight loads per tap, all at constant offsets. Border pixels skip the padding taps (rows and columns outside the image). Every
/// output sums its taps in (ky, kx, ci) order, so every width gives bit-identical results.
/// </remarks>
public static unsafe class StemKernels
{
    private const int Cin = 3;
    private const int MR = 6;

    /// <summary>Output rows <c>[rowStart, rowEnd)</c> (a thread's share: rows are independent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TShape>(SimdPath path, float* input, float* output, float* packed, float* bias, int rowStart, int rowEnd)
        where TShape : struct, IStemShape
    {
        int cout = TShape.Cout;
        for (int outY = rowStart; outY < rowEnd; outY++)
        {
            int c = 0;
            if (SimdPaths.Is512(path))
            {
                for (; c + 32 <= cout; c += 32) Row<F32x16, Vector512<float>, TShape, Two>(input, output, packed, bias, outY, c);
                for (; c + 16 <= cout; c += 16) Row<F32x16, Vector512<float>, TShape, One>(input, output, packed, bias, outY, c);
            }
            if (SimdPaths.AtLeast256(path))
            {
                for (; c + 16 <= cout; c += 16) Row<F32x8, Vector256<float>, TShape, Two>(input, output, packed, bias, outY, c);
                for (; c + 8 <= cout; c += 8) Row<F32x8, Vector256<float>, TShape, One>(input, output, packed, bias, outY, c);
            }
            if (SimdPaths.AtLeast128(path))
            {
                for (; c + 8 <= cout; c += 8) Row<F32x4, Vector128<float>, TShape, Two>(input, output, packed, bias, outY, c);
                for (; c + 4 <= cout; c += 4) Row<F32x4, Vector128<float>, TShape, One>(input, output, packed, bias, outY, c);
            }
            for (; c < cout; c++) Row<F32x1, float, TShape, One>(input, output, packed, bias, outY, c);
        }
    }

    /// <summary>Vectors of output channels per register tile, as a constant.</summary>
    private interface IVectors { static abstract bool Pair { get; } }
    private struct One : IVectors { public static bool Pair => false; }
    private struct Two : IVectors { public static bool Pair => true; }

    /// <summary>Output row <paramref name="outY"/>, channels <c>[c, c + (TVectors.Pair ? 2 : 1)·W)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TSimd, TVec, TShape, TVectors>(float* input, float* output, float* packed, float* bias, int outY, int c)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TShape : struct, IStemShape where TVectors : struct, IVectors
    {
        int C = TShape.Cout, S = TShape.Stride, inW = TShape.InW, outW = TShape.OutW, W = TSimd.Width;
        long rowStride = (long)inW * Cin;
        int inY0 = outY * S - TShape.PadTop;
        int kyBegin = Math.Max(0, -inY0), kyEnd = Math.Min(3, TShape.InH - inY0); // kernel rows inside the image
        // px points at the input of output column 0, kernel row 0 (may lie outside; padding taps are never read).
        float* px = input + inY0 * rowStride - (long)TShape.PadLeft * Cin;
        float* o = output + (long)outY * outW * C + c;
        float* w = packed + c;
        int firstInterior = (TShape.PadLeft + S - 1) / S;
        int lastInterior = Math.Min(outW - 1, (inW - 3 + TShape.PadLeft) / S);
        int outX = 0;
        for (; outX < firstInterior && outX < outW; outX++) Pixel<TSimd, TVec, TShape, TVectors>(px, o, w, bias + c, outX, kyBegin, kyEnd);
        if (!TVectors.Pair) // one vector of channels (e.g. 8 at α = 0.25): 12 pixels per tile keep 12 accumulators busy
        {
            for (; outX + 2 * MR - 1 <= lastInterior; outX += 2 * MR)
            {
                float* a = px + (long)outX * S * Cin;
                TVec vacc0 = TSimd.Load(bias + c), vacc1 = vacc0, vacc2 = vacc0, vacc3 = vacc0, vacc4 = vacc0, vacc5 = vacc0;
                TVec vacc6 = vacc0, vacc7 = vacc0, vacc8 = vacc0, vacc9 = vacc0, vacc10 = vacc0, vacc11 = vacc0;
                int d = S * Cin;
                for (int ky = kyBegin; ky < kyEnd; ky++)
                {
                    float* ak = a + ky * rowStride;
                    float* wk = w + ky * 9 * C;
                    for (int t = 0; t < 9; t++, ak++, wk += C)
                    {
                        TVec vw = TSimd.Load(wk);
                        vacc0 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[0]), vw, vacc0);
                        vacc1 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[d]), vw, vacc1);
                        vacc2 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[2 * d]), vw, vacc2);
                        vacc3 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[3 * d]), vw, vacc3);
                        vacc4 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[4 * d]), vw, vacc4);
                        vacc5 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[5 * d]), vw, vacc5);
                        vacc6 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[6 * d]), vw, vacc6);
                        vacc7 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[7 * d]), vw, vacc7);
                        vacc8 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[8 * d]), vw, vacc8);
                        vacc9 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[9 * d]), vw, vacc9);
                        vacc10 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[10 * d]), vw, vacc10);
                        vacc11 = TSimd.FusedMultiplyAdd(TSimd.Broadcast(ak[11 * d]), vw, vacc11);
                    }
                }
                float* q = o + (long)outX * C;
                TSimd.StoreRelu6(vacc0, q); TSimd.StoreRelu6(vacc1, q + C); TSimd.StoreRelu6(vacc2, q + 2 * C);
                TSimd.StoreRelu6(vacc3, q + 3 * C); TSimd.StoreRelu6(vacc4, q + 4 * C); TSimd.StoreRelu6(vacc5, q + 5 * C);
                TSimd.StoreRelu6(vacc6, q + 6 * C); TSimd.StoreRelu6(vacc7, q + 7 * C); TSimd.StoreRelu6(vacc8, q + 8 * C);
                TSimd.StoreRelu6(vacc9, q + 9 * C); TSimd.StoreRelu6(vacc10, q + 10 * C); TSimd.StoreRelu6(vacc11, q + 11 * C);
            }
        }
        for (; outX + MR - 1 <= lastInterior; outX += MR)
        {
            float* a = px + (long)outX * S * Cin;
            TVec vb0 = TSimd.Load(bias + c), vb1 = TVectors.Pair ? TSimd.Load(bias + c + W) : default;
            TVec vacc00 = vb0, vacc10 = vb0, vacc20 = vb0, vacc30 = vb0, vacc40 = vb0, vacc50 = vb0;
            TVec vacc01 = vb1, vacc11 = vb1, vacc21 = vb1, vacc31 = vb1, vacc41 = vb1, vacc51 = vb1;
            int d = S * Cin; // the next pixel's input (a constant)
            for (int ky = kyBegin; ky < kyEnd; ky++)
            {
                float* ak = a + ky * rowStride;
                float* wk = w + ky * 9 * C;
                for (int t = 0; t < 9; t++, ak++, wk += C)
                {
                    TVec vw0 = TSimd.Load(wk);
                    TVec va = TSimd.Broadcast(ak[0]);
                    vacc00 = TSimd.FusedMultiplyAdd(va, vw0, vacc00);
                    TVec vw1 = default;
                    if (TVectors.Pair) { vw1 = TSimd.Load(wk + W); vacc01 = TSimd.FusedMultiplyAdd(va, vw1, vacc01); }
                    va = TSimd.Broadcast(ak[d]);
                    vacc10 = TSimd.FusedMultiplyAdd(va, vw0, vacc10);
                    if (TVectors.Pair) vacc11 = TSimd.FusedMultiplyAdd(va, vw1, vacc11);
                    va = TSimd.Broadcast(ak[2 * d]);
                    vacc20 = TSimd.FusedMultiplyAdd(va, vw0, vacc20);
                    if (TVectors.Pair) vacc21 = TSimd.FusedMultiplyAdd(va, vw1, vacc21);
                    va = TSimd.Broadcast(ak[3 * d]);
                    vacc30 = TSimd.FusedMultiplyAdd(va, vw0, vacc30);
                    if (TVectors.Pair) vacc31 = TSimd.FusedMultiplyAdd(va, vw1, vacc31);
                    va = TSimd.Broadcast(ak[4 * d]);
                    vacc40 = TSimd.FusedMultiplyAdd(va, vw0, vacc40);
                    if (TVectors.Pair) vacc41 = TSimd.FusedMultiplyAdd(va, vw1, vacc41);
                    va = TSimd.Broadcast(ak[5 * d]);
                    vacc50 = TSimd.FusedMultiplyAdd(va, vw0, vacc50);
                    if (TVectors.Pair) vacc51 = TSimd.FusedMultiplyAdd(va, vw1, vacc51);
                }
            }
            float* q = o + (long)outX * C;
            TSimd.StoreRelu6(vacc00, q); TSimd.StoreRelu6(vacc10, q + C); TSimd.StoreRelu6(vacc20, q + 2 * C);
            TSimd.StoreRelu6(vacc30, q + 3 * C); TSimd.StoreRelu6(vacc40, q + 4 * C); TSimd.StoreRelu6(vacc50, q + 5 * C);
            if (TVectors.Pair)
            {
                TSimd.StoreRelu6(vacc01, q + W); TSimd.StoreRelu6(vacc11, q + C + W); TSimd.StoreRelu6(vacc21, q + 2 * C + W);
                TSimd.StoreRelu6(vacc31, q + 3 * C + W); TSimd.StoreRelu6(vacc41, q + 4 * C + W); TSimd.StoreRelu6(vacc51, q + 5 * C + W);
            }
        }
        for (; outX < outW; outX++) Pixel<TSimd, TVec, TShape, TVectors>(px, o, w, bias + c, outX, kyBegin, kyEnd);
    }

    /// <summary>One pixel (the interior's tail or a border pixel): kernel rows <c>[kyBegin, kyEnd)</c> and the columns
    /// inside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pixel<TSimd, TVec, TShape, TVectors>(float* px, float* o, float* w, float* bias, int outX, int kyBegin, int kyEnd)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TShape : struct, IStemShape where TVectors : struct, IVectors
    {
        int C = TShape.Cout, W = TSimd.Width;
        long rowStride = (long)TShape.InW * Cin;
        int inX0 = outX * TShape.Stride - TShape.PadLeft;
        int kxBegin = Math.Max(0, -inX0), kxEnd = Math.Min(3, TShape.InW - inX0);
        float* a = px + (long)outX * TShape.Stride * Cin;
        TVec vacc0 = TSimd.Load(bias), vacc1 = TVectors.Pair ? TSimd.Load(bias + W) : default;
        for (int ky = kyBegin; ky < kyEnd; ky++)
            for (int t = kxBegin * Cin; t < kxEnd * Cin; t++)
            {
                TVec va = TSimd.Broadcast(a[ky * rowStride + t]);
                float* wk = w + (ky * 9 + t) * C;
                vacc0 = TSimd.FusedMultiplyAdd(va, TSimd.Load(wk), vacc0);
                if (TVectors.Pair) vacc1 = TSimd.FusedMultiplyAdd(va, TSimd.Load(wk + W), vacc1);
            }
        float* q = o + (long)outX * C;
        TSimd.StoreRelu6(vacc0, q);
        if (TVectors.Pair) TSimd.StoreRelu6(vacc1, q + W);
    }
}
