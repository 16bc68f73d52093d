using System.Globalization;
using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>
/// A fully quantized uint8 TFLite SSD detector with a MobileNet v1 backbone (Google's <c>coco_ssd_mobilenet_v1_1.0_quant_2018_06_29</c>,
/// TF Object Detection API <c>ssd_mobilenet_v1</c> exported by TOCO; docs/ssd-graph.md) → the canonical detector file
/// (weights/README.md, "Detector (uint8 SSD) entries"; <see cref="DetectorWeights"/>). Every kernel byte, int32 bias, scale and
/// zero point is kept as TFLite gives it; the graph between the convolutions and the post-processing (RESHAPE, CONCATENATION,
/// LOGISTIC), the uint8 anchors and the <c>TFLite_Detection_PostProcess</c> options are described in the metadata.
/// </summary>
/// <remarks>
/// <para>What is accepted is exactly the graph the TF Object Detection API's <c>SSDMobileNetV1FeatureExtractor</c> and its
/// convolutional box predictor give (<c>models/research/object_detection/models/ssd_mobilenet_v1_feature_extractor.py</c>,
/// <c>feature_map_generators.multi_resolution_feature_maps</c>), at any published width multiplier α and square resolution;
/// everything else is an <see cref="ImportException"/> naming the operator or tensor:</para>
/// <list type="bullet">
/// <item>47 convolutions, in this operator order (others may sit between them): the MobileNet v1 backbone (<c>conv0</c>,
/// 13 × <c>block{n}.depthwise</c> + <c>block{n}.pointwise</c>, slim's widths at α); 4 extra feature layers, each a 1×1 then a
/// 3×3 stride-2 convolution (<c>extra{i}.pointwise</c>, <c>extra{i}.conv3x3</c>; widths as the file gives them); 6 heads on
/// the feature maps <c>block11.pointwise</c> (TF <c>Conv2d_11_pointwise</c>), <c>block13.pointwise</c> and the 4 extra 3×3
/// outputs, each a 1×1 box predictor (<c>box{h}</c>, 4·A channels) then a 1×1 class predictor (<c>class{h}</c>, C·A channels,
/// the same C for every head). Each reads exactly the tensor the structure says.</item>
/// <item>Each predictor's output reaches a CONCATENATION along the anchor axis through shape-only operators (RESHAPE,
/// SQUEEZE) that keep its bytes and quantization; the box concatenation reaches the post-processing through shape-only
/// operators as [1,N,4]; the class concatenation goes through LOGISTIC to the post-processing as [1,N,C].</item>
/// <item>One <c>TFLite_Detection_PostProcess</c> (FlexBuffer options, <see cref="FlexBuffers"/>) with box encodings, class
/// scores and a constant uint8 anchor tensor [N,4]; its four outputs are the model's outputs. No other operator.</item>
/// <item>Every activation and weight tensor uint8 with per-tensor asymmetric quantization, biases int32 with zero point 0;
/// SAME padding, dilation 1, depth multiplier 1; fused activation NONE or RELU6 (predictors NONE); LOGISTIC's output
/// 1/256 and 0 (TFLite's uint8 LOGISTIC requires it); the options in the ranges TFLite's kernel accepts
/// (<see cref="DetectorPostprocess.Problems"/>).</item>
/// </list>
/// <para>The operators must be in an order TFLite can execute (each reads only tensors written before it), and every operator
/// must belong to the structure above. Options tables (schema.fbs): Conv2DOptions 0 padding, 1 stride_w, 2 stride_h,
/// 3 fused_activation_function, 4/5 dilation; DepthwiseConv2DOptions 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
/// 4 fused_activation_function, 5/6 dilation; ConcatenationOptions 0 axis, 1 fused_activation_function.</para>
/// </remarks>
internal static class SsdTfliteImporter
{
    /// <summary>The custom code of TFLite's SSD post-processing operator.</summary>
    public const string PostprocessCustomCode = "TFLite_Detection_PostProcess";

    /// <summary>Heads of the TF Object Detection API's SSD MobileNet v1: two backbone feature maps and four extra layers.</summary>
    public const int HeadCount = 6;
    public const int ExtraLayerCount = 4;

    private const string Expected =
        "SSD MobileNet v1 as CONV_2D, 13 × (DEPTHWISE_CONV_2D, CONV_2D), 4 × (CONV_2D 1×1, CONV_2D 3×3/2), 6 × (box CONV_2D 1×1, class CONV_2D 1×1), " +
        "RESHAPE/CONCATENATION of the predictors, LOGISTIC, TFLite_Detection_PostProcess";

    /// <summary>
    /// True when the model is a detector this importer should explain: it has the SSD post-processing operator, or the
    /// CONCATENATION / LOGISTIC operators no MobileNet v1 classifier has.
    /// </summary>
    public static bool IsDetector(TfliteFlatbuffer fb)
    {
        for (int i = 0; i < fb.OpcodeBuiltins.Length; i++)
        {
            if (fb.OpcodeCustomCodes[i] == PostprocessCustomCode) return true;
            if (fb.OpcodeBuiltins[i] is TfliteFlatbuffer.OpConcatenation or TfliteFlatbuffer.OpLogistic) return true;
        }
        return false;
    }

    /// <summary>One planned convolution: its canonical name, kind, role, what it reads and its stride.</summary>
    internal sealed record Planned(string Name, DetectorLayerKind Kind, DetectorLayerRole Role, string Input, int Stride);

