namespace MobileNetGen.Runtime;

/// <summary>
/// One step of a generated network's schedule, as the generator planned it: a layer, or a fused pair of layers.
/// </summary>
/// <param name="Name">The layer's TF-slim name (a fused pair: both names joined by " + ").</param>
/// <param name="Kind">What it computes, e.g. "pointwise 1×1", "depthwise 3×3/2".</param>
/// <param name="Shape">Input and output extents, e.g. "112x112x32 -> 112x112x64".</param>
/// <param name="Macs">Multiply-accumulates of one inference through the step.</param>
/// <param name="BytesMoved">Bytes the step must read and write at the least: its input and output activations and its packed
/// weights (a fused pair's band stays in cache and is not counted).</param>
public sealed record NetworkStep(string Name, string Kind, string Shape, long Macs, long BytesMoved);

/// <summary>A step's measured time over the profiled inferences.</summary>
public sealed record StepTiming(NetworkStep Step, double MedianMs, double P10Ms, double P90Ms);

/// <summary>Per-step times of one network on one instance (<see cref="MobileNetClassifier.Profile"/>).</summary>
/// <param name="TotalMedianMs">Median of whole inferences (the steps' medians need not add up to it exactly).</param>
public sealed record NetworkProfile(IReadOnlyList<StepTiming> Steps, double TotalMedianMs, int Threads, SimdPath Path, int Iterations)
{
    /// <summary>The profile of per-step samples (<c>samples[s][iteration]</c>, ms) and whole-inference totals: each step's median,
    /// p10 and p90, the totals' median. Sorts the arrays in place.</summary>
    internal static NetworkProfile FromSamples(IReadOnlyList<NetworkStep> steps, double[][] samples, double[] totals, int threads, SimdPath path)
    {
        var timings = new StepTiming[steps.Count];
        for (int s = 0; s < timings.Length; s++)
        {
            Array.Sort(samples[s]);
            timings[s] = new StepTiming(steps[s], Percentile(samples[s], 0.5), Percentile(samples[s], 0.1), Percentile(samples[s], 0.9));
        }
        Array.Sort(totals);
        return new NetworkProfile(timings, Percentile(totals, 0.5), threads, path, totals.Length);
    }

    /// <summary>Linear interpolation between the closest ranks of <paramref name="sorted"/>.</summary>
    private static double Percentile(double[] sorted, double p)
    {
        double pos = p * (sorted.Length - 1);
        int lo = (int)pos, hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
