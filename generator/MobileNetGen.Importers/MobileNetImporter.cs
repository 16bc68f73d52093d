using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>Options of an import. Every property is optional.</summary>
public sealed class ImportOptions
{
    /// <summary>The expected variant. Required when the model does not state its input resolution; an error when it contradicts the model.</summary>
    public VariantName? Variant { get; init; }
    /// <summary>Entry name (metadata <c>name</c>); defaults to <c>mobilenet_v1_{variant}</c> (plus <c>_tflite2018</c> for that release).</summary>
    public string? Name { get; init; }
    /// <summary>Metadata <c>source</c>; defaults to the path below a <c>shared/models</c> ancestor, else the file name.</summary>
    public string? SourceLabel { get; init; }
    /// <summary>Metadata <c>release</c>; defaults from the source folder (slim-2017, keras-tfjs, tflite-2018).</summary>
    public string? Release { get; init; }
    /// <summary>
    /// A labels file (UTF-8, one label per line, in output order) for a custom classifier head (<c>--labels</c>). Overrides
    /// labels the model carries (TF.js: <c>labels.txt</c> beside <c>model.json</c>; TFLite: the metadata's associated
    /// <c>.txt</c> file). Its line count must equal the model's class count.
    /// </summary>
    public string? LabelsPath { get; init; }
    /// <summary>Labels given in code instead of <see cref="LabelsPath"/> (same rules); <see cref="LabelsPath"/> wins when both are set.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>
    /// The classifier head of a network published as two TFLite files (<c>--head</c>): the source is then the backbone up to
    /// the pooled features, this file the logits (and softmax). Both are uint8-quantized TFLite models and the head's input
    /// quantization must equal the backbone's output; the result is one canonical model. See <see cref="MobileNetImporter.ImportPair"/>.
    /// </summary>
    public string? HeadPath { get; init; }
}

/// <summary>Imports Google's published MobileNet v1 weights into the canonical MobileNetGen safetensors representation.</summary>
public static class MobileNetImporter
{
    /// <summary>
    /// Detects the format: <c>*.pb</c> → TensorFlow frozen GraphDef; <c>model.json</c> or a directory holding
    /// <c>model.json</c> → TensorFlow.js layers model; <c>*.tflite</c> → TFLite flatbuffer. The result is validated
    /// against the architecture its metadata describes. Every problem with the input raises <see cref="ImportException"/>.
    /// </summary>
    public static SafeTensorsFile Import(string sourcePath, ImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(sourcePath);
        ArgumentNullException.ThrowIfNull(options);
        if (sourcePath.Length == 0) throw new ImportException("the source path is empty");
        if (options.HeadPath != null && !sourcePath.EndsWith(".tflite", StringComparison.OrdinalIgnoreCase))
            throw new ImportException($"'{sourcePath}': a separate classifier head (--head) is supported for TFLite models only (backbone and head both *.tflite)");
        if (Directory.Exists(sourcePath))
        {
            string json = Path.Combine(sourcePath, "model.json");
            if (File.Exists(json)) return TfjsImporter.Import(json, options);
            throw new ImportException($"'{sourcePath}' is a directory without a model.json (TF.js layers model)");
        }
        string ext = Path.GetExtension(sourcePath).ToLowerInvariant();
        if (ext == ".pb") return GraphDefImporter.Import(sourcePath, options);
        if (ext == ".tflite") return TfliteImporter.Import(sourcePath, options);
        if (ext == ".json") return TfjsImporter.Import(sourcePath, options);
        throw new ImportException($"'{sourcePath}': unknown format (expected a TensorFlow frozen graph *.pb, a TF.js model.json or its directory, or a *.tflite file)");
    }

    /// <summary>
    /// Imports a uint8-quantized MobileNet v1 published as two TFLite files — <paramref name="extractorPath"/>, the backbone up
    /// to the pooled features (e.g. Coral's <c>mobilenet_v1_1.0_224_quant_embedding_extractor.tflite</c>), and
    /// <paramref name="headPath"/>, the logits and softmax (<c>mobilenet_quant_v1_224_head_layers.tflite</c>) — as ONE canonical
    /// model (default name <c>mobilenet_v1_{α}_{res}_quant</c>). The head's input quantization (scale, zero point) and shape
    /// must equal the extractor's output. Same as <see cref="Import"/> with <see cref="ImportOptions.HeadPath"/> set.
    /// </summary>
    public static SafeTensorsFile ImportPair(string extractorPath, string headPath, ImportOptions options)
    {
        ArgumentNullException.ThrowIfNull(extractorPath);
        ArgumentNullException.ThrowIfNull(headPath);
        ArgumentNullException.ThrowIfNull(options);
        if (headPath.Length == 0) throw new ImportException("the head path is empty");
        return Import(extractorPath, new ImportOptions
        {
            Variant = options.Variant, Name = options.Name, SourceLabel = options.SourceLabel, Release = options.Release,
            LabelsPath = options.LabelsPath, Labels = options.Labels, HeadPath = headPath,
        });
    }
}
