using System.Globalization;
using System.Text.Json;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Tests.Reference;
using MobileNetGen.Tests.Reference.Tflite;

namespace MobileNetGen.Tests.ObjectDetection.Reference;

/// <summary>
/// An independent, plain scalar uint8 forward pass of the SSD detector in a canonical detector file (weights/README.md,
/// "Detector (uint8 SSD) entries"), built only from transcriptions of TFLite's reference kernels: CONV_2D
/// (<see cref="ReferenceConv"/>, <c>reference/conv.h</c>), DEPTHWISE_CONV_2D (<see cref="ReferenceDepthwiseConv"/>,
/// <c>reference/depthwiseconv_uint8.h</c>), RESHAPE and CONCATENATION (<see cref="TfliteQuantizedOpsReference"/>,
/// <c>reshape.cc</c>, <c>reference/concatenation.h</c> <c>ConcatenationWithScaling</c>), LOGISTIC (the same file,
/// <c>activations.cc</c>'s lookup table, computed per element) and <c>TFLite_Detection_PostProcess</c>
/// (<see cref="TfliteDetectionPostprocessReference"/>). uint8 image [H,W,3] → every layer's uint8 output → the uint8 box
/// encodings [N,4] and the class scores after LOGISTIC [N,C] → the detections.
/// </summary>
/// <remarks>
/// What it deliberately does NOT share with the product:
/// <list type="bullet">
/// <item>the <c>detector</c> metadata is parsed here with System.Text.Json, not <c>DetectorWeights.DetectorOf</c> / MiniJson;</item>
/// <item>output sizes and padding are computed here with TFLite's <c>padding.h</c> formulas (<see cref="TfliteQuantizationUtil"/>)
/// and the header's values are only checked against them; multipliers, shifts and activation ranges come from
/// <see cref="TfliteQuantizationUtil"/>, not <c>QuantizationMath</c>;</item>
/// <item>the canonical HWIO kernels are turned back into TFLite's OHWI here, and the kernels index them as TFLite does;</item>
/// <item>the post-processing options come from the JSON into the options holder the reference post-processing takes
/// (<see cref="DetectionPostprocessOptions"/>, a plain record of the 11 values), not through the product's mapping.</item>
/// </list>
/// Only the safetensors container reader (<see cref="SafeTensorsFile"/>) is the product's, as for the classifier references.
/// </remarks>
internal sealed class ReferenceSsd
{
    /// <summary>One convolution with its TFLite op parameters and tensors.</summary>
    public sealed class Layer
    {
        internal Layer(string name, string kind, string input) { Name = name; Kind = kind; Input = input; }
        public string Name { get; }
        /// <summary><c>conv3x3</c>, <c>depthwise3x3</c> or <c>pointwise</c>.</summary>
        public string Kind { get; }
        public string Input { get; }
        internal RuntimeShape InputShape { get; set; }
        internal RuntimeShape OutputShape { get; set; }
        internal RuntimeShape FilterShape { get; set; }
        internal byte[] Filter { get; set; } = [];
        internal int[] Bias { get; set; } = [];
        internal ConvParams? Conv { get; set; }
        internal DepthwiseParams? Depthwise { get; set; }
        public Quantization Output { get; internal set; }
        public int OutputHeight => OutputShape.Dims(1);
        public int OutputWidth => OutputShape.Dims(2);
        public int OutputChannels => OutputShape.Dims(3);
        public int OutputLength => OutputShape.FlatSize;
        /// <summary>Multiply-accumulates: each output pixel reads the whole filter (conv: O·H·W·I; depthwise: H·W·C).</summary>
        public long Macs => (long)OutputHeight * OutputWidth * FilterShape.FlatSize;
    }

    /// <summary>One head: feature map, predictors, anchors per cell (from the JSON; the rows are computed here).</summary>
    public sealed record Head(string Feature, string Box, string Class, int AnchorsPerCell, int Rows);

    /// <summary>Every output of one forward pass.</summary>
    public sealed class Result
    {
        internal Result(Dictionary<string, byte[]> layers, byte[] boxes, byte[] logits, byte[] scores, TfliteDetectionPostprocessReference.Outputs detections)
        {
            Layers = layers; BoxEncodings = boxes; ClassLogits = logits; ClassScores = scores; Detections = detections;
        }
        /// <summary>Each layer's uint8 output (NHWC), by canonical name.</summary>
        public IReadOnlyDictionary<string, byte[]> Layers { get; }
        /// <summary>The box concatenation [N,4] (after its RESHAPE to [1,N,4]: the same bytes).</summary>
        public byte[] BoxEncodings { get; }
        /// <summary>The class concatenation [N,C], before LOGISTIC.</summary>
        public byte[] ClassLogits { get; }
        /// <summary>LOGISTIC's output [N,C]: the class scores the post-processing reads.</summary>
        public byte[] ClassScores { get; }
        /// <summary>The reference post-processing's four outputs.</summary>
        public TfliteDetectionPostprocessReference.Outputs Detections { get; }
    }

