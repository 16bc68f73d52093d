using System.Text.Json;
using MobileNetGen.Tests.Cli;
using Xunit;

namespace MobileNetGen.Tests.Choose;

/// <summary><c>choose</c> in-process: JSON shape and plots. Timings are never asserted.</summary>
public class ChooseCommandTests
{
    private static readonly byte[] PngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    [Fact]
    public void Json_has_every_variant_the_recommendation_and_the_machine_and_the_plots_are_pngs()
    {
        using var tmp = new CliRunner.TempDir();
        string plot = tmp.File("choose.png"), macs = tmp.File("sub/macs.png");
        var r = CliRunner.Run("choose", "--budget-ms", "1000", "--iterations", "2", "--warmup", "1", "--json", "--plot", plot, "--plot-macs", macs);
        Assert.True(r.ExitCode == 0, r.ToString());

        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var variants = root.GetProperty("variants");
        Assert.Equal(21, variants.GetArrayLength()); // the 16 variants and the 5 uint8 networks
        foreach (var v in variants.EnumerateArray())
        {
            foreach (var key in new[] { "variant", "median_ms", "macs", "params", "size_bytes", "top1_published", "top5_published", "top1_measured", "weights" })
                Assert.True(v.TryGetProperty(key, out _), $"variant object lacks '{key}': {v}");
            Assert.Equal(JsonValueKind.Null, v.GetProperty("top1_measured").ValueKind); // no --images
            Assert.Contains(v.GetProperty("weights").GetString(), new[] { "genuine-float", "genuine-8bit", "synthetic", "genuine-uint8" });
            Assert.True(v.GetProperty("size_bytes").GetInt64() > 0);
        }
        Assert.Equal("synthetic", variants.EnumerateArray().First(v => v.GetProperty("variant").GetString() == "1.0_224").GetProperty("weights").GetString());

        var rec = root.GetProperty("recommendation");
        foreach (var key in new[] { "variant", "reason", "fits", "closest", "constraint_failed", "ranked_by", "app_line" })
            Assert.True(rec.TryGetProperty(key, out _), $"recommendation lacks '{key}': {rec}");
        Assert.Equal("published top-1", rec.GetProperty("ranked_by").GetString());
        // A 1 s budget fits every variant: the most accurate by published top-1 is 1.0_224 (synthetic in this build).
        Assert.True(rec.GetProperty("fits").GetBoolean());
        Assert.Equal("1.0_224", rec.GetProperty("variant").GetString());
        Assert.Contains("Synthetic = true", rec.GetProperty("app_line").GetString());
        Assert.True(root.GetProperty("machine").GetProperty("processor_count").GetInt32() > 0);

        foreach (var png in new[] { plot, macs })
        {
            Assert.True(File.Exists(png), png);
            byte[] bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 1000, $"{png}: {bytes.Length} bytes");
            Assert.Equal(PngSignature, bytes.Take(8).ToArray());
        }
    }

    [Theory]
    [InlineData("--budget-ms", "0")]
    [InlineData("--budget-ms", "3", "--threads", "0")]
    [InlineData("--budget-ms", "3", "--plot", "out.jpg")]
    [InlineData("--budget-ms", "3", "--min-top1", "120")]
    [InlineData("--budget-ms", "3", "--min-top1", "high")]
    [InlineData("--budget-ms", "fast")]
    public void Bad_values_are_usage_errors_with_nothing_on_stdout(params string[] args)
    {
        var r = CliRunner.Run(new[] { "choose" }.Concat(args).ToArray());
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("error: ", r.Stderr);
    }

    [Fact]
    public void Missing_budget_is_a_parse_error()
    {
        var r = CliRunner.Run("choose", "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
    }
}
