using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// The stem: full 3×3 convolution, stride 2, SAME padding, 3 input channels, + bias + ReLU6, NHWC.
/// </summary>
/// <remarks>
/// Packed weights (<c>PackStem</c>): TensorFlow HWIO as is, <c>packed[((ky·3 + kx)·3 + ci)·C + co]</c>, BatchNorm
/// scale folded in; output channels are the vector lanes. Interior pixels take an unrolled 27-tap path, border pixels
/// skip the padding taps; both accumulate in (ky, kx, ci) order, so every width gives bit-identical results.
/// </remarks>
public static unsafe class StemKernels
{
    private const int Cin = 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    /// <param name="rowStart">First output row to compute (a thread's share: rows are independent).</param>
    /// <param name="rowEnd">One past the last output row to compute.</param>
    public static void Run(SimdPath path, float* input, float* output, float* packed, float* bias,
        int inH, int inW, int outH, int outW, int cout, int stride, int padTop, int padLeft, int rowStart, int rowEnd)
    {
        var s = new Shape(inH, inW, outH, outW, cout, stride, padTop, padLeft, rowStart, rowEnd);
        int c = 0;
        if (path == SimdPath.Vector512)
            for (; c + 16 <= cout; c += 16) Block<F32x16, Vector512<float>>(input, output, packed, bias, s, c);
        if (path == SimdPath.Vector512 || path == SimdPath.Vector256)
            for (; c + 8 <= cout; c += 8) Block<F32x8, Vector256<float>>(input, output, packed, bias, s, c);
        if (path != SimdPath.Scalar)
            for (; c + 4 <= cout; c += 4) Block<F32x4, Vector128<float>>(input, output, packed, bias, s, c);
        for (; c < cout; c++) Block<F32x1, float>(input, output, packed, bias, s, c);
    }

    private readonly record struct Shape(int InH, int InW, int OutH, int OutW, int Cout, int Stride, int PadTop, int PadLeft, int RowStart, int RowEnd);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TSimd, TVec>(float* input, float* output, float* packed, float* bias, Shape s, int c)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int C = s.Cout;
        float* w = packed + c;
        TVec vb = TSimd.Load(bias + c);
        long rowStride = (long)s.InW * Cin;
        int firstInterior = (s.PadLeft + s.Stride - 1) / s.Stride;
        int lastInterior = Math.Min(s.OutW - 1, (s.InW - 3 + s.PadLeft) / s.Stride);
        for (int outY = s.RowStart; outY < s.RowEnd; outY++)
        {
            int inY0 = outY * s.Stride - s.PadTop;
            float* o = output + (long)outY * s.OutW * C + c;
            bool rowInside = inY0 >= 0 && inY0 + 2 < s.InH;
            int outX = 0;
            for (; outX < s.OutW; outX++)
            {
                int inX0 = outX * s.Stride - s.PadLeft;
                if (!rowInside || outX < firstInterior || outX > lastInterior)
                {
                    Edge<TSimd, TVec>(input, o + (long)outX * C, w, vb, s, inY0, inX0);
                    continue;
                }
                // Interior: four pixels at a time (independent accumulator chains hide the FMA latency; each pixel
                // still sums its 27 taps in (ky, kx, ci) order).
                float* px = input + (long)inY0 * rowStride + (long)inX0 * Cin;
                if (outX + 3 <= lastInterior)
                {
                    int step = s.Stride * Cin;
                    TVec va = vb, vbb = vb, vc = vb, vd = vb;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        float* row = px + ky * rowStride;
                        float* wk = w + ky * 9 * C;
                        for (int t = 0; t < 9; t++)
                        {
                            TVec vw = TSimd.Load(wk + t * C);
                            va = TSimd.FusedMultiplyAdd(TSimd.Broadcast(row[t]), vw, va);
                            vbb = TSimd.FusedMultiplyAdd(TSimd.Broadcast(row[step + t]), vw, vbb);
                            vc = TSimd.FusedMultiplyAdd(TSimd.Broadcast(row[2 * step + t]), vw, vc);
                            vd = TSimd.FusedMultiplyAdd(TSimd.Broadcast(row[3 * step + t]), vw, vd);
                        }
                    }
                    float* ox = o + (long)outX * C;
                    TSimd.StoreRelu6(va, ox);
                    TSimd.StoreRelu6(vbb, ox + C);
                    TSimd.StoreRelu6(vc, ox + 2 * C);
                    TSimd.StoreRelu6(vd, ox + 3 * C);
                    outX += 3;
                    continue;
                }
                TVec vacc = vb;
                for (int ky = 0; ky < 3; ky++)
                {
                    float* row = px + ky * rowStride;
                    float* wk = w + ky * 9 * C;
                    for (int t = 0; t < 9; t++)
                        vacc = TSimd.FusedMultiplyAdd(TSimd.Broadcast(row[t]), TSimd.Load(wk + t * C), vacc);
                }
                TSimd.StoreRelu6(vacc, o + (long)outX * C);
            }
        }
    }

    /// <summary>A border pixel: taps outside the image are zero padding and skipped.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Edge<TSimd, TVec>(float* input, float* o, float* w, TVec vb, Shape s, int inY0, int inX0)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int C = s.Cout;
        TVec vacc = vb;
        for (int ky = 0; ky < 3; ky++)
        {
            int y = inY0 + ky;
            if ((uint)y >= (uint)s.InH) continue; // padding row
            for (int kx = 0; kx < 3; kx++)
            {
                int x = inX0 + kx;
                if ((uint)x >= (uint)s.InW) continue; // padding column
                float* px = input + ((long)y * s.InW + x) * Cin;
                float* wk = w + (ky * 3 + kx) * Cin * C;
                vacc = TSimd.FusedMultiplyAdd(TSimd.Broadcast(px[0]), TSimd.Load(wk), vacc);
                vacc = TSimd.FusedMultiplyAdd(TSimd.Broadcast(px[1]), TSimd.Load(wk + C), vacc);
                vacc = TSimd.FusedMultiplyAdd(TSimd.Broadcast(px[2]), TSimd.Load(wk + 2 * C), vacc);
            }
        }
        TSimd.StoreRelu6(vacc, o);
    }
}
