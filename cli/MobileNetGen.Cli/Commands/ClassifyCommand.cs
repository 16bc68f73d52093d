using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MobileNetGen.Cli.Output;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary><c>classify [--variant V] [--top K] [--json] [--verbose] IMAGE...</c>: top-K ImageNet labels per image.</summary>
public static class ClassifyCommand
{
    public static Command Create(CliContext ctx)
    {
        var variant = new Option<string>("--variant")
        {
            Description = $"Variant: 1.0_224 ... 0.25_128 (α_resolution), or an entry name such as mobilenet_v1_0.25_224_tflite2018.",
            HelpName = "variant",
            DefaultValueFactory = _ => VariantCatalog.DefaultVariant,
        };
        var top = new Option<int>("--top", "-k")
        {
            Description = "Number of predictions per image.",
            HelpName = "k",
            DefaultValueFactory = _ => 5,
        };
        var json = new Option<bool>("--json") { Description = "Print a JSON array (one object per image) instead of tables." };
        var verbose = new Option<bool>("--verbose") { Description = "Also print the instruction set details and timings." };
        var resize = ResizeOption.Create();
        var images = new Argument<string[]>("image")
        {
            Description = "Image files (JPEG, PNG, BMP).",
            Arity = ArgumentArity.OneOrMore,
        };

        // An unknown option would otherwise land in the IMAGE list and be reported as a missing file.
        images.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (token.Value.Length > 1 && token.Value[0] == '-' && !File.Exists(token.Value) && !Directory.Exists(token.Value))
                    result.AddError($"Unrecognized command or argument '{token.Value}'.");
        });

        var cmd = new Command("classify", "Classify images with a generated MobileNet v1 and print the top-K ImageNet labels.")
        {
            variant, top, json, verbose, resize, images,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx,
            pr.GetValue(variant) ?? VariantCatalog.DefaultVariant, pr.GetValue(top), pr.GetValue(json), pr.GetValue(verbose),
            pr.GetValue(images) ?? Array.Empty<string>(), pr.GetValue(resize))));
        return cmd;
    }

    public static int Execute(CliContext ctx, string variantName, int k, bool json, bool verbose, IReadOnlyList<string> images, string? resizeText = null)
    {
        if (ResizeOption.Parse(ctx, resizeText) is not { } resize) return ExitCodes.Usage;
        var entry = VariantLookup.Resolve(ctx, variantName);
        if (entry == null) return ExitCodes.Usage;
        int classes = entry.Info.NumClasses;
        if (k < 1 || k > classes)
        {
            ctx.WriteError($"--top must be in 1..{classes} for {entry.Variant}, got {k}");
            return ExitCodes.Usage;
        }

        var load = Stopwatch.StartNew();
        using var model = entry.Create(new MobileNetOptions { Resize = resize });
        load.Stop();

        var console = ctx.OutConsole;
        var info = model.Info;
        string variantId = entry.DisplayName;
        if (!json)
        {
            console.MarkupLine($"[bold]{Markup.Escape(variantId)}[/] · weights: {VariantLookup.WeightsMarkup(info)} · simd: {model.SimdPath}");
            if (info.Weights == WeightsKind.Synthetic)
                console.MarkupLine("[bold red]SYNTHETIC weights: predictions are meaningless (for speed measurements only).[/]");
            if (verbose)
            {
                console.WriteLine(VariantLookup.IsaLine(model.SimdPath));
                if (model is QuantizedMobileNetClassifier)
                {
                    var isa = MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels.Resolve(model.SimdPath);
                    bool dot = isa is MobileNetGen.Runtime.Kernels.Quantized.QuantizedIsa.Vector128Dot or MobileNetGen.Runtime.Kernels.Quantized.QuantizedIsa.Vector256Vnni or MobileNetGen.Runtime.Kernels.Quantized.QuantizedIsa.Vector512Vnni;
                    string how = !dot ? "none used" : MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels.IsNative(isa) ? "hardware" : "emulated";
                    console.WriteLine($"integer isa: {isa} (dot-product instruction: {how})");
                }
                console.WriteLine($"model: {info.Name}, {info.NumClasses} classes, {info.Macs:N0} MACs, {info.Parameters:N0} parameters, created in {Ms(load.Elapsed)}");
            }
        }

        var results = new List<ClassifyJson>();
        int exit = ExitCodes.Ok;
        foreach (string path in images)
        {
            Prediction[] predictions;
            TimeSpan decode, infer;
            if (Directory.Exists(path))
            {
                ctx.WriteError($"{Messages.OneLine(path)}: is a directory, not an image file");
                exit = ExitCodes.InputError;
                continue;
            }
            try
            {
                var sw = Stopwatch.StartNew();
                using var image = ImageLoader.LoadRgb24(path);
                decode = sw.Elapsed;
                sw.Restart();
                predictions = model.Classify(image, k);
                infer = sw.Elapsed;
            }
            catch (ImageLoadException e)
            {
                ctx.WriteError($"{Messages.OneLine(path)}: {Messages.ImageLoadReason(e, path)}");
                exit = ExitCodes.InputError;
                continue;
            }

            if (json)
            {
                results.Add(new ClassifyJson(path, entry.Name == "mobilenet_v1_" + entry.Variant ? entry.Variant : entry.Name,
                    info.WeightsKindName, model.SimdPath.ToString(),
                    predictions.Select(p => new PredictionJson(p.ImageNetIndex, p.Label, Json.Round(p.Probability))).ToList()));
                continue;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .Title(new TableTitle(Markup.Escape(Messages.OneLine(path))))
                .AddColumn(new TableColumn("#").RightAligned())
                .AddColumn(new TableColumn("class").RightAligned())
                .AddColumn(new TableColumn("label"))
                .AddColumn(new TableColumn("probability").RightAligned());
            for (int i = 0; i < predictions.Length; i++)
            {
                var p = predictions[i];
                table.AddRow(
                    new Text((i + 1).ToString(CultureInfo.InvariantCulture)),
                    new Text(p.ImageNetIndex.ToString(CultureInfo.InvariantCulture)),
                    new Text(p.Label),
                    new Text(p.Probability.ToString("0.0000", CultureInfo.InvariantCulture)));
            }
            console.Write(table);
            if (verbose) console.WriteLine($"time: decode {Ms(decode)}, preprocess + inference {Ms(infer)}");
        }

        if (json) ctx.Out.WriteLine(Json.Serialize(results));
        return exit;
    }

    internal static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
