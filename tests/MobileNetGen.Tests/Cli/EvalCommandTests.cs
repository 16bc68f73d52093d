using System.Text;
using System.Text.Json;
using MobileNetGen.Cli.Evaluation;
using Xunit;

namespace MobileNetGen.Tests.Cli;

public class EvalCommandTests
{
    private const string Header = "file\twnid\tkeras_index_0_999\tslim_index_1_1000\tslim_label";

    private static string SampleDir => Path.Combine(SharedData.Root!, "images", "imagenet-sample-dev");

    /// <summary>
    /// A folder with 3 real photos (one renamed to a name with spaces, quotes and non-ASCII), a listed but missing file and a
    /// garbage file: 5 ground-truth rows; plus an unlisted photo (an extra image) and an unlisted text file (not an image).
    /// </summary>
    private static (CliRunner.TempDir Dir, string Odd) MakeSet()
    {
        var tmp = new CliRunner.TempDir();
        var rows = File.ReadAllLines(Path.Combine(SampleDir, GroundTruth.FileName)).Skip(1).Take(3).Select(l => l.Split('\t')).ToArray();
        string odd = OperatingSystem.IsWindows() ? "it's a ünïcødé fish 魚.JPEG" : "it's a \"ünïcødé\" fish 魚.JPEG";
        var sb = new StringBuilder(Header).Append('\n');
        for (int i = 0; i < rows.Length; i++)
        {
            string name = i == 1 ? odd : rows[i][0];
            File.Copy(Path.Combine(SampleDir, rows[i][0]), tmp.File(name));
            sb.Append(name).Append('\t').Append(string.Join('\t', rows[i].Skip(1))).Append('\n');
        }
        sb.Append("missing photo.JPEG\tn00000000\t10\t11\tsomething\n");
        File.WriteAllBytes(tmp.File("garbage.JPEG"), Encoding.ASCII.GetBytes("GIF89a not really"));
        sb.Append("garbage.JPEG\tn00000001\t12\t13\tsomething else\n");
        File.WriteAllText(tmp.File(GroundTruth.FileName), sb.ToString(), new UTF8Encoding(false));
        File.Copy(Path.Combine(SampleDir, rows[0][0]), tmp.File(ExtraImage));
        File.WriteAllText(tmp.File("notes about the set.txt"), "not an image, not reported");
        return (tmp, odd);
    }

    private const string ExtraImage = "unlisted ëxtra.JPEG";

