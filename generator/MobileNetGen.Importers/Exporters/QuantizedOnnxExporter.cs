using System.Globalization;
using System.Text;
using Google.Protobuf;
using MobileNetGen.Importers.Onnx;
using MobileNetGen.Model;
using static MobileNetGen.Importers.Exporters.OnnxProto;

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
    public const int Opset = 13;
    public const int MicrosoftOpset = 1;
    public const string MicrosoftDomain = "com.microsoft";

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
                    var pool = Node("QLinearGlobalAveragePool", "pool", new[] { x, "pool.input.scale", "pool.input.zero_point", "pool.output.scale", "pool.output.zero_point" },
                        "pool.out", Int("channels_last", 0));
                    pool.Domain = MicrosoftDomain;
                    graph.Node.Add(pool);
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
        var model = new ModelProto
        {
            IrVersion = OnnxExporter.IrVersion,
            ProducerName = OnnxExporter.ProducerName,
            ProducerVersion = options.ProducerVersion ?? OnnxExporter.DefaultProducerVersion,
            DocString = DocString(weights, name),
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = MicrosoftOpset });
        return model.ToByteArray();
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

    /// <summary>A tensor's scale (float scalar) and zero point (uint8 scalar) initializers, <c>{prefix}.scale</c> and <c>{prefix}.zero_point</c>.</summary>
    private static void AddParams(GraphProto graph, string prefix, QuantParams p)
    {
        graph.Initializer.Add(FloatTensor(prefix + ".scale", Array.Empty<long>(), new[] { p.Scale }));
        graph.Initializer.Add(UInt8Tensor(prefix + ".zero_point", Array.Empty<long>(), new[] { checked((byte)p.ZeroPoint) }));
    }

    /// <summary>
    /// The fused activation: a uint8 Clip to [quantize(0), quantize(6)] (TFLite's <c>CalculateActivationRangeUint8</c>) where
    /// that is narrower than 0..255; the QLinear ops' own saturation covers the rest. Returns the activation's name.
    /// </summary>
    private static string Clamp(GraphProto graph, string layer, string input, QuantizedActivation activation, QuantParams output)
    {
        var (min, max) = QuantizationMath.CalculateActivationRangeUint8(activation, output.Scale, output.ZeroPoint);
        if (min <= 0 && max >= 255) return input;
        string lo = layer + ".clip.min", hi = layer + ".clip.max", clamped = layer + ".clamped";
        graph.Initializer.Add(UInt8Tensor(lo, Array.Empty<long>(), new[] { (byte)Math.Max(min, 0) }));
        graph.Initializer.Add(UInt8Tensor(hi, Array.Empty<long>(), new[] { (byte)Math.Min(max, 255) }));
        graph.Node.Add(Node("Clip", layer + ".clip", new[] { input, lo, hi }, clamped));
        return clamped;
    }

    /// <summary>QLinearConv (+ Clip). Returns the name of the layer's output.</summary>
    private static string AddConv(GraphProto graph, SafeTensorsFile weights, QuantizedConvLayer q, LayerSpec l, string x)
    {
        byte[] k = (weights.Find(CanonicalWeights.Kernel(l)) ?? throw new WeightsFormatException($"tensor '{CanonicalWeights.Kernel(l)}' is missing")).Data; // HWIO
        int[] bias = (weights.Find(CanonicalWeights.Bias(l)) ?? throw new WeightsFormatException($"tensor '{CanonicalWeights.Bias(l)}' is missing")).ToInt32s();
        byte[] w = new byte[k.Length];
        long[] dims;
        int group = 1, kh;
        switch (l.Kind)
        {
            case LayerKind.Conv3x3:
            {
                int cin = l.InC, cout = l.OutC; // HWIO [3,3,Cin,Cout] → OIHW [Cout,Cin,3,3]
                for (int h = 0; h < 3; h++)
                    for (int ww = 0; ww < 3; ww++)
                        for (int i = 0; i < cin; i++)
                            for (int o = 0; o < cout; o++)
                                w[((o * cin + i) * 3 + h) * 3 + ww] = k[((h * 3 + ww) * cin + i) * cout + o];
                dims = new long[] { cout, cin, 3, 3 };
                kh = 3;
                break;
            }
            case LayerKind.Depthwise3x3:
            {
                int c = l.InC; // HWIO [3,3,C,1] → [C,1,3,3], group = C
                for (int h = 0; h < 3; h++)
                    for (int ww = 0; ww < 3; ww++)
                        for (int ch = 0; ch < c; ch++)
                            w[(ch * 3 + h) * 3 + ww] = k[(h * 3 + ww) * c + ch];
                dims = new long[] { c, 1, 3, 3 };
                group = c;
                kh = 3;
                break;
            }
            default:
            {
                int cin = l.InC, cout = l.OutC; // [1,1,Cin,Cout] → [Cout,Cin,1,1]
                for (int i = 0; i < cin; i++)
                    for (int o = 0; o < cout; o++)
                        w[o * cin + i] = k[i * cout + o];
                dims = new long[] { cout, cin, 1, 1 };
                kh = 1;
                break;
            }
        }
        string p = l.Name;
        AddParams(graph, p + ".input", q.Input);
        AddParams(graph, p + ".weight", q.Weight);
        AddParams(graph, p + ".output", q.Output);
        graph.Initializer.Add(UInt8Tensor(p + ".weight", dims, w));
        graph.Initializer.Add(Int32Tensor(p + ".bias", new long[] { l.OutC }, bias));
        string conv = p + ".conv";
        graph.Node.Add(Node("QLinearConv", p,
            new[] { x, p + ".input.scale", p + ".input.zero_point", p + ".weight", p + ".weight.scale", p + ".weight.zero_point",
                    p + ".output.scale", p + ".output.zero_point", p + ".bias" }, conv,
            Ints("dilations", 1, 1),
            Int("group", group),
            Ints("kernel_shape", kh, kh),
            // ONNX pads: [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right]; 0 for the 1×1 layers.
            Ints("pads", l.PadTop, l.PadLeft, l.PadBottom, l.PadRight),
            Ints("strides", l.Stride, l.Stride)));
        return Clamp(graph, p, conv, q.Activation, q.Output);
    }
}
