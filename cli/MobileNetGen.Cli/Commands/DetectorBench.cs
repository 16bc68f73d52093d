using System.Globalization;
using MobileNetGen.Cli.Output;
using MobileNetGen.Measurement;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// <c>bench --detector</c>: the SSD detector's latency on a camera frame, end to end (<see cref="MobileNetDetector.DetectRgb24"/>:
/// resize, network, post-processing) on one and two threads, with the share of each stage and the managed bytes per inference,
/// and (unless <c>--no-onnx</c>) ONNX Runtime running the same uint8 network in the same run.
/// </summary>
public static class DetectorBench
{
    /// <summary>The frame measured: VGA, as a camera gives it (the detector resizes the whole frame to 300 × 300).</summary>
    public const int FrameWidth = 640, FrameHeight = 480;

    /// <summary>Milliseconds (medians) of each stage: resize to the model input, backbone layers, box/class heads, post-processing
    /// (LOGISTIC and TFLite_Detection_PostProcess). From <see cref="MobileNetDetector.Profile"/> and a timing of the resize alone.</summary>
    public sealed record Stages(double PreprocessMs, double BackboneMs, double HeadsMs, double PostprocessMs)
    {
        public double TotalMs => PreprocessMs + BackboneMs + HeadsMs + PostprocessMs;
        public double Share(double ms) => TotalMs > 0 ? 100 * ms / TotalMs : 0;
    }

    public sealed record Result(int Threads, string Isa, LatencyStats Detect, LatencyStats? OnnxRuntime, Stages Stages, int Detections, int? ScoresDiffering);

    /// <summary>A deterministic frame: smooth gradients plus noise, so that the resize and the network do real work.</summary>
    public static byte[] FixedFrame()
    {
        var frame = new byte[FrameWidth * FrameHeight * 3];
        var random = new Random(20180629);
        for (int y = 0; y < FrameHeight; y++)
            for (int x = 0; x < FrameWidth; x++)
            {
                int i = (y * FrameWidth + x) * 3;
                frame[i] = (byte)(x * 255 / FrameWidth ^ random.Next(32));
                frame[i + 1] = (byte)(y * 255 / FrameHeight ^ random.Next(32));
                frame[i + 2] = (byte)((x + y) * 255 / (FrameWidth + FrameHeight) ^ random.Next(32));
            }
        return frame;
    }

    public static Result Measure(int threads, int iterations, int warmup, bool onnx, Action? onRun = null)
    {
        using var detector = new SsdMobileNetV1Coco(new MobileNetOptions { Threads = threads });
        byte[] frame = FixedFrame();
        var found = new Detection[detector.MaxDetections];
        int count = detector.DetectRgb24(frame, FrameWidth, FrameHeight, FrameWidth * 3, found);
        var engines = new List<Action> { () => detector.DetectRgb24(frame, FrameWidth, FrameHeight, FrameWidth * 3, found) };

        // The model input of this frame, for the profile and for ONNX Runtime (which runs the network only: the resize and the
        // post-processing are ours in both, so the comparison is of the network).
        var pre = new DetectorPreprocessor(detector.InputWidth, detector.InputHeight);
        byte[] input = new byte[detector.InputLength];
        pre.PreprocessRgb24(frame, FrameWidth, FrameHeight, FrameWidth * 3, input);

        using var ort = onnx ? OnnxBaseline.DetectorOnnxBaseline.FromWeights(CanonicalWeightsSource.For(detector), threads) : null;
        int? differing = null;
        byte[] boxes = new byte[SsdMobileNetV1Coco.ModelInfo.Anchors * 4], scores = new byte[SsdMobileNetV1Coco.ModelInfo.Anchors * SsdMobileNetV1Coco.ModelInfo.Classes];
        if (ort != null)
        {
            var ourBoxes = new byte[boxes.Length];
            var ourScores = new byte[scores.Length];
            detector.RunQuantized(input, ourBoxes, ourScores);
            ort.Run(input, boxes, scores);
            differing = 0;
            for (int i = 0; i < scores.Length; i++) if (scores[i] != ourScores[i]) differing++;
            for (int i = 0; i < boxes.Length; i++) if (boxes[i] != ourBoxes[i]) differing++;
            engines.Add(() =>
            {
                pre.PreprocessRgb24(frame, FrameWidth, FrameHeight, FrameWidth * 3, input);
                ort.Run(input, boxes, scores);
            });
        }
        var stats = LatencyMeter.MeasureInterleaved(engines, warmup, iterations, onRun);

        var profile = detector.Profile(input, Math.Min(warmup, 3), Math.Max(10, iterations / 2));
        double Stage(string prefix) => profile.Steps.Where(s => s.Step.Kind.StartsWith(prefix, StringComparison.Ordinal)).Sum(s => s.MedianMs);
        var preprocess = LatencyMeter.Measure(() => pre.PreprocessRgb24(frame, FrameWidth, FrameHeight, FrameWidth * 3, input), warmup, Math.Max(10, iterations / 2));
        var stages = new Stages(preprocess.MedianMs, Stage("backbone"), Stage("heads"), Stage("post-processing"));
        return new Result(threads, MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels.Resolve(detector.SimdPath).ToString(), stats[0], ort != null ? stats[1] : null, stages, count, differing);
    }

