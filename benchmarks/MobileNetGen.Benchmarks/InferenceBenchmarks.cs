using BenchmarkDotNet.Attributes;
using MobileNetGen.Measurement;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;

namespace MobileNetGen.Benchmarks;

/// <summary>
/// Latency of one inference (preprocessed input → logits) per variant and thread count: MobileNetGen against ONNX
/// Runtime 1.31.1 (the baseline: CPU EP, the same canonical weights exported to ONNX, <c>IntraOpNumThreads</c> = the
/// same thread count, spinning off) in the same run, so the ratio column is the result to read.
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private MobileNetClassifier _classifier = null!;
    private OnnxBaseline.OnnxBaseline _onnx = null!;
    private float[] _input = null!;
    private float[] _logits = null!;
    private float[] _onnxLogits = null!;

    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = VariantCatalog.DefaultVariant;

    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; } = 1;

    /// <summary>Variants to measure: MOBILENETGEN_BENCH_VARIANTS=all or a comma list; default 1.0_224,0.25_224,0.25_128.</summary>
    public static IEnumerable<string> Variants() => BenchmarkSettings.Variants("1.0_224,0.25_224,0.25_128");

    /// <summary>Threads per inference for both engines: MOBILENETGEN_BENCH_THREADS, a comma list; default 1.</summary>
    public static IEnumerable<int> ThreadCounts() =>
        (Environment.GetEnvironmentVariable("MOBILENETGEN_BENCH_THREADS") ?? "1")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse);

    // Each benchmark sets up only its own engine: MemoryDiagnoser counts every thread's allocations, and a live ONNX
    // Runtime session allocates a little on its own (a few bytes per MobileNetGen inference were charged to it).
    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOnnxRuntime()
    {
        var entry = Entry();
        _onnx = OnnxBaseline.OnnxBaseline.FromWeights(CanonicalWeightsSource.For(entry), Threads);
        _input = LatencyMeter.FixedInput(_onnx.InputLength);
        _onnxLogits = new float[_onnx.NumClasses];
        _onnx.Run(_input, _onnxLogits);
    }

    [GlobalSetup(Target = nameof(MobileNetGen))]
    public void SetupMobileNetGen()
    {
        _classifier = Entry().Create(new MobileNetOptions { Threads = Threads });
        _input = LatencyMeter.FixedInput(_classifier.InputLength);
        _logits = new float[_classifier.NumClasses];
        _classifier.Run(_input, _logits);
    }

    private VariantEntry Entry() => VariantCatalog.Find(Variant) ?? throw new ArgumentException($"unknown variant '{Variant}'");

    [Benchmark(Baseline = true, Description = "ONNX Runtime 1.31.1")]
    public float OnnxRuntime()
    {
        _onnx.Run(_input, _onnxLogits);
        return _onnxLogits[0];
    }

    [Benchmark(Description = "MobileNetGen")]
    public float MobileNetGen()
    {
        _classifier.Run(_input, _logits);
        return _logits[0];
    }

    [GlobalCleanup(Target = nameof(OnnxRuntime))]
    public void CleanupOnnxRuntime()
    {
        _onnx.Dispose();
        _onnx = null!;
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [GlobalCleanup(Target = nameof(MobileNetGen))]
    public void CleanupMobileNetGen() => _classifier.Dispose();
}

/// <summary>
/// The auto-selected SIMD path against the Vector128 path (the one ARM64/NEON runs), single thread, same run.
/// </summary>
[MemoryDiagnoser]
public class SimdPathBenchmarks
{
    private MobileNetClassifier _classifier = null!;
    private float[] _input = null!;
    private float[] _logits = null!;

    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = VariantCatalog.DefaultVariant;

    [Params(SimdPath.Auto, SimdPath.Vector128)]
    public SimdPath Simd { get; set; }

    public static IEnumerable<string> Variants() => BenchmarkSettings.Variants("0.25_224,0.25_128");

    [GlobalSetup]
    public void Setup()
    {
        _classifier = VariantCatalog.Create(Variant, new MobileNetOptions { Simd = Simd });
        _input = LatencyMeter.FixedInput(_classifier.InputLength);
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

internal static class BenchmarkSettings
{
    /// <summary>MOBILENETGEN_BENCH_VARIANTS=all (the 16 variants) or a comma list; otherwise <paramref name="defaults"/>.</summary>
    public static IEnumerable<string> Variants(string defaults)
    {
        string? env = Environment.GetEnvironmentVariable("MOBILENETGEN_BENCH_VARIANTS");
        if (string.Equals(env, "all", StringComparison.OrdinalIgnoreCase))
            return VariantCatalog.Entries.Take(16).Select(e => e.Variant);
        return (env ?? defaults).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
