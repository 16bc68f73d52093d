using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MobileNetGen.Cli.Drawing;
using MobileNetGen.Cli.Output;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Variants;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// <c>detect [--threshold T] [--max N] [--json] [--draw OUT.png] [--simd S] [--threads N] IMAGE...</c>: objects (the 90 COCO
/// classes) found by the generated uint8 SSD MobileNet v1 (<see cref="SsdMobileNetV1Coco"/>), best first, with their boxes in
/// the image's pixels; <c>--draw</c> writes the image with the boxes and labels (<see cref="BoxPainter"/>).
/// </summary>
/// <remarks>
/// Detections are TFLite's <c>TFLite_Detection_PostProcess</c> output (at most <see cref="MaxDetections"/>, best first); this
/// command keeps those with a score ≥ <c>--threshold</c>, then the first <c>--max</c> of them. The TFLite Task Library has no
/// default score threshold (it takes the model metadata's, or none); <see cref="DefaultThreshold"/> = 0.5 is this tool's.
/// <para><c>--draw OUT.png</c>: with one image the picture is written to <c>OUT.png</c>; with several, each to
/// <c>OUT-&lt;image file stem&gt;.png</c> beside it (<c>boxes.png</c> → <c>boxes-cats_and_dogs.png</c>); two images with the same
/// stem are a usage error (one would overwrite the other).</para>
/// </remarks>
public static class DetectCommand
{
    /// <summary>Score threshold when <c>--threshold</c> is not given.</summary>
    public const float DefaultThreshold = 0.5f;

    /// <summary>The detector's <c>max_detections</c> (<see cref="MobileNetDetector.MaxDetections"/> of
    /// <see cref="SsdMobileNetV1Coco"/>, from its model file): the most detections per image, the largest <c>--max</c>.</summary>
    public const int MaxDetections = 10;

