using System.CommandLine;
using System.Globalization;
using MobileNetGen.Cli.Output;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary><c>variants [--json]</c>: the 16 variants (plus extra entries) with computed and published cost and accuracy.</summary>
public static class VariantsCommand
{
    /// <summary>Computed MACs further than this from the published figure are flagged.</summary>
    public const double MacsTolerance = 0.05;

    public static Command Create(CliContext ctx)
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table." };
        var cmd = new Command("variants", "List the MobileNet v1 variants: width, resolution, MACs and parameters (computed and published), weights.")
        {
            json,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx, pr.GetValue(json))));
        return cmd;
    }

    /// <summary>One row per variant of <see cref="VariantName.All"/> (seed-table order), then the extra catalog entries.</summary>
    public static List<VariantJson> Rows()
    {
        var rows = new List<VariantJson>();
        foreach (var v in VariantName.All)
        {
            var entry = VariantCatalog.Find(v.ToString());
            rows.Add(Row(v, entry, extra: false));
        }
        // Google's uint8 networks: their own published accuracy, and their real size (one byte per weight).
        foreach (var v in VariantName.PublishedQuantized)
            rows.Add(Row(v, VariantCatalog.Find(v.ToString()), extra: false));
        foreach (var e in VariantCatalog.Entries)
        {
            if (e.Name == "mobilenet_v1_" + e.Variant) continue;
            rows.Add(Row(VariantName.Parse(e.Variant), e, extra: true));
        }
        return rows;
    }

    private static VariantJson Row(VariantName v, VariantEntry? entry, bool extra)
    {
        bool custom = entry != null && !entry.Info.ImageNetLabels;
        var arch = new MobileNetV1Architecture(v, custom ? entry!.Info.NumClasses : 1001);
        var pub = custom ? null : PublishedTable.For(v);
        long? pubMacs = pub == null ? null : pub.MillionMacs * 1_000_000L;
        long? pubParams = pub == null ? null : (long)Math.Round(pub.MillionParams * 1_000_000);
        bool differ = pubMacs is long pm && Math.Abs(arch.Macs - pm) > MacsTolerance * pm;
        return new VariantJson(
            v.ToString(),
            entry?.Name ?? v.FileStem,
            extra,
            v.Quantized ? "uint8" : "float",
            v.Alpha,
            v.Resolution,
            arch.Macs,
            arch.Parameters,
            pubMacs,
            pubParams,
            extra ? null : pub?.Top1, // an extra entry is a different training run: the 2017 accuracy is not its own
            extra ? null : pub?.Top5,
            differ,
            entry == null ? "not generated" : entry.Info.WeightsKindName,
            entry?.Info.Source ?? "",
            entry?.Info.NumClasses ?? 0,
            custom ? "custom" : "imagenet",
            entry?.Info.WeightBytes);
    }

    /// <summary>The release folder of a source path (<c>slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb</c> → <c>slim-2017-float</c>).</summary>
    private static string ShortSource(string source)
    {
        int slash = source.IndexOfAny(new[] { '/', '\\' });
        return slash > 0 ? source.Substring(0, slash) : source;
    }

    public static int Execute(CliContext ctx, bool json)
    {
        var rows = Rows();
        if (json)
        {
            ctx.Out.WriteLine(Json.Serialize(rows));
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("variant")
            .AddColumn(new TableColumn("α").RightAligned())
            .AddColumn(new TableColumn("res").RightAligned())
            .AddColumn(new TableColumn("MMACs").RightAligned())
            .AddColumn(new TableColumn("pub.").RightAligned())
            .AddColumn(new TableColumn("Mparams").RightAligned())
            .AddColumn(new TableColumn("pub.").RightAligned())
            .AddColumn(new TableColumn("pub. top-1").RightAligned())
            .AddColumn(new TableColumn("pub. top-5").RightAligned())
            .AddColumn(new TableColumn("MB").RightAligned())
            .AddColumn("weights")
            .AddColumn("source");
        var inv = CultureInfo.InvariantCulture;
        bool anyDiffer = false;
        foreach (var r in rows)
        {
            anyDiffer |= r.MacsDifferFromPublished;
            string weights = r.Weights == MobileNetGen.Model.CanonicalWeights.Synthetic ? "[bold red]SYNTHETIC[/]"
                : r.Weights == "not generated" ? "not generated" : Markup.Escape(MobileNetGen.Model.CanonicalWeights.KindLabel(r.Weights));
            table.AddRow(
                Markup.Escape(r.Extra ? $"{r.Variant} †" : r.Variant),
                r.Alpha.ToString("0.00", inv),
                r.Resolution.ToString(inv),
                (r.Macs / 1e6).ToString("0.0", inv) + (r.MacsDifferFromPublished ? " [yellow]*[/]" : ""),
                r.PublishedMacs is long pm ? (pm / 1e6).ToString("0", inv) : "",
                (r.Params / 1e6).ToString("0.00", inv),
                r.PublishedParams is long pp ? (pp / 1e6).ToString("0.00", inv) : "",
                r.Top1Published is double t1 ? t1.ToString("0.0", inv) : "",
                r.Top5Published is double t5 ? t5.ToString("0.0", inv) : "",
                r.WeightBytes is long wb ? (wb / 1e6).ToString("0.00", inv) : "",
                weights,
                Markup.Escape(ShortSource(r.Source)));
        }
        var c = ctx.OutConsole;
        c.Write(table);
        c.WriteLine("MMACs, Mparams: computed from the architecture (1001 classes; parameters = kernels + BN γ/β + logits bias).");
        c.WriteLine("pub.: the TF-slim table (2017_06_14 checkpoints; top-1/top-5 on ImageNet validation, single centre crop); for the _quant");
        c.WriteLine("  entries, TFLite's hosted-models table (2018_08_02 uint8 quantization-aware-trained networks: their own accuracy).");
        c.WriteLine("MB: bytes of weights the entry adds to a binary (the embedded file: 4 per float weight, 1 per 8-bit or uint8 weight; SYNTHETIC: what");
        c.WriteLine("  genuine float weights of that shape would add, nothing is embedded).");
        if (anyDiffer)
            c.MarkupLine($"[yellow]*[/] computed MACs differ from the published figure by more than {MacsTolerance * 100:0} %.");
        foreach (var r in rows.Where(r => r.Extra))
        {
            if (r.Labels == "custom")
            {
                c.WriteLine($"† custom model {r.Name} (pass this name to --variant): {r.NumClasses} classes of its own, from {r.Source};");
                c.WriteLine("  its MACs and parameters count its own head; no published figures apply.");
                continue;
            }
            c.WriteLine($"† extra entry {r.Name} (pass this name to --variant): {r.Source},");
            c.WriteLine("  a different training run, so the 2017 published accuracy is not shown for it.");
        }
        c.WriteLine("Sources are folders of shared/models; 'variants --json' gives the full paths.");
        if (rows.Any(r => r.Weights == "synthetic"))
            c.MarkupLine("[bold red]SYNTHETIC[/] weights are deterministic stand-ins for speed and size only, never accuracy.");
        return ExitCodes.Ok;
    }
}
