using System.Diagnostics;
using System.Globalization;
using MobileNetGen.Cli.Evaluation;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Quantized;

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
        Assert.True(File.Exists(path), $"golden file {path} is missing: regenerate it with {QuantizedGolden.RegenerateCommand}");
        var golden = QuantizedGolden.Read(path);
        var weights = QuantizedEntries.Weights(entry);
        Assert.Equal(entry, golden.Header["entry"]);
        Assert.True(golden.Header["network_sha256"] == QuantizedGolden.NetworkSha256(weights),
            $"{entry}: the weights' tensors or quantization changed since the golden file was written: regenerate it with {QuantizedGolden.RegenerateCommand}");

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
}
