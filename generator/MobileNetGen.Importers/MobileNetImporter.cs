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
}
