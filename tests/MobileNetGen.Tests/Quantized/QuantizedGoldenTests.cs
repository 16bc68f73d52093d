using System.Diagnostics;
using System.Globalization;
using MobileNetGen.Cli.Evaluation;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Quantized;

/// <summary>A fact that runs only when asked to (it rewrites the golden files and takes ~30 minutes); skipped, saying so, otherwise.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class GoldenRegenerationFactAttribute : FactAttribute
{
    public const string Variable = "MNG_WRITE_QUANT_GOLDEN";

    public GoldenRegenerationFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Skip = $"regenerates tests/MobileNetGen.Tests/Quantized/Golden/*.tsv with the scalar reference (~30 min on 2 cores): set {Variable}=1 " +
                   "(optionally MNG_QUANT_GOLDEN_ENTRIES=entry,entry and MNG_QUANT_GOLDEN_THREADS=N) to run it";
        else if (SharedData.Root == null)
            Skip = "needs the shared/ data folder (shared/images/imagenet-sample-dev); not found";
    }
}

/// <summary>
/// The golden files of the TFLite reference transcription on shared/images/imagenet-sample-dev (500 photos), one per uint8
/// network: their counts against the published accuracy (reported, not asserted: the photos are most likely training-set
/// images, so top-1 runs above the validation figures), their integrity, and a few photos recomputed with the live
/// reference that must match exactly.
/// </summary>
public class QuantizedGoldenTests(ITestOutputHelper output)
{
    private static string SampleDir => QuantizedEntries.Images("imagenet-sample-dev");

    /// <summary>Photos recomputed by the fast check: the first, one in the middle, the last.</summary>
    private static readonly int[] SpotChecks = { 0, 250, 499 };

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Golden_file_matches_the_live_reference(string entry)
    {
        string path = QuantizedGolden.PathOf(entry);
        Assert.True(File.Exists(path), $"golden file {path} is missing: regenerate it ({GoldenRegenerationFactAttribute.Variable}=1, test {nameof(Regenerate)})");
        var golden = QuantizedGolden.Read(path);
        var weights = QuantizedEntries.Weights(entry);
        Assert.Equal(entry, golden.Header["entry"]);
        Assert.True(golden.Header["network_sha256"] == QuantizedGolden.NetworkSha256(weights),
            $"{entry}: the weights' tensors or quantization changed since the golden file was written: regenerate it ({GoldenRegenerationFactAttribute.Variable}=1)");

        // Integrity: one row per ground-truth photo, in order, and the stated counts are the rows' counts.
        var truth = GroundTruth.LoadFromDirectory(SampleDir);
        Assert.Equal(truth.Count, golden.Rows.Count);
        for (int i = 0; i < truth.Count; i++)
        {
            Assert.Equal(truth[i].File, golden.Rows[i].File);
            Assert.Equal(truth[i].SlimIndex, golden.Rows[i].SlimIndex);
        }
        Assert.Equal(golden.Top1Correct.ToString(CultureInfo.InvariantCulture), golden.Header["top1_correct"]);
        Assert.Equal(golden.Top5Correct.ToString(CultureInfo.InvariantCulture), golden.Header["top5_correct"]);
        var e = QuantizedEntries.Get(entry);
        output.WriteLine($"{entry}: golden top-1 {golden.Top1Correct}/{golden.Rows.Count} = {100.0 * golden.Top1Correct / golden.Rows.Count:F1} %, " +
                         $"top-5 {golden.Top5Correct} = {100.0 * golden.Top5Correct / golden.Rows.Count:F1} % " +
                         $"(published ImageNet-val {e.PublishedTop1:F1} / {e.PublishedTop5:F1}; this set runs above it, see shared/README.md)");

        // The live reference reproduces the stored rows exactly.
        var net = QuantizedEntries.Reference(entry);
        foreach (int i in SpotChecks)
        {
            var row = golden.Rows[i];
            var r = net.Forward(QuantizedEntries.QuantizedInput(net, Path.Combine(SampleDir, row.File)));
            int[] top5 = ReferenceQuantizedMobileNet.TopK(r.Logits, 5);
            Assert.True(row.Top5.SequenceEqual(top5), $"{entry} {row.File}: golden top-5 {string.Join(",", row.Top5)}, live reference {string.Join(",", top5)}");
            Assert.Equal(row.Top5Logits, top5.Select(k => r.Logits[k]).ToArray());
        }
    }

    /// <summary>Writes the golden files: every photo through the scalar reference (run on request only, see the attribute).</summary>
    [GoldenRegenerationFact]
    public void Regenerate()
    {
        string? only = Environment.GetEnvironmentVariable("MNG_QUANT_GOLDEN_ENTRIES");
        int threads = int.TryParse(Environment.GetEnvironmentVariable("MNG_QUANT_GOLDEN_THREADS"), out int t) && t > 0 ? t : 2;
        var truth = GroundTruth.LoadFromDirectory(SampleDir);
        foreach (var e in QuantizedEntries.All)
        {
            if (only != null && !only.Split(',').Contains(e.Name)) continue;
            var sw = Stopwatch.StartNew();
            var weights = QuantizedEntries.Weights(e.Name);
            var net = new ReferenceQuantizedMobileNet(weights);
            var rows = new QuantizedGolden.Row[truth.Count];
            Parallel.For(0, truth.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var gt = truth[i];
                var r = net.Forward(QuantizedEntries.QuantizedInput(net, Path.Combine(SampleDir, gt.File)));
                int[] top5 = ReferenceQuantizedMobileNet.TopK(r.Logits, 5);
                rows[i] = new QuantizedGolden.Row(gt.File, gt.SlimIndex, top5, top5.Select(k => r.Logits[k]).ToArray());
            });
            int top1 = rows.Count(r => r.Top1Correct), top5c = rows.Count(r => r.Top5Correct);
            var header = new Dictionary<string, string>
            {
                ["about"] = "TFLite reference-kernel transcription (tests/MobileNetGen.Tests/Reference/Tflite) on shared/images/imagenet-sample-dev",
                ["entry"] = e.Name,
                ["network_sha256"] = QuantizedGolden.NetworkSha256(weights),
                ["preprocessing"] = "TF-slim eval: central crop 87.5 % + TF1 bilinear resize (runtime Preprocessor), then TFLite QUANTIZE with the input's scale and zero point " +
                                    $"({net.InputScale.ToString("R", CultureInfo.InvariantCulture)}, {net.InputZeroPoint})",
                ["ranking"] = "uint8 logits, larger first, ties by lower output index; output k = TF-slim index k (0 = background)",
                ["images"] = rows.Length.ToString(CultureInfo.InvariantCulture),
                ["top1_correct"] = top1.ToString(CultureInfo.InvariantCulture),
                ["top5_correct"] = top5c.ToString(CultureInfo.InvariantCulture),
                ["top1_percent"] = (100.0 * top1 / rows.Length).ToString("F1", CultureInfo.InvariantCulture),
                ["top5_percent"] = (100.0 * top5c / rows.Length).ToString("F1", CultureInfo.InvariantCulture),
                ["published_imagenet_val_top1_top5"] = $"{e.PublishedTop1.ToString("F1", CultureInfo.InvariantCulture)} / {e.PublishedTop5.ToString("F1", CultureInfo.InvariantCulture)}",
            };
            var golden = new QuantizedGolden(header, rows);
            string path = QuantizedGolden.PathOf(e.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, golden.Write());
            output.WriteLine($"{e.Name}: top-1 {top1}/{rows.Length}, top-5 {top5c}/{rows.Length}, {sw.Elapsed.TotalMinutes:F1} min → {path}");
        }
    }
}
