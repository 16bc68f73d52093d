using Google.Protobuf;
using MobileNetGen.Importers.Onnx;
using MobileNetGen.Model;
using static MobileNetGen.Importers.Exporters.OnnxProto;

namespace MobileNetGen.Importers.Exporters;

/// <summary>The kernel layout of a uint8 convolution, as both canonical formats (classifier and detector) store it: HWIO.</summary>
internal enum QuantizedConvKind
{
    /// <summary>Full 3×3, HWIO [3,3,Cin,Cout].</summary>
    Conv3x3,
    /// <summary>Depthwise 3×3, depth multiplier 1, [3,3,C,1].</summary>
    Depthwise3x3,
    /// <summary>1×1, [1,1,Cin,Cout].</summary>
    Pointwise,
}

/// <summary>
/// The building blocks of the uint8 ONNX exports (<see cref="QuantizedOnnxExporter"/>, <see cref="DetectorOnnxExporter"/>):
/// scale / zero-point initializers, TFLite's fused activation as a uint8 <c>Clip</c>, and a <c>QLinearConv</c> from a
/// canonical HWIO kernel. Each appends to the graph in a fixed order, so that an export is deterministic.
/// </summary>
internal static class QuantizedOnnxGraph
{
    /// <summary>The operator set of the default domain; QLinearConv exists since 10, Clip on uint8 since 12.</summary>
    public const int Opset = 13;
    public const int MicrosoftOpset = 1;
    /// <summary>ONNX Runtime's contrib operators (QLinearGlobalAveragePool, QLinearConcat, QLinearSigmoid).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>A node of ONNX Runtime's contrib domain.</summary>
    public static NodeProto MicrosoftNode(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = Node(op, name, inputs, output, attributes);
        node.Domain = MicrosoftDomain;
        return node;
    }

    /// <summary>The serialized model: MobileNetGen as producer, opset <see cref="Opset"/> and <c>com.microsoft</c> <see cref="MicrosoftOpset"/>.</summary>
    public static byte[] Serialize(GraphProto graph, string docString, string? producerVersion)
    {
        var model = new ModelProto
        {
            IrVersion = OnnxExporter.IrVersion,
            ProducerName = OnnxExporter.ProducerName,
            ProducerVersion = producerVersion ?? OnnxExporter.DefaultProducerVersion,
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = MicrosoftOpset });
        return model.ToByteArray();
    }

    /// <summary>A tensor's scale (float scalar) and zero point (uint8 scalar) initializers, <c>{prefix}.scale</c> and <c>{prefix}.zero_point</c>.</summary>
    public static void AddParams(GraphProto graph, string prefix, QuantParams p)
    {
        graph.Initializer.Add(FloatTensor(prefix + ".scale", Array.Empty<long>(), new[] { p.Scale }));
        graph.Initializer.Add(UInt8Tensor(prefix + ".zero_point", Array.Empty<long>(), new[] { checked((byte)p.ZeroPoint) }));
    }

    /// <summary>
    /// The fused activation: a uint8 Clip to [quantize(0), quantize(6)] (TFLite's <c>CalculateActivationRangeUint8</c>) where
    /// that is narrower than 0..255; the QLinear ops' own saturation covers the rest. Returns the activation's name.
    /// </summary>
    public static string Clamp(GraphProto graph, string layer, string input, QuantizedActivation activation, QuantParams output)
    {
        var (min, max) = QuantizationMath.CalculateActivationRangeUint8(activation, output.Scale, output.ZeroPoint);
        if (min <= 0 && max >= 255) return input;
        string lo = layer + ".clip.min", hi = layer + ".clip.max", clamped = layer + ".clamped";
        graph.Initializer.Add(UInt8Tensor(lo, Array.Empty<long>(), new[] { (byte)Math.Max(min, 0) }));
        graph.Initializer.Add(UInt8Tensor(hi, Array.Empty<long>(), new[] { (byte)Math.Min(max, 255) }));
        graph.Node.Add(Node("Clip", layer + ".clip", new[] { input, lo, hi }, clamped));
        return clamped;
    }

    /// <summary>
    /// QLinearConv of <paramref name="x"/> (NCHW) named <paramref name="name"/> (+ Clip for the fused activation): the HWIO kernel
    /// <paramref name="hwio"/> repacked to OIHW (depthwise as [C,1,3,3], group = C), the int32 bias, the input / weight / output
    /// scales and zero points of <paramref name="q"/>, TensorFlow SAME padding as explicit pads. Returns the layer's output name.
    /// </summary>
    public static string AddConv(GraphProto graph, string name, string x, QuantizedConvLayer q, QuantizedConvKind kind, int inC, int outC, int stride,
                                 int padTop, int padLeft, int padBottom, int padRight, byte[] hwio, int[] bias)
    {
        byte[] w = new byte[hwio.Length];
        long[] dims;
        int group = 1, kh;
        switch (kind)
        {
            case QuantizedConvKind.Conv3x3:
            {
                int cin = inC, cout = outC; // HWIO [3,3,Cin,Cout] → OIHW [Cout,Cin,3,3]
                for (int h = 0; h < 3; h++)
                    for (int ww = 0; ww < 3; ww++)
                        for (int i = 0; i < cin; i++)
                            for (int o = 0; o < cout; o++)
                                w[((o * cin + i) * 3 + h) * 3 + ww] = hwio[((h * 3 + ww) * cin + i) * cout + o];
                dims = new long[] { cout, cin, 3, 3 };
                kh = 3;
                break;
            }
            case QuantizedConvKind.Depthwise3x3:
            {
                int c = inC; // HWIO [3,3,C,1] → [C,1,3,3], group = C
                for (int h = 0; h < 3; h++)
                    for (int ww = 0; ww < 3; ww++)
                        for (int ch = 0; ch < c; ch++)
                            w[(ch * 3 + h) * 3 + ww] = hwio[(h * 3 + ww) * c + ch];
                dims = new long[] { c, 1, 3, 3 };
                group = c;
                kh = 3;
                break;
            }
            default:
            {
                int cin = inC, cout = outC; // [1,1,Cin,Cout] → [Cout,Cin,1,1]
                for (int i = 0; i < cin; i++)
                    for (int o = 0; o < cout; o++)
                        w[o * cin + i] = hwio[i * cout + o];
                dims = new long[] { cout, cin, 1, 1 };
                kh = 1;
                break;
            }
        }
        string p = name;
        AddParams(graph, p + ".input", q.Input);
        AddParams(graph, p + ".weight", q.Weight);
        AddParams(graph, p + ".output", q.Output);
        graph.Initializer.Add(UInt8Tensor(p + ".weight", dims, w));
        graph.Initializer.Add(Int32Tensor(p + ".bias", new long[] { outC }, bias));
        string conv = p + ".conv";
        graph.Node.Add(Node("QLinearConv", p,
            new[] { x, p + ".input.scale", p + ".input.zero_point", p + ".weight", p + ".weight.scale", p + ".weight.zero_point",
                    p + ".output.scale", p + ".output.zero_point", p + ".bias" }, conv,
            Ints("dilations", 1, 1),
            Int("group", group),
            Ints("kernel_shape", kh, kh),
            // ONNX pads: [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right]; 0 for the 1×1 layers.
            Ints("pads", padTop, padLeft, padBottom, padRight),
            Ints("strides", stride, stride)));
        return Clamp(graph, p, conv, q.Activation, q.Output);
    }
}