    /// <summary>The 47 convolutions in execution order, as the TF Object Detection API builds them.</summary>
    internal static List<Planned> Plan()
    {
        var p = new List<Planned> { new("conv0", DetectorLayerKind.Conv3x3, DetectorLayerRole.Backbone, DetectorWeights.ImageInput, 2) };
        string previous = "conv0";
        for (int n = 1; n <= 13; n++)
        {
            p.Add(new($"block{n}.depthwise", DetectorLayerKind.Depthwise3x3, DetectorLayerRole.Backbone, previous, MobileNetV1Architecture.BlockStrides[n - 1]));
            p.Add(new($"block{n}.pointwise", DetectorLayerKind.Pointwise, DetectorLayerRole.Backbone, $"block{n}.depthwise", 1));
            previous = $"block{n}.pointwise";
        }
        // multi_resolution_feature_maps: for each layer_depth > 0, a 1×1 convolution to depth/2 ("{base}_1_Conv2d_{i}_1x1_{d/2}")
        // then a 3×3 stride-2 convolution to depth ("{base}_2_Conv2d_{i}_3x3_s2_{d}"), each on the previous feature map.
        for (int i = 1; i <= ExtraLayerCount; i++)
        {
            p.Add(new($"extra{i}.pointwise", DetectorLayerKind.Pointwise, DetectorLayerRole.Extra, previous, 1));
            p.Add(new($"extra{i}.conv3x3", DetectorLayerKind.Conv3x3, DetectorLayerRole.Extra, $"extra{i}.pointwise", 2));
            previous = $"extra{i}.conv3x3";
        }
        foreach (var (feature, h) in Features().Select((f, h) => (f, h)))
        {
            p.Add(new($"box{h}", DetectorLayerKind.Pointwise, DetectorLayerRole.BoxPredictor, feature, 1));
            p.Add(new($"class{h}", DetectorLayerKind.Pointwise, DetectorLayerRole.ClassPredictor, feature, 1));
        }
        return p;
    }

    /// <summary>
    /// The heads' feature maps: <c>feature_map_layout['from_layer'] = ['Conv2d_11_pointwise', 'Conv2d_13_pointwise', '', '', '', '']</c>
    /// (ssd_mobilenet_v1_feature_extractor.py), the empty entries being the extra layers' 3×3 outputs.
    /// </summary>
    internal static string[] Features() =>
        new[] { "block11.pointwise", "block13.pointwise" }.Concat(Enumerable.Range(1, ExtraLayerCount).Select(i => $"extra{i}.conv3x3")).ToArray();

    /// <summary>A parsed convolution: the canonical layer plus its HWIO kernel and int32 bias.</summary>
    private sealed record ParsedConv(DetectorLayer Layer, byte[] Kernel, int[] Bias, TfliteTensor Output);

