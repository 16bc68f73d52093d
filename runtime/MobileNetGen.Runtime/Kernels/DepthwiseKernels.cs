using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Depthwise 3×3 convolution (stride 1 or 2, TensorFlow SAME padding) + bias + ReLU6, NHWC, channel-blocked.
/// </summary>
/// <remarks>
/// Packed weights (<c>PackDepthwise</c>): tap-major, channels contiguous, <c>packed[(ky·3 + kx)·C + c]</c>, BatchNorm
/// scale folded in. Channels are processed in blocks of the widest vector that fits, then narrower ones (every
/// MobileNet width is a multiple of 8, so the scalar tail only runs on the scalar path). Taps outside the image are
/// skipped (zero padding), in the same order on every path, so all widths give bit-identical results.
/// </remarks>
public static unsafe class DepthwiseKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(SimdPath path, float* input, float* output, float* packed, float* bias,
        int inH, int inW, int channels, int outH, int outW, int stride, int padTop, int padLeft)
    {
        for (int outY = 0; outY < outH; outY++)
        {
            int inY0 = outY * stride - padTop;
            int kyStart = Math.Max(0, -inY0), kyEnd = Math.Min(3, inH - inY0);
            for (int outX = 0; outX < outW; outX++)
            {
                int inX0 = outX * stride - padLeft;
                int kxStart = Math.Max(0, -inX0), kxEnd = Math.Min(3, inW - inX0);
                float* o = output + ((long)outY * outW + outX) * channels;
                float* i0 = input + ((long)inY0 * inW + inX0) * channels; // tap (0,0); may point outside, never read there
                int c = 0;
                if (path == SimdPath.Vector512)
                {
                    for (; c + 16 <= channels; c += 16)
                    {
                        var vacc = Vector512.Load(bias + c);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                                vacc = Vector512.FusedMultiplyAdd(
                                    Vector512.Load(i0 + ((long)ky * inW + kx) * channels + c),
                                    Vector512.Load(packed + (ky * 3 + kx) * channels + c), vacc);
                        Vector512.Min(Vector512.Max(vacc, Vector512<float>.Zero), Vector512.Create(6f)).Store(o + c);
                    }
                }
                if (path == SimdPath.Vector512 || path == SimdPath.Vector256)
                {
                    for (; c + 8 <= channels; c += 8)
                    {
                        var vacc = Vector256.Load(bias + c);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                                vacc = Vector256.FusedMultiplyAdd(
                                    Vector256.Load(i0 + ((long)ky * inW + kx) * channels + c),
                                    Vector256.Load(packed + (ky * 3 + kx) * channels + c), vacc);
                        Vector256.Min(Vector256.Max(vacc, Vector256<float>.Zero), Vector256.Create(6f)).Store(o + c);
                    }
                }
                if (path != SimdPath.Scalar)
                {
                    for (; c + 4 <= channels; c += 4)
                    {
                        var vacc = Vector128.Load(bias + c);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                                vacc = Vector128.FusedMultiplyAdd(
                                    Vector128.Load(i0 + ((long)ky * inW + kx) * channels + c),
                                    Vector128.Load(packed + (ky * 3 + kx) * channels + c), vacc);
                        Vector128.Min(Vector128.Max(vacc, Vector128<float>.Zero), Vector128.Create(6f)).Store(o + c);
                    }
                }
                for (; c < channels; c++)
                {
                    float acc = bias[c];
                    for (int ky = kyStart; ky < kyEnd; ky++)
                        for (int kx = kxStart; kx < kxEnd; kx++)
                            acc = MathF.FusedMultiplyAdd(i0[((long)ky * inW + kx) * channels + c], packed[(ky * 3 + kx) * channels + c], acc);
                    o[c] = Math.Clamp(acc, 0f, 6f);
                }
            }
        }
    }
}