    public static Command Create(CliContext ctx)
    {
        var threshold = new Option<float>("--threshold", "-t")
        {
            Description = "Keep the detections with a score of at least T (0 to 1).",
            HelpName = "T",
            DefaultValueFactory = _ => DefaultThreshold,
        };
        threshold.Validators.Add(r =>
        {
            if (CliOptions.TryGetValue(r, out float v) && !(v >= 0 && v <= 1))
                r.AddError($"--threshold must be a score from 0 to 1, got {v.ToString(CultureInfo.InvariantCulture)}");
        });
        var max = CliOptions.Int("--max", $"Report at most N detections per image, 1 to {MaxDetections} (the model's most; the default reports all above the threshold).",
            "N", defaultValue: MaxDetections, min: 1, max: MaxDetections, "-n");
        var json = new Option<bool>("--json") { Description = "Print a JSON array (one object per image) instead of tables." };
        var draw = CliOptions.OutputFile("--draw",
            "Write the image with the boxes and labels as a PNG. With several images, each goes to file-<image stem>.png.", ".png");
        var simd = CliOptions.Simd();
        var threads = CliOptions.Threads("Threads per inference (default 1); detections are identical for any count.");
        var images = new Argument<string[]>("image")
        {
            Description = "Image files (JPEG, PNG, BMP).",
            Arity = ArgumentArity.OneOrMore,
        };
        CliOptions.RejectOptionLikeImages(images);

        var cmd = new Command("detect", "Detect objects (90 COCO classes) with the generated uint8 SSD MobileNet v1: labels, scores and boxes in pixels.")
        {
            threshold, max, json, draw, simd, threads, images,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx, pr.GetValue(images) ?? Array.Empty<string>(), new Options(
            pr.GetValue(threshold), pr.GetValue(max), pr.GetValue(json), pr.GetValue(draw), pr.GetValue(simd) ?? "auto", pr.GetValue(threads)))));
        return cmd;
    }

    /// <summary>The command's options (<see cref="Simd"/> as typed: <c>auto</c>, <c>vector512</c> ...).</summary>
    public sealed record Options(float Threshold = DefaultThreshold, int Max = MaxDetections, bool Json = false, string? Draw = null,
        string Simd = "auto", int Threads = 1);

    /// <summary>Where <c>--draw <paramref name="draw"/></c> writes the picture of each image (same order), or the error.</summary>
    public static (string[]? Paths, string? Error) DrawPaths(string draw, IReadOnlyList<string> images)
    {
        if (images.Count == 1) return (new[] { draw }, null);
        string folder = Path.GetDirectoryName(draw) ?? "";
        string stem = Path.GetFileNameWithoutExtension(draw);
        string extension = Path.GetExtension(draw);
        var paths = new string[images.Count];
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < images.Count; i++)
        {
            string imageStem = Path.GetFileNameWithoutExtension(images[i]);
            paths[i] = Path.Combine(folder, $"{stem}-{imageStem}{extension}");
            // The same image twice draws the same picture twice: harmless. Two files with one stem would overwrite.
            if (seen.TryGetValue(paths[i], out string? other) && other != images[i])
                return (null, $"--draw: '{other}' and '{images[i]}' would both be drawn to '{paths[i]}' (with several images each goes to " +
                              $"{stem}-<image stem>{extension}); rename one or run them separately");
            seen[paths[i]] = images[i];
        }
        return (paths, null);
    }

    public static int Execute(CliContext ctx, IReadOnlyList<string> images, Options o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (CliOptions.ParseSimd(o.Simd) is not { } simdPath)
        {
            ctx.WriteError(CliOptions.SimdMessage(o.Simd));
            return ExitCodes.Usage;
        }
        // The parser's validators say this first; Execute may also be called directly.
        if (!(o.Threshold >= 0 && o.Threshold <= 1))
        {
            ctx.WriteError($"--threshold must be a score from 0 to 1, got {o.Threshold.ToString(CultureInfo.InvariantCulture)}");
            return ExitCodes.Usage;
        }
        if (o.Max < 1)
        {
            ctx.WriteError($"--max must be a whole number from 1 to {MaxDetections}, got {o.Max}");
            return ExitCodes.Usage;
        }
        string[]? drawPaths = null;
        if (o.Draw != null)
        {
            var (paths, error) = DrawPaths(o.Draw, images);
            if (error != null)
            {
                ctx.WriteError(error);
                return ExitCodes.Usage;
            }
            drawPaths = paths!;
            // A folder that is not there fails every image alike: say so once, before the model runs.
            foreach (string p in drawPaths.Distinct())
            {
                if (Directory.Exists(p))
                {
                    ctx.WriteError($"{Messages.OneLine(p)}: cannot write the --draw picture: is a directory");
                    return ExitCodes.InputError;
                }
                string? folder = Path.GetDirectoryName(Path.GetFullPath(p));
                if (folder != null && !Directory.Exists(folder))
                {
                    ctx.WriteError($"{Messages.OneLine(p)}: cannot write the --draw picture: folder '{Messages.OneLine(folder)}' does not exist");
                    return ExitCodes.InputError;
                }
            }
        }

        MobileNetDetector detector;
        try
        {
            detector = new SsdMobileNetV1Coco(new MobileNetOptions { Simd = simdPath, Threads = o.Threads });
        }
        catch (NotSupportedException e) // a --simd path this NativeAOT binary was not compiled with
        {
            ctx.WriteError("--simd: " + e.Message);
            return ExitCodes.Usage;
        }
        using var _ = detector;
        if (o.Max > detector.MaxDetections)
        {
            ctx.WriteError($"--max must be a whole number from 1 to {detector.MaxDetections}, got {o.Max}");
            return ExitCodes.Usage;
        }

        var inv = CultureInfo.InvariantCulture;
        var console = ctx.OutConsole;
        var info = detector.Info;
        string thresholdText = o.Threshold.ToString("0.00##", inv);
        if (!o.Json)
            console.MarkupLine($"[bold]{Markup.Escape(info.Name)}[/] · simd: {detector.SimdPath} · threads: {detector.Threads} · " +
                               $"score ≥ {thresholdText} · at most {o.Max} per image");

        var results = new List<DetectJson>();
        int exit = ExitCodes.Ok;
        for (int index = 0; index < images.Count; index++)
        {
            string path = images[index];
            if (Directory.Exists(path))
            {
                ctx.WriteError($"{Messages.OneLine(path)}: is a directory, not an image file");
                exit = ExitCodes.InputError;
                continue;
            }
            Image<Rgb24> image;
            try
            {
                image = ImageLoader.LoadRgb24(path);
            }
            catch (ImageLoadException e)
            {
                ctx.WriteError($"{Messages.OneLine(path)}: {Messages.ImageLoadReason(e, path)}");
                exit = ExitCodes.InputError;
                continue;
            }
            using (image)
            {
                var sw = Stopwatch.StartNew();
                Detection[] all = detector.Detect(image);
                double ms = sw.Elapsed.TotalMilliseconds;
                Detection[] kept = all.Where(d => d.Score >= o.Threshold).Take(o.Max).ToArray();

                string? drawn = null;
                if (drawPaths != null)
                {
                    try
                    {
                        BoxPainter.SavePng(image, kept, drawPaths[index]);
                        drawn = drawPaths[index];
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
                    {
                        ctx.WriteError($"{Messages.OneLine(drawPaths[index])}: cannot write the --draw picture: {WriteFailure(e)}");
                        exit = ExitCodes.InputError;
                    }
                }

                if (o.Json)
                {
                    results.Add(new DetectJson(path, image.Width, image.Height, info.Name, detector.SimdPath.ToString(), detector.Threads,
                        o.Threshold, kept.Select(d => new DetectionJson(d.ClassIndex, d.Label, d.Score,
                            new PixelBoxJson(d.Pixels.Left, d.Pixels.Top, d.Pixels.Right, d.Pixels.Bottom),
                            new NormalizedBoxJson(d.Box.YMin, d.Box.XMin, d.Box.YMax, d.Box.XMax))).ToList(),
                        drawn, Math.Round(ms, 3)));
                    continue;
                }

                string count = kept.Length == 0 ? "no detections" : kept.Length == 1 ? "1 detection" : $"{kept.Length} detections";
                ctx.Out.WriteLine(string.Create(inv, $"{Messages.OneLine(path)}: {image.Width}×{image.Height}, {count}"));
                if (kept.Length > 0)
                {
                    var table = new Table().Border(TableBorder.Rounded)
                        .AddColumn(new TableColumn("#").RightAligned())
                        .AddColumn(new TableColumn("label"))
                        .AddColumn(new TableColumn("score").RightAligned())
                        .AddColumn(new TableColumn("box: left, top, right, bottom (px)"));
                    for (int i = 0; i < kept.Length; i++)
                    {
                        var d = kept[i];
                        table.AddRow(
                            new Text((i + 1).ToString(inv)),
                            new Text(d.Label),
                            new Text(d.Score.ToString("0.0000", inv)),
                            new Text(PixelText(d.Pixels)));
                    }
                    console.Write(table);
                }
                if (drawn != null) ctx.Out.WriteLine($"boxes drawn: {Messages.OneLine(drawn)}");
            }
        }

        if (o.Json) ctx.Out.WriteLine(Json.Serialize(results));
        return exit;
    }

    // FileNotFoundException's text ("Could not find file ...") reads as if an input were missing: say what failed.
    private static string WriteFailure(Exception e) => e switch
    {
        FileNotFoundException => "the file cannot be created there",
        UnauthorizedAccessException => "permission denied",
        _ => Messages.OneLine(e.Message),
    };

    /// <summary>A pixel box as the text table shows it: edges rounded to whole pixels, <c>[55, 398, 447, 594]</c>.</summary>
    public static string PixelText(PixelBox b) =>
        string.Create(CultureInfo.InvariantCulture, $"[{b.Left:0}, {b.Top:0}, {b.Right:0}, {b.Bottom:0}]");
}