    public static SafeTensorsFile Import(TfliteFlatbuffer fb, string path, ImportOptions options)
    {
        string where = fb.Where;
        if (options.HeadPath != null)
            throw new ImportException($"{where} is an SSD detector (it has {PostprocessCustomCode}); --head joins a classifier backbone and its head and does not apply to detectors");
        if (options.Variant != null)
            throw new ImportException($"{where} is an SSD detector; --variant names a classifier variant and does not apply (the detector's width and resolution come from the model)");
        if (fb.SubgraphCount != 1) throw new ImportException($"{where}: {fb.SubgraphCount} subgraphs; the SSD detector has one");
        if (fb.Inputs.Length != 1) throw new ImportException($"{where}: {fb.Inputs.Length} inputs; the SSD detector has one (the image)");
        if (fb.Outputs.Length != 4) throw new ImportException($"{where}: {fb.Outputs.Length} outputs; the SSD detector has four (TFLite_Detection_PostProcess's boxes, classes, scores, count)");
        if (fb.OperatorCount == 0) throw new ImportException($"{where}: the model has no operators");

        // ---- every operator: a supported kind, one writer per tensor, inputs written before they are read
        var ops = new List<TfliteOperator>();
        var producer = new Dictionary<int, int>();
        var written = new HashSet<int> { fb.Inputs[0] };
        var writtenLater = new HashSet<int>();
        for (int i = 0; i < fb.OperatorCount; i++)
            foreach (int t in fb.Operator(i).Outputs) writtenLater.Add(t);
        for (int i = 0; i < fb.OperatorCount; i++)
        {
            var op = fb.Operator(i);
            switch (op.Builtin)
            {
                case TfliteFlatbuffer.OpConv2D:
                case TfliteFlatbuffer.OpDepthwiseConv2D:
                case TfliteFlatbuffer.OpReshape:
                case TfliteFlatbuffer.OpSqueeze:
                case TfliteFlatbuffer.OpConcatenation:
                case TfliteFlatbuffer.OpLogistic:
                    break;
                case TfliteFlatbuffer.OpCustom when op.CustomCode == PostprocessCustomCode:
                    break;
                default:
                    throw new ImportException($"{where}: operator {i} is {op.Name}, which is not part of the SSD detector this importer supports " +
                                              $"(CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, SQUEEZE, CONCATENATION, LOGISTIC and the custom {PostprocessCustomCode})");
            }
            int[] ins = op.Inputs, outs = op.Outputs;
            if (outs.Length == 0) throw new ImportException($"{OpWhere(fb, op)} has no output");
            foreach (int t in ins)
            {
                if (t < 0) continue; // optional input left out
                var tensor = fb.TensorAt(t, $"{OpWhere(fb, op)} input");
                if (written.Contains(t)) continue;
                if (fb.Data(tensor, $"{OpWhere(fb, op)} input").Length > 0) continue; // a constant
                throw writtenLater.Contains(t)
                    ? new ImportException($"{OpWhere(fb, op)} reads tensor {t} '{tensor.Name}' before the operator that writes it (the operators are not in an order TFLite can execute)")
                    : new ImportException($"{OpWhere(fb, op)} reads tensor {t} '{tensor.Name}', which is not the model input, has no constant data and no operator writes it (a missing constant?)");
            }
            foreach (int t in outs)
            {
                var tensor = fb.TensorAt(t, $"{OpWhere(fb, op)} output");
                if (!written.Add(t)) throw new ImportException($"{OpWhere(fb, op)} writes tensor {t} '{tensor.Name}', which the model input or an earlier operator already holds");
                producer[t] = i;
            }
            ops.Add(op);
        }
        var visited = new HashSet<int>();

        // ---- the convolutions, matched to the plan in operator order
        var plan = Plan();
        var convOps = ops.Where(o => o.Builtin is TfliteFlatbuffer.OpConv2D or TfliteFlatbuffer.OpDepthwiseConv2D).ToList();
        if (convOps.Count != plan.Count)
            throw new ImportException($"{where}: {convOps.Count} convolution operators; SSD MobileNet v1 has {plan.Count} (stem, 13 × depthwise + pointwise, " +
                                      $"{ExtraLayerCount} × (1×1, 3×3/2) extra layers, {HeadCount} × (box, class) predictors); {Expected}");
        for (int k = 0; k < plan.Count; k++)
        {
            bool dw = plan[k].Kind == DetectorLayerKind.Depthwise3x3;
            if ((convOps[k].Builtin == TfliteFlatbuffer.OpDepthwiseConv2D) != dw)
                throw new ImportException($"{OpWhere(fb, convOps[k])}: convolution {k} should be {plan[k].Name} ({(dw ? "DEPTHWISE_CONV_2D" : "CONV_2D")}); {Expected}");
        }

        // Width multiplier from the stem and the last backbone layer (slim's depth(d) = max(int(d·α), 8)).
        int StemOut(int k)
        {
            int[] ins = convOps[k].Inputs;
            if (ins.Length < 2 || ins[1] < 0) throw new ImportException($"{OpWhere(fb, convOps[k])} ({plan[k].Name}) has no filter input");
            var f = fb.TensorAt(ins[1], $"{OpWhere(fb, convOps[k])} filter");
            if (f.Shape.Length != 4) throw new ImportException($"{OpWhere(fb, convOps[k])} ({plan[k].Name}): filter '{f.Name}' has shape {f.ShapeText}; expected rank 4 (OHWI)");
            return f.Shape[0];
        }
        double alpha = ImportCommon.AlphaFromWidths(StemOut(0), StemOut(26), where);

        var input = fb.TensorAt(fb.Inputs[0], "subgraph input");
        if (input.Shape.Length != 4 || input.Shape[0] != 1 || input.Shape[3] != 3)
            throw new ImportException($"{where}: input '{input.Name}' is {input.ShapeText}; the detector takes one RGB image [1,R,R,3]");
        if (input.Shape[1] != input.Shape[2]) throw new ImportException($"{where}: input is {input.Shape[1]}x{input.Shape[2]}; only square inputs are supported");
        int resolution = input.Shape[1];
        if (resolution < 32 || resolution > 1024) throw new ImportException($"{where}: input resolution {resolution} is outside 32..1024");
        var inputQ = QuantizedTfliteImporter.UInt8Params(fb, input, $"{where}: input");

        var parsed = new List<ParsedConv>();
        var byName = new Dictionary<string, ParsedConv>(StringComparer.Ordinal);
        for (int k = 0; k < plan.Count; k++)
        {
            var pl = plan[k];
            var op = convOps[k];
            int expectedIn = pl.Input == DetectorWeights.ImageInput ? fb.Inputs[0] : byName[pl.Input].Output.Index;
            int[] shapeIn = pl.Input == DetectorWeights.ImageInput ? new[] { resolution, resolution, 3 } : byName[pl.Input].Layer.OutputShape;
            var qIn = pl.Input == DetectorWeights.ImageInput ? inputQ : byName[pl.Input].Layer.Quantization.Output;
            int? wantOut = null;
            if (pl.Role == DetectorLayerRole.Backbone)
                wantOut = pl.Kind == DetectorLayerKind.Depthwise3x3 ? shapeIn[2]
                    : pl.Name == "conv0" ? MobileNetV1Architecture.Depth(MobileNetV1Architecture.StemWidth, alpha)
                    : MobileNetV1Architecture.Depth(MobileNetV1Architecture.BlockWidths[int.Parse(pl.Name.Substring(5, pl.Name.IndexOf('.') - 5), CultureInfo.InvariantCulture) - 1], alpha);
            var c = Conv(fb, op, pl, expectedIn, shapeIn, qIn, wantOut);
            visited.Add(op.Index);
            parsed.Add(c);
            byName[pl.Name] = c;
        }

        // ---- heads: anchors per cell from the box predictors, the class count from the class predictors
        var features = Features();
        int classes = -1;
        var anchorsPerCell = new int[HeadCount];
        for (int h = 0; h < HeadCount; h++)
        {
            var box = byName[$"box{h}"].Layer;
            var cls = byName[$"class{h}"].Layer;
            if (box.OutC % 4 != 0) throw new ImportException($"{where}: box predictor box{h} ('{box.Source}') has {box.OutC} channels, not 4 codes per anchor");
            anchorsPerCell[h] = box.OutC / 4;
            if (cls.OutC % anchorsPerCell[h] != 0)
                throw new ImportException($"{where}: class predictor class{h} ('{cls.Source}') has {cls.OutC} channels, not a multiple of the head's {anchorsPerCell[h]} anchors per cell");
            int c = cls.OutC / anchorsPerCell[h];
            if (classes < 0) classes = c;
            else if (c != classes) throw new ImportException($"{where}: class predictor class{h} gives {c} classes per anchor, class0 {classes}: every head must predict the same classes");
        }
        if (classes < 1 || classes > 100000) throw new ImportException($"{where}: {classes} classes per anchor is out of range");

        // ---- the post-processing operator and what feeds it
        var pps = ops.Where(o => o.Builtin == TfliteFlatbuffer.OpCustom).ToList();
        if (pps.Count != 1) throw new ImportException($"{where}: {pps.Count} {PostprocessCustomCode} operators; the SSD detector ends in one");
        var pp = pps[0];
        string ppWhere = OpWhere(fb, pp);
        visited.Add(pp.Index);
        int[] ppIn = pp.Inputs, ppOut = pp.Outputs;
        if (ppIn.Length != 3) throw new ImportException($"{ppWhere} has {ppIn.Length} inputs; TFLite's kernel takes box encodings, class scores and anchors");
        if (ppOut.Length != 4) throw new ImportException($"{ppWhere} has {ppOut.Length} outputs; TFLite's kernel writes boxes, classes, scores and the count");
        if (!ppOut.SequenceEqual(fb.Outputs))
            throw new ImportException($"{ppWhere} writes tensors [{string.Join(",", ppOut)}], but the model's outputs are [{string.Join(",", fb.Outputs)}]: the post-processing must give the model's outputs");
        foreach (int t in ppOut)
        {
            var o = fb.TensorAt(t, ppWhere + " output");
            if (o.Type != TfliteFlatbuffer.TypeFloat32)
                throw new ImportException($"{ppWhere}: output '{o.Name}' is {TfliteFlatbuffer.TypeName(o.Type)}; TFLite_Detection_PostProcess writes float32");
        }
        if (ppIn.Any(t => t < 0)) throw new ImportException($"{ppWhere}: an input is absent (-1)");

        // Box encodings: [1,N,4] ← shape-only ops ← CONCATENATION of the box predictors.
        var boxIn = fb.TensorAt(ppIn[0], ppWhere + " box encodings");
        var (boxConcatOp, _) = Trace(fb, ops, producer, visited, boxIn, ppWhere + " box encodings", TfliteFlatbuffer.OpConcatenation);
        var boxConcat = Concat(fb, ops, producer, visited, boxConcatOp, byName, anchorsPerCell, box: true, columns: 4, out var boxQ, out int anchorCount);
        CheckShape(boxIn, new[] { 1, anchorCount, 4 }, ppWhere + " box encodings (TFLite needs [1,N,4])");

        // Class scores: [1,N,C] ← LOGISTIC ← shape-only ops ← CONCATENATION of the class predictors.
        var scoresIn = fb.TensorAt(ppIn[1], ppWhere + " class scores");
        var (logisticOp, _) = Trace(fb, ops, producer, visited, scoresIn, ppWhere + " class scores", TfliteFlatbuffer.OpLogistic);
        string lgWhere = OpWhere(fb, logisticOp);
        int[] lgIn = logisticOp.Inputs;
        if (lgIn.Length != 1 || lgIn[0] < 0 || logisticOp.Outputs.Length != 1) throw new ImportException($"{lgWhere} has {lgIn.Length} inputs and {logisticOp.Outputs.Length} outputs; LOGISTIC has one of each");
        var lgInput = fb.TensorAt(lgIn[0], lgWhere + " input");
        var lgOutput = fb.TensorAt(logisticOp.Outputs[0], lgWhere + " output");
        var (classConcatOp, _) = Trace(fb, ops, producer, visited, lgInput, lgWhere + " input", TfliteFlatbuffer.OpConcatenation);
        var classConcat = Concat(fb, ops, producer, visited, classConcatOp, byName, anchorsPerCell, box: false, columns: classes, out var classQ, out int classRows);
        if (classRows != anchorCount) throw new ImportException($"{where}: the class concatenation has {classRows} rows, the box concatenation {anchorCount}");
        CheckShape(scoresIn, new[] { 1, anchorCount, classes }, ppWhere + " class scores (TFLite needs [1,N,C])");
        if (Elements(lgInput) != Elements(lgOutput)) throw new ImportException($"{lgWhere} maps {lgInput.ShapeText} to {lgOutput.ShapeText}");
        var lgInQ = QuantizedTfliteImporter.UInt8Params(fb, lgInput, lgWhere + " input");
        var lgOutQ = QuantizedTfliteImporter.UInt8Params(fb, lgOutput, lgWhere + " output");
        if (!lgOutQ.Equals(new QuantParams(1f / 256, 0)))
            throw new ImportException($"{lgWhere}: output quantization {lgOutQ}; TFLite's uint8 LOGISTIC requires scale 1/256 and zero point 0 (activations.cc, SigmoidPrepare)");
        var logistic = new DetectorLogistic(lgInQ, lgOutQ, lgOutput.Name);

        // Anchors: a uint8 constant [N,4].
        var anchorsT = fb.TensorAt(ppIn[2], ppWhere + " anchors");
        if (producer.ContainsKey(anchorsT.Index)) throw new ImportException($"{ppWhere}: the anchors '{anchorsT.Name}' are computed by operator {producer[anchorsT.Index]}; they must be a constant tensor");
        CheckShape(anchorsT, new[] { anchorCount, 4 }, ppWhere + " anchors");
        var anchorsQ = QuantizedTfliteImporter.UInt8Params(fb, anchorsT, ppWhere + " anchors");
        byte[] anchorBytes = fb.Data(anchorsT, ppWhere + " anchors").ToArray();
        if (anchorBytes.Length != anchorCount * 4L)
            throw new ImportException($"{ppWhere}: the anchors '{anchorsT.Name}' hold {anchorBytes.Length} data bytes, expected {anchorCount * 4L} ({anchorCount} anchors × 4; missing or truncated constant?)");

        // Options.
        var post = Options(pp, ppWhere, classes);

        // Every operator belongs to the structure.
        for (int i = 0; i < ops.Count; i++)
            if (!visited.Contains(i))
                throw new ImportException($"{OpWhere(fb, ops[i])} is not part of the SSD graph (nothing the detector computes reads its output); {Expected}");

        // ---- the canonical network
        var heads = new List<DetectorHead>();
        int offset = 0;
        for (int h = 0; h < HeadCount; h++)
        {
            var f = byName[features[h]].Layer;
            int rows = f.OutH * f.OutW * anchorsPerCell[h];
            heads.Add(new DetectorHead(h, features[h], $"box{h}", $"class{h}", anchorsPerCell[h], f.OutH, f.OutW, offset, rows));
            offset += rows;
        }
        var network = new DetectorNetwork(new[] { resolution, resolution, 3 }, inputQ, input.Name, classes, parsed.Select(p => p.Layer).ToList(), heads,
            new DetectorConcat(heads.Select(h => h.Box).ToList(), anchorCount, 4, boxQ, boxConcat),
            new DetectorConcat(heads.Select(h => h.Class).ToList(), anchorCount, classes, classQ, classConcat),
            logistic, new DetectorAnchors(DetectorWeights.AnchorsTensor, anchorCount, anchorsQ, anchorsT.Name), post);

        var tensors = new List<Tensor>();
        foreach (var p in parsed)
        {
            tensors.Add(Tensor.FromBytes(p.Layer.WeightTensor, p.Layer.KernelShape, p.Kernel));
            tensors.Add(Tensor.FromInt32s(p.Layer.BiasTensor, new[] { p.Layer.OutC }, p.Bias));
        }
        tensors.Add(Tensor.FromBytes(DetectorWeights.AnchorsTensor, new[] { anchorCount, 4 }, anchorBytes));

        var (labels, labelsFrom) = Labels(path, options, classes, where);
        bool coco = IsCocoLabelMap(labels);
        return Build(fb, path, options, alpha, resolution, network, tensors, labels, labelsFrom, coco, anchorsPerCell);
    }

