using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MobileNetGen.Model
{
    /// <summary>What a detector layer computes (all with TensorFlow SAME padding, dilation 1).</summary>
    public enum DetectorLayerKind
    {
        /// <summary>Full 3×3 convolution (the stem; the extra layers' stride-2 3×3 convolutions). Kernel HWIO [3,3,Cin,Cout].</summary>
        Conv3x3,
        /// <summary>Depthwise 3×3 convolution, depth multiplier 1. Kernel [3,3,C,1].</summary>
        Depthwise3x3,
        /// <summary>1×1 convolution (the backbone's pointwise layers, the extra layers' 1×1, the box and class predictors). Kernel [1,1,Cin,Cout].</summary>
        Pointwise,
    }

    /// <summary>Where a layer sits in the detector: the MobileNet v1 backbone, the SSD extra feature layers, or a predictor.</summary>
    public enum DetectorLayerRole
    {
        Backbone,
        Extra,
        /// <summary>A box-encoding predictor: 4 codes (ty, tx, th, tw) per anchor of each cell.</summary>
        BoxPredictor,
        /// <summary>A class predictor: one logit per class (background first) per anchor of each cell.</summary>
        ClassPredictor,
    }

    /// <summary>
    /// One uint8 convolution of the detector with every extent fixed: what it reads, its stride and SAME padding, its input and
    /// output shapes ([H,W,C]) and its quantization (<see cref="QuantizedConvLayer"/>: TFLite's numbers, unchanged).
    /// </summary>
    public sealed class DetectorLayer
    {
        public DetectorLayer(string name, DetectorLayerKind kind, DetectorLayerRole role, string input, int stride,
                             int padTop, int padBottom, int padLeft, int padRight, int[] inputShape, int[] outputShape,
                             QuantizedConvLayer quantization, string? source)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Kind = kind;
            Role = role;
            Input = input ?? throw new ArgumentNullException(nameof(input));
            Stride = stride;
            PadTop = padTop; PadBottom = padBottom; PadLeft = padLeft; PadRight = padRight;
            if (inputShape == null || inputShape.Length != 3) throw new ArgumentException("the input shape is [H,W,C]", nameof(inputShape));
            if (outputShape == null || outputShape.Length != 3) throw new ArgumentException("the output shape is [H,W,C]", nameof(outputShape));
            InputShape = inputShape;
            OutputShape = outputShape;
            Quantization = quantization ?? throw new ArgumentNullException(nameof(quantization));
            Source = source;
        }

        /// <summary>Canonical name and tensor prefix: <c>conv0</c>, <c>block11.pointwise</c>, <c>extra1.conv3x3</c>, <c>box0</c>, <c>class0</c>.</summary>
        public string Name { get; }
        public DetectorLayerKind Kind { get; }
        public DetectorLayerRole Role { get; }
        /// <summary>What the layer reads: <see cref="DetectorWeights.ImageInput"/> or the name of an earlier layer.</summary>
        public string Input { get; }
        /// <summary>Stride in both directions (1 or 2).</summary>
        public int Stride { get; }
        /// <summary>TensorFlow SAME padding as offsets: pad_total = max((out−1)·stride + k − in, 0), the smaller half before.</summary>
        public int PadTop { get; }
        public int PadBottom { get; }
        public int PadLeft { get; }
        public int PadRight { get; }
        /// <summary>[H,W,C] of the input.</summary>
        public int[] InputShape { get; }
        /// <summary>[H,W,C] of the output.</summary>
        public int[] OutputShape { get; }
        public int InH => InputShape[0];
        public int InW => InputShape[1];
        public int InC => InputShape[2];
        public int OutH => OutputShape[0];
        public int OutW => OutputShape[1];
        public int OutC => OutputShape[2];
        public QuantizedConvLayer Quantization { get; }
        /// <summary>The source model's name of the layer's output tensor (provenance; not used to compute).</summary>
        public string? Source { get; }

        public int KernelSize => Kind == DetectorLayerKind.Pointwise ? 1 : 3;

        /// <summary>The kernel tensor's shape, HWIO: conv3x3 [3,3,Cin,Cout], depthwise [3,3,C,1], pointwise [1,1,Cin,Cout].</summary>
        public int[] KernelShape => Kind switch
        {
            DetectorLayerKind.Conv3x3 => new[] { 3, 3, InC, OutC },
            DetectorLayerKind.Depthwise3x3 => new[] { 3, 3, InC, 1 },
            _ => new[] { 1, 1, InC, OutC },
        };

        public string WeightTensor => Name + ".weight";
        public string BiasTensor => Name + ".bias";

        /// <summary>Multiply-accumulates of one pass (every tap, padding included, as the kernel shapes count them).</summary>
        public long Macs => Kind switch
        {
            DetectorLayerKind.Conv3x3 => (long)OutH * OutW * OutC * 9 * InC,
            DetectorLayerKind.Depthwise3x3 => (long)OutH * OutW * OutC * 9,
            _ => (long)OutH * OutW * OutC * InC,
        };
    }

    /// <summary>
    /// One SSD head: a feature map, its box and class predictors (1×1, stride 1) and where its anchors' rows go in the two
    /// concatenated outputs. Rows are NHWC order: anchor (y·W + x)·A + a, so a predictor's output bytes [H,W,A·k] are already
    /// its rows [H·W·A, k].
    /// </summary>
    public sealed class DetectorHead
    {
        public DetectorHead(int index, string feature, string box, string @class, int anchorsPerCell, int gridHeight, int gridWidth, int rowOffset, int rowCount)
        {
            Index = index;
            Feature = feature ?? throw new ArgumentNullException(nameof(feature));
            Box = box ?? throw new ArgumentNullException(nameof(box));
            Class = @class ?? throw new ArgumentNullException(nameof(@class));
            AnchorsPerCell = anchorsPerCell;
            GridHeight = gridHeight;
            GridWidth = gridWidth;
            RowOffset = rowOffset;
            RowCount = rowCount;
        }

        public int Index { get; }
        /// <summary>The layer whose output is the feature map.</summary>
        public string Feature { get; }
        /// <summary>The box-encoding predictor layer.</summary>
        public string Box { get; }
        /// <summary>The class predictor layer.</summary>
        public string Class { get; }
        public int AnchorsPerCell { get; }
        public int GridHeight { get; }
        public int GridWidth { get; }
        /// <summary>First row (anchor) of this head in the concatenated box encodings and class logits.</summary>
        public int RowOffset { get; }
        /// <summary>Rows of this head: GridHeight · GridWidth · AnchorsPerCell.</summary>
        public int RowCount { get; }
    }

    /// <summary>
    /// A CONCATENATION along the anchor axis of the heads' predictor outputs (TFLite <c>ConcatenationWithScaling</c>: inputs
    /// whose scale and zero point differ from the output's are requantized). Input i's quantization is the output
    /// quantization of layer <see cref="Inputs"/>[i] (RESHAPE keeps it).
    /// </summary>
    public sealed class DetectorConcat
    {
        public DetectorConcat(IReadOnlyList<string> inputs, int rows, int columns, QuantParams output, string? source)
        {
            Inputs = inputs ?? throw new ArgumentNullException(nameof(inputs));
            Rows = rows;
            Columns = columns;
            Output = output ?? throw new ArgumentNullException(nameof(output));
            Source = source;
        }

        /// <summary>The predictor layers, in concatenation order (head 0 first).</summary>
        public IReadOnlyList<string> Inputs { get; }
        /// <summary>Anchors (the sum of the heads' rows).</summary>
        public int Rows { get; }
        /// <summary>Values per row: 4 box codes, or the class count (background included).</summary>
        public int Columns { get; }
        public QuantParams Output { get; }
        public string? Source { get; }
    }

    /// <summary>The LOGISTIC on the concatenated class logits (TFLite uint8: output scale 1/256, zero point 0).</summary>
    public sealed class DetectorLogistic
    {
        public DetectorLogistic(QuantParams input, QuantParams output, string? source)
        {
            Input = input ?? throw new ArgumentNullException(nameof(input));
            Output = output ?? throw new ArgumentNullException(nameof(output));
            Source = source;
        }

        public QuantParams Input { get; }
        public QuantParams Output { get; }
        public string? Source { get; }
    }

    /// <summary>The anchors: a uint8 constant [N,4] per anchor (ycenter, xcenter, height, width), normalized to the image.</summary>
    public sealed class DetectorAnchors
    {
        public DetectorAnchors(string tensor, int count, QuantParams quantization, string? source)
        {
            Tensor = tensor ?? throw new ArgumentNullException(nameof(tensor));
            Count = count;
            Quantization = quantization ?? throw new ArgumentNullException(nameof(quantization));
            Source = source;
        }

        /// <summary>The tensor's name in the canonical file (<see cref="DetectorWeights.AnchorsTensor"/>).</summary>
        public string Tensor { get; }
        public int Count { get; }
        public QuantParams Quantization { get; }
        public string? Source { get; }
    }

    /// <summary>
    /// The options of TFLite's <c>TFLite_Detection_PostProcess</c> after its <c>Init</c> has read them
    /// (<c>tensorflow/lite/kernels/detection_postprocess.cc</c>): <c>detections_per_class</c> and <c>use_regular_nms</c> fall back to
    /// 100 and false when absent, every other key reads as 0 when absent (flexbuffers' Null). The parsed form that the canonical
    /// file stores and from which the runtime's <c>DetectionPostprocessOptions</c> is built.
    /// </summary>
    public sealed class DetectorPostprocess
    {
        /// <summary>TFLite's <c>kNumDetectionsPerClass</c>.</summary>
        public const int DefaultDetectionsPerClass = 100;

        /// <summary>The map keys <c>Init</c> reads, in its order.</summary>
        public static readonly string[] OptionKeys =
        {
            "max_detections", "max_classes_per_detection", "detections_per_class", "use_regular_nms", "nms_score_threshold",
            "nms_iou_threshold", "num_classes", "y_scale", "x_scale", "h_scale", "w_scale",
        };

        public int MaxDetections { get; set; }
        public int MaxClassesPerDetection { get; set; }
        public int DetectionsPerClass { get; set; } = DefaultDetectionsPerClass;
        public bool UseRegularNms { get; set; }
        public float NmsScoreThreshold { get; set; }
        public float NmsIouThreshold { get; set; }
        /// <summary>Classes without the background.</summary>
        public int NumClasses { get; set; }
        public float YScale { get; set; }
        public float XScale { get; set; }
        public float HScale { get; set; }
        public float WScale { get; set; }
        /// <summary>Keys of <see cref="OptionKeys"/> the source's map lacks (their values above are TFLite's defaults).</summary>
        public List<string> Defaulted { get; } = new List<string>();
        /// <summary>The operator's custom options as stored in the source (a FlexBuffer), byte for byte; null when not recorded.</summary>
        public byte[]? CustomOptions { get; set; }
        public string? Source { get; set; }

        /// <summary>
        /// Every value TFLite's kernel would reject or that would break the decoding, against a class tensor of
        /// <paramref name="classColumns"/> columns; empty when all are fine. TFLite's checks: <c>max_detections ≥ 0</c> and
        /// <c>0 &lt; nms_iou_threshold ≤ 1</c> (<c>NonMaxSuppressionSingleClassHelper</c>), <c>max_classes_per_detection &gt; 0</c>
        /// (fast NMS), <c>detections_per_class &gt; 0</c> (regular NMS), <c>num_classes_with_background − num_classes ∈ {0, 1}</c>
        /// (<c>NonMaxSuppressionMultiClass</c>); the box coder divides by the four scales; the bounds of 100000 keep the scratch
        /// buffers a consumer sizes from them plausible (as the runtime's <c>DetectionPostprocessOptions.Validate</c>).
        /// </summary>
        public List<string> Problems(int classColumns)
        {
            var p = new List<string>();
            string I(int v) => v.ToString(CultureInfo.InvariantCulture);
            if (MaxDetections < 0 || MaxDetections > 100000) p.Add($"post-processing max_detections {I(MaxDetections)} is outside 0..100000");
            if (MaxClassesPerDetection < 1 || MaxClassesPerDetection > 100000) p.Add($"post-processing max_classes_per_detection {I(MaxClassesPerDetection)} is outside 1..100000");
            if (DetectionsPerClass < 1 || DetectionsPerClass > 100000) p.Add($"post-processing detections_per_class {I(DetectionsPerClass)} is outside 1..100000");
            if (NumClasses < 1 || NumClasses > 100000) p.Add($"post-processing num_classes {I(NumClasses)} is outside 1..100000");
            else if (classColumns - NumClasses != 0 && classColumns - NumClasses != 1)
                p.Add($"post-processing num_classes {I(NumClasses)} does not fit the class tensor's {I(classColumns)} columns (TFLite needs columns − num_classes = 0 or 1, a background column)");
            if (float.IsNaN(NmsScoreThreshold)) p.Add("post-processing nms_score_threshold is NaN");
            if (!(NmsIouThreshold > 0 && NmsIouThreshold <= 1)) p.Add($"post-processing nms_iou_threshold {CanonicalWeights.FloatText(NmsIouThreshold)} is outside (0, 1]");
            foreach (var (key, v) in new[] { ("y_scale", YScale), ("x_scale", XScale), ("h_scale", HScale), ("w_scale", WScale) })
                if (v == 0 || float.IsNaN(v) || float.IsInfinity(v)) p.Add($"post-processing {key} {CanonicalWeights.FloatText(v)} must be finite and non-zero (the box coder divides by it)");
            return p;
        }
    }

    /// <summary>
    /// A uint8 SSD detector as the canonical file's <c>detector</c> metadata describes it (weights/README.md, "Detector (uint8 SSD)
    /// entries"): the image input, every convolution in execution order, the heads, the two concatenations, the LOGISTIC, the
    /// anchors and the post-processing options — everything a code generator needs without reading tensor data.
    /// </summary>
    public sealed class DetectorNetwork
    {
        private readonly Dictionary<string, DetectorLayer> _byName = new Dictionary<string, DetectorLayer>(StringComparer.Ordinal);

        public DetectorNetwork(int[] inputShape, QuantParams input, string? inputSource, int classes, IReadOnlyList<DetectorLayer> layers,
                               IReadOnlyList<DetectorHead> heads, DetectorConcat boxConcat, DetectorConcat classConcat, DetectorLogistic logistic,
                               DetectorAnchors anchors, DetectorPostprocess postprocess)
        {
            if (inputShape == null || inputShape.Length != 3) throw new ArgumentException("the input shape is [H,W,C]", nameof(inputShape));
            InputShape = inputShape;
            Input = input ?? throw new ArgumentNullException(nameof(input));
            InputSource = inputSource;
            Classes = classes;
            Layers = layers ?? throw new ArgumentNullException(nameof(layers));
            Heads = heads ?? throw new ArgumentNullException(nameof(heads));
            BoxConcat = boxConcat ?? throw new ArgumentNullException(nameof(boxConcat));
            ClassConcat = classConcat ?? throw new ArgumentNullException(nameof(classConcat));
            Logistic = logistic ?? throw new ArgumentNullException(nameof(logistic));
            Anchors = anchors ?? throw new ArgumentNullException(nameof(anchors));
            Postprocess = postprocess ?? throw new ArgumentNullException(nameof(postprocess));
            foreach (var l in layers)
            {
                if (_byName.ContainsKey(l.Name)) throw new WeightsFormatException($"detector layer '{l.Name}' appears twice");
                _byName.Add(l.Name, l);
            }
        }

        /// <summary>[H,W,C] of the uint8 image.</summary>
        public int[] InputShape { get; }
        public QuantParams Input { get; }
        public string? InputSource { get; }
        /// <summary>Columns of the class scores, background included (COCO: 91).</summary>
        public int Classes { get; }
        /// <summary>Every convolution in execution order (each reads the image or an earlier layer).</summary>
        public IReadOnlyList<DetectorLayer> Layers { get; }
        public IReadOnlyList<DetectorHead> Heads { get; }
        public DetectorConcat BoxConcat { get; }
        public DetectorConcat ClassConcat { get; }
        public DetectorLogistic Logistic { get; }
        public DetectorAnchors Anchors { get; }
        public DetectorPostprocess Postprocess { get; }

        /// <summary>A layer by name; null when there is none.</summary>
        public DetectorLayer? Find(string name) => _byName.TryGetValue(name, out var l) ? l : null;

        /// <summary>A layer by name; throws <see cref="KeyNotFoundException"/> for an unknown name.</summary>
        public DetectorLayer Layer(string name) => Find(name) ?? throw new KeyNotFoundException($"no detector layer '{name}'");

        public long Macs { get { long m = 0; foreach (var l in Layers) m += l.Macs; return m; } }
    }

    /// <summary>
    /// The canonical uint8 SSD detector format (weights/README.md, "Detector (uint8 SSD) entries"): metadata
    /// <c>architecture = ssd_mobilenet_v1</c>, <c>precision = uint8</c> and one JSON value <c>detector</c> that lists the whole graph;
    /// tensors <c>{layer}.weight</c> (U8, HWIO), <c>{layer}.bias</c> (I32) and <c>anchors</c> (U8 [N,4]). Everything here reads
    /// only the header (<see cref="ITensorDirectory"/>: metadata, tensor names, dtypes and shapes), as the source generator does.
    /// </summary>
    public static class DetectorWeights
    {
        /// <summary>Metadata <c>architecture</c> of SSD detectors with a MobileNet v1 backbone.</summary>
        public const string Architecture = "ssd_mobilenet_v1";
        /// <summary>The metadata key holding the graph (JSON).</summary>
        public const string MetadataKey = "detector";
        /// <summary>What the first layer reads: the uint8 image.</summary>
        public const string ImageInput = "image";
        /// <summary>Name of the anchors tensor.</summary>
        public const string AnchorsTensor = "anchors";
        /// <summary>Metadata <c>labels</c> of a detector whose labels are TFLite's 91-line COCO label map (<c>???</c> first).</summary>
        public const string CocoLabels = "coco";

        /// <summary>The order of an anchor's four values, as TFLite's <c>CenterSizeEncoding</c>.</summary>
        public static readonly string[] AnchorEncoding = { "ycenter", "xcenter", "height", "width" };

        /// <summary>True when the file's metadata says it is an SSD detector (<c>architecture = ssd_mobilenet_v1</c>).</summary>
        public static bool IsDetector(ITensorDirectory file) =>
            file != null && file.GetMetadata(CanonicalWeights.Keys.Architecture) == Architecture;

        private static string KindText(DetectorLayerKind k) => k switch
        {
            DetectorLayerKind.Conv3x3 => "conv3x3",
            DetectorLayerKind.Depthwise3x3 => "depthwise3x3",
            _ => "pointwise",
        };

        private static string RoleText(DetectorLayerRole r) => r switch
        {
            DetectorLayerRole.Backbone => "backbone",
            DetectorLayerRole.Extra => "extra",
            DetectorLayerRole.BoxPredictor => "box",
            _ => "class",
        };

        // ------------------------------------------------------------------ writing

        /// <summary>
        /// The <c>detector</c> metadata value of <paramref name="network"/>: compact JSON, deterministic (members in a fixed
        /// order), floats as strings of their shortest round-trip text (<see cref="CanonicalWeights.FloatText"/>), integers as
        /// numbers.
        /// </summary>
        public static string ToJson(DetectorNetwork network)
        {
            if (network == null) throw new ArgumentNullException(nameof(network));
            MiniJson.JsonObject P(QuantParams p) => new MiniJson.JsonObject().Add("scale", CanonicalWeights.FloatText(p.Scale)).Add("zero_point", p.ZeroPoint);
            List<object?> Ints(params int[] v) { var l = new List<object?>(); foreach (int x in v) l.Add(x); return l; }
            List<object?> Strings(IEnumerable<string> v) { var l = new List<object?>(); foreach (string x in v) l.Add(x); return l; }
            MiniJson.JsonObject WithSource(MiniJson.JsonObject o, string? source) => source == null ? o : o.Add("source", source);

            var layers = new List<object?>();
            foreach (var l in network.Layers)
            {
                var q = l.Quantization;
                var quant = new MiniJson.JsonObject()
                    .Add("input", P(q.Input)).Add("weight", P(q.Weight)).Add("bias_scale", CanonicalWeights.FloatText(q.BiasScale))
                    .Add("output", P(q.Output)).Add("activation", CanonicalWeights.ActivationText(q.Activation));
                layers.Add(WithSource(new MiniJson.JsonObject()
                    .Add("name", l.Name).Add("kind", KindText(l.Kind)).Add("role", RoleText(l.Role)).Add("input", l.Input).Add("stride", l.Stride)
                    .Add("padding", new MiniJson.JsonObject().Add("top", l.PadTop).Add("bottom", l.PadBottom).Add("left", l.PadLeft).Add("right", l.PadRight))
                    .Add("input_shape", Ints(l.InputShape)).Add("output_shape", Ints(l.OutputShape)).Add("quantization", quant), l.Source));
            }
            var heads = new List<object?>();
            foreach (var h in network.Heads)
                heads.Add(new MiniJson.JsonObject().Add("feature", h.Feature).Add("box", h.Box).Add("class", h.Class)
                    .Add("anchors_per_cell", h.AnchorsPerCell).Add("grid", Ints(h.GridHeight, h.GridWidth))
                    .Add("rows", new MiniJson.JsonObject().Add("offset", h.RowOffset).Add("count", h.RowCount)));
            MiniJson.JsonObject Concat(DetectorConcat c) =>
                WithSource(new MiniJson.JsonObject().Add("inputs", Strings(c.Inputs)).Add("shape", Ints(c.Rows, c.Columns)).Add("output", P(c.Output)), c.Source);
            var pp = network.Postprocess;
            var post = new MiniJson.JsonObject()
                .Add("max_detections", pp.MaxDetections).Add("max_classes_per_detection", pp.MaxClassesPerDetection)
                .Add("detections_per_class", pp.DetectionsPerClass).Add("use_regular_nms", pp.UseRegularNms)
                .Add("nms_score_threshold", CanonicalWeights.FloatText(pp.NmsScoreThreshold)).Add("nms_iou_threshold", CanonicalWeights.FloatText(pp.NmsIouThreshold))
                .Add("num_classes", pp.NumClasses)
                .Add("y_scale", CanonicalWeights.FloatText(pp.YScale)).Add("x_scale", CanonicalWeights.FloatText(pp.XScale))
                .Add("h_scale", CanonicalWeights.FloatText(pp.HScale)).Add("w_scale", CanonicalWeights.FloatText(pp.WScale))
                .Add("defaulted", Strings(pp.Defaulted));
            if (pp.CustomOptions != null) post.Add("custom_options", ToHex(pp.CustomOptions));
            WithSource(post, pp.Source);
            var a = network.Anchors;
            var root = new MiniJson.JsonObject()
                .Add("input", WithSource(new MiniJson.JsonObject().Add("shape", Ints(network.InputShape)).Add("quantization", P(network.Input)), network.InputSource))
                .Add("classes", network.Classes)
                .Add("layers", layers)
                .Add("heads", heads)
                .Add("box_concat", Concat(network.BoxConcat))
                .Add("class_concat", Concat(network.ClassConcat))
                .Add("logistic", WithSource(new MiniJson.JsonObject().Add("input", P(network.Logistic.Input)).Add("output", P(network.Logistic.Output)), network.Logistic.Source))
                .Add("anchors", WithSource(new MiniJson.JsonObject().Add("tensor", a.Tensor).Add("shape", Ints(a.Count, 4))
                    .Add("encoding", Strings(AnchorEncoding)).Add("quantization", P(a.Quantization)), a.Source))
                .Add("postprocess", post);
            return MiniJson.Write(root);
        }

        private static string ToHex(byte[] bytes)
        {
            var sb = new StringBuilder(bytes.Length * 2);
            foreach (byte b in bytes) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        private static byte[] FromHex(string s, string where)
        {
            if (s.Length % 2 != 0) throw new WeightsFormatException($"{where} is not hex (odd length {s.Length})");
            var b = new byte[s.Length / 2];
            for (int i = 0; i < b.Length; i++)
                if (!byte.TryParse(s.Substring(2 * i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out b[i]))
                    throw new WeightsFormatException($"{where} is not hex (at character {2 * i})");
            return b;
        }

        // ------------------------------------------------------------------ reading

        /// <summary>
        /// The detector a canonical file describes, from its header only. Throws <see cref="WeightsFormatException"/>, naming the key,
        /// for a file that is not a uint8 SSD detector (<c>format</c>, <c>architecture</c>, <c>precision</c>) and for a <c>detector</c>
        /// value that is missing, not JSON, or has a missing, unknown or mistyped member. Values are not cross-checked here
        /// (shapes that do not chain, tensors that are missing, scales out of range): <see cref="ValidateDetector"/> lists those.
        /// </summary>
        public static DetectorNetwork DetectorOf(ITensorDirectory file)
        {
            if (file == null) throw new ArgumentNullException(nameof(file));
            string fmt = file.GetMetadata(CanonicalWeights.Keys.Format) ?? throw new WeightsFormatException($"metadata '{CanonicalWeights.Keys.Format}' is missing (not a MobileNetGen weights file)");
            if (fmt != CanonicalWeights.FormatVersion) throw new WeightsFormatException($"metadata format '{fmt}' is not supported (expected {CanonicalWeights.FormatVersion})");
            string arch = file.GetMetadata(CanonicalWeights.Keys.Architecture) ?? "";
            if (arch != Architecture)
                throw new WeightsFormatException($"metadata architecture is '{arch}', not '{Architecture}': the file is not an SSD detector" +
                                                 (arch == "mobilenet_v1" ? " but a classifier (see CanonicalWeights.ArchitectureOf)" : ""));
            string precision = file.GetMetadata(CanonicalWeights.Keys.Precision) ?? CanonicalWeights.PrecisionFloat32;
            if (precision != CanonicalWeights.PrecisionUInt8)
                throw new WeightsFormatException($"metadata precision is '{precision}', not '{CanonicalWeights.PrecisionUInt8}': only uint8-quantized detectors exist");
            string json = file.GetMetadata(MetadataKey) ?? throw new WeightsFormatException($"metadata '{MetadataKey}' is missing (a detector file must describe its graph)");
            object? rootValue;
            try { rootValue = MiniJson.Parse(json); }
            catch (FormatException e) { throw new WeightsFormatException($"metadata '{MetadataKey}' is not valid JSON: {e.Message}", e); }
            const string d = MetadataKey;
            var root = CanonicalWeights.Obj(rootValue, d);
            CanonicalWeights.Only(root, d, "input", "classes", "layers", "heads", "box_concat", "class_concat", "logistic", "anchors", "postprocess");

            var input = CanonicalWeights.Obj(root["input"], d + ".input");
            CanonicalWeights.Only(input, d + ".input", "shape", "quantization", "source");
            int[] inputShape = IntArray(input["shape"], d + ".input.shape", 3);
            var inputQ = CanonicalWeights.Params(input["quantization"], d + ".input.quantization");
            int classes = Int(root["classes"], d + ".classes");

            var layers = new List<DetectorLayer>();
            var layerList = List(root["layers"], d + ".layers");
            for (int i = 0; i < layerList.Count; i++) layers.Add(ReadLayer(layerList[i], $"{d}.layers[{i}]"));

            var heads = new List<DetectorHead>();
            var headList = List(root["heads"], d + ".heads");
            for (int i = 0; i < headList.Count; i++)
            {
                string where = $"{d}.heads[{i}]";
                var h = CanonicalWeights.Obj(headList[i], where);
                CanonicalWeights.Only(h, where, "feature", "box", "class", "anchors_per_cell", "grid", "rows");
                int[] grid = IntArray(h["grid"], where + ".grid", 2);
                var rows = CanonicalWeights.Obj(h["rows"], where + ".rows");
                CanonicalWeights.Only(rows, where + ".rows", "offset", "count");
                heads.Add(new DetectorHead(i, Str(h["feature"], where + ".feature"), Str(h["box"], where + ".box"), Str(h["class"], where + ".class"),
                    Int(h["anchors_per_cell"], where + ".anchors_per_cell"), grid[0], grid[1], Int(rows["offset"], where + ".rows.offset"), Int(rows["count"], where + ".rows.count")));
            }

            DetectorConcat Concat(string key)
            {
                string where = d + "." + key;
                var c = CanonicalWeights.Obj(root[key], where);
                CanonicalWeights.Only(c, where, "inputs", "shape", "output", "source");
                var inputs = new List<string>();
                var il = List(c["inputs"], where + ".inputs");
                for (int i = 0; i < il.Count; i++) inputs.Add(Str(il[i], $"{where}.inputs[{i}]"));
                int[] shape = IntArray(c["shape"], where + ".shape", 2);
                return new DetectorConcat(inputs, shape[0], shape[1], CanonicalWeights.Params(c["output"], where + ".output"), OptStr(c, "source", where));
            }
            var boxConcat = Concat("box_concat");
            var classConcat = Concat("class_concat");

            var lg = CanonicalWeights.Obj(root["logistic"], d + ".logistic");
            CanonicalWeights.Only(lg, d + ".logistic", "input", "output", "source");
            var logistic = new DetectorLogistic(CanonicalWeights.Params(lg["input"], d + ".logistic.input"), CanonicalWeights.Params(lg["output"], d + ".logistic.output"),
                OptStr(lg, "source", d + ".logistic"));

            var an = CanonicalWeights.Obj(root["anchors"], d + ".anchors");
            CanonicalWeights.Only(an, d + ".anchors", "tensor", "shape", "encoding", "quantization", "source");
            int[] anchorShape = IntArray(an["shape"], d + ".anchors.shape", 2);
            if (anchorShape[1] != 4) throw new WeightsFormatException($"{d}.anchors.shape is [{anchorShape[0]},{anchorShape[1]}]; anchors have 4 values each");
            var enc = List(an["encoding"], d + ".anchors.encoding");
            if (enc.Count != AnchorEncoding.Length) throw new WeightsFormatException($"{d}.anchors.encoding must be [\"ycenter\",\"xcenter\",\"height\",\"width\"] (TFLite's CenterSizeEncoding)");
            for (int i = 0; i < enc.Count; i++)
                if (Str(enc[i], $"{d}.anchors.encoding[{i}]") != AnchorEncoding[i])
                    throw new WeightsFormatException($"{d}.anchors.encoding must be [\"ycenter\",\"xcenter\",\"height\",\"width\"] (TFLite's CenterSizeEncoding; no other order is supported)");
            var anchors = new DetectorAnchors(Str(an["tensor"], d + ".anchors.tensor"), anchorShape[0], CanonicalWeights.Params(an["quantization"], d + ".anchors.quantization"),
                OptStr(an, "source", d + ".anchors"));

            var post = ReadPostprocess(root["postprocess"], d + ".postprocess");
            return new DetectorNetwork(inputShape, inputQ, OptStr(input, "source", d + ".input"), classes, layers, heads, boxConcat, classConcat, logistic, anchors, post);
        }

        private static DetectorLayer ReadLayer(object? v, string where)
        {
            var o = CanonicalWeights.Obj(v, where);
            CanonicalWeights.Only(o, where, "name", "kind", "role", "input", "stride", "padding", "input_shape", "output_shape", "quantization", "source");
            string name = Str(o["name"], where + ".name");
            where += $" ('{name}')";
            DetectorLayerKind kind = Str(o["kind"], where + ".kind") switch
            {
                "conv3x3" => DetectorLayerKind.Conv3x3,
                "depthwise3x3" => DetectorLayerKind.Depthwise3x3,
                "pointwise" => DetectorLayerKind.Pointwise,
                string s => throw new WeightsFormatException($"{where}.kind '{s}' is not supported (expected conv3x3, depthwise3x3 or pointwise)"),
            };
            DetectorLayerRole role = Str(o["role"], where + ".role") switch
            {
                "backbone" => DetectorLayerRole.Backbone,
                "extra" => DetectorLayerRole.Extra,
                "box" => DetectorLayerRole.BoxPredictor,
                "class" => DetectorLayerRole.ClassPredictor,
                string s => throw new WeightsFormatException($"{where}.role '{s}' is not supported (expected backbone, extra, box or class)"),
            };
            var pad = CanonicalWeights.Obj(o["padding"], where + ".padding");
            CanonicalWeights.Only(pad, where + ".padding", "top", "bottom", "left", "right");
            var q = CanonicalWeights.Obj(o["quantization"], where + ".quantization");
            string qw = where + ".quantization";
            CanonicalWeights.Only(q, qw, "input", "weight", "bias_scale", "output", "activation");
            var quant = new QuantizedConvLayer(name, CanonicalWeights.Params(q["input"], qw + ".input"), CanonicalWeights.Params(q["weight"], qw + ".weight"),
                CanonicalWeights.Float(q["bias_scale"], qw + ".bias_scale"), CanonicalWeights.Params(q["output"], qw + ".output"), CanonicalWeights.Activation(q["activation"], qw + ".activation"));
            return new DetectorLayer(name, kind, role, Str(o["input"], where + ".input"), Int(o["stride"], where + ".stride"),
                Int(pad["top"], where + ".padding.top"), Int(pad["bottom"], where + ".padding.bottom"), Int(pad["left"], where + ".padding.left"), Int(pad["right"], where + ".padding.right"),
                IntArray(o["input_shape"], where + ".input_shape", 3), IntArray(o["output_shape"], where + ".output_shape", 3), quant, OptStr(o, "source", where));
        }

        private static DetectorPostprocess ReadPostprocess(object? v, string where)
        {
            var o = CanonicalWeights.Obj(v, where);
            var allowed = new List<string>(DetectorPostprocess.OptionKeys) { "defaulted", "custom_options", "source" };
            CanonicalWeights.Only(o, where, allowed.ToArray());
            if (!(o["use_regular_nms"] is bool regular))
                throw new WeightsFormatException(o.ContainsKey("use_regular_nms") ? $"{where}.use_regular_nms is not true or false" : $"{where}.use_regular_nms is missing");
            var p = new DetectorPostprocess
            {
                MaxDetections = Int(o["max_detections"], where + ".max_detections"),
                MaxClassesPerDetection = Int(o["max_classes_per_detection"], where + ".max_classes_per_detection"),
                DetectionsPerClass = Int(o["detections_per_class"], where + ".detections_per_class"),
                UseRegularNms = regular,
                NmsScoreThreshold = CanonicalWeights.Float(o["nms_score_threshold"], where + ".nms_score_threshold"),
                NmsIouThreshold = CanonicalWeights.Float(o["nms_iou_threshold"], where + ".nms_iou_threshold"),
                NumClasses = Int(o["num_classes"], where + ".num_classes"),
                YScale = CanonicalWeights.Float(o["y_scale"], where + ".y_scale"),
                XScale = CanonicalWeights.Float(o["x_scale"], where + ".x_scale"),
                HScale = CanonicalWeights.Float(o["h_scale"], where + ".h_scale"),
                WScale = CanonicalWeights.Float(o["w_scale"], where + ".w_scale"),
                Source = OptStr(o, "source", where),
            };
            var defaulted = List(o["defaulted"], where + ".defaulted");
            for (int i = 0; i < defaulted.Count; i++)
            {
                string k = Str(defaulted[i], $"{where}.defaulted[{i}]");
                if (Array.IndexOf(DetectorPostprocess.OptionKeys, k) < 0) throw new WeightsFormatException($"{where}.defaulted[{i}] '{k}' is not an option of TFLite_Detection_PostProcess");
                p.Defaulted.Add(k);
            }
            if (o.ContainsKey("custom_options")) p.CustomOptions = FromHex(Str(o["custom_options"], where + ".custom_options"), where + ".custom_options");
            return p;
        }

        private static List<object?> List(object? v, string where) =>
            v as List<object?> ?? throw new WeightsFormatException(v == null ? $"{where} is missing" : $"{where} is not a JSON array");

        private static string Str(object? v, string where) =>
            v as string ?? throw new WeightsFormatException(v == null ? $"{where} is missing" : $"{where} is not a string");

        private static string? OptStr(MiniJson.JsonObject o, string key, string where) =>
            o.ContainsKey(key) ? Str(o[key], where + "." + key) : null;

        private static int Int(object? v, string where)
        {
            if (v == null) throw new WeightsFormatException($"{where} is missing");
            if (!(v is double x)) throw new WeightsFormatException($"{where} is not a number");
            if (x != Math.Floor(x) || x < int.MinValue || x > int.MaxValue) throw new WeightsFormatException($"{where} {x.ToString("R", CultureInfo.InvariantCulture)} is not an integer");
            return (int)x;
        }

        private static int[] IntArray(object? v, string where, int length)
        {
            var l = List(v, where);
            if (l.Count != length) throw new WeightsFormatException($"{where} has {l.Count} entries, expected {length}");
            var a = new int[length];
            for (int i = 0; i < length; i++) a[i] = Int(l[i], $"{where}[{i}]");
            return a;
        }

        /// <summary>
        /// The labels of a detector file (<c>labels_json</c>): one per class column (background first). Throws
        /// <see cref="WeightsFormatException"/> when they are missing, malformed or their count differs from the class columns.
        /// </summary>
        public static string[] LabelsOf(ITensorDirectory file, DetectorNetwork network)
        {
            string json = file.GetMetadata(CanonicalWeights.Keys.LabelsJson)
                ?? throw new WeightsFormatException($"metadata '{CanonicalWeights.Keys.LabelsJson}' is missing (a detector file carries its label map)");
            var labels = CanonicalWeights.ParseLabelsJson(json);
            if (labels.Length != network.Classes)
                throw new WeightsFormatException($"metadata '{CanonicalWeights.Keys.LabelsJson}' holds {labels.Length} labels but the detector has {network.Classes} class columns");
            return labels;
        }

        // ------------------------------------------------------------------ validation

        /// <summary>
        /// Every problem with a detector file, from its header only; empty when it is valid. Checks: the metadata (format,
        /// architecture, precision, <c>num_classes</c> = the class columns, the labels); the graph — each layer reads the image or an
        /// earlier layer, its input shape and quantization are that source's output, its output shape is SAME's
        /// (⌈in/stride⌉; depthwise keeps the channels), its padding is SAME's, stride 1 or 2; every layer is read by a layer or is a
        /// head's predictor; the quantization as TFLite checks it (zero points 0..255, scales finite and &gt; 0, bias scale ≈ input ·
        /// weight scale, output multiplier representable); the heads (box and class predictors are 1×1, stride 1, on the head's
        /// feature map, with 4·A and classes·A channels; rows contiguous, H·W·A each); the concatenations (the heads' predictors in
        /// order, rows = the anchors); LOGISTIC (input = the class concatenation's output, output 1/256 and 0 as TFLite's uint8
        /// LOGISTIC requires); the anchors ([N,4] U8, N = the rows); the post-processing options
        /// (<see cref="DetectorPostprocess.Problems"/>); the tensors (each layer's U8 weight in its HWIO shape and I32 bias [Cout],
        /// the anchors, nothing else).
        /// </summary>
        public static List<string> ValidateDetector(ITensorDirectory file)
        {
            if (file == null) throw new ArgumentNullException(nameof(file));
            var problems = new List<string>();
            DetectorNetwork net;
            try { net = DetectorOf(file); }
            catch (WeightsFormatException e) { problems.Add(e.Message); return problems; }
            string I(int v) => v.ToString(CultureInfo.InvariantCulture);
            string S(int[] s) => "[" + string.Join(",", Array.ConvertAll(s, I)) + "]";

            // Metadata.
            if (file.GetMetadata(CanonicalWeights.Keys.NumClasses) != I(net.Classes))
                problems.Add($"metadata num_classes '{file.GetMetadata(CanonicalWeights.Keys.NumClasses) ?? "(absent)"}' differs from the detector's {I(net.Classes)} class columns");
            if (net.Classes < 1 || net.Classes > 100000) problems.Add($"detector classes {I(net.Classes)} is outside 1..100000");
            try { LabelsOf(file, net); }
            catch (WeightsFormatException e) { problems.Add(e.Message); }

            void CheckParams(QuantParams p, string where)
            {
                if (float.IsNaN(p.Scale) || float.IsInfinity(p.Scale) || !(p.Scale > 0)) problems.Add($"{where}: scale {CanonicalWeights.FloatText(p.Scale)} is not a finite positive number");
                if (p.ZeroPoint < 0 || p.ZeroPoint > 255) problems.Add($"{where}: zero point {I(p.ZeroPoint)} is outside 0..255 (uint8)");
            }
            void CheckTensor(string name, TensorDType dtype, int[] shape)
            {
                var t = file.FindEntry(name);
                if (t == null) { problems.Add($"tensor '{name}' is missing (expected {Tensor.DTypeName(dtype)} {S(shape)})"); return; }
                if (t.DType != dtype) problems.Add($"tensor '{name}' is {Tensor.DTypeName(t.DType)}, a uint8 detector needs {Tensor.DTypeName(dtype)}");
                if (!CanonicalWeights.SameShape(t.Shape, shape)) problems.Add($"tensor '{name}' has shape {t.ShapeText}, the detector needs {S(shape)}");
            }

            // The input.
            if (net.InputShape[0] < 1 || net.InputShape[1] < 1 || net.InputShape[2] < 1 || net.InputShape[0] > 4096 || net.InputShape[1] > 4096 || net.InputShape[2] > 64)
                problems.Add($"detector input shape {S(net.InputShape)} is not an image size (1..4096 × 1..4096 × 1..64)");
            CheckParams(net.Input, "detector input");

            // The layers, in execution order.
            var expectedTensors = new HashSet<string>(StringComparer.Ordinal);
            var seen = new Dictionary<string, DetectorLayer>(StringComparer.Ordinal);
            var readers = new Dictionary<string, int>(StringComparer.Ordinal);
            if (net.Layers.Count == 0) problems.Add("the detector has no layers");
            if (net.Layers.Count > 1000) { problems.Add($"the detector has {I(net.Layers.Count)} layers (more than 1000)"); return problems; }
            foreach (var l in net.Layers)
            {
                string w = $"layer '{l.Name}'";
                if (l.Name.Length == 0 || l.Name == ImageInput || l.Name == AnchorsTensor || l.Name.IndexOf('"') >= 0)
                    problems.Add($"{w}: the name is empty or reserved ('{ImageInput}', '{AnchorsTensor}')");
                int[] srcShape;
                QuantParams srcQ;
                if (l.Input == ImageInput) { srcShape = net.InputShape; srcQ = net.Input; }
                else if (seen.TryGetValue(l.Input, out var src)) { srcShape = src.OutputShape; srcQ = src.Quantization.Output; readers[src.Name] = readers.TryGetValue(src.Name, out int n) ? n + 1 : 1; }
                else
                {
                    problems.Add($"{w} reads '{l.Input}', which is neither '{ImageInput}' nor an earlier layer");
                    seen[l.Name] = l;
                    continue;
                }
                if (!CanonicalWeights.SameShape(l.InputShape, srcShape)) problems.Add($"{w}: input shape {S(l.InputShape)} differs from '{l.Input}' output {S(srcShape)}");
                if (!l.Quantization.Input.Equals(srcQ)) problems.Add($"{w}: input quantization ({l.Quantization.Input}) differs from '{l.Input}' output ({srcQ})");
                bool shapesOk = l.InH >= 1 && l.InW >= 1 && l.InC >= 1 && l.OutH >= 1 && l.OutW >= 1 && l.OutC >= 1 && l.InH <= 4096 && l.InW <= 4096 && l.InC <= 65536 && l.OutC <= 65536;
                if (!shapesOk) problems.Add($"{w}: shapes {S(l.InputShape)} → {S(l.OutputShape)} are out of range");
                if (l.Stride != 1 && l.Stride != 2) problems.Add($"{w}: stride {I(l.Stride)} (1 or 2 supported)");
                else if (shapesOk)
                {
                    int oh = (l.InH + l.Stride - 1) / l.Stride, ow = (l.InW + l.Stride - 1) / l.Stride;
                    if (l.OutH != oh || l.OutW != ow) problems.Add($"{w}: output {I(l.OutH)}x{I(l.OutW)} is not SAME's ⌈{I(l.InH)}x{I(l.InW)} / {I(l.Stride)}⌉ = {I(oh)}x{I(ow)}");
                    int k = l.KernelSize;
                    int padH = Math.Max((l.OutH - 1) * l.Stride + k - l.InH, 0), padW = Math.Max((l.OutW - 1) * l.Stride + k - l.InW, 0);
                    if (l.PadTop != padH / 2 || l.PadBottom != padH - padH / 2 || l.PadLeft != padW / 2 || l.PadRight != padW - padW / 2)
                        problems.Add($"{w}: padding top {I(l.PadTop)} bottom {I(l.PadBottom)} left {I(l.PadLeft)} right {I(l.PadRight)} is not TensorFlow SAME's ({I(padH / 2)}, {I(padH - padH / 2)}, {I(padW / 2)}, {I(padW - padW / 2)})");
                }
                if (l.Kind == DetectorLayerKind.Depthwise3x3 && l.OutC != l.InC) problems.Add($"{w}: a depthwise layer keeps the channels ({I(l.InC)} → {I(l.OutC)})");
                var q = l.Quantization;
                CheckParams(q.Weight, w + " weight");
                CheckParams(q.Output, w + " output");
                if (float.IsNaN(q.BiasScale) || float.IsInfinity(q.BiasScale) || !(q.BiasScale > 0))
                    problems.Add($"{w}: bias scale {CanonicalWeights.FloatText(q.BiasScale)} is not a finite positive number");
                else if (q.Input.Scale > 0 && q.Weight.Scale > 0 && !QuantizationMath.BiasScaleMatches(q.Input.Scale, q.Weight.Scale, q.BiasScale))
                    problems.Add($"{w}: bias scale {CanonicalWeights.FloatText(q.BiasScale)} is not input scale × weight scale ({CanonicalWeights.FloatText(q.Input.Scale)} × {CanonicalWeights.FloatText(q.Weight.Scale)}) within TFLite's 1e-6 relative tolerance");
                if (q.Input.Scale > 0 && q.Weight.Scale > 0 && q.Output.Scale > 0 && !float.IsInfinity(q.Input.Scale) && !float.IsInfinity(q.Weight.Scale) && !float.IsInfinity(q.Output.Scale))
                {
                    double m = QuantizationMath.GetQuantizedConvolutionMultiplier(q.Input.Scale, q.Weight.Scale, q.Output.Scale);
                    if (double.IsInfinity(m) || double.IsNaN(m)) problems.Add($"{w}: output multiplier {m} is not finite");
                    else
                    {
                        var (_, shift) = QuantizationMath.QuantizeMultiplier(m);
                        if (shift < -31 || shift > 30) problems.Add($"{w}: output multiplier {m.ToString("R", CultureInfo.InvariantCulture)} needs shift {I(shift)}, outside TFLite's −31..30");
                    }
                }
                if (shapesOk)
                {
                    CheckTensor(l.WeightTensor, TensorDType.U8, l.KernelShape);
                    CheckTensor(l.BiasTensor, TensorDType.I32, new[] { l.OutC });
                }
                expectedTensors.Add(l.WeightTensor);
                expectedTensors.Add(l.BiasTensor);
                seen[l.Name] = l;
            }

            // The heads.
            var inHead = new HashSet<string>(StringComparer.Ordinal);
            int rowsSoFar = 0;
            if (net.Heads.Count == 0) problems.Add("the detector has no heads");
            foreach (var h in net.Heads)
            {
                string w = $"head {I(h.Index)}";
                var feature = net.Find(h.Feature);
                if (feature == null) { problems.Add($"{w}: feature map '{h.Feature}' is not a layer"); continue; }
                if (h.AnchorsPerCell < 1 || h.AnchorsPerCell > 1000) problems.Add($"{w}: {I(h.AnchorsPerCell)} anchors per cell is outside 1..1000");
                if (h.GridHeight != feature.OutH || h.GridWidth != feature.OutW)
                    problems.Add($"{w}: grid {I(h.GridHeight)}x{I(h.GridWidth)} differs from '{h.Feature}' output {I(feature.OutH)}x{I(feature.OutW)}");
                foreach (var (name, role, perAnchor) in new[] { (h.Box, DetectorLayerRole.BoxPredictor, 4), (h.Class, DetectorLayerRole.ClassPredictor, net.Classes) })
                {
                    var p = net.Find(name);
                    if (p == null) { problems.Add($"{w}: predictor '{name}' is not a layer"); continue; }
                    if (!inHead.Add(name)) problems.Add($"{w}: predictor '{name}' is used by two heads (or twice)");
                    if (p.Role != role) problems.Add($"{w}: '{name}' has role {RoleText(p.Role)}, expected {RoleText(role)}");
                    if (p.Kind != DetectorLayerKind.Pointwise || p.Stride != 1) problems.Add($"{w}: predictor '{name}' must be a 1×1 convolution with stride 1");
                    if (p.Input != h.Feature) problems.Add($"{w}: predictor '{name}' reads '{p.Input}', not the head's feature map '{h.Feature}'");
                    if ((long)perAnchor * h.AnchorsPerCell != p.OutC) problems.Add($"{w}: predictor '{name}' has {I(p.OutC)} channels, expected {I(perAnchor)} × {I(h.AnchorsPerCell)} anchors per cell");
                    if (readers.ContainsKey(name)) problems.Add($"{w}: predictor '{name}' is read by another layer");
                }
                long count = (long)h.GridHeight * h.GridWidth * h.AnchorsPerCell;
                if (h.RowOffset != rowsSoFar) problems.Add($"{w}: rows start at {I(h.RowOffset)}, expected {I(rowsSoFar)} (the heads' rows follow one another)");
                if (h.RowCount != count) problems.Add($"{w}: {I(h.RowCount)} rows, expected {h.GridHeight}·{h.GridWidth}·{h.AnchorsPerCell} = {count.ToString(CultureInfo.InvariantCulture)}");
                rowsSoFar = (int)Math.Min(int.MaxValue, (long)rowsSoFar + Math.Max(0, h.RowCount));
            }
            foreach (var l in net.Layers)
            {
                bool predictor = l.Role == DetectorLayerRole.BoxPredictor || l.Role == DetectorLayerRole.ClassPredictor;
                if (predictor && !inHead.Contains(l.Name)) problems.Add($"layer '{l.Name}' is a predictor of no head");
                if (!predictor && !readers.ContainsKey(l.Name)) problems.Add($"layer '{l.Name}' is read by no layer (a dead end)");
            }

            // The concatenations.
            void CheckConcat(DetectorConcat c, string what, bool box)
            {
                CheckParams(c.Output, what + " output");
                if (c.Inputs.Count != net.Heads.Count) problems.Add($"{what} has {I(c.Inputs.Count)} inputs, the detector {I(net.Heads.Count)} heads");
                for (int i = 0; i < Math.Min(c.Inputs.Count, net.Heads.Count); i++)
                {
                    string want = box ? net.Heads[i].Box : net.Heads[i].Class;
                    if (c.Inputs[i] != want) problems.Add($"{what} input {I(i)} is '{c.Inputs[i]}', expected head {I(i)}'s '{want}'");
                }
                if (c.Rows != rowsSoFar) problems.Add($"{what} has {I(c.Rows)} rows, the heads {I(rowsSoFar)}");
                int columns = box ? 4 : net.Classes;
                if (c.Columns != columns) problems.Add($"{what} has {I(c.Columns)} columns, expected {I(columns)}");
            }
            CheckConcat(net.BoxConcat, "box_concat", true);
            CheckConcat(net.ClassConcat, "class_concat", false);

            // LOGISTIC: TFLite's uint8 kernel requires output scale 1/256 and zero point 0 (activations.cc, SigmoidPrepare).
            CheckParams(net.Logistic.Input, "logistic input");
            if (!net.Logistic.Input.Equals(net.ClassConcat.Output)) problems.Add($"logistic input ({net.Logistic.Input}) differs from class_concat output ({net.ClassConcat.Output})");
            if (!net.Logistic.Output.Equals(new QuantParams(1f / 256, 0))) problems.Add($"logistic output ({net.Logistic.Output}) must be scale 1/256, zero point 0 (TFLite's uint8 LOGISTIC requires it)");

            // Anchors.
            CheckParams(net.Anchors.Quantization, "anchors");
            if (net.Anchors.Tensor != AnchorsTensor) problems.Add($"anchors tensor is '{net.Anchors.Tensor}', expected '{AnchorsTensor}'");
            if (net.Anchors.Count != rowsSoFar) problems.Add($"{I(net.Anchors.Count)} anchors, the heads have {I(rowsSoFar)} rows");
            if (net.Anchors.Count >= 1 && net.Anchors.Count <= 10_000_000) CheckTensor(AnchorsTensor, TensorDType.U8, new[] { net.Anchors.Count, 4 });
            expectedTensors.Add(AnchorsTensor);

            problems.AddRange(net.Postprocess.Problems(net.Classes));

            foreach (string t in file.TensorNames)
                if (!expectedTensors.Contains(t)) problems.Add($"tensor '{t}' does not belong in a detector file (only {{layer}}.weight U8, {{layer}}.bias I32 and '{AnchorsTensor}')");
            return problems;
        }
    }
}
