using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>Global average pool (→ embeddings) and the logits layer (fully connected with bias, no activation).</summary>
public static unsafe class HeadKernels
{
    /// <summary><c>features[c] = (Σ_p input[p, c]) / pixels</c>, summing pixels in order (same on every path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GlobalAveragePool(SimdPath path, float* input, float* features, int pixels, int channels)
    {
        float inv = 1f / pixels;
        int c = 0;
        if (path == SimdPath.Vector512)
            for (; c + 16 <= channels; c += 16)
            {
                var vsum = Vector512<float>.Zero;
                for (int p = 0; p < pixels; p++) vsum += Vector512.Load(input + (long)p * channels + c);
                (vsum * inv).Store(features + c);
            }
        if (path == SimdPath.Vector512 || path == SimdPath.Vector256)
            for (; c + 8 <= channels; c += 8)
            {
                var vsum = Vector256<float>.Zero;
                for (int p = 0; p < pixels; p++) vsum += Vector256.Load(input + (long)p * channels + c);
                (vsum * inv).Store(features + c);
            }
        if (path != SimdPath.Scalar)
            for (; c + 4 <= channels; c += 4)
            {
                var vsum = Vector128<float>.Zero;
                for (int p = 0; p < pixels; p++) vsum += Vector128.Load(input + (long)p * channels + c);
                (vsum * inv).Store(features + c);
            }
        for (; c < channels; c++)
        {
            float sum = 0;
            for (int p = 0; p < pixels; p++) sum += input[(long)p * channels + c];
            features[c] = sum * inv;
        }
    }

    /// <summary>
    /// <c>logits[n] = bias[n] + Σ_c features[c]·W[c, n]</c>. Weights stay in the canonical [C, N] layout (N contiguous):
    /// streaming each row once is already the best order for a matrix-vector product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Logits(SimdPath path, float* features, float* logits, float* weights, float* bias, int channels, int classes)
    {
        new ReadOnlySpan<float>(bias, classes).CopyTo(new Span<float>(logits, classes));
        for (int c = 0; c < channels; c++)
        {
            float f = features[c];
            float* w = weights + (long)c * classes;
            int n = 0;
            if (path == SimdPath.Vector512)
            {
                var vf = Vector512.Create(f);
                for (; n + 16 <= classes; n += 16)
                    Vector512.FusedMultiplyAdd(vf, Vector512.Load(w + n), Vector512.Load(logits + n)).Store(logits + n);
            }
            if (path == SimdPath.Vector512 || path == SimdPath.Vector256)
            {
                var vf = Vector256.Create(f);
                for (; n + 8 <= classes; n += 8)
                    Vector256.FusedMultiplyAdd(vf, Vector256.Load(w + n), Vector256.Load(logits + n)).Store(logits + n);
            }
            if (path != SimdPath.Scalar)
            {
                var vf = Vector128.Create(f);
                for (; n + 4 <= classes; n += 4)
                    Vector128.FusedMultiplyAdd(vf, Vector128.Load(w + n), Vector128.Load(logits + n)).Store(logits + n);
            }
            for (; n < classes; n++) logits[n] = MathF.FusedMultiplyAdd(f, w[n], logits[n]);
        }
    }
}
