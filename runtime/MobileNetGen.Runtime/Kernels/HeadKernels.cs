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
        if (SimdPaths.Is512(path))
            for (; c + 16 <= channels; c += 16)
            {
                var vsum = Vector512<float>.Zero;
                for (int p = 0; p < pixels; p++) vsum += Vector512.Load(input + (long)p * channels + c);
                (vsum * inv).Store(features + c);
            }
        if (SimdPaths.AtLeast256(path))
            for (; c + 8 <= channels; c += 8)
            {
                var vsum = Vector256<float>.Zero;
                for (int p = 0; p < pixels; p++) vsum += Vector256.Load(input + (long)p * channels + c);
                (vsum * inv).Store(features + c);
            }
        if (SimdPaths.AtLeast128(path))
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
    /// streaming the rows in order is the best order for a matrix-vector product. Four rows per pass, so each logits
    /// vector is loaded and stored once per four fused multiply-adds; each logit still sums c = 0, 1, 2, … in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Logits(SimdPath path, float* features, float* logits, float* weights, float* bias, int channels, int classes)
    {
        new ReadOnlySpan<float>(bias, classes).CopyTo(new Span<float>(logits, classes));
        int c = 0;
        for (; c + 4 <= channels; c += 4)
        {
            float f0 = features[c], f1 = features[c + 1], f2 = features[c + 2], f3 = features[c + 3];
            float* w0 = weights + (long)c * classes, w1 = w0 + classes, w2 = w1 + classes, w3 = w2 + classes;
            int n = 0;
            if (SimdPaths.Is512(path))
            {
                Vector512<float> vf0 = Vector512.Create(f0), vf1 = Vector512.Create(f1), vf2 = Vector512.Create(f2), vf3 = Vector512.Create(f3);
                for (; n + 16 <= classes; n += 16)
                {
                    var acc = Vector512.FusedMultiplyAdd(vf0, Vector512.Load(w0 + n), Vector512.Load(logits + n));
                    acc = Vector512.FusedMultiplyAdd(vf1, Vector512.Load(w1 + n), acc);
                    acc = Vector512.FusedMultiplyAdd(vf2, Vector512.Load(w2 + n), acc);
                    Vector512.FusedMultiplyAdd(vf3, Vector512.Load(w3 + n), acc).Store(logits + n);
                }
            }
            if (SimdPaths.AtLeast256(path))
            {
                Vector256<float> vf0 = Vector256.Create(f0), vf1 = Vector256.Create(f1), vf2 = Vector256.Create(f2), vf3 = Vector256.Create(f3);
                for (; n + 8 <= classes; n += 8)
                {
                    var acc = Vector256.FusedMultiplyAdd(vf0, Vector256.Load(w0 + n), Vector256.Load(logits + n));
                    acc = Vector256.FusedMultiplyAdd(vf1, Vector256.Load(w1 + n), acc);
                    acc = Vector256.FusedMultiplyAdd(vf2, Vector256.Load(w2 + n), acc);
                    Vector256.FusedMultiplyAdd(vf3, Vector256.Load(w3 + n), acc).Store(logits + n);
                }
            }
            if (SimdPaths.AtLeast128(path))
            {
                Vector128<float> vf0 = Vector128.Create(f0), vf1 = Vector128.Create(f1), vf2 = Vector128.Create(f2), vf3 = Vector128.Create(f3);
                for (; n + 4 <= classes; n += 4)
                {
                    var acc = Vector128.FusedMultiplyAdd(vf0, Vector128.Load(w0 + n), Vector128.Load(logits + n));
                    acc = Vector128.FusedMultiplyAdd(vf1, Vector128.Load(w1 + n), acc);
                    acc = Vector128.FusedMultiplyAdd(vf2, Vector128.Load(w2 + n), acc);
                    Vector128.FusedMultiplyAdd(vf3, Vector128.Load(w3 + n), acc).Store(logits + n);
                }
            }
            for (; n < classes; n++)
                logits[n] = MathF.FusedMultiplyAdd(f3, w3[n], MathF.FusedMultiplyAdd(f2, w2[n], MathF.FusedMultiplyAdd(f1, w1[n], MathF.FusedMultiplyAdd(f0, w0[n], logits[n]))));
        }
        for (; c < channels; c++) // fewer than four rows left
        {
            float f = features[c];
            float* w = weights + (long)c * classes;
            for (int n = 0; n < classes; n++) logits[n] = MathF.FusedMultiplyAdd(f, w[n], logits[n]);
        }
    }
}