    private static string OpWhere(TfliteFlatbuffer fb, TfliteOperator op) => $"{fb.Where}: operator {op.Index} ({op.Name})";

    private static long Elements(TfliteTensor t)
    {
        long n = 1;
        foreach (int d in t.Shape) n *= d;
        return n;
    }

    private static void CheckShape(TfliteTensor t, int[] expected, string what)
    {
        if (!t.Shape.SequenceEqual(expected))
            throw new ImportException($"{what}: '{t.Name}' has shape {t.ShapeText}, the SSD graph needs [{string.Join(",", expected)}]");
    }

    /// <summary>
    /// Follows <paramref name="t"/> back through shape-only operators (RESHAPE, SQUEEZE: same bytes, same quantization, same
    /// element count) to the operator that computes it, which must be a <paramref name="wantBuiltin"/>. Marks the operators
    /// passed as part of the graph (a shape operator reached twice is a branch the structure does not have).
    /// </summary>
    private static (TfliteOperator Op, TfliteTensor Tensor) Trace(TfliteFlatbuffer fb, List<TfliteOperator> ops, Dictionary<int, int> producer, HashSet<int> visited,
        TfliteTensor t, string what, int wantBuiltin)
    {
        for (int guard = 0; guard <= ops.Count; guard++)
        {
            if (!producer.TryGetValue(t.Index, out int pi))
                throw new ImportException($"{what}: tensor '{t.Name}' is not computed by any operator; the SSD graph has {TfliteFlatbuffer.OperatorName(wantBuiltin)} here");
            var op = ops[pi];
            if (op.Builtin is TfliteFlatbuffer.OpReshape or TfliteFlatbuffer.OpSqueeze)
            {
                string w = OpWhere(fb, op);
                if (!visited.Add(pi)) throw new ImportException($"{w} is reached twice: the SSD graph has no shared shape operators");
                int[] ins = op.Inputs;
                if (ins.Length < 1 || ins[0] < 0 || op.Outputs.Length != 1) throw new ImportException($"{w} needs a data input and one output");
                var src = fb.TensorAt(ins[0], w + " input");
                var pin = QuantizedTfliteImporter.UInt8Params(fb, src, w + " input");
                var pout = QuantizedTfliteImporter.UInt8Params(fb, t, w + " output");
                if (!pin.Equals(pout)) throw new ImportException($"{w} changes the quantization ({pin} → {pout}); it must only reshape");
                if (Elements(src) != Elements(t)) throw new ImportException($"{w} maps {src.ShapeText} to {t.ShapeText}: not a reshape");
                t = src;
                continue;
            }
            if (op.Builtin != wantBuiltin)
                throw new ImportException($"{OpWhere(fb, op)} computes '{t.Name}', which {what} needs from a {TfliteFlatbuffer.OperatorName(wantBuiltin)}; {Expected}");
            // Convolutions were matched (and marked) in operator order; the caller checks which one this is.
            if (wantBuiltin != TfliteFlatbuffer.OpConv2D && !visited.Add(pi)) throw new ImportException($"{OpWhere(fb, op)} is reached twice: the SSD graph uses it once");
            return (op, t);
        }
        throw new ImportException($"{what}: the chain of shape operators does not end");
    }

