using System.Globalization;
using System.Text.Json;
using MobileNetGen.Cli.Commands;
using MobileNetGen.Cli.Drawing;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Variants;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace MobileNetGen.Tests.Cli;

/// <summary><c>mobilenetgen detect</c>: the generated uint8 SSD MobileNet v1 (<see cref="SsdMobileNetV1Coco"/>) from the command line.</summary>
public class DetectCommandTests
{
    private static string CatsAndDogs => Path.Combine(SharedData.Root!, "images", "demo", "cats_and_dogs.jpg");

    /// <summary>The API's detections on cats_and_dogs.jpg (what the command must print), computed once.</summary>
    private static readonly Lazy<Detection[]> s_expected = new(() =>
    {
        using var detector = new SsdMobileNetV1Coco();
        return detector.Detect(CatsAndDogs);
    });

    private static string[] TableRows(string stdout) =>
        stdout.Split('\n').Where(l => l.StartsWith("│", StringComparison.Ordinal) && !l.Contains("label", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void MaxDetections_IsTheModels()
    {
        using var detector = new SsdMobileNetV1Coco();
        Assert.Equal(DetectCommand.MaxDetections, detector.MaxDetections);
    }

    [SharedDataFact]
    public void Text_CatsAndDogs_ListsTheCatsAndTheDog_WithPixelBoxes()
    {
        var r = CliRunner.Run("detect", CatsAndDogs);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        string[] lines = r.Stdout.Split('\n');
        Assert.StartsWith("ssd_mobilenet_v1_0.75_300_coco_quant · simd: ", lines[0]);
        Assert.Contains("threads: 1", lines[0]);
        Assert.Contains("score ≥ 0.50", lines[0]);
        Assert.Equal($"{CatsAndDogs}: 1200×600, 4 detections", lines[1]);
        // The product's detections at the default threshold 0.5 (the next, cat 0.4375, is below it).
        string[] rows = TableRows(r.Stdout);
        Assert.Equal(4, rows.Length);
        string[][] cells = rows.Select(l => l.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        Assert.Equal(new[] { "1", "cat", "0.6445", "[55, 398, 447, 594]" }, cells[0]);
        Assert.Equal(new[] { "2", "cat", "0.6094", "[606, 158, 993, 604]" }, cells[1]);
        Assert.Equal(new[] { "3", "cat", "0.5508", "[260, 396, 439, 602]" }, cells[2]);
        Assert.Equal(new[] { "4", "dog", "0.5117", "[390, 198, 666, 606]" }, cells[3]);
        // And exactly what the API returns, formatted.
        var expected = s_expected.Value;
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(expected[i].Label, cells[i][1]);
            Assert.Equal(expected[i].Score.ToString("0.0000", CultureInfo.InvariantCulture), cells[i][2]);
            Assert.Equal(DetectCommand.PixelText(expected[i].Pixels), cells[i][3]);
        }
    }

    [SharedDataFact]
    public void Json_HasTheDocumentedShape_AndEqualsTheApiExactly()
    {
        var r = CliRunner.Run("detect", "--json", "--threshold", "0", CatsAndDogs);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var item = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(
            new[] { "image", "width", "height", "model", "simd", "threads", "threshold", "detections", "drawn", "milliseconds" },
            item.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(CatsAndDogs, item.GetProperty("image").GetString());
        Assert.Equal(1200, item.GetProperty("width").GetInt32());
        Assert.Equal(600, item.GetProperty("height").GetInt32());
        Assert.Equal("ssd_mobilenet_v1_0.75_300_coco_quant", item.GetProperty("model").GetString());
        Assert.Equal(MobileNetClassifier.ResolveSimdPath(SimdPath.Auto).ToString(), item.GetProperty("simd").GetString());
        Assert.Equal(1, item.GetProperty("threads").GetInt32());
        Assert.Equal(0f, item.GetProperty("threshold").GetSingle());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("drawn").ValueKind);
        Assert.True(item.GetProperty("milliseconds").GetDouble() > 0);

        var expected = s_expected.Value;
        Assert.Equal(10, expected.Length);
        var found = item.GetProperty("detections");
        Assert.Equal(expected.Length, found.GetArrayLength());
        for (int i = 0; i < expected.Length; i++)
        {
            var d = found[i];
            var e = expected[i];
            Assert.Equal(new[] { "class_index", "label", "score", "box", "normalized" }, d.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(e.ClassIndex, d.GetProperty("class_index").GetInt32());
            Assert.Equal(e.Label, d.GetProperty("label").GetString());
            Assert.Equal(e.Score, d.GetProperty("score").GetSingle());
            var box = d.GetProperty("box");
            Assert.Equal(new[] { "left", "top", "right", "bottom" }, box.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(e.Pixels, new PixelBox(box.GetProperty("left").GetSingle(), box.GetProperty("top").GetSingle(),
                box.GetProperty("right").GetSingle(), box.GetProperty("bottom").GetSingle()));
            var n = d.GetProperty("normalized");
            Assert.Equal(new[] { "ymin", "xmin", "ymax", "xmax" }, n.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(e.Box, new NormalizedBox(n.GetProperty("ymin").GetSingle(), n.GetProperty("xmin").GetSingle(),
                n.GetProperty("ymax").GetSingle(), n.GetProperty("xmax").GetSingle()));
        }
        // The COCO classes TFLite reports: cat is label map line 17 (index 16), dog 18 (17).
        Assert.Equal((16, "cat"), (found[0].GetProperty("class_index").GetInt32(), found[0].GetProperty("label").GetString()));
        Assert.Contains(found.EnumerateArray(), d => d.GetProperty("class_index").GetInt32() == 17 && d.GetProperty("label").GetString() == "dog");
    }

    [SharedDataFact]
    public void ThresholdAndMax_Filter_BestFirst()
    {
        var expected = s_expected.Value;
        int Count(params string[] options)
        {
            var r = CliRunner.Run(["detect", "--json", .. options, CatsAndDogs]);
            Assert.True(r.ExitCode == 0, r.ToString());
            using var doc = JsonDocument.Parse(r.Stdout);
            var found = doc.RootElement[0].GetProperty("detections");
            for (int i = 0; i < found.GetArrayLength(); i++) Assert.Equal(expected[i].Score, found[i].GetProperty("score").GetSingle());
            return found.GetArrayLength();
        }
        Assert.Equal(4, Count());                                   // default 0.5
        Assert.Equal(expected.Count(d => d.Score >= 0.6f), Count("--threshold", "0.6"));
        Assert.Equal(2, Count("--threshold", "0.6"));                // cat 0.6445, cat 0.6094
        Assert.Equal(6, Count("-t", "0.42"));
        Assert.Equal(3, Count("--max", "3"));
        Assert.Equal(1, Count("-n", "1", "--threshold", "0"));
        Assert.Equal(10, Count("--threshold", "0", "--max", "10"));
        Assert.Equal(0, Count("--threshold", "1"));

        var none = CliRunner.Run("detect", "--threshold", "0.9", CatsAndDogs);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains($"{CatsAndDogs}: 1200×600, no detections", none.Stdout);
        Assert.Empty(TableRows(none.Stdout));
    }

    [SharedDataFact]
    public void SimdAndThreads_AreReported_AndChangeNothing()
    {
        var r = CliRunner.Run("detect", "--json", "--threshold", "0", "--simd", "vector128", "--threads", "2", CatsAndDogs);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var item = doc.RootElement[0];
        Assert.Equal("Vector128", item.GetProperty("simd").GetString());
        Assert.Equal(2, item.GetProperty("threads").GetInt32());
        var found = item.GetProperty("detections");
        var expected = s_expected.Value;
        Assert.Equal(expected.Length, found.GetArrayLength());
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Score, found[i].GetProperty("score").GetSingle());
            Assert.Equal(expected[i].Pixels.Left, found[i].GetProperty("box").GetProperty("left").GetSingle());
            Assert.Equal(expected[i].Pixels.Bottom, found[i].GetProperty("box").GetProperty("bottom").GetSingle());
        }
    }

    [SharedDataFact]
    public void Draw_WritesThePngOfTheImagesSize_WithTheBoxOutlines()
    {
        using var tmp = new CliRunner.TempDir();
        string output = tmp.File("boxes.png");
        var r = CliRunner.Run("detect", "--draw", output, CatsAndDogs);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        Assert.Contains($"boxes drawn: {output}", r.Stdout);

        using var original = ImageLoader.LoadRgb24(CatsAndDogs);
        using var drawn = Image.Load<Rgb24>(output);
        Assert.Equal(PngSignature, File.ReadAllBytes(output).AsSpan(0, 8).ToArray());
        Assert.Equal((original.Width, original.Height), (drawn.Width, drawn.Height));

        // The best box is drawn last: the middle of its top edge (3 pixels thick, inside the box) has its class's colour.
        var best = s_expected.Value[0];
        int left = (int)MathF.Round(best.Pixels.Left), right = (int)MathF.Round(best.Pixels.Right), top = (int)MathF.Round(best.Pixels.Top);
        int x = (left + right) / 2;
        var color = BoxPainter.ClassColor(best.ClassIndex);
        Assert.Equal(color, drawn[x, top]);
        Assert.Equal(color, drawn[x, top + 1]);
        Assert.Equal(color, drawn[left, top + 40]);   // left edge
        Assert.NotEqual(original[x, top + 1], drawn[x, top + 1]);

        // Elsewhere the picture is the image, pixel for pixel (PNG is lossless): the top-right corner is far from every box.
        int changed = 0;
        for (int yy = 0; yy < original.Height; yy++)
            for (int xx = 0; xx < original.Width; xx++)
                if (original[xx, yy] != drawn[xx, yy]) changed++;
        for (int yy = 0; yy < 100; yy++)
            for (int xx = 1100; xx < 1200; xx++)
                Assert.Equal(original[xx, yy], drawn[xx, yy]);
        // Outlines and labels only: some thousands of pixels, a small share of the 720,000.
        Assert.InRange(changed, 5_000, 100_000);
    }

    [SharedDataFact]
    public void Draw_WithSeveralImages_WritesOnePerImage_NamedAfterIt()
    {
        using var tmp = new CliRunner.TempDir();
        var r = CliRunner.Run("detect", "--json", "--draw", tmp.File("boxes.png"), CatsAndDogs, CliRunner.Fixture("burger.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        string cats = tmp.File("boxes-cats_and_dogs.png"), burger = tmp.File("boxes-burger.png");
        Assert.Equal(new[] { burger, cats }, Directory.GetFiles(tmp.Path).Order(StringComparer.Ordinal).ToArray());
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(cats, doc.RootElement[0].GetProperty("drawn").GetString());
        Assert.Equal(burger, doc.RootElement[1].GetProperty("drawn").GetString());
        Assert.Equal((480, 325), (Image.Identify(burger).Width, Image.Identify(burger).Height));
    }

    [Fact]
    public void DrawPaths_Rule()
    {
        Assert.Equal(new[] { "out/boxes.png" }, DetectCommand.DrawPaths("out/boxes.png", new[] { "a/cat.jpg" }).Paths);
        Assert.Equal(new[] { Path.Combine("out", "boxes-cat.png"), Path.Combine("out", "boxes-dog.png") },
            DetectCommand.DrawPaths("out/boxes.png", new[] { "a/cat.jpg", "b/dog.bmp" }).Paths);
        Assert.Equal(new[] { "boxes-cat.png", "boxes-cat.png" }, DetectCommand.DrawPaths("boxes.png", new[] { "cat.jpg", "cat.jpg" }).Paths);
        var (paths, error) = DetectCommand.DrawPaths("boxes.png", new[] { "a/cat.jpg", "b/cat.png" });
        Assert.Null(paths);
        Assert.Contains("'a/cat.jpg' and 'b/cat.png' would both be drawn to 'boxes-cat.png'", error);
    }

    [Fact]
    public void Draw_TwoImagesWithOneStem_IsAUsageError_BeforeAnythingRuns()
    {
        using var tmp = new CliRunner.TempDir();
        string copy = tmp.File("burger.jpg");
        File.Copy(CliRunner.Fixture("burger.jpg"), copy);
        var r = CliRunner.Run("detect", "--draw", tmp.File("boxes.png"), CliRunner.Fixture("burger.jpg"), copy);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: --draw: ", line);
        Assert.Contains("would both be drawn to", line);
        Assert.False(File.Exists(tmp.File("boxes-burger.png")));
    }

    [Theory]
    [InlineData("1.5", "error: --threshold must be a score from 0 to 1, got 1.5")]
    [InlineData("-0.1", "error: --threshold must be a score from 0 to 1, got -0.1")]
    [InlineData("NaN", "error: --threshold must be a score from 0 to 1, got NaN")]
    [InlineData("half", "error: Cannot parse argument 'half' for option '--threshold'")]
    public void BadThreshold_IsAUsageError(string value, string message)
    {
        var r = CliRunner.Run("detect", "--threshold", value, CliRunner.Fixture("burger.jpg"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith(message, r.StderrLines[0]);
        Assert.Equal("Run 'mobilenetgen detect --help' for usage.", r.StderrLines[^1]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Theory]
    [InlineData("0", "error: --max must be a whole number from 1 to 10, got 0")]
    [InlineData("11", "error: --max must be a whole number from 1 to 10, got 11")]
    [InlineData("all", "error: Cannot parse argument 'all' for option '--max'")]
    public void BadMax_IsAUsageError(string value, string message)
    {
        var r = CliRunner.Run("detect", "--max", value, CliRunner.Fixture("burger.jpg"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith(message, r.StderrLines[0]);
    }

    [Fact]
    public void BadSimdThreadsOrOption_AreUsageErrors()
    {
        var simd = CliRunner.Run("detect", "--simd", "avx2", CliRunner.Fixture("burger.jpg"));
        Assert.Equal(1, simd.ExitCode);
        Assert.StartsWith("error: --simd must be one of auto, vector512, vector256, vector128, scalar, got 'avx2'", simd.StderrLines[0]);
        var threads = CliRunner.Run("detect", "--threads", "0", CliRunner.Fixture("burger.jpg"));
        Assert.Equal(1, threads.ExitCode);
        Assert.StartsWith("error: --threads must be a whole number from 1 to", threads.StderrLines[0]);
        var unknown = CliRunner.Run("detect", "--score", "0.3", CliRunner.Fixture("burger.jpg"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("'--score'", unknown.StderrLines[0]);
        var none = CliRunner.Run("detect");
        Assert.Equal(1, none.ExitCode);
        Assert.Equal("", none.Stdout);
        var notPng = CliRunner.Run("detect", "--draw", "boxes.jpg", CliRunner.Fixture("burger.jpg"));
        Assert.Equal(1, notPng.ExitCode);
        Assert.StartsWith("error: --draw writes a PNG file: 'boxes.jpg' does not end with .png", notPng.StderrLines[0]);
    }

    [Fact]
    public void MissingAndCorruptImages_OneLineErrorEach_ExitTwo_OthersStillDetected()
    {
        using var tmp = new CliRunner.TempDir();
        string garbage = tmp.File("garbage.jpg");
        File.WriteAllText(garbage, "this is not an image\n");
        string missing = tmp.File("does not exist.png");
        string burger = CliRunner.Fixture("burger.jpg");

        var r = CliRunner.Run("detect", "--json", missing, burger, garbage, tmp.Path);
        Assert.Equal(2, r.ExitCode);
        string[] lines = r.StderrLines;
        Assert.Equal(3, lines.Length);
        Assert.Equal($"error: {missing}: file not found", lines[0]);
        Assert.StartsWith($"error: {garbage}: ", lines[1]);
        Assert.Equal($"error: {tmp.Path}: is a directory, not an image file", lines[2]);
        Assert.DoesNotContain("Exception", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var only = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(burger, only.GetProperty("image").GetString());
        Assert.Equal("sandwich", only.GetProperty("detections")[0].GetProperty("label").GetString());

        // Text output too: the table of the readable image, the errors on stderr.
        var t = CliRunner.Run("detect", missing, burger);
        Assert.Equal(2, t.ExitCode);
        Assert.Contains($"{burger}: 480×325, ", t.Stdout);
        Assert.Equal($"error: {missing}: file not found", Assert.Single(t.StderrLines));
    }

    [Fact]
    public void UnwritableDrawPath_ClearError_ExitTwo()
    {
        using var tmp = new CliRunner.TempDir();
        string burger = CliRunner.Fixture("burger.jpg");

        // A folder that does not exist: said once, before the model runs; nothing on stdout.
        string noFolder = Path.Combine(tmp.Path, "no such folder", "boxes.png");
        var r = CliRunner.Run("detect", "--draw", noFolder, burger);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal($"error: {noFolder}: cannot write the --draw picture: folder '{Path.GetDirectoryName(noFolder)}' does not exist",
            Assert.Single(r.StderrLines));

        // A folder in the way.
        string folder = tmp.File("taken.png");
        Directory.CreateDirectory(folder);
        var d = CliRunner.Run("detect", "--draw", folder, burger);
        Assert.Equal(2, d.ExitCode);
        Assert.Equal($"error: {folder}: cannot write the --draw picture: is a directory", Assert.Single(d.StderrLines));

        // The write itself fails (Linux: nobody, not even root, creates files in /proc): the detections are still printed.
        if (OperatingSystem.IsLinux() && Directory.Exists("/proc/self"))
        {
            string proc = "/proc/mobilenetgen-boxes.png";
            var w = CliRunner.Run("detect", "--json", "--draw", proc, burger);
            Assert.Equal(2, w.ExitCode);
            string line = Assert.Single(w.StderrLines);
            Assert.StartsWith($"error: {proc}: cannot write the --draw picture: ", line);
            using var doc = JsonDocument.Parse(w.Stdout);
            Assert.Equal(JsonValueKind.Null, doc.RootElement[0].GetProperty("drawn").ValueKind);
            Assert.NotEqual(0, doc.RootElement[0].GetProperty("detections").GetArrayLength());
        }
    }

    private static readonly byte[] PngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
}
