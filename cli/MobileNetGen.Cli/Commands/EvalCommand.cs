using System.CommandLine;
using System.Globalization;
using MobileNetGen.Cli.Evaluation;
using MobileNetGen.Cli.Output;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary><c>eval --variant V --images DIR [--limit N] [--json]</c>: top-1 / top-5 accuracy on a labelled folder.</summary>
public static class EvalCommand
{
    public static Command Create(CliContext ctx)
    {
        var variant = new Option<string>("--variant")
        {
            Description = "Variant to evaluate (α_resolution or an entry name, see 'variants').",
            HelpName = "variant",
            DefaultValueFactory = _ => VariantCatalog.DefaultVariant,
        };
        var images = new Option<string>("--images")
        {
            Description = $"Folder holding the images and {GroundTruth.FileName} (columns file, wnid, keras_index_0_999, slim_index_1_1000, slim_label).",
            HelpName = "dir",
            Required = true,
        };
        var limit = CliOptions.OptionalInt("--limit", "Evaluate only the first N listed images.", "n", min: 1);
        var jobs = CliOptions.OptionalInt("--jobs", $"Parallel workers, one classifier instance each (default: processor count, {Environment.ProcessorCount}).", "n", min: 1, "-j");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var resize = ResizeOption.Create();

        var cmd = new Command("eval", "Measure top-1 / top-5 accuracy of a variant on a labelled image folder.")
        {
            variant, images, limit, jobs, json, resize,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx,
            pr.GetValue(variant) ?? VariantCatalog.DefaultVariant, pr.GetValue(images)!, pr.GetValue(limit), pr.GetValue(jobs), pr.GetValue(json), pr.GetValue(resize))));
        return cmd;
    }

    public static int Execute(CliContext ctx, string variantName, string imagesDir, int? limit, int? jobs, bool json, string? resizeText = null)
    {
        if (ResizeOption.Parse(ctx, resizeText) is not { } resize) return ExitCodes.Usage;
        var entry = VariantLookup.Resolve(ctx, variantName);
        if (entry == null) return ExitCodes.Usage;

        IReadOnlyList<GroundTruthEntry> truth;
        try
        {
            truth = GroundTruth.LoadFromDirectory(imagesDir);
        }
        catch (GroundTruthException e)
        {
            ctx.WriteError(e.Message);
            return ExitCodes.InputError;
        }

        int n = limit is int l ? Math.Min(l, truth.Count) : truth.Count;
        var simd = MobileNetClassifier.ResolveSimdPath(SimdPath.Auto);
        EvalResult result;
        if (!json && ctx.Interactive)
        {
            result = ctx.ErrorConsole.Progress()
                .AutoClear(true)
                .HideCompleted(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(pc =>
                {
                    var task = pc.AddTask(Markup.Escape($"{entry.DisplayName} ({n} images)"), maxValue: n);
                    return Evaluator.Evaluate(entry, truth, imagesDir, limit, new MaxProgress(task), jobs, options: new MobileNetOptions { Resize = resize });
                });
        }
        else
        {
            result = Evaluator.Evaluate(entry, truth, imagesDir, limit, null, jobs, options: new MobileNetOptions { Resize = resize });
        }

        foreach (var m in result.Missing) ctx.WriteWarning($"missing image: {Messages.OneLine(m.File)}");
        foreach (var u in result.Unreadable) ctx.WriteWarning($"unreadable image: {Messages.OneLine(u.File)}: {u.Reason}");
        if (result.Missing.Count + result.Unreadable.Count > 0)
            ctx.Error.WriteLine($"skipped {result.Missing.Count} missing and {result.Unreadable.Count} unreadable of {result.Listed} listed images");
        const int MaxExtraWarnings = 20;
        foreach (var x in result.Extra.Take(MaxExtraWarnings))
            ctx.WriteWarning($"extra image, not listed in {GroundTruth.FileName} (not evaluated): {Messages.OneLine(x)}");
        if (result.Extra.Count > MaxExtraWarnings)
            ctx.WriteWarning($"... and {result.Extra.Count - MaxExtraWarnings} more extra images not listed in {GroundTruth.FileName}");

        bool accuracy = !result.IsSynthetic && result.Evaluated > 0;
        if (json)
        {
            ctx.Out.WriteLine(Json.Serialize(new EvalJson(
                entry.Name == "mobilenet_v1_" + entry.Variant ? entry.Variant : entry.Name,
                entry.Info.WeightsKindName,
                result.Evaluated,
                accuracy ? Json.Round(result.Top1) : null,
                accuracy ? Json.Round(result.Top5) : null,
                result.Missing.Count,
                result.Unreadable.Count,
                result.Extra.Count,
                result.Listed,
                result.Top1Correct,
                result.Top5Correct,
                result.Missing.Select(m => m.File).ToList(),
                result.Unreadable.Select(u => new ProblemJson(u.File, u.Reason)).ToList(),
                result.Extra,
                Math.Round(result.Elapsed.TotalSeconds, 3),
                result.Workers,
                simd.ToString())));
        }
        else
        {
            var c = ctx.OutConsole;
            c.MarkupLine($"[bold]{Markup.Escape(entry.DisplayName)}[/] · weights: {VariantLookup.WeightsMarkup(entry.Info)} · simd: {simd}");
            if (result.IsSynthetic)
                c.MarkupLine("[bold red]SYNTHETIC weights: no accuracy is reported (the weights are random stand-ins for speed measurements).[/]");
            else if (result.Evaluated > 0)
            {
                c.WriteLine($"top-1: {Pct(result.Top1)} ({result.Top1Correct}/{result.Evaluated})");
                c.WriteLine($"top-5: {Pct(result.Top5)} ({result.Top5Correct}/{result.Evaluated})");
            }
            double perImage = result.Evaluated + result.Unreadable.Count == 0 ? 0 : result.Elapsed.TotalMilliseconds / (result.Evaluated + result.Unreadable.Count);
            c.WriteLine($"images: {result.Evaluated} evaluated, {result.Missing.Count} missing, {result.Unreadable.Count} unreadable, {result.Extra.Count} extra (not listed)");
            c.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time: {result.Elapsed.TotalSeconds:0.00} s ({perImage:0.0} ms per image, {result.Workers} worker{(result.Workers == 1 ? "" : "s")})"));
        }

        if (result.Evaluated == 0)
        {
            ctx.WriteError($"no image of '{imagesDir}' could be evaluated");
            return ExitCodes.InputError;
        }
        return ExitCodes.Ok;
    }

    private static string Pct(double f) => (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    /// <summary>Progress from worker threads: the bar only moves forward.</summary>
    private sealed class MaxProgress(ProgressTask task) : IProgress<int>
    {
        private readonly object _gate = new();

        public void Report(int value)
        {
            lock (_gate)
                if (value > task.Value) task.Value = value;
        }
    }
}