    /// <summary>
    /// A CONCATENATION of the six heads' predictors (box or class) along the anchor axis: its options, each input traced back
    /// to head h's predictor with rows = H·W·A, the output's rows and columns. Returns the output tensor's name.
    /// </summary>
    private static string Concat(TfliteFlatbuffer fb, List<TfliteOperator> ops, Dictionary<int, int> producer, HashSet<int> visited, TfliteOperator op,
        Dictionary<string, ParsedConv> byName, int[] anchorsPerCell, bool box, int columns, out QuantParams outputQ, out int rows)
    {
        string w = OpWhere(fb, op);
        string kind = box ? "box" : "class";
        if (op.OptionsType != TfliteFlatbuffer.OptionsConcatenation || op.Options is not FbTable o)
            throw new ImportException($"{w} has no ConcatenationOptions (options type {op.OptionsType})");
        int axis = o.Int(0, 0, "ConcatenationOptions.axis");
        byte act = o.Byte(1, 0, "ConcatenationOptions.fused_activation_function");
        if (act != 0) throw new ImportException($"{w}: fused activation {QuantizedTfliteImporter.ActivationName(act)}; the SSD concatenations have none");
        int[] ins = op.Inputs;
        if (op.Outputs.Length != 1) throw new ImportException($"{w} has {op.Outputs.Length} outputs");
        if (ins.Length != HeadCount) throw new ImportException($"{w} concatenates {ins.Length} tensors; the {kind} concatenation takes the {HeadCount} heads' {kind} predictors");
        var output = fb.TensorAt(op.Outputs[0], w + " output");
        int rank = output.Shape.Length;
        if (rank < 2 || output.Shape[0] != 1) throw new ImportException($"{w}: output '{output.Name}' is {output.ShapeText}; expected [1,N,…]");
        int a = axis < 0 ? axis + rank : axis;
        if (a != 1) throw new ImportException($"{w}: axis {axis} of a rank-{rank} output; the SSD concatenations join the anchors (axis 1)");
        long trailing = 1;
        for (int d = 2; d < rank; d++) trailing *= output.Shape[d];
        if (trailing != columns) throw new ImportException($"{w}: output '{output.Name}' is {output.ShapeText}: {trailing} values per anchor, expected {columns}");
        outputQ = QuantizedTfliteImporter.UInt8Params(fb, output, w + " output");
        rows = 0;
        for (int h = 0; h < HeadCount; h++)
        {
            if (ins[h] < 0) throw new ImportException($"{w}: input {h} is absent (-1)");
            var t = fb.TensorAt(ins[h], $"{w} input {h}");
            if (t.Shape.Length != rank || t.Shape[0] != 1 || !t.Shape.Skip(2).SequenceEqual(output.Shape.Skip(2)))
                throw new ImportException($"{w}: input {h} '{t.Name}' is {t.ShapeText}; the inputs must be [1,n,{string.Join(",", output.Shape.Skip(2))}] like the output {output.ShapeText}");
            var (conv, _) = Trace(fb, ops, producer, visited, t, $"{w} input {h}", TfliteFlatbuffer.OpConv2D);
            var pred = byName[$"{kind}{h}"];
            if (conv.Outputs[0] != pred.Output.Index)
                throw new ImportException($"{w}: input {h} comes from '{fb.Tensors[conv.Outputs[0]].Name}', not head {h}'s {kind} predictor '{pred.Output.Name}' ({kind}{h})");
            var f = pred.Layer;
            int want = f.OutH * f.OutW * anchorsPerCell[h];
            if (t.Shape[1] != want) throw new ImportException($"{w}: input {h} '{t.Name}' has {t.Shape[1]} anchors, head {h} has {f.OutH}·{f.OutW}·{anchorsPerCell[h]} = {want}");
            rows += want;
        }
        if (output.Shape[1] != rows) throw new ImportException($"{w}: output '{output.Name}' has {output.Shape[1]} anchors, its inputs {rows}");
        return output.Name;
    }

