namespace MobileNetGen.Importers.Exporters;

/// <summary>Options of an ONNX export. Every property is optional.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Also declare the pooled feature vector <c>embeddings</c> [1, 1024·α] as a graph output (default true).</summary>
    public bool EmbeddingsOutput { get; init; } = true;

    /// <summary>The graph's name; defaults to the weights' metadata <c>name</c> (else <c>mobilenet_v1_{variant}</c>).</summary>
    public string? GraphName { get; init; }

    /// <summary>The model's <c>producer_version</c>; defaults to <see cref="OnnxExporter.DefaultProducerVersion"/>.</summary>
    public string? ProducerVersion { get; init; }
}
