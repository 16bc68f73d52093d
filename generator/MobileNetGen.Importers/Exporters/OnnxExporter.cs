using System.Text;
using Google.Protobuf;
using MobileNetGen.Importers.Onnx;
using MobileNetGen.Model;
using static MobileNetGen.Importers.Exporters.OnnxProto;

namespace MobileNetGen.Importers.Exporters;

/// <summary>
/// Exports canonical MobileNetGen weights (see weights/README.md) as an ONNX model (opset 13), so that ONNX Runtime can
/// run exactly our weights as a correctness and speed baseline.
/// <para>
/// The graph: <c>input</c> float [1,R,R,3] NHWC (the same preprocessed input the generated classifiers take) →
/// Transpose(0,3,1,2) → per convolution layer Conv (BatchNorm folded: weight·scale[out] in float, bias = BN offset;
/// TensorFlow SAME padding as explicit pads) → Clip(0, 6) → … → GlobalAveragePool → Flatten = <c>embeddings</c>
/// [1, 1024·α] → Gemm → <c>logits</c> [1, N]. 8-bit kernels are dequantized with TensorFlow's MIN_FIRST rule
/// (<see cref="CanonicalWeights.KernelValues"/>) before folding. Initializers are little-endian float32 <c>raw_data</c>.
/// The output is deterministic: the same weights and options give the same bytes.
/// </para>
/// </summary>
public static class OnnxExporter
{
    public const string ProducerName = "MobileNetGen";
    public const string DefaultProducerVersion = "1.0";
    /// <summary>The ONNX operator set the graph is written against.</summary>
    public const int Opset = 13;
    /// <summary>IR version 7 is the one that goes with opset 13 (ONNX 1.8).</summary>
    public const int IrVersion = 7;

    public const string InputName = "input";
    public const string LogitsName = "logits";
    public const string EmbeddingsName = "embeddings";

    private const string Relu6Min = "relu6.min";
    private const string Relu6Max = "relu6.max";

    /// <summary>Serializes the ONNX model of <paramref name="weights"/>. Throws <see cref="WeightsFormatException"/> when the weights are not valid canonical weights.</summary>
    public static byte[] Export(SafeTensorsFile weights, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new OnnxExportOptions();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");

        var arch = CanonicalWeights.ArchitectureOf(weights);
        var problems = CanonicalWeights.Validate(weights, arch);
        if (problems.Count > 0) throw new WeightsFormatException("invalid canonical weights: " + string.Join("; ", problems));

        string variant = weights.GetMetadata(CanonicalWeights.Keys.Variant)
            ?? new VariantName(arch.Alpha, arch.Resolution).ToString();
        string name = weights.GetMetadata(CanonicalWeights.Keys.Name) ?? "mobilenet_v1_" + variant;
        int r = arch.Resolution;

        var graph = new GraphProto { Name = options.GraphName ?? name };
        graph.Input.Add(TensorValue(InputName, TensorProto.Types.DataType.Float, 1, r, r, 3));
        graph.Output.Add(TensorValue(LogitsName, TensorProto.Types.DataType.Float, 1, arch.NumClasses));
        if (options.EmbeddingsOutput) graph.Output.Add(TensorValue(EmbeddingsName, TensorProto.Types.DataType.Float, 1, arch.FeatureSize));

        graph.Initializer.Add(FloatTensor(Relu6Min, Array.Empty<long>(), new[] { 0f }));
        graph.Initializer.Add(FloatTensor(Relu6Max, Array.Empty<long>(), new[] { 6f }));

        string x = "input.nchw";
        graph.Node.Add(Node("Transpose", "input.transpose", new[] { InputName }, x, Ints("perm", 0, 3, 1, 2)));

        foreach (var l in arch.Layers)
        {
            switch (l.Kind)
            {
                case LayerKind.Conv3x3:
                case LayerKind.Depthwise3x3:
                case LayerKind.Pointwise:
                    x = AddConv(graph, weights, l, x);
                    break;
                case LayerKind.GlobalAveragePool:
                    graph.Node.Add(Node("GlobalAveragePool", l.Name, new[] { x }, l.Name + ".out"));
                    graph.Node.Add(Node("Flatten", l.Name + ".flatten", new[] { l.Name + ".out" }, EmbeddingsName, Int("axis", 1)));
                    x = EmbeddingsName;
                    break;
                case LayerKind.Logits:
                {
                    // Canonical [1,1,C,N] is already Gemm's B [C,N] (row-major), so no transpose.
                    float[] w = CanonicalWeights.KernelValues(weights, l);
                    graph.Initializer.Add(FloatTensor(l.Name + ".weight", new long[] { l.InC, l.OutC }, w));
                    graph.Initializer.Add(FloatTensor(l.Name + ".bias", new long[] { l.OutC }, Floats(weights, CanonicalWeights.Bias(l))));
                    graph.Node.Add(Node("Gemm", l.Name, new[] { x, l.Name + ".weight", l.Name + ".bias" }, LogitsName));
                    x = LogitsName;
                    break;
                }
                default:
                    throw new InvalidOperationException("unknown layer kind " + l.Kind);
            }
        }

        graph.DocString = $"MobileNet v1 {variant} ({arch.NumClasses} classes): input NHWC [1,{r},{r},3] preprocessed to [-1,1]; " +
                          $"outputs logits [1,{arch.NumClasses}]" + (options.EmbeddingsOutput ? $" and embeddings [1,{arch.FeatureSize}]" : "") + ".";

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = options.ProducerVersion ?? DefaultProducerVersion,
            DocString = DocString(weights, name, variant),
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }

    /// <summary>One line naming the entry and its provenance, from the weights' metadata.</summary>
    private static string DocString(SafeTensorsFile weights, string name, string variant)
    {
        string Meta(string key) => weights.GetMetadata(key) ?? "(unknown)";
        var sb = new StringBuilder();
        sb.Append("MobileNetGen export of ").Append(name).Append(" (MobileNet v1 ").Append(variant).Append(") from canonical weights");
        sb.Append(": weights=").Append(Meta(CanonicalWeights.Keys.Weights));
        sb.Append(", source=").Append(Meta(CanonicalWeights.Keys.Source));
        sb.Append(", source_sha256=").Append(Meta(CanonicalWeights.Keys.SourceSha256));
        string? release = weights.GetMetadata(CanonicalWeights.Keys.Release);
        if (release != null) sb.Append(", release=").Append(release);
        string? seed = weights.GetMetadata(CanonicalWeights.Keys.Seed);
        if (seed != null) sb.Append(", synthetic_seed=").Append(seed);
        sb.Append(". BatchNorm folded into the convolutions; 8-bit kernels dequantized with TensorFlow's MIN_FIRST rule.");
        return sb.ToString();
    }

    /// <summary>Conv (BN folded) + Clip(0,6). Returns the name of the activation.</summary>
    private static string AddConv(GraphProto graph, SafeTensorsFile weights, LayerSpec l, string x)
    {
        float[] k = CanonicalWeights.KernelValues(weights, l); // HWIO
        float[] scale = Floats(weights, CanonicalWeights.Scale(l));
        float[] bias = Floats(weights, CanonicalWeights.Bias(l));
        float[] w;
        long[] dims;
        int group = 1, kh;
        switch (l.Kind)
        {
            case LayerKind.Conv3x3:
            {
                // HWIO [3,3,Cin,Cout] → OIHW [Cout,Cin,3,3]
                int cin = l.InC, cout = l.OutC;
                w = new float[k.Length];
                for (int h = 0; h < 3; h++)
                    for (int ww = 0; ww < 3; ww++)
                        for (int i = 0; i < cin; i++)
                            for (int o = 0; o < cout; o++)
                                w[((o * cin + i) * 3 + h) * 3 + ww] = k[((h * 3 + ww) * cin + i) * cout + o] * scale[o];
                dims = new long[] { cout, cin, 3, 3 };
                kh = 3;
                break;
            }
            case LayerKind.Depthwise3x3:
            {
                // HWIO [3,3,C,1] → [C,1,3,3], group = C
                int c = l.InC;
                w = new float[k.Length];
                for (int h = 0; h < 3; h++)
                    for (int ww = 0; ww < 3; ww++)
                        for (int ch = 0; ch < c; ch++)
                            w[(ch * 3 + h) * 3 + ww] = k[(h * 3 + ww) * c + ch] * scale[ch];
                dims = new long[] { c, 1, 3, 3 };
                group = c;
                kh = 3;
                break;
            }
            default:
            {
                // [1,1,Cin,Cout] → [Cout,Cin,1,1]
                int cin = l.InC, cout = l.OutC;
                w = new float[k.Length];
                for (int i = 0; i < cin; i++)
                    for (int o = 0; o < cout; o++)
                        w[o * cin + i] = k[i * cout + o] * scale[o];
                dims = new long[] { cout, cin, 1, 1 };
                kh = 1;
                break;
            }
        }
        graph.Initializer.Add(FloatTensor(l.Name + ".weight", dims, w));
        graph.Initializer.Add(FloatTensor(l.Name + ".bias", new long[] { l.OutC }, bias));

        string conv = l.Name + ".conv", act = l.Name + ".relu6";
        graph.Node.Add(Node("Conv", l.Name, new[] { x, l.Name + ".weight", l.Name + ".bias" }, conv,
            Ints("dilations", 1, 1),
            Int("group", group),
            Ints("kernel_shape", kh, kh),
            // ONNX pads: [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right].
            Ints("pads", l.PadTop, l.PadLeft, l.PadBottom, l.PadRight),
            Ints("strides", l.Stride, l.Stride)));
        graph.Node.Add(Node("Clip", l.Name + ".clip", new[] { conv, Relu6Min, Relu6Max }, act));
        return act;
    }

    private static float[] Floats(SafeTensorsFile weights, string tensor) =>
        (weights.Find(tensor) ?? throw new WeightsFormatException($"tensor '{tensor}' is missing")).ToFloats();
}
