namespace MobileNetGen.Runtime;

/// <summary>Softmax and top-k over model outputs. Both allocate nothing.</summary>
public static class Postprocess
{
    /// <summary>
    /// Numerically stable softmax: <c>p_i = exp(x_i − max) / Σ exp(x_j − max)</c>, exponentials in float, the sum in
    /// double. Writes <c>logits.Length</c> probabilities. If some logits are +∞ they share the probability mass equally;
    /// if all are −∞ the result is uniform. NaN logits give NaN probabilities.
    /// </summary>
    /// <param name="logits">At least one logit.</param>
    /// <param name="probabilities">At least <c>logits.Length</c> floats; may not overlap <paramref name="logits"/> unless it is the same memory.</param>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        int n = logits.Length;
        if (n == 0) throw new ArgumentException("logits must not be empty", nameof(logits));
        if (probabilities.Length < n)
            throw new ArgumentException($"probabilities must hold at least {n} floats, got {probabilities.Length}", nameof(probabilities));
        probabilities = probabilities[..n];

        float max = float.NegativeInfinity;
        bool nan = false;
        for (int i = 0; i < n; i++)
        {
            float v = logits[i];
            if (v > max) max = v;
            else if (float.IsNaN(v)) nan = true;
        }

        if (nan)
        {
            probabilities.Fill(float.NaN);
            return;
        }

        if (float.IsInfinity(max))
        {
            // All −∞ → uniform; some +∞ → those share the mass (the limit of the softmax).
            int count = 0;
            for (int i = 0; i < n; i++) if (logits[i] == max) count++;
            float share = 1f / count;
            for (int i = 0; i < n; i++) probabilities[i] = logits[i] == max ? share : 0f;
            return;
        }

        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float e = MathF.Exp(logits[i] - max);
            probabilities[i] = e;
            sum += e;
        }
        // sum ≥ 1 (the max contributes exp(0) = 1), so the division is safe.
        double inverse = 1.0 / sum;
        for (int i = 0; i < n; i++) probabilities[i] = (float)(probabilities[i] * inverse);
    }

    /// <summary>
    /// Indices of the <c>indices.Length</c> largest scores, in descending order; ties go to the lower index first and
    /// NaN ranks below every number. O(n·k), allocation-free.
    /// </summary>
    /// <param name="scores">The scores (logits or probabilities).</param>
    /// <param name="indices">Receives the top indices; its length is k (0..scores.Length).</param>
    public static void TopK(ReadOnlySpan<float> scores, Span<int> indices)
    {
        int n = scores.Length, k = indices.Length;
        if (k > n) throw new ArgumentException($"k = indices.Length ({k}) must not exceed the number of scores ({n})", nameof(indices));
        if (k == 0) return;

        int count = 0;
        for (int i = 0; i < n; i++)
        {
            float s = scores[i];
            if (count == k && !Greater(s, scores[indices[k - 1]])) continue;
            // Insert i; scanning ascending means an equal score already kept stays ahead (lower index first).
            int p = count < k ? count++ : k - 1;
            while (p > 0 && Greater(s, scores[indices[p - 1]]))
            {
                indices[p] = indices[p - 1];
                p--;
            }
            indices[p] = i;
        }
    }

    private static bool Greater(float a, float b) => a > b || (float.IsNaN(b) && !float.IsNaN(a));
}
