using BenchmarkDotNet.Attributes;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;

namespace MobileNetGen.Benchmarks;

/// <summary>
/// Latency of one inference (preprocessed input → logits), single thread, per variant and SIMD path.
/// The Vector128 row is the ARM64 (NEON) code path measured on this CPU: a same-run peer for the auto-selected path.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private MobileNetClassifier _classifier = null!;
    private float[] _input = null!;
    private float[] _logits = null!;

    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = VariantCatalog.DefaultVariant;

    [Params(SimdPath.Auto, SimdPath.Vector128)]
    public SimdPath Simd { get; set; }

    /// <summary>Variants to measure: MOBILENETGEN_BENCH_VARIANTS=all or a comma list; default 0.25_224,0.25_128.</summary>
    public static IEnumerable<string> Variants()
    {
        string? env = Environment.GetEnvironmentVariable("MOBILENETGEN_BENCH_VARIANTS");
        if (string.Equals(env, "all", StringComparison.OrdinalIgnoreCase))
            return VariantCatalog.Entries.Take(16).Select(e => e.Variant);
        return (env ?? "0.25_224,0.25_128").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [GlobalSetup]
    public void Setup()
    {
        _classifier = VariantCatalog.Create(Variant, new MobileNetOptions { Simd = Simd });
        _input = MobileNetGen.Cli.Benchmarking.LatencyMeter.FixedInput(_classifier.InputLength);
        _logits = new float[_classifier.NumClasses];
        _classifier.Run(_input, _logits);
    }

    [Benchmark(Description = "MobileNetGen inference")]
    public float Inference()
    {
        _classifier.Run(_input, _logits);
        return _logits[0];
    }

    [GlobalCleanup]
    public void Cleanup() => _classifier.Dispose();
}
