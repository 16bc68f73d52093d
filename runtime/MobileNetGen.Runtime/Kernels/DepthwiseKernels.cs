using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Depthwise 3×3 convolution (stride 1 or 2, TensorFlow SAME padding) + bias + ReLU6, NHWC, channel-blocked.
/// </summary>
/// <remarks>
/// Packed weights (<c>PackDepthwise</c>): tap-major, channels contiguous, <c>packed[(ky·3 + kx)·C + c]</c>, BatchNorm
/// scale folded in. Output row by output row, for each block of channels (the widest vector that fits, then narrower:
/// every MobileNet width is a multiple of 8) the nine tap vectors and the bias stay in registers while the kernel slides
/// along the row; the three input rows it reads stay in cache across the blocks. Interior
/// pixels take the unrolled 9-tap path; the border (at most one row or column per side under SAME padding) skips the taps
/// that fall outside, in the same (ky, kx) order, so every width and path gives bit-identical results.
/// </remarks>
public static unsafe class DepthwiseKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    /// <param name="rowStart">First output row to compute (a thread's share: rows are independent).</param>
    /// <param name="rowEnd">One past the last output row to compute.</param>
    public static void Run(SimdPath path, float* input, float* output, float* packed, float* bias,
        int inH, int inW, int channels, int outH, int outW, int stride, int padTop, int padLeft, int rowStart, int rowEnd)
    {
        var s = new Shape(inH, inW, channels, outH, outW, stride, padTop, padLeft);
        // Row by row, all channel blocks per row: the three input rows stay in cache while each block's nine tap
        // vectors are reloaded once per row (cheap), instead of streaming the whole image once per channel block.
        for (int outY = rowStart; outY < rowEnd; outY++)
        {
            int c = 0;
            if (path == SimdPath.Vector512)
                for (; c + 16 <= channels; c += 16) Row<F32x16, Vector512<float>>(input, output, packed, bias, s, c, outY);
            if (path == SimdPath.Vector512 || path == SimdPath.Vector256)
                for (; c + 8 <= channels; c += 8) Row<F32x8, Vector256<float>>(input, output, packed, bias, s, c, outY);
            if (path != SimdPath.Scalar)
                for (; c + 4 <= channels; c += 4) Row<F32x4, Vector128<float>>(input, output, packed, bias, s, c, outY);
            for (; c < channels; c++) Row<F32x1, float>(input, output, packed, bias, s, c, outY);
        }
    }

    private readonly record struct Shape(int InH, int InW, int C, int OutH, int OutW, int Stride, int PadTop, int PadLeft);

    /// <summary>One output row of one block of <c>TSimd.Width</c> channels starting at <paramref name="c"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TSimd, TVec>(float* input, float* output, float* packed, float* bias, Shape s, int c, int outY)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        int C = s.C;
        TVec vb = TSimd.Load(bias + c);
        int inY0 = outY * s.Stride - s.PadTop;
        float* o = output + (long)outY * s.OutW * C + c;
        if (inY0 < 0 || inY0 + 2 >= s.InH)
        {
            for (int edgeX = 0; edgeX < s.OutW; edgeX++) Edge<TSimd, TVec>(input, o + (long)edgeX * C, packed, vb, s, c, inY0, edgeX * s.Stride - s.PadLeft);
            return;
        }
        TVec vk0 = TSimd.Load(packed + c), vk1 = TSimd.Load(packed + C + c), vk2 = TSimd.Load(packed + 2 * C + c);
        TVec vk3 = TSimd.Load(packed + 3 * C + c), vk4 = TSimd.Load(packed + 4 * C + c), vk5 = TSimd.Load(packed + 5 * C + c);
        TVec vk6 = TSimd.Load(packed + 6 * C + c), vk7 = TSimd.Load(packed + 7 * C + c), vk8 = TSimd.Load(packed + 8 * C + c);
        long rowStride = (long)s.InW * C;
        long pixelStep = (long)s.Stride * C;
        // Output columns whose three input columns are all inside the image.
        int firstInterior = (s.PadLeft + s.Stride - 1) / s.Stride;
        int lastInterior = Math.Min(s.OutW - 1, (s.InW - 3 + s.PadLeft) / s.Stride);
        for (int edgeX = 0; edgeX < firstInterior; edgeX++) Edge<TSimd, TVec>(input, o + (long)edgeX * C, packed, vb, s, c, inY0, edgeX * s.Stride - s.PadLeft);
        float* i0 = input + (long)inY0 * rowStride + (long)(firstInterior * s.Stride - s.PadLeft) * C + c;
        float* i1 = i0 + rowStride;
        float* i2 = i1 + rowStride;
        int outX = firstInterior;
        // Four pixels at a time: four independent accumulator chains hide the fused multiply-add latency (one chain of
        // nine dependent FMAs per pixel would be latency-bound). Each pixel still sums its taps in the same order.
        for (; outX + 3 <= lastInterior; outX += 4)
        {
            float* a0 = i0, a1 = i1, a2 = i2;
            float* b0 = i0 + pixelStep, b1 = i1 + pixelStep, b2 = i2 + pixelStep;
            float* c0 = b0 + pixelStep, c1 = b1 + pixelStep, c2 = b2 + pixelStep;
            float* d0 = c0 + pixelStep, d1 = c1 + pixelStep, d2 = c2 + pixelStep;
            TVec va = TSimd.FusedMultiplyAdd(TSimd.Load(a0), vk0, vb);
            TVec vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b0), vk0, vb);
            TVec vc = TSimd.FusedMultiplyAdd(TSimd.Load(c0), vk0, vb);
            TVec vd = TSimd.FusedMultiplyAdd(TSimd.Load(d0), vk0, vb);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a0 + C), vk1, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b0 + C), vk1, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c0 + C), vk1, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d0 + C), vk1, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a0 + 2 * C), vk2, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b0 + 2 * C), vk2, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c0 + 2 * C), vk2, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d0 + 2 * C), vk2, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a1), vk3, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b1), vk3, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c1), vk3, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d1), vk3, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a1 + C), vk4, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b1 + C), vk4, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c1 + C), vk4, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d1 + C), vk4, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a1 + 2 * C), vk5, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b1 + 2 * C), vk5, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c1 + 2 * C), vk5, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d1 + 2 * C), vk5, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a2), vk6, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b2), vk6, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c2), vk6, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d2), vk6, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a2 + C), vk7, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b2 + C), vk7, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c2 + C), vk7, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d2 + C), vk7, vd);
            va = TSimd.FusedMultiplyAdd(TSimd.Load(a2 + 2 * C), vk8, va); vbb = TSimd.FusedMultiplyAdd(TSimd.Load(b2 + 2 * C), vk8, vbb);
            vc = TSimd.FusedMultiplyAdd(TSimd.Load(c2 + 2 * C), vk8, vc); vd = TSimd.FusedMultiplyAdd(TSimd.Load(d2 + 2 * C), vk8, vd);
            float* ox = o + (long)outX * C;
            TSimd.StoreRelu6(va, ox);
            TSimd.StoreRelu6(vbb, ox + C);
            TSimd.StoreRelu6(vc, ox + 2 * C);
            TSimd.StoreRelu6(vd, ox + 3 * C);
            long step4 = 4 * pixelStep;
            i0 += step4; i1 += step4; i2 += step4;
        }
        for (; outX <= lastInterior; outX++)
        {
            TVec vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i0), vk0, vb);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i0 + C), vk1, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i0 + 2 * C), vk2, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i1), vk3, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i1 + C), vk4, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i1 + 2 * C), vk5, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i2), vk6, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i2 + C), vk7, vacc);
            vacc = TSimd.FusedMultiplyAdd(TSimd.Load(i2 + 2 * C), vk8, vacc);
            TSimd.StoreRelu6(vacc, o + (long)outX * C);
            i0 += pixelStep; i1 += pixelStep; i2 += pixelStep;
        }
        for (int edgeX = Math.Max(lastInterior + 1, firstInterior); edgeX < s.OutW; edgeX++) Edge<TSimd, TVec>(input, o + (long)edgeX * C, packed, vb, s, c, inY0, edgeX * s.Stride - s.PadLeft);
    }

    /// <summary>A border pixel: taps outside the image are zero padding and skipped.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Edge<TSimd, TVec>(float* input, float* o, float* packed, TVec vb, Shape s, int c, int inY0, int inX0)
        where TSimd : struct, ISimd<TVec> where TVec : struct
    {
        TVec vacc = vb;
        for (int ky = 0; ky < 3; ky++)
        {
            int y = inY0 + ky;
            if ((uint)y >= (uint)s.InH) continue; // padding row
            for (int kx = 0; kx < 3; kx++)
            {
                int x = inX0 + kx;
                if ((uint)x >= (uint)s.InW) continue; // padding column
                vacc = TSimd.FusedMultiplyAdd(TSimd.Load(input + ((long)y * s.InW + x) * s.C + c), TSimd.Load(packed + (ky * 3 + kx) * s.C + c), vacc);
            }
        }
        TSimd.StoreRelu6(vacc, o);
    }
}
