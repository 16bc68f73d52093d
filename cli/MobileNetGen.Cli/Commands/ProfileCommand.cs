using System.CommandLine;
using System.Globalization;
using MobileNetGen.Cli.Output;
using MobileNetGen.Measurement;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// <c>profile [--variant V] [--threads N] [--iterations N] [--warmup N] [--json]</c>: the time of every step of one variant
/// (each layer, or each fused pair), with its MACs, GFLOP/s, share of this core's FMA peak (measured in the same run) and
/// the bytes it must move: where an inference's time goes. The view of TFLite's <c>benchmark_model --enable_op_profiling</c>.
/// </summary>
public static class ProfileCommand
{
    public const int DefaultIterations = 100;
    public const int DefaultWarmup = 10;

    public static Command Create(CliContext ctx)
    {
        var variant = new Option<string>("--variant")
        {
            Description = "Variant to profile (α_resolution or an entry name, see 'variants').",
            HelpName = "variant",
            DefaultValueFactory = _ => VariantCatalog.DefaultVariant,
        };
        var threads = CliOptions.Threads("Threads per inference (default 1). One thread runs the fused pairs as one step each.");
        var iterations = CliOptions.Iterations(DefaultIterations, $"Profiled inferences (default {DefaultIterations}); each step's median is reported.");
        var warmup = CliOptions.Warmup(DefaultWarmup, $"Untimed inferences first (default {DefaultWarmup}).");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var cmd = new Command("profile", "Time every layer (or fused pair) of a variant: ms, MACs, GFLOP/s, % of this core's FMA peak, bytes moved.")
        {
            variant, threads, iterations, warmup, json,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx,
            pr.GetValue(variant) ?? VariantCatalog.DefaultVariant, pr.GetValue(threads), pr.GetValue(iterations), pr.GetValue(warmup), pr.GetValue(json))));
        return cmd;
    }

    public static int Execute(CliContext ctx, string variantName, int threads, int iterations, int warmup, bool json)
    {
        var entry = VariantLookup.Resolve(ctx, variantName);
        if (entry == null) return ExitCodes.Usage;
        var machine = MachineInfo.Current();
        var peak = FmaPeak.Measure();
        using var classifier = entry.Create(new MobileNetOptions { Threads = threads });
        float[] input = LatencyMeter.FixedInput(classifier.InputLength);
        var profile = classifier.Profile(input, warmup, iterations);
        double peakAll = peak.GflopsPerCore * threads;
        bool integer = entry.Info.WeightsKindName == MobileNetGen.Model.CanonicalWeights.GenuineUInt8;
        // A uint8 network is read against the peak of the integer instructions its pointwise kernels use, on this core.
        IntegerPeakResult? intPeak = integer ? IntegerPeak.Measure() : null;
        double peakAllOps = integer ? intPeak!.GopsPerCore * threads : peakAll;

        var rows = profile.Steps.Select(s =>
        {
            double ops = s.MedianMs > 0 ? 2.0 * s.Step.Macs / (s.MedianMs / 1e3) / 1e9 : 0;
            double gbs = s.MedianMs > 0 ? s.Step.BytesMoved / (s.MedianMs / 1e3) / 1e9 : 0;
            return new ProfileStepJson(s.Step.Name, s.Step.Kind, s.Step.Shape, R(s.MedianMs), R(s.P10Ms), R(s.P90Ms), s.Step.Macs,
                Math.Round(ops, 2), peakAllOps <= 0 ? null : Math.Round(100 * ops / peakAllOps, 1), s.Step.BytesMoved, Math.Round(gbs, 2));
        }).ToList();

        if (json)
        {
            ctx.Out.WriteLine(Json.Serialize(new ProfileJson(entry.ShortName, entry.Info.WeightsKindName, threads, profile.Path.ToString(), machine.Cpu,
                Math.Round(peak.GflopsPerCore, 2), peak.Path.ToString(), R(profile.TotalMedianMs), iterations, rows,
                intPeak is null ? null : Math.Round(intPeak.GopsPerCore, 2), intPeak is null ? null : $"{intPeak.Isa}: {intPeak.Instructions}")));
            return ExitCodes.Ok;
        }

        var inv = CultureInfo.InvariantCulture;
        var c = ctx.OutConsole;
        if (!ctx.Interactive) c.Profile.Width = Math.Max(c.Profile.Width, 170); // the table is wide; a file or pipe has no width
        c.MarkupLine("[bold]machine:[/] " + Markup.Escape(machine.Describe()));
        c.MarkupLine("[bold]FMA peak:[/] " + Markup.Escape(string.Create(inv, $"{peak.GflopsPerCore:0.0} GFLOP/s per core ({peak.Path}, one thread, measured now)")));
        if (intPeak != null)
            c.MarkupLine("[bold]integer MAC peak:[/] " + Markup.Escape(string.Create(inv,
                $"{intPeak.GopsPerCore:0.0} GOP/s per core ({intPeak.Isa}: {intPeak.Instructions}, the pointwise kernels' inner instructions, one thread, measured now)")));
        c.MarkupLine($"[bold]{Markup.Escape(entry.DisplayName)}[/] · weights: {VariantLookup.WeightsMarkup(entry.Info)} · simd: {profile.Path} · " +
                     Markup.Escape(string.Create(inv, $"{threads} thread{(threads == 1 ? "" : "s")} · {iterations} inferences after {warmup} warm-up; medians")));
        string opsUnit = integer ? "GOP/s" : "GFLOP/s";
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("#").RightAligned())
            .AddColumn("step")
            .AddColumn("kind")
            .AddColumn("shape")
            .AddColumn(new TableColumn("ms (p10–p90)").RightAligned())
            .AddColumn(new TableColumn("share").RightAligned())
            .AddColumn(new TableColumn("MMACs").RightAligned())
            .AddColumn(new TableColumn(opsUnit).RightAligned())
            .AddColumn(new TableColumn("% peak").RightAligned())
            .AddColumn(new TableColumn("MB moved").RightAligned())
            .AddColumn(new TableColumn("GB/s").RightAligned());
        double sum = rows.Sum(r => r.MedianMs);
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            table.AddRow(
                i.ToString(inv), Markup.Escape(r.Name), Markup.Escape(r.Kind), Markup.Escape(r.Shape),
                string.Create(inv, $"{r.MedianMs:0.000} ({r.P10Ms:0.000}–{r.P90Ms:0.000})"),
                sum > 0 ? (100 * r.MedianMs / sum).ToString("0.0", inv) + " %" : "",
                (r.Macs / 1e6).ToString("0.00", inv),
                r.Gops.ToString("0.0", inv),
                r.PercentOfPeak is double p ? p.ToString("0", inv) + " %" : "",
                (r.BytesMoved / 1e6).ToString("0.00", inv),
                r.GbytesPerSecond.ToString("0.0", inv));
        }
        c.Write(table);
        double total = 2.0 * entry.Info.Macs / (profile.TotalMedianMs / 1e3) / 1e9;
        string ofPeak = peakAllOps <= 0 ? "" : string.Create(inv, $", {100 * total / peakAllOps:0} % of the {(integer ? "integer MAC " : "")}peak of {threads} core{(threads == 1 ? "" : "s")}");
        c.WriteLine(string.Create(inv, $"sum of step medians {sum:0.000} ms; median whole inference {profile.TotalMedianMs:0.000} ms ({total:0.0} {opsUnit}{ofPeak})."));
        c.WriteLine("A step's time ends at its barrier (with several threads, waiting for the slowest is in it). MB moved: the step's input and output activations and its packed weights, the least it must read and write; GB/s = MB moved / time.");
        if (integer)
            c.WriteLine("Integer network: GOP/s counts a uint8 multiply-accumulate as two operations; % peak is against the integer MAC peak above " +
                        "(the pointwise kernels' instructions; the stem, depthwise and pooling layers use others and also requantize each output, so " +
                        "for them it is a yardstick, not a bound).");
        return ExitCodes.Ok;
    }

    private static double R(double ms) => Math.Round(ms, 4);
}