    /// <summary>One convolution: wiring, options, shapes and quantization; the canonical layer, HWIO kernel and int32 bias.</summary>
    private static ParsedConv Conv(TfliteFlatbuffer fb, TfliteOperator op, Planned pl, int expectedInput, int[] shapeIn, QuantParams qIn, int? wantOut)
    {
        bool dw = pl.Kind == DetectorLayerKind.Depthwise3x3;
        string where = $"{OpWhere(fb, op)} = {pl.Name}";
        int[] ins = op.Inputs;
        if (ins.Length != 3 || ins.Any(t => t < 0)) throw new ImportException($"{where} has inputs [{string.Join(",", ins)}]; expected input, filter and bias");
        if (op.Outputs.Length != 1) throw new ImportException($"{where} has {op.Outputs.Length} outputs; expected one");
        if (ins[0] != expectedInput)
        {
            string got = fb.TensorAt(ins[0], where + " input").Name;
            string want = fb.TensorAt(expectedInput, where + " input").Name;
            throw new ImportException($"{where} reads '{got}', but {pl.Name} reads {(pl.Input == DetectorWeights.ImageInput ? "the image" : pl.Input)} ('{want}'): a different wiring or operator order; {Expected}");
        }
        byte want0 = dw ? TfliteFlatbuffer.OptionsDepthwiseConv2D : TfliteFlatbuffer.OptionsConv2D;
        string optWhat = dw ? "DepthwiseConv2DOptions" : "Conv2DOptions";
        if (op.OptionsType != want0 || op.Options is not FbTable o) throw new ImportException($"{where} has no {optWhat} (options type {op.OptionsType})");
        byte padding = o.Byte(0, 0, optWhat + ".padding");
        int strideW = o.Int(1, 0, optWhat + ".stride_w"), strideH = o.Int(2, 0, optWhat + ".stride_h");
        byte activation;
        int dilationW, dilationH;
        if (dw)
        {
            int depthMultiplier = o.Int(3, 0, optWhat + ".depth_multiplier");
            if (depthMultiplier != 1) throw new ImportException($"{where}: depth multiplier {depthMultiplier}; MobileNet v1's depthwise layers have 1");
            activation = o.Byte(4, 0, optWhat + ".fused_activation_function");
            dilationW = o.Int(5, 1, optWhat + ".dilation_w_factor");
            dilationH = o.Int(6, 1, optWhat + ".dilation_h_factor");
        }
        else
        {
            activation = o.Byte(3, 0, optWhat + ".fused_activation_function");
            dilationW = o.Int(4, 1, optWhat + ".dilation_w_factor");
            dilationH = o.Int(5, 1, optWhat + ".dilation_h_factor");
        }
        if (padding != 0) throw new ImportException($"{where}: padding {(padding == 1 ? "VALID" : padding.ToString(CultureInfo.InvariantCulture))}; the SSD graph uses SAME");
        if (strideW != pl.Stride || strideH != pl.Stride) throw new ImportException($"{where}: stride {strideH}x{strideW}; {pl.Name} has {pl.Stride}x{pl.Stride}");
        if (dilationW != 1 || dilationH != 1) throw new ImportException($"{where}: dilation {dilationH}x{dilationW}; the SSD graph has none (1x1)");
        bool predictor = pl.Role is DetectorLayerRole.BoxPredictor or DetectorLayerRole.ClassPredictor;
        var act = activation switch
        {
            0 => QuantizedActivation.None,
            3 when !predictor => QuantizedActivation.Relu6,
            _ => throw new ImportException($"{where}: fused activation {QuantizedTfliteImporter.ActivationName(activation)} is not supported here (expected {(predictor ? "NONE" : "NONE or RELU6")})"),
        };

        var input = fb.TensorAt(ins[0], where + " input");
        var filter = fb.TensorAt(ins[1], where + " filter");
        var biasT = fb.TensorAt(ins[2], where + " bias");
        var output = fb.TensorAt(op.Outputs[0], where + " output");
        CheckShape(input, new[] { 1, shapeIn[0], shapeIn[1], shapeIn[2] }, where + " input");
        if (filter.Shape.Length != 4) throw new ImportException($"{where}: filter '{filter.Name}' has shape {filter.ShapeText}; expected rank 4 ({(dw ? "1HWC" : "OHWI")})");
        int k = pl.Kind == DetectorLayerKind.Pointwise ? 1 : 3;
        int cout = dw ? shapeIn[2] : filter.Shape[0];
        if (cout < 1 || cout > 65536) throw new ImportException($"{where}: {cout} output channels is out of range");
        if (wantOut is int wo && cout != wo)
            throw new ImportException($"{where}: {cout} output channels; the MobileNet v1 backbone at the width its stem and last layer give has {wo} here");
        CheckShape(filter, dw ? new[] { 1, k, k, shapeIn[2] } : new[] { cout, k, k, shapeIn[2] }, where + " filter");
        int oh = (shapeIn[0] + pl.Stride - 1) / pl.Stride, ow = (shapeIn[1] + pl.Stride - 1) / pl.Stride;
        CheckShape(output, new[] { 1, oh, ow, cout }, where + " output");

        var pin = QuantizedTfliteImporter.UInt8Params(fb, input, where + " input");
        if (!pin.Equals(qIn)) throw new ImportException($"{where}: input quantization ({pin}) differs from what {pl.Input} writes ({qIn})");
        var pw = QuantizedTfliteImporter.UInt8Params(fb, filter, where + " filter");
        var pout = QuantizedTfliteImporter.UInt8Params(fb, output, where + " output");

        // The int32 bias (zero point 0, scale ≈ input · filter scale, checked by the canonical validation).
        string bname = $"{where} bias '{biasT.Name}'";
        if (biasT.Type != TfliteFlatbuffer.TypeInt32) throw new ImportException($"{bname} is {TfliteFlatbuffer.TypeName(biasT.Type)}; a uint8 convolution's bias must be int32");
        if (!biasT.Shape.SequenceEqual(new[] { cout })) throw new ImportException($"{bname} has shape {biasT.ShapeText}, expected [{cout}]");
        var bq = fb.Quantization(biasT) ?? throw new ImportException($"{bname} has no quantization parameters (its scale must be input scale × filter scale)");
        QuantizedTfliteImporter.CheckPerTensor(bq, bname);
        if (bq.ZeroPoint.Length == 1 && bq.ZeroPoint[0] != 0) throw new ImportException($"{bname} has zero point {bq.ZeroPoint[0]}; int32 biases have zero point 0");
        var bdata = fb.Data(biasT, where + " bias");
        if (bdata.Length != cout * 4L) throw new ImportException($"{bname} has {bdata.Length} data bytes, expected {cout * 4L} (truncated or constant missing?)");
        var bias = new int[cout];
        for (int i = 0; i < cout; i++) bias[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bdata.Slice(4 * i, 4));

        var data = fb.Data(filter, where + " filter");
        long kernelElements = (long)k * k * shapeIn[2] * (dw ? 1 : cout);
        if (data.Length != kernelElements)
            throw new ImportException($"{where}: filter '{filter.Name}' has {data.Length} data bytes, expected {kernelElements} (truncated or constant missing?)");
        byte[] src = data.ToArray();
        byte[] hwio = dw ? src : ImportCommon.OhwiToHwio(src, cout, k, k, shapeIn[2]);

        // TensorFlow SAME padding (TFLite's ComputePaddingHeightWidth gives the same offsets): the smaller half before.
        int padH = Math.Max((oh - 1) * pl.Stride + k - shapeIn[0], 0), padW = Math.Max((ow - 1) * pl.Stride + k - shapeIn[1], 0);
        var layer = new DetectorLayer(pl.Name, pl.Kind, pl.Role, pl.Input, pl.Stride, padH / 2, padH - padH / 2, padW / 2, padW - padW / 2,
            (int[])shapeIn.Clone(), new[] { oh, ow, cout }, new QuantizedConvLayer(pl.Name, pin, pw, bq.Scale[0], pout, act), output.Name);
        return new ParsedConv(layer, hwio, bias, output);
    }

