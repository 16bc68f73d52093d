using System.CommandLine;
using System.Globalization;
using MobileNetGen.Cli.Benchmarking;
using MobileNetGen.Cli.Choosing;
using MobileNetGen.Cli.Evaluation;
using MobileNetGen.Cli.Output;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// <c>choose --budget-ms X [--threads N] [--max-size-mb S] [--min-top1 T] [--images DIR] [--plot FILE.png]
/// [--plot-macs FILE.png] [--json] [--iterations N]</c>: measures the 16 variants on this machine and recommends the most
/// accurate (by published top-1) that meets the constraints, with the line an app adds to generate it.
/// </summary>
public static class ChooseCommand
{
    public const int DefaultIterations = 20;
    public const int DefaultWarmup = 3;

    public static Command Create(CliContext ctx)
    {
        var budget = new Option<double>("--budget-ms") { Description = "Latency budget per inference, milliseconds (median measured here, one thread).", HelpName = "ms", Required = true };
        var threads = new Option<int>("--threads") { Description = "Threads per inference (default 1): each variant is timed with MobileNetGen's Threads option set to N.", HelpName = "n", DefaultValueFactory = _ => 1 };
        var maxSize = new Option<double?>("--max-size-mb") { Description = "Largest weight payload the variant may add to the binary, MB (10⁶ bytes).", HelpName = "mb" };
        var minTop1 = new Option<double?>("--min-top1") { Description = "Smallest acceptable published ImageNet top-1, percent (e.g. 60).", HelpName = "percent" };
        var images = new Option<string?>("--images") { Description = $"Also measure top-1 of the genuine-weight variants on a labelled folder ({GroundTruth.FileName}); shown beside the published figure.", HelpName = "dir" };
        var limit = new Option<int?>("--limit") { Description = "With --images: evaluate only the first N listed images.", HelpName = "n" };
        var plot = new Option<string?>("--plot") { Description = "Write a PNG: latency vs published top-1, Pareto front and budget.", HelpName = "file.png" };
        var plotMacs = new Option<string?>("--plot-macs") { Description = "Write a PNG: latency vs MACs (log-log).", HelpName = "file.png" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var iterations = new Option<int>("--iterations") { Description = $"Timed runs per variant (default {DefaultIterations}).", HelpName = "n", DefaultValueFactory = _ => DefaultIterations };
        var warmup = new Option<int>("--warmup") { Description = $"Untimed warm-up runs per variant (default {DefaultWarmup}).", HelpName = "n", DefaultValueFactory = _ => DefaultWarmup };
        var cmd = new Command("choose", "Measure the 16 variants here and recommend the most accurate (by published top-1) within a latency budget.")
        {
            budget, threads, maxSize, minTop1, images, limit, plot, plotMacs, json, iterations, warmup,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx, new Options(
            pr.GetValue(budget), pr.GetValue(threads), pr.GetValue(maxSize), pr.GetValue(minTop1), pr.GetValue(images), pr.GetValue(limit),
            pr.GetValue(plot), pr.GetValue(plotMacs), pr.GetValue(json), pr.GetValue(iterations), pr.GetValue(warmup)))));
        return cmd;
    }

    public sealed record Options(
        double BudgetMs, int Threads = 1, double? MaxSizeMb = null, double? MinTop1 = null, string? Images = null, int? Limit = null,
        string? Plot = null, string? PlotMacs = null, bool Json = false, int Iterations = DefaultIterations, int Warmup = DefaultWarmup);

    private sealed record Measured(VariantEntry Entry, LatencyStats Stats, double? Top1Measured);

    public static int Execute(CliContext ctx, Options o)
    {
        if (!(o.BudgetMs > 0) || double.IsInfinity(o.BudgetMs)) { ctx.WriteError($"--budget-ms must be a positive number, got {o.BudgetMs.ToString(CultureInfo.InvariantCulture)}"); return ExitCodes.Usage; }
        if (o.Threads < 1) { ctx.WriteError($"--threads must be at least 1, got {o.Threads}"); return ExitCodes.Usage; }
        if (o.MaxSizeMb is double s && !(s > 0)) { ctx.WriteError("--max-size-mb must be positive"); return ExitCodes.Usage; }
        if (o.MinTop1 is double t && !(t >= 0 && t <= 100)) { ctx.WriteError("--min-top1 is a percentage between 0 and 100"); return ExitCodes.Usage; }
        if (o.Iterations < 1) { ctx.WriteError($"--iterations must be at least 1, got {o.Iterations}"); return ExitCodes.Usage; }
        if (o.Warmup < 0) { ctx.WriteError($"--warmup must be at least 0, got {o.Warmup}"); return ExitCodes.Usage; }
        if (o.Limit is < 1) { ctx.WriteError($"--limit must be at least 1, got {o.Limit}"); return ExitCodes.Usage; }
        if (o.Limit != null && o.Images == null) { ctx.WriteError("--limit needs --images"); return ExitCodes.Usage; }
        foreach (var p in new[] { o.Plot, o.PlotMacs })
            if (p != null && !p.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) { ctx.WriteError($"plots are PNG files: '{p}' does not end with .png"); return ExitCodes.Usage; }

        IReadOnlyList<GroundTruthEntry>? truth = null;
        if (o.Images != null)
        {
            try { truth = GroundTruth.LoadFromDirectory(o.Images); }
            catch (GroundTruthException e) { ctx.WriteError(e.Message); return ExitCodes.InputError; }
        }

        var machine = MachineInfo.Current();

        var measured = MeasureAll(ctx, BenchCommand.AllVariants(), o, truth);

        var rows = measured.Select(m => new ChoiceRow(
                m.Entry.Variant, m.Stats.MedianMs, m.Entry.Info.WeightBytes,
                PublishedTable.For(VariantName.Parse(m.Entry.Variant))?.Top1,
                m.Entry.Info.Weights == WeightsKind.Synthetic) { Macs = m.Entry.Info.Macs })
            .ToList();
        var constraints = new ChoiceConstraints(o.BudgetMs, o.MaxSizeMb is double mb ? (long)Math.Round(mb * 1e6) : null, o.MinTop1);
        var choice = VariantChooser.Choose(rows, constraints);
        var front = VariantChooser.ParetoFront(rows).Select(r => r.Variant).ToHashSet();
        var target = choice.Target;
        string? appLine = target == null ? null : VariantChooser.AppLine(target.Variant, target.Synthetic);
        string? weightsItem = target == null || target.Synthetic ? null : VariantChooser.WeightsItem(target.Variant);
        string? note = target is { Synthetic: true }
            ? $"this build has no real {target.Variant} weights: Synthetic = true generates a speed-only stand-in that classifies nothing. " +
              $"For the published accuracy import Google's checkpoint first (mobilenetgen import <mobilenet_v1_{target.Variant} .pb/.tflite> --variant {target.Variant}), " +
              $"then drop Synthetic = true and add {VariantChooser.WeightsItem(target.Variant)}"
            : null;

        string inv(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
        string subtitle = inv($"{machine.ProcessorCount} CPUs {machine.Architecture}, {machine.Simd}, {Threads(o.Threads)}, {o.Iterations} runs/variant, median") +
                          (machine.LoadAverage is double la ? inv($", load avg {la:0.0}") : "");
        if (o.Plot != null)
            ChoicePlots.SaveLatencyVsTop1(o.Plot, rows, o.BudgetMs, choice.Chosen, subtitle);
        if (o.PlotMacs != null)
            ChoicePlots.SaveLatencyVsMacs(o.PlotMacs, rows, subtitle);

        if (o.Json)
        {
            var variants = measured.Select(m =>
            {
                var pub = PublishedTable.For(VariantName.Parse(m.Entry.Variant));
                return new ChooseVariantJson(
                    m.Entry.Variant, Math.Round(m.Stats.MedianMs, 4), Math.Round(m.Stats.P10Ms, 4), Math.Round(m.Stats.P90Ms, 4),
                    m.Entry.Info.Macs, m.Entry.Info.Parameters, m.Entry.Info.WeightBytes,
                    pub?.Top1, pub?.Top5, m.Top1Measured is double tm ? Json.Round(tm) : null,
                    VariantLookup.WeightsId(m.Entry.Info.Weights), front.Contains(m.Entry.Variant));
            }).ToList();
            var rec = new RecommendationJson(choice.Chosen?.Variant, choice.Reason, choice.Fits, choice.Closest?.Variant,
                choice.ConstraintFailed, choice.RankedBy, appLine, weightsItem, note);
            ctx.Out.WriteLine(Json.Serialize(new ChooseJson(variants, rec,
                new ChooseConstraintsJson(o.BudgetMs, o.MaxSizeMb, o.MinTop1, o.Threads, o.Iterations), machine)));
            return ExitCodes.Ok;
        }

        var c = ctx.OutConsole;
        c.MarkupLine("[bold]machine:[/] " + Markup.Escape(machine.Describe()));
        c.WriteLine(inv($"MobileNetGen, {Threads(o.Threads)} per inference, {o.Iterations} timed runs per variant after {o.Warmup} warm-up runs; median latency."));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("variant")
            .AddColumn(new TableColumn("MMACs").RightAligned())
            .AddColumn(new TableColumn("Mparams").RightAligned())
            .AddColumn(new TableColumn("adds MB").RightAligned())
            .AddColumn(new TableColumn("median ms").RightAligned())
            .AddColumn(new TableColumn("pub. top-1").RightAligned())
            .AddColumn(new TableColumn("pub. top-5").RightAligned())
            .AddColumn(new TableColumn("top-1 here").RightAligned())
            .AddColumn("weights")
            .AddColumn("");
        foreach (var m in measured)
        {
            var pub = PublishedTable.For(VariantName.Parse(m.Entry.Variant));
            var row = rows.First(r => r.Variant == m.Entry.Variant);
            var fails = VariantChooser.Failed(row, constraints);
            string mark = m.Entry.Variant == choice.Chosen?.Variant ? "[bold green]◀ pick[/]"
                : m.Entry.Variant == choice.Closest?.Variant ? "[yellow]◀ closest[/]"
                : fails.Count > 0 ? Markup.Escape("✗ " + string.Join(", ", fails)) : "";
            if (front.Contains(m.Entry.Variant)) mark = "◆ " + mark;
            bool synthetic = m.Entry.Info.Weights == WeightsKind.Synthetic;
            table.AddRow(
                Markup.Escape(m.Entry.Variant),
                (m.Entry.Info.Macs / 1e6).ToString("0.0", CultureInfo.InvariantCulture),
                (m.Entry.Info.Parameters / 1e6).ToString("0.00", CultureInfo.InvariantCulture),
                (m.Entry.Info.WeightBytes / 1e6).ToString("0.00", CultureInfo.InvariantCulture),
                m.Stats.MedianMs.ToString("0.000", CultureInfo.InvariantCulture),
                pub?.Top1.ToString("0.0", CultureInfo.InvariantCulture) ?? "",
                pub?.Top5.ToString("0.0", CultureInfo.InvariantCulture) ?? "",
                synthetic || m.Top1Measured == null ? "—" : (m.Top1Measured.Value * 100).ToString("0.0", CultureInfo.InvariantCulture),
                m.Entry.Info.Weights switch
                {
                    WeightsKind.GenuineFloat => "float",
                    WeightsKind.Genuine8Bit => "8-bit",
                    _ => "[bold red]SYNTHETIC[/]",
                },
                mark);
        }
        c.Write(table);
        c.WriteLine("weights: float / 8-bit = Google's genuine weights. adds MB: bytes of embedded weights (base64; 8-bit variants embed 8-bit). pub.: TF-slim table (ImageNet validation, %). ◆ Pareto front (latency vs published top-1).");
        c.WriteLine(o.Images == null
            ? "top-1 here: pass --images DIR to measure it on a labelled folder."
            : $"top-1 here: measured on {o.Images} ({truth!.Count} listed images{(o.Limit is int l ? $", first {l}" : "")}); — for synthetic weights, which classify nothing.");
        c.MarkupLine("[bold red]SYNTHETIC[/] (α = 1.0): speed is real, the top-1 shown is the published checkpoint's, which this build does not have.");
        c.WriteLine();
        c.MarkupLine($"[bold]Constraints:[/] {Markup.Escape(VariantChooser.Describe(constraints))}. Ranked by {VariantChooser.RankedBy}.");
        if (choice.Fits)
            c.MarkupLine($"[bold green]Recommended: {Markup.Escape(choice.Chosen!.Variant)}[/] — {Markup.Escape(choice.Reason)}.");
        else
            c.MarkupLine($"[bold yellow]No variant fits.[/] {Markup.Escape(choice.Reason)}. Constraint failed: {Markup.Escape(choice.ConstraintFailed ?? "")}.");
        if (o.Plot != null) c.WriteLine($"plot: {o.Plot}");
        if (o.PlotMacs != null) c.WriteLine($"plot: {o.PlotMacs}");
        if (target != null)
        {
            c.WriteLine();
            c.WriteLine(choice.Fits ? $"To generate {target.Variant} in your app:" : $"To generate the closest, {target.Variant}, in your app:");
            if (weightsItem != null) c.WriteLine("  " + weightsItem);
            if (note != null) c.MarkupLine("[bold red]note:[/] " + Markup.Escape(note));
            c.WriteLine(appLine!);
        }
        return ExitCodes.Ok;
    }

    private static string Threads(int n) => n == 1 ? "1 thread" : $"{n} threads";

    private static List<Measured> MeasureAll(CliContext ctx, IReadOnlyList<VariantEntry> entries, Options o, IReadOnlyList<GroundTruthEntry>? truth)
    {
        var stats = new List<LatencyStats>();
        var top1 = new Dictionary<VariantEntry, double?>();
        void MeasureOne(VariantEntry e, Action? onRun)
        {
            using var classifier = e.Create(new MobileNetOptions { Threads = o.Threads });
            float[] input = LatencyMeter.FixedInput(classifier.InputLength);
            float[] logits = new float[classifier.NumClasses];
            stats.Add(LatencyMeter.Measure(() => classifier.Run(input, logits), o.Warmup, o.Iterations, onRun));
        }
        void EvaluateOne(VariantEntry e)
        {
            if (truth == null || e.Info.Weights == WeightsKind.Synthetic) { top1[e] = null; return; }
            var r = Evaluator.Evaluate(e, truth, o.Images!, o.Limit);
            top1[e] = r.Evaluated > 0 ? r.Top1 : null;
        }

        if (ctx.Interactive)
        {
            ctx.ErrorConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(pc =>
                {
                    var task = pc.AddTask("measuring", maxValue: entries.Count * o.Iterations);
                    foreach (var e in entries)
                    {
                        task.Description = Markup.Escape($"measuring {e.Variant}");
                        MeasureOne(e, () => task.Increment(1));
                    }
                    if (truth != null)
                    {
                        var eval = pc.AddTask("top-1 on --images", maxValue: entries.Count);
                        foreach (var e in entries) { eval.Description = Markup.Escape($"top-1 of {e.Variant}"); EvaluateOne(e); eval.Increment(1); }
                    }
                });
        }
        else
        {
            for (int i = 0; i < entries.Count; i++)
            {
                MeasureOne(entries[i], null);
                ctx.Error.WriteLine($"choose: measured {entries[i].Variant} ({i + 1}/{entries.Count})");
            }
            if (truth != null)
                foreach (var e in entries) { EvaluateOne(e); if (e.Info.Weights != WeightsKind.Synthetic) ctx.Error.WriteLine($"choose: top-1 of {e.Variant} measured"); }
        }
        foreach (var e in entries) if (!top1.ContainsKey(e)) top1[e] = null;
        return entries.Select((e, i) => new Measured(e, stats[i], top1[e])).ToList();
    }
}
