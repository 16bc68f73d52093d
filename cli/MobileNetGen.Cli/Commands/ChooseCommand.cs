using System.CommandLine;
using System.Globalization;
using MobileNetGen.Cli.Choosing;
using MobileNetGen.Measurement;
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
        CliOptions.MustBePositive(budget);
        var threads = CliOptions.Threads("Threads per inference (default 1): each variant is timed with MobileNetGen's Threads option set to N.");
        var maxSize = new Option<double?>("--max-size-mb") { Description = "Largest weight payload the variant may add to the binary, MB (10⁶ bytes).", HelpName = "mb" };
        CliOptions.MustBePositive(maxSize);
        var minTop1 = new Option<double?>("--min-top1") { Description = "Smallest acceptable published ImageNet top-1, percent (e.g. 60).", HelpName = "percent" };
        minTop1.Validators.Add(r =>
        {
            if (CliOptions.TryGetValue(r, out double? value) && value is double t && !(t >= 0 && t <= 100))
                r.AddError($"--min-top1 is a percentage from 0 to 100, got {t.ToString(CultureInfo.InvariantCulture)}");
        });
        var images = new Option<string?>("--images") { Description = $"Also measure top-1 of the genuine-weight variants on a labelled folder ({GroundTruth.FileName}); shown beside the published figure.", HelpName = "dir" };
        var limit = CliOptions.OptionalInt("--limit", "With --images: evaluate only the first N listed images.", "n", min: 1);
        var plot = CliOptions.OutputFile("--plot", "Write a PNG: latency vs published top-1, Pareto front and budget.", ".png");
        var plotMacs = CliOptions.OutputFile("--plot-macs", "Write a PNG: latency vs MACs (log-log).", ".png");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var iterations = CliOptions.Iterations(DefaultIterations, $"Timed runs per variant (default {DefaultIterations}).");
        var warmup = CliOptions.Warmup(DefaultWarmup, $"Untimed warm-up runs per variant (default {DefaultWarmup}).");
        var cmd = new Command("choose", "Measure the 16 variants here and recommend the most accurate (by published top-1) within a latency budget.")
        {
            budget, threads, maxSize, minTop1, images, limit, plot, plotMacs, json, iterations, warmup,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(limit) != null && r.GetValue(images) == null) r.AddError("--limit needs --images");
        });
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
        // The options were validated by the parser (CliOptions and the command's validator).
        IReadOnlyList<GroundTruthEntry>? truth = null;
        if (o.Images != null)
        {
            try { truth = GroundTruth.LoadFromDirectory(o.Images); }
            catch (GroundTruthException e) { ctx.WriteError(e.Message); return ExitCodes.InputError; }
        }

        var machine = MachineInfo.Current();

        // The 16 variants and Google's 5 uint8 networks (their own published accuracy, their real size).
        var measured = MeasureAll(ctx, BenchCommand.AllVariants().Concat(VariantCatalog.Quantized).ToList(), o, truth);

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
                    m.Entry.Info.WeightsKindName, front.Contains(m.Entry.Variant));
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
                VariantLookup.WeightsMarkup(m.Entry.Info),
                mark);
        }
        c.Write(table);
        c.WriteLine("adds MB: bytes of weights the variant embeds (the safetensors file; 8-bit variants embed 8-bit; for SYNTHETIC, what genuine weights of that shape would add). pub.: TF-slim table (ImageNet validation, %). ◆ Pareto front (latency vs published top-1).");
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
        var stats = VariantProgress.ForEach(ctx, "measuring", entries, o.Iterations, (e, onRun) =>
        {
            using var classifier = e.Create(new MobileNetOptions { Threads = o.Threads });
            float[] input = LatencyMeter.FixedInput(classifier.InputLength);
            float[] logits = new float[classifier.NumClasses];
            return LatencyMeter.Measure(() => classifier.Run(input, logits), o.Warmup, o.Iterations, onRun);
        });
        // Top-1 on --images for the genuine-weight variants (synthetic weights classify nothing).
        var genuine = truth == null ? new List<VariantEntry>() : entries.Where(e => e.Info.Weights != WeightsKind.Synthetic).ToList();
        var top1 = VariantProgress.ForEach(ctx, "top-1 of", genuine, 1, (e, onRun) =>
        {
            var r = Evaluator.Evaluate(e, truth!, o.Images!, o.Limit);
            onRun?.Invoke();
            return r.Evaluated > 0 ? r.Top1 : (double?)null;
        });
        return entries.Select((e, i) => new Measured(e, stats[i], genuine.IndexOf(e) is int g and >= 0 ? top1[g] : null)).ToList();
    }
}