    [SharedDataFact]
    public void Json_ReportsMissingAndUnreadable_AndFinishes()
    {
        var (tmp, odd) = MakeSet();
        using var cleanup = tmp;
        var r = CliRunner.Run("eval", "--variant", "0.25_224", "--images", tmp.Path, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        foreach (string key in new[] { "variant", "weights", "images", "top1", "top5", "missing", "unreadable", "extra", "extra_files" })
            Assert.True(o.TryGetProperty(key, out _), key);
        Assert.Equal("0.25_224", o.GetProperty("variant").GetString());
        Assert.Equal("genuine-float", o.GetProperty("weights").GetString());
        Assert.Equal(3, o.GetProperty("images").GetInt32());
        Assert.Equal(1, o.GetProperty("missing").GetInt32());
        Assert.Equal(1, o.GetProperty("unreadable").GetInt32());
        Assert.Equal("missing photo.JPEG", o.GetProperty("missing_files")[0].GetString());
        Assert.Equal("garbage.JPEG", o.GetProperty("unreadable_files")[0].GetProperty("file").GetString());
        Assert.Equal(1, o.GetProperty("extra").GetInt32());
        Assert.Equal(ExtraImage, o.GetProperty("extra_files")[0].GetString());
        Assert.Contains(ExtraImage, r.Stderr);
        Assert.DoesNotContain("notes about the set.txt", r.Stderr);
        double top1 = o.GetProperty("top1").GetDouble(), top5 = o.GetProperty("top5").GetDouble();
        Assert.InRange(top1, 0, 1);
        Assert.InRange(top5, top1, 1);
        Assert.Contains("missing photo.JPEG", r.Stderr);
        Assert.Contains("garbage.JPEG", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [SharedDataFact]
    public void Text_PrintsAccuracyAndCounts()
    {
        var (tmp, _) = MakeSet();
        using var cleanup = tmp;
        var r = CliRunner.Run("eval", "--images", tmp.Path, "--limit", "4");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("top-1:", r.Stdout);
        Assert.Contains("top-5:", r.Stdout);
        Assert.Contains("images: 3 evaluated, 1 missing, 0 unreadable, 1 extra", r.Stdout);
        Assert.Contains("missing photo.JPEG", r.Stderr);
    }

    [SharedDataFact]
    public void Evaluator_PublicApi_CountsAndProgress()
    {
        var (tmp, odd) = MakeSet();
        using var cleanup = tmp;
        int max = 0;
        var progress = new SyncProgress(v => { lock (this) max = Math.Max(max, v); });
        var result = Evaluator.Evaluate("0.25_224", tmp.Path, limit: null, progress: progress);
        Assert.Equal(5, result.Listed);
        Assert.Equal(3, result.Evaluated);
        Assert.Contains(result.Images, i => i.File == odd);
        Assert.Single(result.Missing);
        Assert.Single(result.Unreadable);
        Assert.Equal(ExtraImage, Assert.Single(result.Extra));
        Assert.Equal(5, max);
        Assert.False(result.IsSynthetic);
        Assert.Equal(result.Top1Correct / 3.0, result.Top1, 9);
        Assert.All(result.Images, i => Assert.Equal(5, i.Top.Length));
    }

    [SharedDataFact]
    public void SyntheticVariant_ReportsNoAccuracy()
    {
        var (tmp, _) = MakeSet();
        using var cleanup = tmp;
        var r = CliRunner.Run("eval", "--variant", "1.0_128", "--images", tmp.Path, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("synthetic", doc.RootElement.GetProperty("weights").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("top1").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("top5").ValueKind);

        var text = CliRunner.Run("eval", "--variant", "1.0_128", "--images", tmp.Path);
        Assert.Contains("SYNTHETIC", text.Stdout);
        Assert.DoesNotContain("top-1:", text.Stdout);
    }

    [Theory]
    [InlineData(null)] // no ground_truth.tsv
    [InlineData("")]
    [InlineData("file\tslim_label\nx.jpg\tfoo\n")] // no slim_index_1_1000 column
    [InlineData(Header + "\nx.jpg\tn1\t0\tone\tfoo\n")] // not an integer
    [InlineData(Header + "\nx.jpg\tn1\t0\t1001\tfoo\n")] // out of range
    [InlineData(Header + "\nx.jpg\tn1\t0\n")] // too few fields
    [InlineData(Header + "\n")] // header only
    [InlineData(Header + "\n../x.jpg\tn1\t0\t1\tfoo\n")] // escapes the folder
    public void MalformedGroundTruth_ExitTwo_OneLineError(string? tsv)
    {
        using var tmp = new CliRunner.TempDir();
        if (tsv != null) File.WriteAllText(tmp.File(GroundTruth.FileName), tsv);
        var r = CliRunner.Run("eval", "--images", tmp.Path);
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(GroundTruth.FileName, line);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void MissingFolder_ExitTwo()
    {
        var r = CliRunner.Run("eval", "--images", Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(r.StderrLines));
    }

    [Fact]
    public void NothingReadable_ExitTwo()
    {
        using var tmp = new CliRunner.TempDir();
        File.WriteAllText(tmp.File(GroundTruth.FileName), Header + "\nnope.jpg\tn1\t0\t1\ttench\n");
        var r = CliRunner.Run("eval", "--images", tmp.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("nope.jpg", r.Stderr);
    }

    /// <summary>
    /// Without ../shared: generated images with awkward names (spaces, quotes, non-ASCII, a subfolder), a listed but missing
    /// image, an undecodable one, an empty one and unlisted ones. Every problem is reported on stderr, one line each, and
    /// the evaluation goes on (exit 0).
    /// </summary>
    [Fact]
    public void HostileFolder_ReportsMissingUnreadableAndExtra_AndGoesOn()
    {
        using var tmp = new CliRunner.TempDir();
        Directory.CreateDirectory(tmp.File("sub dir"));
        string[] good = { "a photo with spaces.png", "it's \"quoted\" ünïcødé 猫.png", "sub dir/bmp – ü.bmp" };
        for (int i = 0; i < good.Length; i++)
        {
            using var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(40 + i, 30);
            using var fs = File.Create(tmp.File(good[i]));
            if (good[i].EndsWith(".bmp")) img.Save(fs, new SixLabors.ImageSharp.Formats.Bmp.BmpEncoder());
            else img.Save(fs, new SixLabors.ImageSharp.Formats.Png.PngEncoder());
        }
        File.WriteAllText(tmp.File("broken \"jpeg\".jpg"), "<html>not an image</html>");
        File.WriteAllBytes(tmp.File("empty.png"), Array.Empty<byte>());
        File.Copy(tmp.File(good[0]), tmp.File("extra – ü.PNG"));
        File.Copy(tmp.File(good[0]), tmp.File("sub dir/extra2.jpeg"));
        File.WriteAllText(tmp.File("readme.txt"), "not an image: not an extra image either");
        var sb = new StringBuilder(Header).Append('\n');
        foreach (string f in good.Concat(new[] { "broken \"jpeg\".jpg", "empty.png", "gone ü.png" }))
            sb.Append(f).Append("\tn01440764\t0\t1\ttench\n");
        File.WriteAllText(tmp.File(GroundTruth.FileName), sb.ToString(), new UTF8Encoding(false));

        var r = CliRunner.Run("eval", "--variant", "0.25_128", "--images", tmp.Path, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var o = doc.RootElement;
        Assert.Equal(3, o.GetProperty("images").GetInt32());
        Assert.Equal(1, o.GetProperty("missing").GetInt32());
        Assert.Equal(2, o.GetProperty("unreadable").GetInt32());
        Assert.Equal(2, o.GetProperty("extra").GetInt32());
        Assert.Equal(new[] { "extra – ü.PNG", "sub dir/extra2.jpeg" }, o.GetProperty("extra_files").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.Equal("gone ü.png", o.GetProperty("missing_files")[0].GetString());
        var unreadable = o.GetProperty("unreadable_files").EnumerateArray().Select(e => e.GetProperty("file").GetString()).ToArray();
        Assert.Equal(new[] { "broken \"jpeg\".jpg", "empty.png" }, unreadable);
        foreach (string name in new[] { "gone ü.png", "broken \"jpeg\".jpg", "empty.png", "extra – ü.PNG", "sub dir/extra2.jpeg" })
            Assert.Single(r.StderrLines, l => l.Contains(name));
        Assert.DoesNotContain("readme.txt", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void ImagesOptionIsRequired()
    {
        Assert.Equal(1, CliRunner.Run("eval").ExitCode);
    }

    [Fact]
    public void GroundTruth_Parse_ToleratesBomCrlfBlankLinesAndColumnOrder()
    {
        string text = "\uFEFFslim_label\tslim_index_1_1000\tfile\r\n\r\ntench\t1\ta b.jpg\r\nhen\t9\t\"q\" ü.png\r\n";
        var entries = GroundTruth.Parse(text);
        Assert.Equal(2, entries.Count);
        Assert.Equal(new GroundTruthEntry("a b.jpg", 1, "tench", 3), entries[0]);
        Assert.Equal("\"q\" ü.png", entries[1].File);
        Assert.Equal(9, entries[1].SlimIndex);
    }

    [Fact]
    public void GroundTruth_Parse_RejectsDuplicates()
    {
        var e = Assert.Throws<GroundTruthException>(() => GroundTruth.Parse(Header + "\na.jpg\tn\t0\t1\tx\na.jpg\tn\t0\t1\tx\n"));
        Assert.Contains("line 3", e.Message);
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
