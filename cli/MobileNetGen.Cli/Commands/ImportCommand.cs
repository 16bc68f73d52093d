using System.CommandLine;
using MobileNetGen.Importers;
using MobileNetGen.Model;

namespace MobileNetGen.Cli.Commands;

/// <summary><c>import SOURCE --variant V [-o DIR] [--name NAME] [--labels FILE] [--head HEAD.tflite]</c>: converts Google's published weights to canonical safetensors.</summary>
public static class ImportCommand
{
    public static Command Create(CliContext ctx)
    {
        var source = new Argument<string>("source")
        {
            Description = "A TensorFlow frozen graph (*.pb), a TF.js layers model (model.json or its folder) or a TFLite flatbuffer (*.tflite; " +
                          "also a uint8 SSD MobileNet v1 detector, whose label map is labelmap.txt beside it or --labels).",
        };
        var variant = new Option<string?>("--variant")
        {
            Description = "Expected variant (α_resolution, e.g. 0.25_224); required when the model does not state its resolution, an error when it contradicts the model.",
            HelpName = "variant",
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output folder (created if needed).",
            HelpName = "dir",
            DefaultValueFactory = _ => "weights",
        };
        var name = new Option<string?>("--name")
        {
            Description = "Entry name: metadata 'name' and the output file stem (default mobilenet_v1_<variant>).",
            HelpName = "name",
        };
        var labels = new Option<string?>("--labels")
        {
            Description = "Labels of a custom (fine-tuned) classifier head: a UTF-8 file with one label per line, in output order; the count must equal the model's classes. " +
                          "Overrides labels the model carries (labels.txt beside model.json, a TFLite metadata labels file).",
            HelpName = "file",
        };
        var head = new Option<string?>("--head")
        {
            Description = "The classifier head of a uint8-quantized TFLite network published as two files (e.g. Coral's 1.0_224 embedding extractor + head layers): " +
                          "SOURCE is then the backbone up to the pooled features; the result is one canonical model.",
            HelpName = "head.tflite",
        };
        var cmd = new Command("import", "Import MobileNet v1 weights (Google's published models, a fine-tuned one with its own classifier head, or Google's uint8 SSD MobileNet v1 detector) into the canonical safetensors representation.")
        {
            source, variant, output, name, labels, head,
        };
        cmd.SetAction(pr => CommandGuard.Run(ctx, () => Execute(ctx,
            pr.GetValue(source)!, pr.GetValue(variant), pr.GetValue(output) ?? "weights", pr.GetValue(name), pr.GetValue(labels), pr.GetValue(head))));
        return cmd;
    }

    public static int Execute(CliContext ctx, string source, string? variantText, string outputDir, string? name, string? labelsPath = null, string? headPath = null)
    {
        VariantName? variant = null;
        if (variantText != null)
        {
            if (!VariantName.TryParse(variantText, out var v))
            {
                ctx.WriteError($"unknown variant '{variantText}'. Known variants: {string.Join(", ", VariantName.All.Select(x => x.ToString()))} (add _quant for a uint8-quantized model, e.g. 1.0_224_quant)");
                return ExitCodes.Usage;
            }
            variant = v;
        }
        if (name != null && !IsValidName(name))
        {
            ctx.WriteError($"--name '{name}' is not a valid file stem (no path separators, no '..', no characters invalid in file names)");
            return ExitCodes.Usage;
        }
        if (string.IsNullOrWhiteSpace(outputDir))
        {
            ctx.WriteError("--output must name a folder");
            return ExitCodes.Usage;
        }

        SafeTensorsFile file;
        try
        {
            file = MobileNetImporter.Import(source, new ImportOptions { Variant = variant, Name = name, LabelsPath = labelsPath, HeadPath = headPath });
        }
        catch (ImportException e)
        {
            ctx.WriteError(e.Message);
            return ExitCodes.InputError;
        }

        string stem = name ?? file.GetMetadata("name") ?? "";
        if (!IsValidName(stem))
        {
            ctx.WriteError($"the imported model's name '{stem}' is not a valid file stem; pass --name");
            return ExitCodes.InputError;
        }

        byte[] bytes = file.Write();
        Directory.CreateDirectory(outputDir);
        string path = Path.Combine(outputDir, stem + ".safetensors");
        string temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }

        if (DetectorWeights.IsDetector(file))
        {
            var net = DetectorWeights.DetectorOf(file);
            ctx.Out.WriteLine(
                $"wrote {path}: SSD detector, {net.Layers.Count} layers, {net.Heads.Count} heads, {net.Anchors.Count} anchors, {net.Classes} class columns " +
                $"({file.GetMetadata("labels")} labels), {file.Tensors.Count} tensors, {bytes.LongLength:N0} bytes, {file.GetMetadata("weights")}, source sha256 {file.GetMetadata("source_sha256")}");
            return ExitCodes.Ok;
        }
        ctx.Out.WriteLine(
            $"wrote {path}: {file.Tensors.Count} tensors, {bytes.LongLength:N0} bytes, variant {file.GetMetadata("variant")}, " +
            $"{file.GetMetadata("weights")}, {file.GetMetadata("num_classes")} classes ({file.GetMetadata("labels")} labels), source sha256 {file.GetMetadata("source_sha256")}");
        return ExitCodes.Ok;
    }

    private static bool IsValidName(string name) =>
        name.Length > 0 && name.Trim() == name && name != "." && name != ".."
        && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && name.IndexOfAny(new[] { '/', '\\', ':' }) < 0;
}
