using System.Globalization;
using System.Text;
using MobileNetGen.Importers.Onnx;
using MobileNetGen.Model;
using static MobileNetGen.Importers.Exporters.OnnxProto;
using static MobileNetGen.Importers.Exporters.QuantizedOnnxGraph;

namespace MobileNetGen.Importers.Exporters;

/// <summary>Options of a uint8 SSD detector ONNX export. Every property is optional.</summary>
public sealed class DetectorOnnxExportOptions
{
    /// <summary>
    /// Also declare every convolution's uint8 output as a graph output named after the layer (<c>conv0</c>,
    /// <c>extra1.conv3x3</c>, <c>box0</c>, <c>class5</c>, …; NCHW [1,C,H,W]) for per-layer comparisons (default false).
    /// </summary>
    public bool LayerOutputs { get; init; }

    /// <summary>
    /// Also declare the class concatenation before the sigmoid, <c>class_logits</c> uint8 [1,N,C] (quantized with the class
    /// concatenation's output scale and zero point), as a graph output (default false).
    /// </summary>
    public bool ClassLogitsOutput { get; init; }

    /// <summary>The graph's name; defaults to the weights' metadata <c>name</c>.</summary>
    public string? GraphName { get; init; }

    /// <summary>The model's <c>producer_version</c>; defaults to <see cref="OnnxExporter.DefaultProducerVersion"/>.</summary>
    public string? ProducerVersion { get; init; }
}

/// <summary>
/// Exports a canonical uint8 SSD MobileNet v1 detector (weights/README.md, "Detector (uint8 SSD) entries";
/// <see cref="DetectorWeights"/>) as an ONNX model that ONNX Runtime runs with its integer kernels: the peer the generated
/// detectors (<c>MobileNetDetector</c>) are compared with and timed against. It stops where TFLite's graph hands over to
/// <c>TFLite_Detection_PostProcess</c>: the outputs are the raw uint8 box encodings and class scores.
/// <para>
/// The graph (opset 13 plus <c>com.microsoft</c> 1): <c>input</c> uint8 [1,H,W,3] NHWC (the quantized image, as
/// <c>DetectorPreprocessor</c> writes it) → Transpose(0,3,1,2) → every backbone, extra and predictor convolution in the file's
/// order as <c>QLinearConv</c> (OIHW weights from the canonical HWIO, depthwise as group = C, TensorFlow SAME padding as
/// explicit pads) with a uint8 <c>Clip</c> where the fused activation's range is narrower than 0..255 (the predictors have no
/// activation) → per head, each predictor's [1,A·k,H,W] → Transpose(0,2,3,1) → Reshape [1,H·W·A,k] (TFLite's RESHAPE of the
/// NHWC bytes: anchor (y·W + x)·A + a) → <c>com.microsoft.QLinearConcat</c> of the heads along axis 1, each input with its own
/// scale and zero point, into the concatenation's output quantization → <c>box_encodings</c> uint8 [1,N,4] and, through
/// <c>com.microsoft.QLinearSigmoid</c> (input: LOGISTIC's input quantization, output: 1/256 and 0), <c>class_scores</c>
/// uint8 [1,N,C].
/// </para>
/// <para>
/// ONNX Runtime requantizes in float where TFLite works in fixed point: QLinearConv rounds scale · accumulator once (TFLite:
/// <c>MultiplyByQuantizedMultiplier</c>, two roundings), QLinearConcat requantizes through a 256-entry table of
/// round-half-to-even(dequantized / s_out) (TFLite's <c>ConcatenationWithScaling</c>: round-half-away of q·s_in/s_out + bias), and
/// QLinearSigmoid tabulates the float sigmoid (TFLite: gemmlowp's fixed-point logistic). Outputs may therefore differ from
/// TFLite's by a unit here and there, and those differences propagate through the network. The export is deterministic.
/// </para>
/// </summary>
public static class DetectorOnnxExporter
{
    public const string InputName = "input";
    public const string BoxEncodingsName = "box_encodings";
    public const string ClassScoresName = "class_scores";
    /// <summary>The class concatenation before the sigmoid (a graph output with <see cref="DetectorOnnxExportOptions.ClassLogitsOutput"/>).</summary>
    public const string ClassLogitsName = "class_logits";
    /// <summary>The operator set of the default domain; QLinearConv exists since 10, Clip on uint8 since 12.</summary>
    public const int Opset = QuantizedOnnxGraph.Opset;
    public const int MicrosoftOpset = QuantizedOnnxGraph.MicrosoftOpset;
    public const string MicrosoftDomain = QuantizedOnnxGraph.MicrosoftDomain;

