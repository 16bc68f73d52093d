using System.Globalization;
using System.Text;
using MobileNetGen.Importers.Onnx;
using MobileNetGen.Model;
using static MobileNetGen.Importers.Exporters.OnnxProto;
using static MobileNetGen.Importers.Exporters.QuantizedOnnxGraph;

namespace MobileNetGen.Importers.Exporters;

/// <summary>Options of a uint8 ONNX export. Every property is optional.</summary>
public sealed class QuantizedOnnxExportOptions
{
    /// <summary>Also declare the pooled uint8 features <c>embeddings</c> [1, 1024·α] as a graph output (default true).</summary>
    public bool EmbeddingsOutput { get; init; } = true;

    /// <summary>
    /// Also declare every convolution's uint8 output as a graph output named after the layer (<c>conv0</c>,
    /// <c>block1.depthwise</c>, …; NCHW [1,C,H,W]) for per-layer comparisons (default false).
    /// </summary>
    public bool LayerOutputs { get; init; }

    /// <summary>The graph's name; defaults to the weights' metadata <c>name</c>.</summary>
    public string? GraphName { get; init; }

    /// <summary>The model's <c>producer_version</c>; defaults to <see cref="OnnxExporter.DefaultProducerVersion"/>.</summary>
    public string? ProducerVersion { get; init; }
}

/// <summary>
/// Exports a canonical uint8 MobileNet v1 (weights/README.md, "Quantized (uint8) entries") as an ONNX model that ONNX
/// Runtime runs with its integer kernels: the peer the generated integer classifiers are compared with and timed against.
/// <para>
/// The graph (opset 13 plus <c>com.microsoft</c> 1): <c>input</c> uint8 [1,R,R,3] NHWC (the quantized image: TFLite's
/// QUANTIZE of the preprocessed floats) → Transpose(0,3,1,2) → per convolution <c>QLinearConv</c> (uint8 activations and
/// weights with their scales and zero points, int32 bias; OIHW weights from the canonical HWIO, depthwise as group = C;
/// TensorFlow SAME padding as explicit pads), a uint8 <c>Clip</c> where the fused activation's range is narrower than
/// 0..255 → <c>com.microsoft.QLinearGlobalAveragePool</c> (ORT's integer global average pool; a standard GlobalAveragePool
/// would be float) → Flatten = <c>embeddings</c> uint8 [1, 1024·α] → the logits as a 1×1 <c>QLinearConv</c> on [1,C,1,1] →
/// Flatten = <c>logits</c> uint8 [1, N]. No softmax: the uint8 logits are the output.
/// </para>
/// <para>
/// ONNX Runtime requantizes in float (scale · accumulator, rounded), TFLite in fixed point (<see cref="QuantizationMath"/>),
/// so outputs may differ by one unit where the fixed-point result sits near a rounding boundary; ORT's average pool also
/// rounds differently (TFLite: (sum + n/2) / n). The output is deterministic: the same weights and options give the same bytes.
/// </para>
/// </summary>
public static class QuantizedOnnxExporter
{
    public const string InputName = "input";
    public const string LogitsName = "logits";
    public const string EmbeddingsName = "embeddings";
    /// <summary>The operator set of the default domain; QLinearConv exists since 10, Clip on uint8 since 12.</summary>
    public const int Opset = QuantizedOnnxGraph.Opset;
    public const int MicrosoftOpset = QuantizedOnnxGraph.MicrosoftOpset;
    public const string MicrosoftDomain = QuantizedOnnxGraph.MicrosoftDomain;