    private readonly List<Layer> _layers = [];
    private readonly Dictionary<string, Layer> _byName = new(StringComparer.Ordinal);

    public ReferenceSsd(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string Meta(string key) => file.GetMetadata(key) ?? throw new InvalidOperationException($"metadata '{key}' is missing");
        if (Meta("architecture") != "ssd_mobilenet_v1") throw new InvalidOperationException("not a detector file (metadata architecture)");
        if (Meta("precision") != "uint8") throw new InvalidOperationException("not a uint8 file (metadata precision)");
        Name = Meta("name");
        using var json = JsonDocument.Parse(Meta("detector"));
        var root = json.RootElement;

        var input = root.GetProperty("input");
        var inShape = Ints(input.GetProperty("shape"));
        InputHeight = inShape[0]; InputWidth = inShape[1]; InputChannels = inShape[2];
        InputQuantization = Params(input.GetProperty("quantization"));
        Classes = root.GetProperty("classes").GetInt32();

        foreach (var l in root.GetProperty("layers").EnumerateArray()) AddLayer(file, l);

        foreach (var h in root.GetProperty("heads").EnumerateArray())
        {
            var feature = _byName[h.GetProperty("feature").GetString()!];
            int a = h.GetProperty("anchors_per_cell").GetInt32();
            var head = new Head(feature.Name, h.GetProperty("box").GetString()!, h.GetProperty("class").GetString()!, a, feature.OutputHeight * feature.OutputWidth * a);
            // The predictors' outputs must be the head's rows: 4 codes / C classes per anchor.
            if (_byName[head.Box].OutputLength != head.Rows * 4 || _byName[head.Class].OutputLength != head.Rows * Classes)
                throw new InvalidOperationException($"head on {head.Feature}: predictor sizes do not give {head.Rows} rows");
            Heads.Add(head);
        }
        AnchorCount = Heads.Sum(h => h.Rows);
        BoxConcatOutput = Params(root.GetProperty("box_concat").GetProperty("output"));
        ClassConcatOutput = Params(root.GetProperty("class_concat").GetProperty("output"));
        if (!root.GetProperty("box_concat").GetProperty("inputs").EnumerateArray().Select(e => e.GetString()).SequenceEqual(Heads.Select(h => h.Box)) ||
            !root.GetProperty("class_concat").GetProperty("inputs").EnumerateArray().Select(e => e.GetString()).SequenceEqual(Heads.Select(h => h.Class)))
            throw new InvalidOperationException("the concatenations do not take the heads' predictors in order");
        var logistic = root.GetProperty("logistic");
        LogisticInput = Params(logistic.GetProperty("input"));
        LogisticOutput = Params(logistic.GetProperty("output"));
        var anchors = root.GetProperty("anchors");
        AnchorQuantization = Params(anchors.GetProperty("quantization"));
        var anchorTensor = file.Find(anchors.GetProperty("tensor").GetString()!) ?? throw new InvalidOperationException("the anchors tensor is missing");
        if (anchorTensor.DType != TensorDType.U8 || anchorTensor.Data.Length != AnchorCount * 4) throw new InvalidOperationException($"anchors: expected U8 [{AnchorCount},4]");
        Anchors = anchorTensor.Data;

        // The 11 values TFLite's Init reads, as the file records them.
        var pp = root.GetProperty("postprocess");
        float F(string key) => float.Parse(pp.GetProperty(key).GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
        Options = new DetectionPostprocessOptions
        {
            MaxDetections = pp.GetProperty("max_detections").GetInt32(),
            MaxClassesPerDetection = pp.GetProperty("max_classes_per_detection").GetInt32(),
            DetectionsPerClass = pp.GetProperty("detections_per_class").GetInt32(),
            UseRegularNms = pp.GetProperty("use_regular_nms").GetBoolean(),
            NmsScoreThreshold = F("nms_score_threshold"),
            NmsIouThreshold = F("nms_iou_threshold"),
            NumClasses = pp.GetProperty("num_classes").GetInt32(),
            YScale = F("y_scale"), XScale = F("x_scale"), HScale = F("h_scale"), WScale = F("w_scale"),
        };
    }

    public string Name { get; }
    public int InputHeight { get; }
    public int InputWidth { get; }
    public int InputChannels { get; }
    public int InputLength => InputHeight * InputWidth * InputChannels;
    public Quantization InputQuantization { get; }
    public int Classes { get; }
    public IReadOnlyList<Layer> Layers => _layers;
    public List<Head> Heads { get; } = [];
    public int AnchorCount { get; }
    public Quantization BoxConcatOutput { get; }
    public Quantization ClassConcatOutput { get; }
    public Quantization LogisticInput { get; }
    public Quantization LogisticOutput { get; }
    public Quantization AnchorQuantization { get; }
    public byte[] Anchors { get; }
    public DetectionPostprocessOptions Options { get; }

    /// <summary>The canonical file of a weights/ entry.</summary>
    public static ReferenceSsd ForEntry(string entryName) => new(SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(entryName))));

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static Quantization Params(JsonElement e) =>
        new(float.Parse(e.GetProperty("scale").GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture), e.GetProperty("zero_point").GetInt32());

    private void AddLayer(SafeTensorsFile file, JsonElement l)
    {
        string name = l.GetProperty("name").GetString()!;
        string kind = l.GetProperty("kind").GetString()!;
        string inputName = l.GetProperty("input").GetString()!;
        int stride = l.GetProperty("stride").GetInt32();
        int inH, inW, inC;
        if (inputName == "image") (inH, inW, inC) = (InputHeight, InputWidth, InputChannels);
        else
        {
            var src = _byName[inputName]; // an earlier layer (KeyNotFoundException otherwise)
            (inH, inW, inC) = (src.OutputHeight, src.OutputWidth, src.OutputChannels);
        }
        int k = kind == "pointwise" ? 1 : 3;
        var q = l.GetProperty("quantization");
        var inQ = Params(q.GetProperty("input"));
        var wQ = Params(q.GetProperty("weight"));
        var outQ = Params(q.GetProperty("output"));
        string activation = q.GetProperty("activation").GetString()!;

        var kernel = file.Find(name + ".weight") ?? throw new InvalidOperationException($"tensor '{name}.weight' is missing");
        var bias = file.Find(name + ".bias") ?? throw new InvalidOperationException($"tensor '{name}.bias' is missing");
        if (kernel.DType != TensorDType.U8 || bias.DType != TensorDType.I32) throw new InvalidOperationException($"layer {name}: expected U8 weight and I32 bias");
        int outC = kind == "depthwise3x3" ? inC : kernel.Shape[3];

        // padding.h: ComputeOutSize(SAME) and ComputePaddingHeightWidth (padding = total / 2, offset = total % 2 after it).
        int outH = TfliteQuantizationUtil.ComputeOutSizeSame(inH, stride), outW = TfliteQuantizationUtil.ComputeOutSizeSame(inW, stride);
        int padH = TfliteQuantizationUtil.ComputePadding(stride, 1, inH, k, outH), padW = TfliteQuantizationUtil.ComputePadding(stride, 1, inW, k, outW);
        int totalH = Math.Max((outH - 1) * stride + k - inH, 0), totalW = Math.Max((outW - 1) * stride + k - inW, 0);
        // The header's claims, checked against TFLite's arithmetic (the reference computes with its own values).
        var pad = l.GetProperty("padding");
        if (!Ints(l.GetProperty("input_shape")).SequenceEqual(new[] { inH, inW, inC }) || !Ints(l.GetProperty("output_shape")).SequenceEqual(new[] { outH, outW, outC }) ||
            pad.GetProperty("top").GetInt32() != padH || pad.GetProperty("left").GetInt32() != padW ||
            pad.GetProperty("bottom").GetInt32() != totalH - padH || pad.GetProperty("right").GetInt32() != totalW - padW)
            throw new InvalidOperationException($"layer {name}: the header's shapes or padding differ from TFLite's SAME arithmetic");

        double real = TfliteQuantizationUtil.GetQuantizedConvolutionMultipler(inQ.Scale, wQ.Scale, outQ.Scale);
        TfliteQuantizationUtil.QuantizeMultiplier(real, out int multiplier, out int shift);
        TfliteQuantizationUtil.CalculateActivationRangeUint8(activation, outQ.Scale, outQ.ZeroPoint, out int actMin, out int actMax);
        var biasValues = new int[outC];
        for (int i = 0; i < outC; i++) biasValues[i] = BitConverter.ToInt32(bias.Data, 4 * i);

        var layer = new Layer(name, kind, inputName)
        {
            InputShape = new RuntimeShape(1, inH, inW, inC),
            OutputShape = new RuntimeShape(1, outH, outW, outC),
            Bias = biasValues,
            Output = outQ,
        };
        if (kind == "depthwise3x3")
        {
            // Canonical [3,3,C,1] has the memory order of TFLite's 1HWC [1,3,3,C].
            if (kernel.Data.Length != k * k * inC) throw new InvalidOperationException($"layer {name}: {kernel.Data.Length} kernel bytes");
            layer.FilterShape = new RuntimeShape(1, k, k, inC);
            layer.Filter = kernel.Data;
            layer.Depthwise = new DepthwiseParams
            {
                padding_values = new PaddingValues(padW, padH), stride_width = stride, stride_height = stride, depth_multiplier = 1,
                input_offset = -inQ.ZeroPoint, weights_offset = -wQ.ZeroPoint, output_offset = outQ.ZeroPoint, output_multiplier = multiplier, output_shift = shift,
                quantized_activation_min = actMin, quantized_activation_max = actMax,
            };
        }
        else
        {
            // Canonical HWIO [k,k,inC,outC] back to TFLite's OHWI [outC,k,k,inC].
            if (kernel.Data.Length != k * k * inC * outC) throw new InvalidOperationException($"layer {name}: {kernel.Data.Length} kernel bytes");
            var ohwi = new byte[kernel.Data.Length];
            for (int o = 0; o < outC; o++)
                for (int h = 0; h < k; h++)
                    for (int w = 0; w < k; w++)
                        for (int i = 0; i < inC; i++)
                            ohwi[((o * k + h) * k + w) * inC + i] = kernel.Data[((h * k + w) * inC + i) * outC + o];
            layer.FilterShape = new RuntimeShape(outC, k, k, inC);
            layer.Filter = ohwi;
            layer.Conv = new ConvParams
            {
                padding_values = new PaddingValues(padW, padH), stride_width = stride, stride_height = stride,
                input_offset = -inQ.ZeroPoint, weights_offset = -wQ.ZeroPoint, output_offset = outQ.ZeroPoint, output_multiplier = multiplier, output_shift = shift,
                quantized_activation_min = actMin, quantized_activation_max = actMax,
            };
        }
        _layers.Add(layer);
        _byName.Add(name, layer);
    }

    /// <summary>One layer on a given uint8 input (NHWC, the layer's input shape).</summary>
    public byte[] RunLayer(Layer s, ReadOnlySpan<byte> x)
    {
        if (x.Length != s.InputShape.FlatSize) throw new ArgumentException($"layer {s.Name} takes {s.InputShape.FlatSize} bytes {s.InputShape}");
        var y = new byte[s.OutputShape.FlatSize];
        var biasShape = new RuntimeShape(1, 1, 1, s.Bias.Length);
        if (s.Conv != null) ReferenceConv.Conv(s.Conv, s.InputShape, x, s.FilterShape, s.Filter, biasShape, s.Bias, s.OutputShape, y);
        else ReferenceDepthwiseConv.DepthwiseConv(s.Depthwise!, s.InputShape, x, s.FilterShape, s.Filter, biasShape, s.Bias, s.OutputShape, y);
        return y;
    }

    /// <summary>The whole detector on a uint8 image [H,W,3] (NHWC, the model's input quantization).</summary>
    public Result Forward(ReadOnlySpan<byte> image)
    {
        if (image.Length != InputLength) throw new ArgumentException($"the image must hold {InputLength} bytes ([{InputHeight},{InputWidth},{InputChannels}])");
        var outputs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        byte[] img = image.ToArray();
        // TFLite runs the operators in the file's order; each layer reads the image or an earlier layer.
        foreach (var l in _layers) outputs[l.Name] = RunLayer(l, l.Input == "image" ? img : outputs[l.Input]);

        // RESHAPE keeps the bytes ([1,H,W,A·k] → [1,H·W·A,(1,)k]); CONCATENATION along the anchors (outer size 1).
        var boxInputs = Heads.Select(h => TfliteQuantizedOpsReference.Reshape(outputs[h.Box])).ToList();
        var classInputs = Heads.Select(h => TfliteQuantizedOpsReference.Reshape(outputs[h.Class])).ToList();
        byte[] boxes = TfliteQuantizedOpsReference.Concatenation(boxInputs, Heads.Select(h => _byName[h.Box].Output).ToList(), Heads.Select(h => h.Rows).ToList(),
            BoxConcatOutput, outerSize: 1, baseInnerSize: 4);
        byte[] logits = TfliteQuantizedOpsReference.Concatenation(classInputs, Heads.Select(h => _byName[h.Class].Output).ToList(), Heads.Select(h => h.Rows).ToList(),
            ClassConcatOutput, outerSize: 1, baseInnerSize: Classes);
        if (LogisticInput != ClassConcatOutput) throw new InvalidOperationException("LOGISTIC's input quantization differs from the class concatenation's output");
        var scores = new byte[logits.Length];
        for (int i = 0; i < logits.Length; i++) scores[i] = TfliteQuantizedOpsReference.Logistic(logits[i], LogisticInput, LogisticOutput);
        var detections = TfliteDetectionPostprocessReference.Eval(Options, boxes, BoxConcatOutput, AnchorCount, 4, scores, LogisticOutput, Classes, Anchors, AnchorQuantization);
        return new Result(outputs, boxes, logits, scores, detections);
    }
}
