using System.CommandLine;
using System.Globalization;
using MobileNetGen.Measurement;
using MobileNetGen.Cli.Output;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// <c>bench [--variants all|LIST] [--threads N] [--iterations N] [--warmup N] [--json] [--no-onnx] [--detector]</c>: latency of the
/// generated classifiers against ONNX Runtime running exactly the same weights, interleaved run by run (<see cref="DetectorBench"/>: the detector).
/// </summary>
public static class BenchCommand
{
    public const int DefaultIterations = 50;
    public const string EngineMobileNetGen = "mobilenetgen";
    public const string EngineOnnxRuntime = "onnxruntime";
    /// <summary>The engine of a uint8 row's comparison: our float classifier of the same α and resolution.</summary>
    public const string EngineMobileNetGenFloat = "mobilenetgen-float";

    /// <summary>With <c>--threads</c> above 1: the same classifier on one thread, alternating with the N-thread one in a loop of
    /// their own (<see cref="EngineMobileNetGenPaired"/>), so that the ratio of N threads to one is measured in one run.</summary>
    public const string EngineMobileNetGenOneThread = "mobilenetgen-1-thread";
    /// <summary>With --threads N &gt; 1: MobileNetGen on N threads in the loop it shares with <see cref="EngineMobileNetGenOneThread"/> alone.</summary>
    public const string EngineMobileNetGenPaired = "mobilenetgen-paired";

    /// <summary>Largest tolerated |ORT − MobileNetGen| / max|MobileNetGen| of the logits before a warning (the ONNX tests assert 1e-4).</summary>
    public const double LogitsTolerance = 1e-3;

