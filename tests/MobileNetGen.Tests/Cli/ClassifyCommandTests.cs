using System.Text.Json;
using MobileNetGen.Variants;
using Xunit;

namespace MobileNetGen.Tests.Cli;

public class ClassifyCommandTests
{
    [Fact]
    public void GraceHopper_DefaultVariant_TopOneIsBowTie()
    {
        var r = CliRunner.Run("classify", CliRunner.Fixture("grace_hopper.bmp"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        string[] lines = r.Stdout.Split('\n');
        // Header names the variant, the weights kind and the SIMD path.
        Assert.Contains("0.25_224", lines[0]);
        Assert.Contains("genuine float", lines[0]);
        Assert.Contains("simd:", lines[0]);
        // The first table row (rank 1) is class 458, bow tie.
        string first = lines.First(l => l.Contains("│ 1 │"));
        Assert.Contains("458", first);
        Assert.Contains("bow tie", first);
    }

    [Fact]
    public void Json_HasTheDocumentedShape()
    {
        var r = CliRunner.Run("classify", "--json", "--top", "3", CliRunner.Fixture("grace_hopper.bmp"), CliRunner.Fixture("burger.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var arr = doc.RootElement;
        Assert.Equal(JsonValueKind.Array, arr.ValueKind);
        Assert.Equal(2, arr.GetArrayLength());
        foreach (var item in arr.EnumerateArray())
        {
            Assert.Equal(
                new[] { "image", "variant", "weights", "simd", "predictions" },
                item.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal("0.25_224", item.GetProperty("variant").GetString());
            Assert.Equal("genuine-float", item.GetProperty("weights").GetString());
            Assert.False(string.IsNullOrEmpty(item.GetProperty("simd").GetString()));
            var preds = item.GetProperty("predictions");
            Assert.Equal(3, preds.GetArrayLength());
            double previous = 1.0;
            foreach (var p in preds.EnumerateArray())
            {
                Assert.Equal(new[] { "index", "label", "probability" }, p.EnumerateObject().Select(x => x.Name).ToArray());
                int index = p.GetProperty("index").GetInt32();
                Assert.InRange(index, 0, 1000);
                Assert.False(string.IsNullOrEmpty(p.GetProperty("label").GetString()));
                double prob = p.GetProperty("probability").GetDouble();
                Assert.InRange(prob, 0.0, previous);
                previous = prob;
            }
        }
        Assert.EndsWith("grace_hopper.bmp", arr[0].GetProperty("image").GetString());
        Assert.Equal(458, arr[0].GetProperty("predictions")[0].GetProperty("index").GetInt32());
        Assert.Equal("bow tie", arr[0].GetProperty("predictions")[0].GetProperty("label").GetString());
        Assert.Equal(934, arr[1].GetProperty("predictions")[0].GetProperty("index").GetInt32());
    }

    [Fact]
    public void Keras1000ClassModel_ReportsSlimIndices()
    {
        // 0.75_224 is the Keras/TF.js model (1000 outputs, no background): indices must still be TF-slim (1..1000).
        // burger → 934 cheeseburger (slim) = Keras 933. (grace_hopper is a near-tie of uniform / bow tie / suit for this model.)
        var r = CliRunner.Run("classify", "--json", "--variant", "0.75_224", CliRunner.Fixture("burger.jpg"), CliRunner.Fixture("grace_hopper.bmp"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var top = doc.RootElement[0].GetProperty("predictions")[0];
        Assert.Equal(934, top.GetProperty("index").GetInt32());
        Assert.Equal("cheeseburger", top.GetProperty("label").GetString());
        var hopper = doc.RootElement[1].GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("index").GetInt32()).ToArray();
        Assert.Contains(835, hopper); // suit, the reference top-1
        Assert.Contains(458, hopper); // bow tie
    }

    [Theory]
    [InlineData("0.5_128", "0.50_128")]
    [InlineData("mobilenet_v1_0.25_192", "0.25_192")]
    [InlineData("mobilenet_v1_0.25_224_tflite2018", "mobilenet_v1_0.25_224_tflite2018")]
    public void VariantSpellings_AreAccepted(string given, string reported)
    {
        var r = CliRunner.Run("classify", "--json", "--top", "1", "--variant", given, CliRunner.Fixture("burger.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(reported, doc.RootElement[0].GetProperty("variant").GetString());
    }

    [Fact]
    public void SyntheticVariant_IsLabelledSynthetic()
    {
        var r = CliRunner.Run("classify", "--variant", "1.0_128", "--top", "1", CliRunner.Fixture("burger.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("SYNTHETIC", r.Stdout.Split('\n')[0]);

        var j = CliRunner.Run("classify", "--json", "--variant", "1.0_128", "--top", "1", CliRunner.Fixture("burger.jpg"));
        using var doc = JsonDocument.Parse(j.Stdout);
        Assert.Equal("synthetic", doc.RootElement[0].GetProperty("weights").GetString());
    }

    [Fact]
    public void Verbose_PrintsIsaLine()
    {
        var r = CliRunner.Run("classify", "--verbose", "--top", "1", CliRunner.Fixture("burger.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        string isa = r.Stdout.Split('\n').Single(l => l.StartsWith("isa: ", StringComparison.Ordinal));
        Assert.Matches(@"^isa: \w+ \(Vector512 accelerated: (True|False), Vector256: (True|False), Vector128: (True|False), AdvSimd: (True|False)\)$", isa.TrimEnd());
        Assert.Contains("time:", r.Stdout);
    }

    [Theory]
    [InlineData("0.3_224")]
    [InlineData("mobilenet_v2_1.0_224")]
    [InlineData("")]
    public void UnknownVariant_FailsAndListsTheKnownOnes(string variant)
    {
        var r = CliRunner.Run("classify", "--variant", variant, CliRunner.Fixture("burger.jpg"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: unknown variant", line);
        foreach (var e in VariantCatalog.Entries)
            Assert.Contains(e.Name == "mobilenet_v1_" + e.Variant ? e.Variant : e.Name, line);
    }

    [Fact]
    public void TopOutOfRange_IsAUsageError()
    {
        Assert.Equal(1, CliRunner.Run("classify", "--top", "0", CliRunner.Fixture("burger.jpg")).ExitCode);
        Assert.Equal(1, CliRunner.Run("classify", "--top", "1002", CliRunner.Fixture("burger.jpg")).ExitCode);
    }

    [Fact]
    public void CorruptAndMissingImages_OneLineErrorEach_ExitTwo_OthersStillClassified()
    {
        using var tmp = new CliRunner.TempDir();
        string garbage = tmp.File("garbage.jpg");
        File.WriteAllText(garbage, "this is not an image\n");
        string truncated = tmp.File("truncated.jpg");
        File.WriteAllBytes(truncated, File.ReadAllBytes(CliRunner.Fixture("burger.jpg")).AsSpan(0, 2000).ToArray());
        string empty = tmp.File("empty.png");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        string missing = tmp.File("does not exist.bmp");

        var r = CliRunner.Run("classify", "--json", garbage, CliRunner.Fixture("burger.jpg"), truncated, empty, missing, tmp.Path);
        Assert.Equal(2, r.ExitCode);
        string[] lines = r.StderrLines;
        Assert.Equal(5, lines.Length);
        Assert.StartsWith($"error: {garbage}: ", lines[0]);
        Assert.StartsWith($"error: {truncated}: ", lines[1]);
        Assert.StartsWith($"error: {empty}: ", lines[2]);
        Assert.StartsWith($"error: {missing}: ", lines[3]);
        Assert.StartsWith($"error: {tmp.Path}: ", lines[4]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);

        using var doc = JsonDocument.Parse(r.Stdout);
        var only = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(934, only.GetProperty("predictions")[0].GetProperty("index").GetInt32());
    }

    [Fact]
    public void NoImage_IsAUsageError()
    {
        var r = CliRunner.Run("classify");
        Assert.Equal(1, r.ExitCode);
        Assert.NotEqual("", r.Stderr);
    }
}
