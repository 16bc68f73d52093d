using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// The stem: full 3×3 convolution, stride 2, SAME padding, 3 input channels, + bias + ReLU6, NHWC.
/// </summary>
/// <remarks>
/// Packed weights (<c>PackStem</c>): TensorFlow HWIO as is, <c>packed[((ky·3 + kx)·3 + ci)·C + co]</c>, BatchNorm
/// scale folded in; output channels are the vector lanes. Taps accumulate in (ky, kx, ci) order on every path.
/// </remarks>
public static unsafe class StemKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(SimdPath path, float* input, float* output, float* packed, float* bias,
        int inH, int inW, int outH, int outW, int cout, int stride, int padTop, int padLeft)
    {
        const int Cin = 3;
        for (int outY = 0; outY < outH; outY++)
        {
            int inY0 = outY * stride - padTop;
            int kyStart = Math.Max(0, -inY0), kyEnd = Math.Min(3, inH - inY0);
            for (int outX = 0; outX < outW; outX++)
            {
                int inX0 = outX * stride - padLeft;
                int kxStart = Math.Max(0, -inX0), kxEnd = Math.Min(3, inW - inX0);
                float* o = output + ((long)outY * outW + outX) * cout;
                float* i0 = input + ((long)inY0 * inW + inX0) * Cin;
                int c = 0;
                if (path == SimdPath.Vector512)
                {
                    for (; c + 16 <= cout; c += 16)
                    {
                        var vacc = Vector512.Load(bias + c);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                            {
                                float* px = i0 + ((long)ky * inW + kx) * Cin;
                                float* w = packed + (ky * 3 + kx) * Cin * cout + c;
                                vacc = Vector512.FusedMultiplyAdd(Vector512.Create(px[0]), Vector512.Load(w), vacc);
                                vacc = Vector512.FusedMultiplyAdd(Vector512.Create(px[1]), Vector512.Load(w + cout), vacc);
                                vacc = Vector512.FusedMultiplyAdd(Vector512.Create(px[2]), Vector512.Load(w + 2 * cout), vacc);
                            }
                        Vector512.Min(Vector512.Max(vacc, Vector512<float>.Zero), Vector512.Create(6f)).Store(o + c);
                    }
                }
                if (path == SimdPath.Vector512 || path == SimdPath.Vector256)
                {
                    for (; c + 8 <= cout; c += 8)
                    {
                        var vacc = Vector256.Load(bias + c);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                            {
                                float* px = i0 + ((long)ky * inW + kx) * Cin;
                                float* w = packed + (ky * 3 + kx) * Cin * cout + c;
                                vacc = Vector256.FusedMultiplyAdd(Vector256.Create(px[0]), Vector256.Load(w), vacc);
                                vacc = Vector256.FusedMultiplyAdd(Vector256.Create(px[1]), Vector256.Load(w + cout), vacc);
                                vacc = Vector256.FusedMultiplyAdd(Vector256.Create(px[2]), Vector256.Load(w + 2 * cout), vacc);
                            }
                        Vector256.Min(Vector256.Max(vacc, Vector256<float>.Zero), Vector256.Create(6f)).Store(o + c);
                    }
                }
                if (path != SimdPath.Scalar)
                {
                    for (; c + 4 <= cout; c += 4)
                    {
                        var vacc = Vector128.Load(bias + c);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                            {
                                float* px = i0 + ((long)ky * inW + kx) * Cin;
                                float* w = packed + (ky * 3 + kx) * Cin * cout + c;
                                vacc = Vector128.FusedMultiplyAdd(Vector128.Create(px[0]), Vector128.Load(w), vacc);
                                vacc = Vector128.FusedMultiplyAdd(Vector128.Create(px[1]), Vector128.Load(w + cout), vacc);
                                vacc = Vector128.FusedMultiplyAdd(Vector128.Create(px[2]), Vector128.Load(w + 2 * cout), vacc);
                            }
                        Vector128.Min(Vector128.Max(vacc, Vector128<float>.Zero), Vector128.Create(6f)).Store(o + c);
                    }
                }
                for (; c < cout; c++)
                {
                    float acc = bias[c];
                    for (int ky = kyStart; ky < kyEnd; ky++)
                        for (int kx = kxStart; kx < kxEnd; kx++)
                        {
                            float* px = i0 + ((long)ky * inW + kx) * Cin;
                            float* w = packed + (ky * 3 + kx) * Cin * cout + c;
                            acc = MathF.FusedMultiplyAdd(px[0], w[0], acc);
                            acc = MathF.FusedMultiplyAdd(px[1], w[cout], acc);
                            acc = MathF.FusedMultiplyAdd(px[2], w[2 * cout], acc);
                        }
                    o[c] = Math.Clamp(acc, 0f, 6f);
                }
            }
        }
    }
}