    /// <summary>Serializes the ONNX model of a canonical detector file. Throws <see cref="WeightsFormatException"/> when it is not a valid one.</summary>
    public static byte[] Export(SafeTensorsFile weights, DetectorOnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new DetectorOnnxExportOptions();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");

        var problems = DetectorWeights.ValidateDetector(weights);
        if (problems.Count > 0) throw new WeightsFormatException("invalid uint8 detector weights: " + string.Join("; ", problems));
        var net = DetectorWeights.DetectorOf(weights);
        string name = weights.GetMetadata(CanonicalWeights.Keys.Name) ?? DetectorWeights.Architecture;
        int h = net.InputShape[0], w = net.InputShape[1], c = net.InputShape[2];
        int rows = net.BoxConcat.Rows;

        var graph = new GraphProto { Name = options.GraphName ?? name };
        graph.Input.Add(TensorValue(InputName, TensorProto.Types.DataType.Uint8, 1, h, w, c));
        graph.Output.Add(TensorValue(BoxEncodingsName, TensorProto.Types.DataType.Uint8, 1, rows, net.BoxConcat.Columns));
        graph.Output.Add(TensorValue(ClassScoresName, TensorProto.Types.DataType.Uint8, 1, rows, net.ClassConcat.Columns));
        if (options.ClassLogitsOutput) graph.Output.Add(TensorValue(ClassLogitsName, TensorProto.Types.DataType.Uint8, 1, rows, net.ClassConcat.Columns));

        // Every convolution in the file's order; each reads the image or an earlier layer's (activated) output.
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { [DetectorWeights.ImageInput] = "input.nchw" };
        graph.Node.Add(Node("Transpose", "input.transpose", new[] { InputName }, "input.nchw", Ints("perm", 0, 3, 1, 2)));
        foreach (var l in net.Layers)
        {
            byte[] kernel = (weights.Find(l.WeightTensor) ?? throw new WeightsFormatException($"tensor '{l.WeightTensor}' is missing")).Data; // HWIO
            int[] bias = (weights.Find(l.BiasTensor) ?? throw new WeightsFormatException($"tensor '{l.BiasTensor}' is missing")).ToInt32s();
            var kind = l.Kind switch
            {
                DetectorLayerKind.Conv3x3 => QuantizedConvKind.Conv3x3,
                DetectorLayerKind.Depthwise3x3 => QuantizedConvKind.Depthwise3x3,
                _ => QuantizedConvKind.Pointwise,
            };
            string y = AddConv(graph, l.Name, values[l.Input], l.Quantization, kind, l.InC, l.OutC, l.Stride, l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, kernel, bias);
            values[l.Name] = y;
            if (options.LayerOutputs)
            {
                // The layer's output under its own name (an Identity, so that the value keeps one producer).
                graph.Node.Add(Node("Identity", l.Name + ".expose", new[] { y }, l.Name));
                graph.Output.Add(TensorValue(l.Name, TensorProto.Types.DataType.Uint8, 1, l.OutC, l.OutH, l.OutW));
            }
        }

        // RESHAPE of each predictor to its rows: NCHW → NHWC (TFLite's byte order), then [1, H·W·A, k].
        string Rows(string predictor, int columns)
        {
            var l = net.Layer(predictor);
            string nhwc = predictor + ".nhwc", shape = predictor + ".rows_shape", rowsName = predictor + ".rows";
            graph.Node.Add(Node("Transpose", predictor + ".transpose", new[] { values[predictor] }, nhwc, Ints("perm", 0, 2, 3, 1)));
            graph.Initializer.Add(Int64Tensor(shape, new long[] { 3 }, new long[] { 1, (long)l.OutH * l.OutW * l.OutC / columns, columns }));
            graph.Node.Add(Node("Reshape", predictor + ".reshape", new[] { nhwc, shape }, rowsName));
            return rowsName;
        }

        // CONCATENATION along the anchors: QLinearConcat(Y_scale, Y_zero_point, (X_i, X_i_scale, X_i_zero_point)…).
        void Concat(string key, DetectorConcat concat, string output)
        {
            AddParams(graph, key + ".output", concat.Output);
            var inputs = new List<string> { key + ".output.scale", key + ".output.zero_point" };
            foreach (string predictor in concat.Inputs)
            {
                // Input i keeps its predictor's output quantization (RESHAPE does not change it): the layer's own initializers.
                inputs.Add(Rows(predictor, concat.Columns));
                inputs.Add(predictor + ".output.scale");
                inputs.Add(predictor + ".output.zero_point");
            }
            graph.Node.Add(MicrosoftNode("QLinearConcat", key, inputs.ToArray(), output, Int("axis", 1)));
        }
        Concat("box_concat", net.BoxConcat, BoxEncodingsName);
        Concat("class_concat", net.ClassConcat, ClassLogitsName);

        // LOGISTIC: QLinearSigmoid with LOGISTIC's input and output quantization (1/256, 0).
        AddParams(graph, "logistic.input", net.Logistic.Input);
        AddParams(graph, "logistic.output", net.Logistic.Output);
        graph.Node.Add(MicrosoftNode("QLinearSigmoid", "logistic",
            new[] { ClassLogitsName, "logistic.input.scale", "logistic.input.zero_point", "logistic.output.scale", "logistic.output.zero_point" }, ClassScoresName));

        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        graph.DocString = $"SSD MobileNet v1 uint8 detector ({I(net.Classes)} class columns, {I(rows)} anchors): input uint8 NHWC [1,{I(h)},{I(w)},{I(c)}] " +
                          $"quantized with scale {CanonicalWeights.FloatText(net.Input.Scale)}, zero point {I(net.Input.ZeroPoint)}; outputs uint8 " +
                          $"{BoxEncodingsName} [1,{I(rows)},{I(net.BoxConcat.Columns)}] (scale {CanonicalWeights.FloatText(net.BoxConcat.Output.Scale)}, zero point {I(net.BoxConcat.Output.ZeroPoint)}) " +
                          $"and {ClassScoresName} [1,{I(rows)},{I(net.ClassConcat.Columns)}] after the sigmoid (scale {CanonicalWeights.FloatText(net.Logistic.Output.Scale)}, " +
                          $"zero point {I(net.Logistic.Output.ZeroPoint)}), before TFLite_Detection_PostProcess.";
        return Serialize(graph, DocString(weights, name), options.ProducerVersion);
    }

    private static string DocString(SafeTensorsFile weights, string name)
    {
        string Meta(string key) => weights.GetMetadata(key) ?? "(unknown)";
        var sb = new StringBuilder();
        sb.Append("MobileNetGen uint8 detector export of ").Append(name).Append(" from canonical weights: weights=").Append(Meta(CanonicalWeights.Keys.Weights));
        sb.Append(", source=").Append(Meta(CanonicalWeights.Keys.Source)).Append(", source_sha256=").Append(Meta(CanonicalWeights.Keys.SourceSha256));
        sb.Append(". QLinearConv / QLinearConcat / QLinearSigmoid with the published scales and zero points; no post-processing.");
        return sb.ToString();
    }
}