    public static Command Create(CliContext ctx)
    {
        var variants = new Option<string>("--variants")
        {
            Description = "'all' (the 16 variants, default) or a comma-separated list of variants / entry names (see 'variants').",
            HelpName = "all|list",
            DefaultValueFactory = _ => "all",
        };
        var threads = CliOptions.Threads("Threads per inference for both engines (default 1): MobileNetGen's Threads option and ONNX Runtime's intra-op threads.");
        var iterations = CliOptions.Iterations(DefaultIterations, $"Timed runs per engine and variant (default {DefaultIterations}).");
        var warmup = CliOptions.Warmup(LatencyMeter.DefaultWarmup, $"Untimed warm-up runs per engine and variant (default {LatencyMeter.DefaultWarmup}).");
        var json = new Option<bool>("--json") { Description = "Print a JSON array (one object per variant and engine) instead of a table." };
        var noOnnx = new Option<bool>("--no-onnx") { Description = "Measure MobileNetGen only (no ONNX Runtime baseline)." };
        var detector = new Option<bool>("--detector")
        {
            Description = "Measure the SSD detector instead of the classifiers: a 640×480 frame end to end on 1 and 2 threads (and --threads), " +
                          "the share of each stage (resize, backbone, heads, post-processing), bytes per inference, ONNX Runtime on the same uint8 network.",
        };
        var cmd = new Command("bench", "Measure inference latency of the generated classifiers (or, with --detector, the detector) against ONNX Runtime running the same weights.")
        {
            variants, threads, iterations, warmup, json, noOnnx, detector,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => pr.GetValue(detector)
            ? DetectorBench.Execute(ctx, pr.GetValue(threads), pr.GetValue(iterations), pr.GetValue(warmup), pr.GetValue(json), pr.GetValue(noOnnx))
            : Execute(ctx, pr.GetValue(variants) ?? "all", pr.GetValue(threads), pr.GetValue(iterations), pr.GetValue(warmup), pr.GetValue(json), pr.GetValue(noOnnx))));
        return cmd;
    }

    /// <summary>The 16 variants (seed-table order): what 'float' means (and, with the uint8 networks, 'all').</summary>
    public static IReadOnlyList<VariantEntry> AllVariants() => VariantCatalog.Variants;

    /// <summary>'all' (the 16 variants, then the 5 uint8 networks), 'float', 'quant' or a comma list → entries (duplicates
    /// dropped); null after writing the error when a name is unknown.</summary>
    public static List<VariantEntry>? ParseVariants(CliContext ctx, string? text)
    {
        string t = (text ?? "").Trim();
        if (t.Length == 0 || string.Equals(t, "all", StringComparison.OrdinalIgnoreCase))
            return AllVariants().Concat(VariantCatalog.Quantized).ToList();
        if (string.Equals(t, "float", StringComparison.OrdinalIgnoreCase)) return AllVariants().ToList();
        if (string.Equals(t, "quant", StringComparison.OrdinalIgnoreCase)) return VariantCatalog.Quantized.ToList();
        var list = new List<VariantEntry>();
        foreach (var name in t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var e = VariantLookup.Resolve(ctx, name);
            if (e == null) return null;
            if (!list.Contains(e)) list.Add(e);
        }
        if (list.Count == 0) { ctx.WriteError("--variants lists no variant"); return null; }
        return list;
    }

    /// <summary>One variant measured: MobileNetGen, and ONNX Runtime unless disabled. For a uint8 network both run the integer
    /// network from the same uint8 input, <see cref="Float"/> is our float classifier of the same α and resolution in the same
    /// run, and <see cref="LogitsDiffering"/> counts the uint8 logits ONNX Runtime (which requantizes in float) gives otherwise.</summary>
    public sealed record Measurement(VariantEntry Entry, LatencyStats MobileNetGen, LatencyStats? OnnxRuntime, int Threads, double? LogitsRelDiff)
    {
        public VariantEntry? FloatEntry { get; init; }
        public LatencyStats? Float { get; init; }
        public int? LogitsDiffering { get; init; }
        public int? LogitsMaxDifference { get; init; }
        /// <summary>With more than one thread: the same entry on one thread (<see cref="OneThread"/>) and on
        /// <see cref="Threads"/> (<see cref="Paired"/>), alternating in a loop of their own after the comparison with the other
        /// engines, so that neither runs right after an engine that evicted the caches the other just warmed (in the main loop
        /// the engine after ONNX Runtime or the float classifier starts colder: 2–3 % on the smallest networks).</summary>
        public LatencyStats? OneThread { get; init; }
        public LatencyStats? Paired { get; init; }
        /// <summary>With more than one thread: the share of the N-thread classifier's inferences (warm-up included) that it
        /// ran on the calling thread alone, because that had lately been the faster (<c>MobileNetOptions.AdaptiveThreads</c>)
        /// or to check that again.</summary>
        public double? AloneShare { get; init; }
    }

    private static double? AloneShare(MobileNetClassifier c, int threads) =>
        threads > 1 && c.InferencesSplit + c.InferencesAlone > 0 ? (double)c.InferencesAlone / (c.InferencesSplit + c.InferencesAlone) : null;

    /// <summary>A uint8 network: integer MobileNetGen, integer ONNX Runtime (QLinearConv) and our float variant, interleaved.</summary>
    private static Measurement MeasureQuantized(VariantEntry entry, int threads, int iterations, int warmup, bool onnx, Action? onRun)
    {
        using var classifier = (QuantizedMobileNetClassifier)entry.Create(new MobileNetOptions { Threads = threads });
        float[] floats = LatencyMeter.FixedInput(classifier.InputLength);
        byte[] input = new byte[classifier.InputLength];
        classifier.QuantizeInput(floats, input);
        byte[] logits = new byte[classifier.NumClasses];
        Action runMng = () => classifier.RunQuantized(input, logits);
        var engines = new List<Action> { runMng };
        using var single = threads > 1 ? (QuantizedMobileNetClassifier)entry.Create(new MobileNetOptions { Threads = 1 }) : null;
        byte[] singleLogits = new byte[classifier.NumClasses];

        var floatEntry = VariantCatalog.Find(new MobileNetGen.Model.VariantName(entry.Info.Alpha, entry.Info.Resolution).ToString());
        using var floatClassifier = floatEntry?.Create(new MobileNetOptions { Threads = threads });
        float[] floatLogits = new float[floatClassifier?.NumClasses ?? 0];
        if (floatClassifier != null) engines.Add(() => floatClassifier.Run(floats, floatLogits));

        using var ort = onnx ? OnnxBaseline.QuantizedOnnxBaseline.FromWeights(CanonicalWeightsSource.For(entry), threads) : null;
        byte[] ortLogits = new byte[ort?.NumClasses ?? 0];
        int? differing = null, maxDifference = null;
        if (ort != null)
        {
            engines.Add(() => ort.Run(input, ortLogits));
            classifier.RunQuantized(input, logits);
            ort.Run(input, ortLogits);
            differing = 0; maxDifference = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                int d = Math.Abs(logits[i] - ortLogits[i]);
                if (d != 0) differing++;
                maxDifference = Math.Max(maxDifference.Value, d);
            }
        }
        var stats = LatencyMeter.MeasureInterleaved(engines, warmup, iterations, onRun);
        var pair = single != null ? LatencyMeter.MeasureInterleaved(new[] { runMng, () => single.RunQuantized(input, singleLogits) }, warmup, iterations, onRun) : null;
        return new Measurement(entry, stats[0], ort != null ? stats[^1] : null, threads, null)
        {
            FloatEntry = floatEntry, Float = floatClassifier != null ? stats[1] : null, LogitsDiffering = differing, LogitsMaxDifference = maxDifference,
            Paired = pair?[0], OneThread = pair?[1], AloneShare = AloneShare(classifier, threads),
        };
    }

    /// <summary>
    /// Measures one variant with <see cref="LatencyMeter"/>: the classifier and (unless <paramref name="onnx"/> is false)
    /// an <see cref="OnnxBaseline.OnnxBaseline"/> over the canonical weights, same fixed input, interleaved; both engines
    /// with <paramref name="threads"/> threads per inference.
    /// </summary>
    public static Measurement Measure(VariantEntry entry, int threads, int iterations, int warmup, bool onnx, Action? onRun = null)
    {
        if (entry.Info.Quantized) return MeasureQuantized(entry, threads, iterations, warmup, onnx, onRun);
        using var classifier = entry.Create(new MobileNetOptions { Threads = threads });
        float[] input = LatencyMeter.FixedInput(classifier.InputLength);
        float[] logits = new float[classifier.NumClasses];
        Action runMng = () => classifier.Run(input, logits);
        using var single = threads > 1 ? entry.Create(new MobileNetOptions { Threads = 1 }) : null;
        float[] singleLogits = new float[classifier.NumClasses];
        Action? runSingle = single != null ? () => single.Run(input, singleLogits) : null;
        if (!onnx)
        {
            if (runSingle == null) return new Measurement(entry, LatencyMeter.Measure(runMng, warmup, iterations, onRun), null, threads, null);
            // Nothing else runs: the N-thread and one-thread runs alternate in one loop, which is the pair itself.
            var both = LatencyMeter.MeasureInterleaved(new[] { runMng, runSingle }, warmup, iterations, onRun);
            for (int i = 0; i < iterations; i++) onRun?.Invoke(); // no second loop: the progress counts one per variant
            return new Measurement(entry, both[0], null, threads, null) { Paired = both[0], OneThread = both[1], AloneShare = AloneShare(classifier, threads) };
        }

        using var ort = OnnxBaseline.OnnxBaseline.FromWeights(CanonicalWeightsSource.For(entry), threads);
        float[] ortLogits = new float[ort.NumClasses];
        Action runOrt = () => ort.Run(input, ortLogits);

        // Same weights, same input: the logits must agree, or the comparison is not like for like.
        runMng();
        runOrt();
        double? diff = null;
        if (ortLogits.Length == logits.Length)
        {
            double scale = 0, worst = 0;
            for (int i = 0; i < logits.Length; i++) scale = Math.Max(scale, Math.Abs(logits[i]));
            for (int i = 0; i < logits.Length; i++) worst = Math.Max(worst, Math.Abs((double)ortLogits[i] - logits[i]));
            diff = scale > 0 ? worst / scale : double.PositiveInfinity;
        }
        var stats = LatencyMeter.MeasureInterleaved(new[] { runMng, runOrt }, warmup, iterations, onRun);
        var pair = runSingle != null ? LatencyMeter.MeasureInterleaved(new[] { runMng, runSingle }, warmup, iterations, onRun) : null;
        return new Measurement(entry, stats[0], stats[1], threads, diff) { Paired = pair?[0], OneThread = pair?[1], AloneShare = AloneShare(classifier, threads) };
    }

    public static int Execute(CliContext ctx, string variantsText, int threads, int iterations, int warmup, bool json, bool noOnnx)
    {
        var entries = ParseVariants(ctx, variantsText);
        if (entries == null) return ExitCodes.Usage;

        var machine = MachineInfo.Current();
        // The limit every figure below is read against, measured on this core in this run (these machines differ).
        var peak = FmaPeak.Measure();

        var results = MeasureAll(ctx, entries, threads, iterations, warmup, !noOnnx);
        // The uint8 networks' limit: the pointwise kernels' multiply-accumulate instructions at their peak on this core.
        IntegerPeakResult? intPeak = results.Any(m => m.Entry.Info.Quantized) ? IntegerPeak.Measure() : null;
        foreach (var m in results)
            if (m.LogitsRelDiff is double d && !(d <= LogitsTolerance))
                ctx.WriteWarning($"{m.Entry.Variant}: ONNX Runtime logits differ from MobileNetGen's by {d:G3} (relative): the weights/ file may not be the one this build embeds");

        if (json)
        {
            var rows = new List<BenchJson>();
            foreach (var m in results)
            {
                string name = m.Entry.ShortName;
                string weights = m.Entry.Info.WeightsKindName;
                bool integer = m.Entry.Info.Quantized;
                rows.Add(Row(name, EngineMobileNetGen, m.Threads, m.MobileNetGen, m.Entry.Info.Macs, weights, peak, machine, integer, intPeak, ours: true) with { AloneShare = m.AloneShare is double a ? Math.Round(a, 3) : null });
                if (m.OnnxRuntime is { } o) rows.Add(Row(name, EngineOnnxRuntime, m.Threads, o, m.Entry.Info.Macs, weights, peak, machine, integer, intPeak, ours: false));
                if (m.OneThread is { } one) rows.Add(Row(name, EngineMobileNetGenOneThread, 1, one, m.Entry.Info.Macs, weights, peak, machine, integer, intPeak, ours: true));
                if (m.Paired is { } paired) rows.Add(Row(name, EngineMobileNetGenPaired, m.Threads, paired, m.Entry.Info.Macs, weights, peak, machine, integer, intPeak, ours: true));
                if (m.Float is { } f && m.FloatEntry is { } fe)
                    rows.Add(Row(name, EngineMobileNetGenFloat, m.Threads, f, fe.Info.Macs, fe.Info.WeightsKindName, peak, machine, integer: false, intPeak, ours: true));
            }
            ctx.Out.WriteLine(Json.Serialize(rows));
            return ExitCodes.Ok;
        }

        var inv = CultureInfo.InvariantCulture;
        var c = ctx.OutConsole;
        if (!ctx.Interactive) c.Profile.Width = Math.Max(c.Profile.Width, 170); // wide tables; a file or pipe has no width
        c.MarkupLine("[bold]machine:[/] " + Markup.Escape(machine.Describe()));
        c.MarkupLine("[bold]FMA peak:[/] " + Markup.Escape(string.Create(inv,
            $"{peak.GflopsPerCore:0.0} GFLOP/s per core ({peak.Path}, {peak.Accumulators} independent fused multiply-add chains, one thread, measured now)")));
        if (intPeak != null)
            c.MarkupLine("[bold]integer MAC peak:[/] " + Markup.Escape(string.Create(inv,
                $"{intPeak.GopsPerCore:0.0} GOP/s per core ({intPeak.Isa}: {intPeak.Instructions}, the uint8 pointwise kernels' inner instructions, {intPeak.Accumulators} independent chains, one thread, measured now)")));
        c.WriteLine(string.Create(inv, $"{iterations} timed runs per engine after {warmup} warm-up runs, engines interleaved run by run; same fixed input; ") +
            $"{threads} thread{(threads == 1 ? "" : "s")} per inference" +
            (noOnnx ? "; MobileNetGen only." : $" (MobileNetGen Threads = {threads}, ONNX Runtime {OrtVersion()} intra-op threads = {threads})."));

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("variant")
            .AddColumn("weights")
            .AddColumn(new TableColumn("MMACs").RightAligned())
            .AddColumn(new TableColumn("MobileNetGen ms\nmedian (p10–p90)").RightAligned());
        if (!noOnnx)
            table.AddColumn(new TableColumn("ONNX Runtime ms\nmedian (p10–p90)").RightAligned())
                 .AddColumn(new TableColumn("ratio").RightAligned());
        table.AddColumn(new TableColumn("GFLOP/s").RightAligned())
             .AddColumn(new TableColumn("% of peak").RightAligned())
             .AddColumn(new TableColumn("alloc B/inf.").RightAligned());
        if (threads > 1)
            table.AddColumn(new TableColumn("MobileNetGen 1 thread ms\nmedian (p10–p90)").RightAligned())
                 .AddColumn(new TableColumn($"{threads} threads /\n1 thread").RightAligned())
                 .AddColumn(new TableColumn("alone").RightAligned());
        foreach (var m in results.Where(m => !m.Entry.Info.Quantized))
        {
            var s = m.MobileNetGen;
            var cells = new List<string>
            {
                Markup.Escape(m.Entry.ShortName),
                VariantLookup.WeightsMarkup(m.Entry.Info),
                (m.Entry.Info.Macs / 1e6).ToString("0.0", inv),
                Ms(s),
            };
            if (m.OnnxRuntime is { } o)
            {
                cells.Add(Ms(o));
                cells.Add((s.MedianMs / o.MedianMs).ToString("0.00", inv) + "×");
            }
            else if (!noOnnx) { cells.Add(""); cells.Add(""); }
            double gflops = Gflops(m.Entry.Info.Macs, s);
            cells.Add(gflops.ToString("0.0", inv));
            cells.Add(PercentOfPeak(gflops, peak, threads) is double pct ? pct.ToString("0", inv) + " %" : "");
            cells.Add(s.AllocatedBytesPerRun.ToString(inv));
            AddOneThreadCells(cells, m, threads);
            table.AddRow(cells.ToArray());
        }
        if (results.Any(m => !m.Entry.Info.Quantized)) // --variants quant: the integer table alone
        {
            c.Write(table);
            if (!noOnnx) c.WriteLine("ratio = MobileNetGen median / ONNX Runtime median (below 1: MobileNetGen is faster).");
            c.WriteLine("GFLOP/s = 2 × MACs / MobileNetGen median; % of peak = GFLOP/s / (FMA peak × threads). alloc = managed bytes per MobileNetGen inference on the calling thread (GC.GetAllocatedBytesForCurrentThread;" +
                " the worker threads of --threads > 1 are shown allocation-free by the test suite)." +
                (threads > 1 ? $" {threads} threads / 1 thread: MobileNetGen on {threads} threads against the same classifier on one, the two alternating in a loop of their own after the one above (nothing between them evicts their caches)." + AloneNote : ""));
        }
        if (results.Any(m => m.Entry.Info.Weights == WeightsKind.Synthetic))
            c.MarkupLine("[bold red]SYNTHETIC[/] weights (α = 1.0): stand-ins with the real shapes, so the speed is real; they classify nothing.");
        WriteIntegerTable(c, results.Where(m => m.Entry.Info.Quantized).ToList(), noOnnx, threads, peak, intPeak);
        return ExitCodes.Ok;
    }

    /// <summary>The uint8 networks: ours integer, ONNX Runtime integer, ours float of the same variant, in one run.</summary>
    private static void WriteIntegerTable(IAnsiConsole c, List<Measurement> results, bool noOnnx, int threads, FmaPeakResult peak, IntegerPeakResult? intPeak)
    {
        if (results.Count == 0 || intPeak == null) return;
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("uint8 network")
            .AddColumn(new TableColumn("MobileNetGen int ms\nmedian (p10–p90)").RightAligned());
        if (!noOnnx)
            table.AddColumn(new TableColumn("ONNX Runtime int ms\nmedian (p10–p90)").RightAligned())
                 .AddColumn(new TableColumn("int / ORT").RightAligned());
        table.AddColumn(new TableColumn("MobileNetGen float ms\n(same α, res)").RightAligned())
             .AddColumn(new TableColumn("int / float").RightAligned())
             .AddColumn(new TableColumn("GOP/s").RightAligned())
             .AddColumn(new TableColumn("% of int\npeak").RightAligned());
        if (!noOnnx) table.AddColumn(new TableColumn("logits ≠ ORT\n(max Δ)").RightAligned());
        table.AddColumn(new TableColumn("alloc B/inf.").RightAligned());
        if (threads > 1)
            table.AddColumn(new TableColumn("MobileNetGen int 1 thread ms\nmedian (p10–p90)").RightAligned())
                 .AddColumn(new TableColumn($"{threads} threads /\n1 thread").RightAligned())
                 .AddColumn(new TableColumn("alone").RightAligned());
        foreach (var m in results)
        {
            var s = m.MobileNetGen;
            var cells = new List<string> { Markup.Escape(m.Entry.ShortName), Ms(s) };
            if (!noOnnx)
            {
                cells.Add(m.OnnxRuntime is { } o ? Ms(o) : "");
                cells.Add(m.OnnxRuntime is { } o2 ? (s.MedianMs / o2.MedianMs).ToString("0.00", inv) + "×" : "");
            }
            cells.Add(m.Float is { } f ? Ms(f) : "");
            cells.Add(m.Float is { } f2 ? (s.MedianMs / f2.MedianMs).ToString("0.00", inv) + "×" : "");
            double gops = Gflops(m.Entry.Info.Macs, s);
            cells.Add(gops.ToString("0.0", inv));
            cells.Add(PercentOfIntegerPeak(gops, intPeak, threads) is double pct ? pct.ToString("0", inv) + " %" : "");
            if (!noOnnx) cells.Add(m.LogitsDiffering is int d ? $"{d} ({m.LogitsMaxDifference})" : "");
            cells.Add(s.AllocatedBytesPerRun.ToString(inv));
            AddOneThreadCells(cells, m, threads);
            table.AddRow(cells.ToArray());
        }
        c.Write(table);
        c.WriteLine("uint8 networks: MobileNetGen and ONNX Runtime both run the integer network from the same uint8 input (ours: exact TFLite " +
                    "arithmetic; ONNX Runtime's QLinearConv requantizes in float, so a few logits differ by a step or more). int / float = our integer " +
                    "network against our float classifier of the same α and resolution (float or 8-bit weights; SYNTHETIC for 1.0), in the same run. " +
                    "GOP/s = 2 × MACs / median; % of int peak = GOP/s / (integer MAC peak × threads)." +
                    (peak.GflopsPerCore > 0 && intPeak.GopsPerCore > 0
                        ? string.Create(inv, $" FMA peak / integer MAC peak = {peak.GflopsPerCore / intPeak.GopsPerCore:0.00}: the lowest int / float a network of equal MACs could reach on this core, every layer at its peak.")
                        : "") +
                    (threads > 1 ? $" {threads} threads / 1 thread: the integer network on {threads} threads and on one, alternating in a loop of their own." + AloneNote : ""));
    }

    private const string AloneNote = " alone: the share of the several-thread classifier's inferences that it ran on the calling thread alone, because that had lately" +
        " been the faster (AdaptiveThreads; a host taking the other vCPUs) or to check again (one in 32 while the split wins, alternately over the first 6).";

    /// <summary>The one-thread columns of a row when <paramref name="threads"/> is above 1.</summary>
    private static void AddOneThreadCells(List<string> cells, Measurement m, int threads)
    {
        if (threads <= 1) return;
        cells.Add(m.OneThread is { } one ? Ms(one) : "");
        cells.Add(m.OneThread is { } one2 && m.Paired is { } paired ? (paired.MedianMs / one2.MedianMs).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "");
        cells.Add(m.AloneShare is double a ? (100 * a).ToString("0", CultureInfo.InvariantCulture) + " %" : "");
    }

    private static List<Measurement> MeasureAll(CliContext ctx, List<VariantEntry> entries, int threads, int iterations, int warmup, bool onnx) =>
        VariantProgress.ForEach(ctx, "bench", entries, threads > 1 ? 2 * iterations : iterations, (e, onRun) => Measure(e, threads, iterations, warmup, onnx, onRun));

    private static BenchJson Row(string variant, string engine, int threads, LatencyStats s, long macs, string weights, FmaPeakResult peak, MachineInfo machine,
        bool integer, IntegerPeakResult? intPeak, bool ours)
    {
        double gflops = Gflops(macs, s);
        // An integer network's operations are not floating-point: no FMA peak applies to them, but the peak of the integer
        // instructions our kernels use does (not to ONNX Runtime's, whose instructions differ).
        return new(variant, engine, threads, R(s.MedianMs), R(s.P10Ms), R(s.P90Ms), s.AllocatedBytesPerRun, macs, weights, s.Iterations,
            Math.Round(gflops, 2), !integer && PercentOfPeak(gflops, peak, threads) is double p ? Math.Round(p, 1) : null,
            Math.Round(peak.GflopsPerCore, 2), peak.Path.ToString(), machine.Cpu,
            intPeak is null ? null : Math.Round(intPeak.GopsPerCore, 2), intPeak is null ? null : $"{intPeak.Isa}: {intPeak.Instructions}",
            integer && ours && PercentOfIntegerPeak(gflops, intPeak, threads) is double q ? Math.Round(q, 1) : null);
    }

    /// <summary>2 × MACs per second of the median run, in billions.</summary>
    public static double Gflops(long macs, LatencyStats s) => 2.0 * macs / (s.MedianMs / 1e3) / 1e9;

    /// <summary>GFLOP/s as a percentage of the FMA peak of <paramref name="threads"/> cores; null when the peak is unknown.</summary>
    public static double? PercentOfPeak(double gflops, FmaPeakResult peak, int threads) =>
        peak.GflopsPerCore > 0 ? 100.0 * gflops / (peak.GflopsPerCore * threads) : null;

    /// <summary>GOP/s as a percentage of the integer MAC peak of <paramref name="threads"/> cores; null when it is unknown.</summary>
    public static double? PercentOfIntegerPeak(double gops, IntegerPeakResult? peak, int threads) =>
        peak is { GopsPerCore: > 0 } ? 100.0 * gops / (peak.GopsPerCore * threads) : null;

    private static double R(double ms) => Math.Round(ms, 4);

    private static string Ms(LatencyStats s) =>
        string.Create(CultureInfo.InvariantCulture, $"{s.MedianMs:0.000} ({s.P10Ms:0.00}–{s.P90Ms:0.00})");

    private static string OrtVersion() =>
        typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "";
}
