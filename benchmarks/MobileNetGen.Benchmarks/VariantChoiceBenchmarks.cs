using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Reports;
using MobileNetGen.Measurement;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;

namespace MobileNetGen.Benchmarks;

/// <summary>
/// One inference of each of the 16 variants (single thread, auto SIMD path), then, after the run, the recommendation of
/// the CLI's <c>choose</c> computed by the shared <see cref="VariantChooser"/> from BenchmarkDotNet's medians
/// (budget: MOBILENETGEN_BUDGET_MS, default 3 ms). <c>--filter '*VariantChoice*'</c>.
/// </summary>
[MemoryDiagnoser]
public class VariantChoiceBenchmarks
{
    public const string BudgetVariable = "MOBILENETGEN_BUDGET_MS";
    public const double DefaultBudgetMs = 3;

    private MobileNetClassifier _classifier = null!;
    private float[] _input = null!;
    private float[] _logits = null!;

    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = VariantCatalog.DefaultVariant;

    /// <summary>The 16 variants of <see cref="VariantCatalog"/> (the extra tflite2018 entry is the same shape as 0.25_224).</summary>
    public static IEnumerable<string> Variants() => VariantCatalog.Variants.Select(e => e.Variant);

    [GlobalSetup]
    public void Setup()
    {
        _classifier = VariantCatalog.Create(Variant);
        _input = MobileNetGen.Measurement.LatencyMeter.FixedInput(_classifier.InputLength);
        _logits = new float[_classifier.NumClasses];
        _classifier.Run(_input, _logits);
    }

    [Benchmark(Description = "MobileNetGen inference (choice)")]
    public float Inference()
    {
        _classifier.Run(_input, _logits);
        return _logits[0];
    }

    [GlobalCleanup]
    public void Cleanup() => _classifier.Dispose();

    /// <summary>The budget from <see cref="BudgetVariable"/>, else <see cref="DefaultBudgetMs"/>.</summary>
    public static double BudgetMs() =>
        double.TryParse(Environment.GetEnvironmentVariable(BudgetVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out double b) && b > 0
            ? b : DefaultBudgetMs;

    /// <summary>Prints the recommendation for the summaries that hold this class's results (others are ignored).</summary>
    public static void PrintRecommendation(IEnumerable<Summary> summaries, TextWriter writer)
    {
        var rows = new List<ChoiceRow>();
        foreach (var s in summaries)
        foreach (var report in s.Reports)
        {
            if (report.BenchmarkCase.Descriptor.Type != typeof(VariantChoiceBenchmarks)) continue;
            if (report.ResultStatistics is not { } stats) continue;
            string variant = (string)report.BenchmarkCase.Parameters[nameof(Variant)];
            var entry = VariantCatalog.Find(variant)!;
            rows.Add(new ChoiceRow(variant, stats.Median / 1e6, entry.Info.WeightBytes,
                PublishedTable.For(VariantName.Parse(variant))?.Top1, entry.Info.Weights == WeightsKind.Synthetic) { Macs = entry.Info.Macs });
        }
        if (rows.Count == 0) return;
        var choice = VariantChooser.Choose(rows, new ChoiceConstraints(BudgetMs()));
        writer.WriteLine();
        writer.WriteLine($"// VariantChooser (ranked by {choice.RankedBy}; budget {BudgetMs().ToString(CultureInfo.InvariantCulture)} ms, {BudgetVariable} to change; {rows.Count} variants measured):");
        writer.WriteLine("// " + (choice.Fits ? $"recommended {choice.Chosen!.Variant}: " : "no variant fits: ") + choice.Reason);
        if (choice.Target is { } t) writer.WriteLine("// " + VariantChooser.AppLine(t.Variant, t.Synthetic));
    }
}