    public static int Execute(CliContext ctx, int threads, int iterations, int warmup, bool json, bool noOnnx)
    {
        var machine = MachineInfo.Current();
        var threadCounts = new[] { 1, 2, threads }.Distinct().Order().ToList();
        var info = SsdMobileNetV1Coco.ModelInfo;
        var entries = threadCounts.Select(t => $"{info.Variant} ×{t}").ToList();
        var results = VariantProgress.ForEachItem(ctx, "bench", entries, iterations * (noOnnx ? 1 : 2),
            (i, onRun) => Measure(threadCounts[i], iterations, warmup, !noOnnx, onRun));

        if (json)
        {
            var rows = results.Select(r => new DetectorBenchJson(info.Name, r.Threads, r.Isa, FrameWidth, FrameHeight,
                R(r.Detect.MedianMs), R(r.Detect.P10Ms), R(r.Detect.P90Ms), r.Detect.AllocatedBytesPerRun, info.Macs,
                R(r.Stages.PreprocessMs), R(r.Stages.BackboneMs), R(r.Stages.HeadsMs), R(r.Stages.PostprocessMs),
                r.OnnxRuntime is { } o ? R(o.MedianMs) : null, r.ScoresDiffering, r.Detect.Iterations, machine.Cpu)).ToList();
            ctx.Out.WriteLine(Json.Serialize(rows));
            return ExitCodes.Ok;
        }

        var inv = CultureInfo.InvariantCulture;
        var c = ctx.OutConsole;
        if (!ctx.Interactive) c.Profile.Width = Math.Max(c.Profile.Width, 170);
        c.MarkupLine("[bold]machine:[/] " + Markup.Escape(machine.Describe()));
        c.MarkupLine($"[bold]{Markup.Escape(info.Name)}[/] · uint8 · {info.Macs / 1e6:0.0} MMACs · {info.Anchors} anchors · " +
                     Markup.Escape(string.Create(inv, $"a {FrameWidth}×{FrameHeight} RGB24 frame, {iterations} timed runs after {warmup} warm-up, medians")));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("threads").RightAligned())
            .AddColumn("integer kernels")
            .AddColumn(new TableColumn("DetectRgb24 ms\nmedian (p10–p90)").RightAligned());
        if (!noOnnx)
            table.AddColumn(new TableColumn("ONNX Runtime ms\n(network + our resize)").RightAligned())
                 .AddColumn(new TableColumn("ratio").RightAligned());
        table.AddColumn(new TableColumn("resize").RightAligned())
             .AddColumn(new TableColumn("backbone").RightAligned())
             .AddColumn(new TableColumn("heads").RightAligned())
             .AddColumn(new TableColumn("post-processing").RightAligned())
             .AddColumn(new TableColumn("GOP/s").RightAligned())
             .AddColumn(new TableColumn("alloc B/inf.").RightAligned());
        foreach (var r in results)
        {
            var cells = new List<string> { r.Threads.ToString(inv), r.Isa, Ms(r.Detect) };
            if (!noOnnx)
            {
                cells.Add(r.OnnxRuntime is { } o ? Ms(o) : "");
                cells.Add(r.OnnxRuntime is { } o2 ? (r.Detect.MedianMs / o2.MedianMs).ToString("0.00", inv) + "×" : "");
            }
            string Share(double ms) => string.Create(inv, $"{r.Stages.Share(ms):0.0} % ({ms:0.00} ms)");
            cells.Add(Share(r.Stages.PreprocessMs));
            cells.Add(Share(r.Stages.BackboneMs));
            cells.Add(Share(r.Stages.HeadsMs));
            cells.Add(Share(r.Stages.PostprocessMs));
            cells.Add(BenchCommand.Gflops(info.Macs, r.Detect).ToString("0.0", inv));
            cells.Add(r.Detect.AllocatedBytesPerRun.ToString(inv));
            table.AddRow(cells.ToArray());
        }
        c.Write(table);
        c.WriteLine("Stages: medians of each step over a profiled run (MobileNetDetector.Profile) and of the resize alone; shares of their sum. " +
                    "backbone = MobileNet v1 and the extra feature layers, heads = box / class predictors with their reshape + concatenation, " +
                    "post-processing = LOGISTIC and TFLite_Detection_PostProcess (decoding, class-agnostic NMS).");
        if (!noOnnx)
            c.WriteLine("ONNX Runtime runs the same uint8 network (QLinearConv, QLinearConcat, QLinearSigmoid) after our resize, without the post-processing; " +
                        "ratio = MobileNetGen median / ONNX Runtime median. " +
                        string.Join(", ", results.Where(r => r.ScoresDiffering != null).Select(r => $"{r.ScoresDiffering} of its output bytes differ from ours (×{r.Threads})").Take(1)) +
                        " (it requantizes in float; ours is TFLite's fixed-point arithmetic).");
        c.WriteLine("alloc = managed bytes per DetectRgb24 on the calling thread (GC.GetAllocatedBytesForCurrentThread).");
        return ExitCodes.Ok;
    }

    private static double R(double ms) => Math.Round(ms, 4);

    private static string Ms(LatencyStats s) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.MedianMs:0.00} ({s.P10Ms:0.00}–{s.P90Ms:0.00})");
}
