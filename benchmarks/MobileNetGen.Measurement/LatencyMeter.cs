using System.Diagnostics;

namespace MobileNetGen.Measurement;

/// <summary>
/// Latency of one engine over the timed runs: median and 10th/90th percentiles in milliseconds, and the managed bytes
/// allocated per run on the measuring thread (<see cref="GC.GetAllocatedBytesForCurrentThread"/>).
/// </summary>
public sealed record LatencyStats(int Iterations, double MedianMs, double P10Ms, double P90Ms, double MinMs, double MaxMs, long AllocatedBytesPerRun)
{
    /// <summary>Statistics of raw samples (milliseconds) and the total bytes allocated over them.</summary>
    public static LatencyStats From(IReadOnlyList<double> samplesMs, long allocatedBytes)
    {
        ArgumentNullException.ThrowIfNull(samplesMs);
        if (samplesMs.Count == 0) throw new ArgumentException("no samples", nameof(samplesMs));
        var sorted = samplesMs.ToArray();
        Array.Sort(sorted);
        return new LatencyStats(
            sorted.Length,
            LatencyMeter.Percentile(sorted, 0.5),
            LatencyMeter.Percentile(sorted, 0.1),
            LatencyMeter.Percentile(sorted, 0.9),
            sorted[0],
            sorted[^1],
            allocatedBytes / sorted.Length);
    }
}

/// <summary>
/// The measurement loop shared by <c>bench</c>, <c>choose</c> and the BenchmarkDotNet <c>VariantChoiceBenchmarks</c>:
/// warm-up runs, then timed runs with <see cref="Stopwatch.GetTimestamp"/>. Several engines are <b>interleaved</b> run by
/// run (A, B, A, B, …) so that machine noise (other processes, frequency changes) hits all of them alike.
/// Runs on the calling thread; the engines' own threads (ONNX Runtime's intra-op pool) are theirs.
/// </summary>
public static class LatencyMeter
{
    /// <summary>Default warm-up runs per engine.</summary>
    public const int DefaultWarmup = 5;

    /// <summary>Measures one engine: <paramref name="warmup"/> untimed runs, then <paramref name="iterations"/> timed runs.</summary>
    /// <param name="onRun">Called after every timed run (progress), outside the timed region.</param>
    public static LatencyStats Measure(Action run, int warmup, int iterations, Action? onRun = null) =>
        MeasureInterleaved(new[] { run }, warmup, iterations, onRun)[0];

    /// <summary>
    /// Measures several engines interleaved: warm-up (each engine <paramref name="warmup"/> times, interleaved), then
    /// <paramref name="iterations"/> rounds in which each engine runs once, in order. Returns one result per engine.
    /// Allocations are counted per engine around its own runs only.
    /// </summary>
    /// <param name="onRun">Called after every timed round (all engines ran once), outside the timed region.</param>
    public static LatencyStats[] MeasureInterleaved(IReadOnlyList<Action> engines, int warmup, int iterations, Action? onRun = null)
    {
        ArgumentNullException.ThrowIfNull(engines);
        if (engines.Count == 0) throw new ArgumentException("no engine to measure", nameof(engines));
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);

        for (int w = 0; w < warmup; w++)
            foreach (var e in engines) e();

        int n = engines.Count;
        var samples = new double[n][];
        var allocated = new long[n];
        for (int k = 0; k < n; k++) samples[k] = new double[iterations];
        double tickToMs = 1000.0 / Stopwatch.Frequency;

        for (int i = 0; i < iterations; i++)
        {
            for (int k = 0; k < n; k++)
            {
                var engine = engines[k];
                long bytes0 = GC.GetAllocatedBytesForCurrentThread();
                long t0 = Stopwatch.GetTimestamp();
                engine();
                long t1 = Stopwatch.GetTimestamp();
                long bytes1 = GC.GetAllocatedBytesForCurrentThread();
                samples[k][i] = (t1 - t0) * tickToMs;
                allocated[k] += bytes1 - bytes0;
            }
            onRun?.Invoke();
        }

        var result = new LatencyStats[n];
        for (int k = 0; k < n; k++) result[k] = LatencyStats.From(samples[k], allocated[k]);
        return result;
    }

    /// <summary>Linear-interpolated percentile (<paramref name="p"/> in 0..1) of ascending <paramref name="sorted"/> values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0) throw new ArgumentException("no values", nameof(sorted));
        if (sorted.Count == 1) return sorted[0];
        double pos = Math.Clamp(p, 0, 1) * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>
    /// The fixed pseudo-random input of every speed run: uniform in [−1, 1] (xorshift64*, the ONNX tests' generator), the
    /// same values for every engine and every run.
    /// </summary>
    public static float[] FixedInput(int length, ulong seed = 0x0DD5_EED5_2017UL)
    {
        var values = new float[length];
        ulong state = seed;
        for (int i = 0; i < length; i++)
        {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
            ulong r = state * 0x2545F4914F6CDD1DUL;
            values[i] = (float)((r >> 40) / (double)(1UL << 24) * 2.0 - 1.0);
        }
        return values;
    }
}