    /// <summary>
    /// The post-processing options, read as TFLite's <c>Init</c> reads them (<c>tensorflow/lite/kernels/detection_postprocess.cc</c>):
    /// <c>m["max_detections"].AsInt32()</c> …, <c>detections_per_class</c> = 100 and <c>use_regular_nms</c> = false when
    /// <c>IsNull()</c>; an absent key reads as flexbuffers' Null (0 for the others). Values that TFLite's kernel rejects
    /// (<see cref="DetectorPostprocess.Problems"/>) are an <see cref="ImportException"/> here, not a failure at the first inference.
    /// </summary>
    internal static DetectorPostprocess Options(TfliteOperator pp, string where, int classColumns)
    {
        if (pp.CustomOptionsFormat != 0)
            throw new ImportException($"{where}: custom_options_format {pp.CustomOptionsFormat}; TFLite defines only FLEXBUFFERS (0)");
        byte[] bytes = pp.CustomOptions;
        if (bytes.Length == 0) throw new ImportException($"{where} has no custom options: TFLite_Detection_PostProcess needs its FlexBuffer map (max_detections, nms thresholds, num_classes, box coder scales)");
        var post = FromFlexBuffer(bytes, where);
        post.CustomOptions = bytes;
        post.Source = pp.CustomCode;
        var problems = post.Problems(classColumns);
        if (problems.Count > 0) throw new ImportException($"{where}: {string.Join("; ", problems)}");
        return post;
    }

    /// <summary>The FlexBuffer map of <c>TFLite_Detection_PostProcess</c> → its options (TFLite's <c>Init</c>; see <see cref="Options"/>).</summary>
    internal static DetectorPostprocess FromFlexBuffer(byte[] bytes, string where)
    {
        try
        {
            var m = FlexBuffers.RootMap(bytes);
            var p = new DetectorPostprocess();
            FlexValue Get(string key)
            {
                if (m.TryGetValue(key, out var v) && !v.IsNull) return v;
                p.Defaulted.Add(key);
                return default;
            }
            p.MaxDetections = Get("max_detections").AsInt32();
            p.MaxClassesPerDetection = Get("max_classes_per_detection").AsInt32();
            var dpc = Get("detections_per_class");
            p.DetectionsPerClass = dpc.IsNull ? DetectorPostprocess.DefaultDetectionsPerClass : dpc.AsInt32();
            var regular = Get("use_regular_nms");
            p.UseRegularNms = !regular.IsNull && regular.AsBool();
            p.NmsScoreThreshold = Get("nms_score_threshold").AsSingle();
            p.NmsIouThreshold = Get("nms_iou_threshold").AsSingle();
            p.NumClasses = Get("num_classes").AsInt32();
            p.YScale = Get("y_scale").AsSingle();
            p.XScale = Get("x_scale").AsSingle();
            p.HScale = Get("h_scale").AsSingle();
            p.WScale = Get("w_scale").AsSingle();
            return p;
        }
        catch (ImportException e) { throw new ImportException($"{where}: custom options: {e.Message}", e); }
        catch (OverflowException e) { throw new ImportException($"{where}: custom options: a value does not fit ({e.Message})", e); }
    }