    /// <summary>Serializes the ONNX model of a uint8 canonical file. Throws <see cref="WeightsFormatException"/> when it is not a valid one.</summary>
    public static byte[] Export(SafeTensorsFile weights, QuantizedOnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new QuantizedOnnxExportOptions();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");

        var arch = CanonicalWeights.ArchitectureOf(weights);
        var problems = CanonicalWeights.ValidateQuantized(weights, arch);
        if (problems.Count > 0) throw new WeightsFormatException("invalid uint8 canonical weights: " + string.Join("; ", problems));
        var net = CanonicalWeights.QuantizationOf(weights);
        string name = weights.GetMetadata(CanonicalWeights.Keys.Name) ?? new VariantName(arch.Alpha, arch.Resolution, true).FileStem;
        int r = arch.Resolution;

        var graph = new GraphProto { Name = options.GraphName ?? name };
        graph.Input.Add(TensorValue(InputName, TensorProto.Types.DataType.Uint8, 1, r, r, 3));
        graph.Output.Add(TensorValue(LogitsName, TensorProto.Types.DataType.Uint8, 1, arch.NumClasses));
        if (options.EmbeddingsOutput) graph.Output.Add(TensorValue(EmbeddingsName, TensorProto.Types.DataType.Uint8, 1, arch.FeatureSize));

        string x = "input.nchw";
        graph.Node.Add(Node("Transpose", "input.transpose", new[] { InputName }, x, Ints("perm", 0, 3, 1, 2)));
        foreach (var l in arch.Layers)
        {
            switch (l.Kind)
            {
                case LayerKind.GlobalAveragePool:
                {
                    var p = net.Pool;
                    AddParams(graph, "pool.input", p.Input);
                    AddParams(graph, "pool.output", p.Output);
                    graph.Node.Add(MicrosoftNode("QLinearGlobalAveragePool", "pool", new[] { x, "pool.input.scale", "pool.input.zero_point", "pool.output.scale", "pool.output.zero_point" },
                        "pool.out", Int("channels_last", 0)));
                    x = Clamp(graph, "pool", "pool.out", p.Activation, p.Output);
                    if (options.EmbeddingsOutput) graph.Node.Add(Node("Flatten", "pool.flatten", new[] { x }, EmbeddingsName, Int("axis", 1)));
                    break;
                }
                case LayerKind.Logits:
                {
                    // QLinearConv on the pooled [1,C,1,1] map, x (the Flatten beside it feeds `embeddings` only).
                    string conv = AddConv(graph, weights, net.Layer(l.Name), l, x);
                    graph.Node.Add(Node("Flatten", "logits.flatten", new[] { conv }, LogitsName, Int("axis", 1)));
                    break;
                }
                default:
                {
                    x = AddConv(graph, weights, net.Layer(l.Name), l, x);
                    if (options.LayerOutputs)
                    {
                        // The layer's output under its own name (an Identity, so that the value keeps one producer).
                        graph.Node.Add(Node("Identity", l.Name + ".expose", new[] { x }, l.Name));
                        graph.Output.Add(TensorValue(l.Name, TensorProto.Types.DataType.Uint8, 1, l.OutC, l.OutH, l.OutW));
                    }
                    break;
                }
            }
        }

        graph.DocString = $"MobileNet v1 {arch.Alpha.ToString(CultureInfo.InvariantCulture)}_{r} uint8 ({arch.NumClasses} classes): input uint8 NHWC [1,{r},{r},3] " +
                          $"quantized with scale {CanonicalWeights.FloatText(net.Input.Scale)}, zero point {net.Input.ZeroPoint}; outputs uint8 logits [1,{arch.NumClasses}] " +
                          $"(scale {CanonicalWeights.FloatText(net.Logits.Output.Scale)}, zero point {net.Logits.Output.ZeroPoint})" +
                          (options.EmbeddingsOutput ? $" and embeddings [1,{arch.FeatureSize}]" : "") + ".";
        return Serialize(graph, DocString(weights, name), options.ProducerVersion);
    }

    private static string DocString(SafeTensorsFile weights, string name)
    {
        string Meta(string key) => weights.GetMetadata(key) ?? "(unknown)";
        var sb = new StringBuilder();
        sb.Append("MobileNetGen uint8 export of ").Append(name).Append(" from canonical weights: weights=").Append(Meta(CanonicalWeights.Keys.Weights));
        sb.Append(", source=").Append(Meta(CanonicalWeights.Keys.Source)).Append(", source_sha256=").Append(Meta(CanonicalWeights.Keys.SourceSha256));
        string? head = weights.GetMetadata(CanonicalWeights.Keys.HeadSource);
        if (head != null) sb.Append(", head_source=").Append(head).Append(", head_source_sha256=").Append(Meta(CanonicalWeights.Keys.HeadSourceSha256));
        sb.Append(". QLinearConv / QLinearGlobalAveragePool with the published scales and zero points.");
        return sb.ToString();
    }

    /// <summary>QLinearConv (+ Clip) of a classifier layer. Returns the name of the layer's output.</summary>
    private static string AddConv(GraphProto graph, SafeTensorsFile weights, QuantizedConvLayer q, LayerSpec l, string x)
    {
        byte[] k = (weights.Find(CanonicalWeights.Kernel(l)) ?? throw new WeightsFormatException($"tensor '{CanonicalWeights.Kernel(l)}' is missing")).Data; // HWIO
        int[] bias = (weights.Find(CanonicalWeights.Bias(l)) ?? throw new WeightsFormatException($"tensor '{CanonicalWeights.Bias(l)}' is missing")).ToInt32s();
        var kind = l.Kind switch
        {
            LayerKind.Conv3x3 => QuantizedConvKind.Conv3x3,
            LayerKind.Depthwise3x3 => QuantizedConvKind.Depthwise3x3,
            _ => QuantizedConvKind.Pointwise, // pointwise and the logits (1×1 on the pooled map)
        };
        return QuantizedOnnxGraph.AddConv(graph, l.Name, x, q, kind, l.InC, l.OutC, l.Stride, l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, k, bias);
    }
}