    /// <summary>TFLite's COCO label map (<c>labelmap.txt</c> of the hosted SSD models): 91 lines, "???" for the background column.</summary>
    private static bool IsCocoLabelMap(string[] labels) =>
        labels.Length == 91 && labels[0] == "???" && labels[1] == "person" && labels[90] == "toothbrush";

    /// <summary>
    /// The label of each class column: <see cref="ImportOptions.LabelsPath"/> / <see cref="ImportOptions.Labels"/>, else a
    /// <c>labelmap.txt</c> (TFLite's hosted SSD models ship one) or <c>labels.txt</c> beside the model. One per column
    /// (background first); a detector without labels is refused, since its classes would mean nothing.
    /// </summary>
    private static (string[] Labels, string From) Labels(string path, ImportOptions options, int classes, string where)
    {
        string[]? labels = null;
        string? from = null;
        if (options.LabelsPath != null) { labels = ImportCommon.ReadLabelsFile(options.LabelsPath); from = Path.GetFileName(options.LabelsPath); }
        else if (options.Labels != null) { labels = options.Labels.ToArray(); from = "the import options"; }
        else
        {
            string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            foreach (string candidate in new[] { "labelmap.txt", "labels.txt" })
            {
                string p = Path.Combine(dir, candidate);
                if (File.Exists(p)) { labels = ImportCommon.ReadLabelsFile(p); from = candidate + " beside the model"; break; }
            }
        }
        if (labels == null)
            throw new ImportException($"{where}: the detector has {classes} class columns and no label map was found (labelmap.txt or labels.txt beside the model); pass --labels FILE (one label per line, background first)");
        if (labels.Length != classes)
            throw new ImportException($"{where}: {from} holds {labels.Length} labels but the detector has {classes} class columns (background included); give exactly one label per column");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i].Length == 0) throw new ImportException($"{where}: label {i} in {from} is empty");
        return (labels, from!);
    }

    private static SafeTensorsFile Build(TfliteFlatbuffer fb, string path, ImportOptions options, double alpha, int resolution, DetectorNetwork network,
        List<Tensor> tensors, string[] labels, string labelsFrom, bool coco, int[] anchorsPerCell)
    {
        string alphaText = new VariantName(alpha, 224).AlphaText;
        string label = options.SourceLabel ?? ImportCommon.DefaultSourceLabel(path);
        int slash = label.IndexOf('/');
        string release = options.Release ?? ImportCommon.DefaultRelease(label, slash > 0 ? label[..slash] : "unknown");
        string name = options.Name ?? $"ssd_mobilenet_v1_{alphaText}_{resolution}_{(coco ? "coco" : "custom")}_quant";
        string converter = string.IsNullOrWhiteSpace(fb.Description) ? "" : $" ({fb.Description!.Trim().TrimEnd('.')})";
        var pp = network.Postprocess;
        string note =
            $"TFLite uint8 SSD detector flatbuffer{converter}: MobileNet v1 backbone at width {alphaText}, {resolution}x{resolution}, {ExtraLayerCount} extra feature layers, " +
            $"{HeadCount} heads ({string.Join(",", anchorsPerCell)} anchors per cell, {network.Anchors.Count} anchors), {network.Classes} class columns; " +
            "uint8 kernels and int32 biases as published, OHWI filters (depthwise 1HWC) transposed to HWIO, the uint8 anchors as published; every tensor's " +
            "scale and zero point, the RESHAPE/CONCATENATION structure, LOGISTIC and the TFLite_Detection_PostProcess options (and its FlexBuffer bytes) in metadata 'detector'; " +
            $"layers mapped by operator order and data flow; labels from {labelsFrom}." +
            (coco ? " Google's COCO SSD MobileNet v1 quantized weights, Apache-2.0." : " The weights are the source model's.");
        var meta = new Dictionary<string, string>
        {
            [CanonicalWeights.Keys.Format] = CanonicalWeights.FormatVersion,
            [CanonicalWeights.Keys.Architecture] = DetectorWeights.Architecture,
            [CanonicalWeights.Keys.Name] = name,
            [CanonicalWeights.Keys.Variant] = $"{alphaText}_{resolution.ToString(CultureInfo.InvariantCulture)}{VariantName.QuantSuffix}",
            [CanonicalWeights.Keys.Alpha] = alphaText,
            [CanonicalWeights.Keys.Resolution] = resolution.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.NumClasses] = network.Classes.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.BackgroundClass] = network.Classes - pp.NumClasses == 1 ? "true" : "false",
            [CanonicalWeights.Keys.Precision] = CanonicalWeights.PrecisionUInt8,
            [CanonicalWeights.Keys.Weights] = CanonicalWeights.GenuineUInt8,
            [DetectorWeights.MetadataKey] = DetectorWeights.ToJson(network),
            [CanonicalWeights.Keys.Source] = label,
            [CanonicalWeights.Keys.SourceFormat] = "tflite",
            [CanonicalWeights.Keys.SourceSha256] = ImportCommon.Sha256Hex(fb.Bytes),
            [CanonicalWeights.Keys.Release] = release,
            [CanonicalWeights.Keys.Labels] = coco ? DetectorWeights.CocoLabels : CanonicalWeights.CustomLabels,
            [CanonicalWeights.Keys.LabelsJson] = CanonicalWeights.LabelsToJson(labels),
            [CanonicalWeights.Keys.Note] = note.Replace('\n', ' ').Replace('\r', ' '),
        };
        SafeTensorsFile file;
        try { file = new SafeTensorsFile(meta, tensors); }
        catch (WeightsFormatException e) { throw new ImportException($"{fb.Where}: the detector's tensors are not consistent: " + e.Message, e); }
        var problems = DetectorWeights.ValidateDetector(file);
        if (problems.Count > 0) throw new ImportException($"{fb.Where}: the imported detector is not valid: " + string.Join("; ", problems));
        return file;
    }
}
