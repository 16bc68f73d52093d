using System.Globalization;
using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>
/// Fully quantized uint8 TFLite MobileNet v1 (Google's quantization-aware-trained classifiers: TOCO 2018 files and the MLIR
/// converter's re-exports, with or without TFLite metadata) → the canonical uint8 representation (weights/README.md,
/// "Quantized (uint8) entries"; <see cref="CanonicalWeights.QuantizationOf"/>). Every tensor's scale and zero point is kept
/// exactly as TFLite gives it, the uint8 kernels and int32 biases byte for byte (OHWI filters transposed to HWIO; depthwise
/// 1HWC is already HWIO [H,W,C,1] in memory).
/// </summary>
/// <remarks>
/// What is accepted is exactly what the product implements; everything else is an <see cref="ImportException"/> naming the
/// operator or tensor:
/// <list type="bullet">
/// <item>one subgraph whose operators form a single chain from the input to the output:
/// [QUANTIZE float32→uint8], CONV_2D, 13 × (DEPTHWISE_CONV_2D, CONV_2D), AVERAGE_POOL_2D (global), CONV_2D (logits, 1×1),
/// RESHAPE / SQUEEZE (any number), [SOFTMAX], [DEQUANTIZE uint8→float32]; a model in two files (<see cref="ImportOptions.HeadPath"/>)
/// splits after the pool, the head's input quantization equal to the backbone's output;</item>
/// <item>activations and weights uint8 with per-tensor asymmetric quantization (one scale, one zero point in 0..255, no
/// custom details): int8, int16 and per-channel quantization are refused; biases int32 with one scale and zero point 0;</item>
/// <item>convolutions with SAME padding, MobileNet v1's strides, dilation 1, depth multiplier 1, fused activation NONE or
/// RELU6 (the logits NONE), shapes as the architecture gives them;</item>
/// <item>what TFLite itself checks at Prepare: bias scale ≈ input scale · filter scale (<see cref="CanonicalWeights.ValidateQuantized"/>);
/// the pool, RESHAPE and SQUEEZE keep their input's quantization.</item>
/// </list>
/// Schema field indices: <see cref="TfliteFlatbuffer"/>; options tables (schema.fbs): Conv2DOptions 0 padding, 1 stride_w,
/// 2 stride_h, 3 fused_activation_function, 4 dilation_w_factor (default 1), 5 dilation_h_factor (default 1);
/// DepthwiseConv2DOptions 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier, 4 fused_activation_function, 5/6 dilation;
/// Pool2DOptions 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 fused_activation_function;
/// SoftmaxOptions 0 beta. Padding: SAME = 0, VALID = 1. ActivationFunctionType: NONE 0, RELU 1, RELU_N1_TO_1 2, RELU6 3, TANH 4, SIGN_BIT 5.
/// </remarks>
internal static class QuantizedTfliteImporter
{
    private const string Expected =
        "MobileNet v1 as [QUANTIZE], CONV_2D, 13 × (DEPTHWISE_CONV_2D, CONV_2D), AVERAGE_POOL_2D, CONV_2D, [RESHAPE/SQUEEZE], [SOFTMAX], [DEQUANTIZE]";

    /// <summary>One operator of the chain with its file (the backbone's or the head's).</summary>
    private sealed class Op
    {
        public Op(TfliteFlatbuffer fb, TfliteOperator raw) { Fb = fb; Raw = raw; Inputs = raw.Inputs; Outputs = raw.Outputs; }
        public TfliteFlatbuffer Fb { get; }
        public TfliteOperator Raw { get; }
        public int[] Inputs { get; }
        public int[] Outputs { get; }
        public int Builtin => Raw.Builtin;
        public string Where => $"{Fb.Where}: operator {Raw.Index} ({Raw.Name})";
        public TfliteTensor Input(int i, string what)
        {
            if (i >= Inputs.Length) throw new ImportException($"{Where} has {Inputs.Length} inputs; the {what} (input {i}) is missing");
            if (Inputs[i] < 0) throw new ImportException($"{Where}: the {what} (input {i}) is absent (-1)");
            return Fb.TensorAt(Inputs[i], $"{Where} {what}");
        }
        public TfliteTensor Output => Fb.TensorAt(Outputs[0], $"{Where} output");
    }

    private sealed record ConvOp(Op Op, bool Depthwise);

    public static SafeTensorsFile Import(TfliteFlatbuffer model, string path, TfliteFlatbuffer? head, string? headPath, ImportOptions options)
    {
        string where = model.Where;
        var ops = Chain(model);
        int headStart = ops.Count;
        if (head != null) ops.AddRange(Chain(head));

        // ---- the operator sequence
        int k = 0;
        Op? quantize = null, dequantize = null, softmax = null;
        if (k < ops.Count && ops[k].Builtin == TfliteFlatbuffer.OpQuantize) quantize = ops[k++];
        var convs = new List<ConvOp>();
        for (int c = 0; c < 27; c++)
        {
            bool dw = c % 2 == 1;
            if (k == headStart && head != null)
                throw new ImportException($"{where}: the backbone ends after {convs.Count} convolutions; {Expected} with the head starting at the logits CONV_2D");
            if (k >= ops.Count) throw new ImportException($"{where}: the model ends after {convs.Count} convolutions; {Expected}");
            var op = ops[k++];
            int want = dw ? TfliteFlatbuffer.OpDepthwiseConv2D : TfliteFlatbuffer.OpConv2D;
            if (op.Builtin != want) throw Unexpected(op, $"convolution {c} ({(dw ? "DEPTHWISE_CONV_2D" : "CONV_2D")})");
            convs.Add(new ConvOp(op, dw));
        }
        if (k >= ops.Count || ops[k].Builtin != TfliteFlatbuffer.OpAveragePool2D)
            throw k >= ops.Count ? new ImportException($"{where}: the model ends after the 27 backbone convolutions; {Expected}") : Unexpected(ops[k], "AVERAGE_POOL_2D (the global average pool)");
        var pool = ops[k++];
        if (head != null && k != headStart)
            throw new ImportException($"{where}: the backbone must end at the AVERAGE_POOL_2D when the head is a separate file, but operator {ops[k].Raw.Index} ({ops[k].Raw.Name}) follows it");
        if (k >= ops.Count)
            throw new ImportException($"{where}: the model ends at the pooled features (no logits CONV_2D); a backbone published without its classifier imports with its head file (--head HEAD.tflite)");
        if (ops[k].Builtin != TfliteFlatbuffer.OpConv2D) throw Unexpected(ops[k], "the logits CONV_2D");
        var logits = new ConvOp(ops[k++], false);
        convs.Add(logits);
        var reshapes = new List<Op>();
        while (k < ops.Count && ops[k].Builtin is TfliteFlatbuffer.OpReshape or TfliteFlatbuffer.OpSqueeze) reshapes.Add(ops[k++]);
        if (k < ops.Count && ops[k].Builtin == TfliteFlatbuffer.OpSoftmax) softmax = ops[k++];
        if (k < ops.Count && ops[k].Builtin == TfliteFlatbuffer.OpDequantize) dequantize = ops[k++];
        if (k < ops.Count) throw Unexpected(ops[k], "the end of the model (after the logits: RESHAPE/SQUEEZE, SOFTMAX, DEQUANTIZE only)");

        // ---- the architecture, from the stem, the last pointwise layer, the logits and the input
        var stemIn = convs[0].Op.Input(0, "input");
        var stemFilter = convs[0].Op.Input(1, "filter");
        var lastFilter = convs[26].Op.Input(1, "filter");
        var logitsFilter = logits.Op.Input(1, "filter");
        foreach (var (t, op) in new[] { (stemIn, convs[0].Op), (stemFilter, convs[0].Op), (lastFilter, convs[26].Op), (logitsFilter, logits.Op) })
            if (t.Shape.Length != 4) throw new ImportException($"{op.Where}: tensor '{t.Name}' has shape {t.ShapeText}; MobileNet v1 needs rank 4 here (NHWC / OHWI)");
        if (stemIn.Shape[0] != 1 || stemIn.Shape[3] != 3)
            throw new ImportException($"{where}: input '{stemIn.Name}' is {stemIn.ShapeText}; MobileNet v1 takes one RGB image [1,R,R,3]");
        if (stemIn.Shape[1] != stemIn.Shape[2]) throw new ImportException($"{where}: input is {stemIn.Shape[1]}x{stemIn.Shape[2]}; MobileNet v1 inputs are square");
        double alpha = ImportCommon.AlphaFromWidths(stemFilter.Shape[0], lastFilter.Shape[0], where);
        int numClasses = logitsFilter.Shape[0];
        if (numClasses < 1 || numClasses > 100000) throw new ImportException($"{logits.Op.Where}: {numClasses} classes is out of range");
        var variant = ImportCommon.ResolveVariant(alpha, stemIn.Shape[1] > 0 ? stemIn.Shape[1] : (int?)null, options, where, modelQuantized: true);
        var arch = new MobileNetV1Architecture(variant, numClasses);

        // ---- the layers
        var convLayers = arch.Layers.Where(l => l.Kind != LayerKind.GlobalAveragePool).ToList();
        var qlayers = new List<QuantizedConvLayer>();
        var tensors = new List<Tensor>();
        QuantizedPool? qpool = null;
        for (int i = 0; i < convLayers.Count; i++)
        {
            var l = convLayers[i];
            if (l.Kind == LayerKind.Logits) qpool = Pool(pool, arch.Layers.Single(x => x.Kind == LayerKind.GlobalAveragePool));
            var (q, kernel, bias) = Conv(convs[i], l);
            qlayers.Add(q);
            tensors.Add(Tensor.FromBytes(CanonicalWeights.Kernel(l), l.KernelShape, kernel));
            tensors.Add(Tensor.FromInt32s(CanonicalWeights.Bias(l), new[] { l.OutC }, bias));
        }

        // The split point: the head reads exactly what the backbone wrote.
        if (head != null)
        {
            var extractorOut = pool.Output;
            var headIn = logits.Op.Input(0, "input");
            if (!extractorOut.Shape.SequenceEqual(headIn.Shape))
                throw new ImportException($"{head.Where}: the head's input '{headIn.Name}' is {headIn.ShapeText}, but {where} outputs {extractorOut.ShapeText}");
            var a = UInt8Params(pool.Fb, extractorOut, $"{pool.Where} output");
            var b = UInt8Params(logits.Op.Fb, headIn, $"{logits.Op.Where} input");
            if (!a.Equals(b))
                throw new ImportException($"{head.Where}: the head's input quantization ({b}) differs from the backbone's output quantization ({a}, {where}): the two files are not one network");
        }

        // After the logits: shape-only operators that keep the quantization, then the softmax.
        var current = logits.Op.Output;
        var currentParams = qlayers[^1].Output;
        foreach (var r in reshapes)
        {
            var rin = r.Input(0, "input");
            var rout = r.Output;
            var pin = UInt8Params(r.Fb, rin, $"{r.Where} input");
            var pout = UInt8Params(r.Fb, rout, $"{r.Where} output");
            if (!pin.Equals(pout)) throw new ImportException($"{r.Where} changes the quantization ({pin} → {pout}); it must only reshape");
            if (Elements(rin) != Elements(rout)) throw new ImportException($"{r.Where} maps {rin.ShapeText} to {rout.ShapeText}: not a reshape");
            current = rout;
        }
        if (Elements(current) != numClasses || current.Shape.Length < 1 || current.Shape[0] != 1)
            throw new ImportException($"{where}: the logits end as {current.ShapeText}; expected [1,{numClasses}]");
        QuantizedSoftmax? qsoftmax = null;
        if (softmax != null)
        {
            if (softmax.Raw.OptionsType != TfliteFlatbuffer.OptionsSoftmax || softmax.Raw.Options is not FbTable so)
                throw new ImportException($"{softmax.Where} has no SoftmaxOptions (options type {softmax.Raw.OptionsType})");
            var sin = softmax.Input(0, "input");
            var sout = softmax.Output;
            if (!sin.Shape.SequenceEqual(sout.Shape)) throw new ImportException($"{softmax.Where} maps {sin.ShapeText} to {sout.ShapeText}");
            qsoftmax = new QuantizedSoftmax(UInt8Params(softmax.Fb, sin, $"{softmax.Where} input"), UInt8Params(softmax.Fb, sout, $"{softmax.Where} output"),
                so.Float(0, 0f, "SoftmaxOptions.beta"));
            current = sout;
        }
        if (quantize != null)
        {
            var qin = quantize.Input(0, "input");
            if (qin.Type != TfliteFlatbuffer.TypeFloat32)
                throw new ImportException($"{quantize.Where}: a leading QUANTIZE must take the float32 image, not {TfliteFlatbuffer.TypeName(qin.Type)} (requantizing is not supported)");
            if (!qin.Shape.SequenceEqual(quantize.Output.Shape)) throw new ImportException($"{quantize.Where} maps {qin.ShapeText} to {quantize.Output.ShapeText}");
            UInt8Params(quantize.Fb, quantize.Output, $"{quantize.Where} output");
        }
        if (dequantize != null)
        {
            var dout = dequantize.Output;
            if (dout.Type != TfliteFlatbuffer.TypeFloat32)
                throw new ImportException($"{dequantize.Where}: a trailing DEQUANTIZE must give float32, not {TfliteFlatbuffer.TypeName(dout.Type)}");
            UInt8Params(dequantize.Fb, dequantize.Input(0, "input"), $"{dequantize.Where} input");
        }

        var network = new QuantizedNetwork(qlayers[0].Input, qlayers, qpool!, qsoftmax);

        // ---- labels and metadata
        var (carried, carriedFrom) = head?.AssociatedLabels() ?? (null, null);
        if (carried == null) (carried, carriedFrom) = model.AssociatedLabels();
        var labels = ImportCommon.ResolveLabels(numClasses, carried, carriedFrom, options, where);
        string converter = string.Join(" + ", new[] { model.Description, head?.Description }.Where(d => !string.IsNullOrWhiteSpace(d)).Select(d => d!.Trim().TrimEnd('.')));
        string format = "TFLite uint8 fully quantized flatbuffer" + (converter.Length > 0 ? $" ({converter})" : "") +
                        (head != null ? $", backbone {where} + classifier head {head.Where} joined at the pooled features" : "") +
                        "; uint8 kernels and int32 biases as published, OHWI filters (depthwise 1HWC) transposed to HWIO; every tensor's scale and zero point " +
                        "in metadata 'quantization', fused activations as TFLite records them (none = clamp to 0..255 only)" +
                        (quantize != null ? "; the model's leading QUANTIZE (float32 image to uint8) is the canonical input's quantization" : "") +
                        (dequantize != null ? "; its trailing DEQUANTIZE is dropped" : "") +
                        "; layers mapped by operator order";
        string note = labels.Custom ? ImportCommon.CustomHeadNote(format, numClasses, labels) : format + ". Google MobileNet v1 quantized weights, Apache-2.0.";
        return Build(arch, variant, network, tensors, options, path, model, headPath, head, note, labels);
    }

    /// <summary>The first subgraph's operators, checked to form one chain from the single input to the single output.</summary>
    private static List<Op> Chain(TfliteFlatbuffer fb)
    {
        if (fb.SubgraphCount != 1) throw new ImportException($"{fb.Where}: {fb.SubgraphCount} subgraphs; a MobileNet v1 classifier has one");
        if (fb.Inputs.Length != 1) throw new ImportException($"{fb.Where}: {fb.Inputs.Length} inputs; MobileNet v1 has one (the image)");
        if (fb.Outputs.Length != 1) throw new ImportException($"{fb.Where}: {fb.Outputs.Length} outputs; MobileNet v1 has one");
        if (fb.OperatorCount == 0) throw new ImportException($"{fb.Where}: the model has no operators");
        var ops = new List<Op>();
        int current = fb.Inputs[0];
        for (int i = 0; i < fb.OperatorCount; i++)
        {
            var raw = fb.Operator(i);
            switch (raw.Builtin)
            {
                case TfliteFlatbuffer.OpConv2D:
                case TfliteFlatbuffer.OpDepthwiseConv2D:
                case TfliteFlatbuffer.OpAveragePool2D:
                case TfliteFlatbuffer.OpReshape:
                case TfliteFlatbuffer.OpSqueeze:
                case TfliteFlatbuffer.OpSoftmax:
                case TfliteFlatbuffer.OpQuantize:
                case TfliteFlatbuffer.OpDequantize:
                    break;
                default:
                    throw new ImportException($"{fb.Where}: operator {i} is {raw.Name}, which is not part of the quantized MobileNet v1 this importer supports " +
                                              "(CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, RESHAPE, SQUEEZE, SOFTMAX; QUANTIZE/DEQUANTIZE at the ends)");
            }
            var op = new Op(fb, raw);
            if (op.Inputs.Length < 1 || op.Outputs.Length != 1)
                throw new ImportException($"{op.Where} has {op.Inputs.Length} inputs and {op.Outputs.Length} outputs; expected a data input and one output");
            if (op.Inputs[0] != current)
                throw new ImportException($"{op.Where} reads tensor {op.Inputs[0]}, not the previous operator's output (tensor {current}): the operators are not the single chain of MobileNet v1");
            current = op.Outputs[0];
            fb.TensorAt(current, $"{op.Where} output");
            ops.Add(op);
        }
        if (current != fb.Outputs[0])
            throw new ImportException($"{fb.Where}: the last operator writes tensor {current}, but the model's output is tensor {fb.Outputs[0]}");
        return ops;
    }

    private static ImportException Unexpected(Op op, string expected)
    {
        string why = op.Builtin is TfliteFlatbuffer.OpQuantize or TfliteFlatbuffer.OpDequantize
            ? $"; {op.Raw.Name} is supported only at the ends of the model (a float operator between quantized layers is not)"
            : "";
        return new ImportException($"{op.Where}: expected {expected} here{why}; {Expected}");
    }

    private static long Elements(TfliteTensor t)
    {
        long n = 1;
        foreach (int d in t.Shape) n *= d;
        return n;
    }

    private static QuantizedActivation Activation(byte code, bool allowRelu6, string where) => code switch
    {
        0 => QuantizedActivation.None,
        3 when allowRelu6 => QuantizedActivation.Relu6,
        _ => throw new ImportException($"{where}: fused activation {ActivationName(code)} is not supported here (expected {(allowRelu6 ? "NONE or RELU6" : "NONE")})"),
    };

    internal static string ActivationName(byte code) => code switch
    {
        0 => "NONE", 1 => "RELU", 2 => "RELU_N1_TO_1", 3 => "RELU6", 4 => "TANH", 5 => "SIGN_BIT", _ => $"{code} (unknown)",
    };

    /// <summary>A uint8 per-tensor quantized activation or weight tensor's parameters; refuses everything else.</summary>
    internal static QuantParams UInt8Params(TfliteFlatbuffer fb, TfliteTensor t, string what)
    {
        string name = $"{what} '{t.Name}'";
        switch (t.Type)
        {
            case TfliteFlatbuffer.TypeUInt8: break;
            case TfliteFlatbuffer.TypeInt8:
                throw new ImportException($"{name} is int8: int8 (symmetric, per-channel) quantization is not supported; the product implements uint8 asymmetric per-tensor quantization");
            case TfliteFlatbuffer.TypeFloat32:
                throw new ImportException($"{name} is float32: a float operator in a quantized model is not supported (every layer must be uint8)");
            default:
                throw new ImportException($"{name} is {TfliteFlatbuffer.TypeName(t.Type)}; the quantized model needs uint8 here");
        }
        var q = fb.Quantization(t) ?? throw new ImportException($"{name} is uint8 but has no quantization parameters");
        CheckPerTensor(q, name);
        if (q.ZeroPoint.Length != 1) throw new ImportException($"{name} has {q.Scale.Length} scale(s) but {q.ZeroPoint.Length} zero points; per-tensor quantization needs one of each");
        float scale = q.Scale[0];
        long zp = q.ZeroPoint[0];
        if (!float.IsFinite(scale) || !(scale > 0)) throw new ImportException($"{name} has scale {scale.ToString("R", CultureInfo.InvariantCulture)}; it must be finite and > 0");
        if (zp < 0 || zp > 255) throw new ImportException($"{name} has zero point {zp}, outside uint8's 0..255");
        return new QuantParams(scale, (int)zp);
    }

    internal static void CheckPerTensor(TfliteQuantization q, string name)
    {
        if (q.DetailsType != 0) throw new ImportException($"{name} uses custom quantization details (type {q.DetailsType}); only affine per-tensor quantization is supported");
        if (q.Scale.Length == 0) throw new ImportException($"{name} has no quantization scale");
        if (q.Scale.Length > 1 || q.ZeroPoint.Length > 1)
            throw new ImportException($"{name} has per-channel quantization ({q.Scale.Length} scales along dimension {q.QuantizedDimension}); only per-tensor quantization (one scale, one zero point) is supported");
    }

    /// <summary>The int32 bias's scale (zero point 0) and values.</summary>
    private static (float Scale, int[] Values) Bias(Op op, TfliteTensor t, int channels)
    {
        string name = $"{op.Where} bias '{t.Name}'";
        if (t.Type != TfliteFlatbuffer.TypeInt32)
            throw new ImportException($"{name} is {TfliteFlatbuffer.TypeName(t.Type)}; a uint8 convolution's bias must be int32");
        if (!t.Shape.SequenceEqual(new[] { channels })) throw new ImportException($"{name} has shape {t.ShapeText}, the architecture needs [{channels}]");
        var q = op.Fb.Quantization(t) ?? throw new ImportException($"{name} has no quantization parameters (its scale must be input scale × filter scale)");
        CheckPerTensor(q, name);
        if (q.ZeroPoint.Length == 1 && q.ZeroPoint[0] != 0) throw new ImportException($"{name} has zero point {q.ZeroPoint[0]}; int32 biases have zero point 0");
        var data = op.Fb.Data(t, $"{op.Where} bias");
        if (data.Length != channels * 4L) throw new ImportException($"{name} has {data.Length} data bytes, expected {channels * 4L} (truncated or constant missing?)");
        var values = new int[channels];
        for (int i = 0; i < channels; i++) values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data.Slice(4 * i, 4));
        return (q.Scale[0], values);
    }

    private static void CheckShape(Op op, TfliteTensor t, int[] expected, string what)
    {
        if (!t.Shape.SequenceEqual(expected))
            throw new ImportException($"{op.Where}: {what} '{t.Name}' has shape {t.ShapeText}, the architecture needs [{string.Join(",", expected)}]");
    }

    /// <summary>One convolution: options, shapes, quantization; returns the canonical layer, HWIO kernel bytes and bias.</summary>
    private static (QuantizedConvLayer Layer, byte[] Kernel, int[] Bias) Conv(ConvOp c, LayerSpec l)
    {
        var op = c.Op;
        bool isLogits = l.Kind == LayerKind.Logits;
        string where = $"{op.Where} = {l.Name} ({l.SlimName})";
        if (op.Inputs.Length != 3) throw new ImportException($"{where} has {op.Inputs.Length} inputs; expected input, filter and bias");
        byte wantOptions = c.Depthwise ? TfliteFlatbuffer.OptionsDepthwiseConv2D : TfliteFlatbuffer.OptionsConv2D;
        if (op.Raw.OptionsType != wantOptions || op.Raw.Options is not FbTable o)
            throw new ImportException($"{where} has no {(c.Depthwise ? "DepthwiseConv2DOptions" : "Conv2DOptions")} (options type {op.Raw.OptionsType})");
        string optWhat = c.Depthwise ? "DepthwiseConv2DOptions" : "Conv2DOptions";
        byte padding = o.Byte(0, 0, optWhat + ".padding");
        int strideW = o.Int(1, 0, optWhat + ".stride_w"), strideH = o.Int(2, 0, optWhat + ".stride_h");
        byte activation;
        int dilationW, dilationH;
        if (c.Depthwise)
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
        if (padding != 0) throw new ImportException($"{where}: padding {(padding == 1 ? "VALID" : padding.ToString(CultureInfo.InvariantCulture))}; MobileNet v1 uses SAME");
        if (strideW != l.Stride || strideH != l.Stride) throw new ImportException($"{where}: stride {strideH}x{strideW}; MobileNet v1 has {l.Stride}x{l.Stride} here");
        if (dilationW != 1 || dilationH != 1) throw new ImportException($"{where}: dilation {dilationH}x{dilationW}; MobileNet v1 has none (1x1)");
        var act = Activation(activation, allowRelu6: !isLogits, where);

        var input = op.Input(0, "input");
        var filter = op.Input(1, "filter");
        var biasTensor = op.Input(2, "bias");
        var output = op.Output;
        CheckShape(op, input, new[] { 1, l.InH, l.InW, l.InC }, "input");
        CheckShape(op, output, new[] { 1, l.OutH, l.OutW, l.OutC }, "output");
        int[] k = l.KernelShape; // HWIO
        int[] ohwi = c.Depthwise ? new[] { 1, k[0], k[1], k[2] } : new[] { k[3], k[0], k[1], k[2] };
        CheckShape(op, filter, ohwi, "filter");
        var pin = UInt8Params(op.Fb, input, where + " input");
        var pw = UInt8Params(op.Fb, filter, where + " filter");
        var pout = UInt8Params(op.Fb, output, where + " output");
        var (biasScale, bias) = Bias(op, biasTensor, l.OutC);
        var data = op.Fb.Data(filter, where + " filter");
        if (data.Length != l.KernelElements)
            throw new ImportException($"{where}: filter '{filter.Name}' has {data.Length} data bytes, expected {l.KernelElements} (truncated or constant missing?)");
        byte[] src = data.ToArray();
        byte[] hwio = c.Depthwise ? src : ImportCommon.OhwiToHwio(src, k[3], k[0], k[1], k[2]);
        return (new QuantizedConvLayer(l.Name, pin, pw, biasScale, pout, act), hwio, bias);
    }

    /// <summary>The global average pool: filter = the whole input, output [1,1,1,C], quantization unchanged.</summary>
    private static QuantizedPool Pool(Op op, LayerSpec l)
    {
        string where = $"{op.Where} = {l.Name} ({l.SlimName})";
        if (op.Raw.OptionsType != TfliteFlatbuffer.OptionsPool2D || op.Raw.Options is not FbTable o)
            throw new ImportException($"{where} has no Pool2DOptions (options type {op.Raw.OptionsType})");
        int strideW = o.Int(1, 0, "Pool2DOptions.stride_w"), strideH = o.Int(2, 0, "Pool2DOptions.stride_h");
        int filterW = o.Int(3, 0, "Pool2DOptions.filter_width"), filterH = o.Int(4, 0, "Pool2DOptions.filter_height");
        var act = Activation(o.Byte(5, 0, "Pool2DOptions.fused_activation_function"), allowRelu6: true, where);
        if (filterW != l.InW || filterH != l.InH || strideW < 1 || strideH < 1)
            throw new ImportException($"{where}: a {filterH}x{filterW} window with stride {strideH}x{strideW}; MobileNet v1's pool is global ({l.InH}x{l.InW})");
        var input = op.Input(0, "input");
        var output = op.Output;
        CheckShape(op, input, new[] { 1, l.InH, l.InW, l.InC }, "input");
        CheckShape(op, output, new[] { 1, 1, 1, l.OutC }, "output");
        var pin = UInt8Params(op.Fb, input, where + " input");
        var pout = UInt8Params(op.Fb, output, where + " output");
        if (!pin.Equals(pout))
            throw new ImportException($"{where}: input quantization ({pin}) differs from the output's ({pout}); the uint8 average pool (TFLite reference pooling.h) does not requantize");
        return new QuantizedPool(pin, pout, act);
    }

    private static SafeTensorsFile Build(MobileNetV1Architecture arch, VariantName variant, QuantizedNetwork network, List<Tensor> tensors, ImportOptions options,
        string path, TfliteFlatbuffer model, string? headPath, TfliteFlatbuffer? head, string note, LabelsInfo labels)
    {
        string label = options.SourceLabel ?? ImportCommon.DefaultSourceLabel(path);
        string release = options.Release ?? ImportCommon.DefaultRelease(label, "unknown");
        string name = options.Name ?? (labels.ImageNet ? variant.FileStem : variant.FileStem + "_custom");
        var meta = new Dictionary<string, string>
        {
            [CanonicalWeights.Keys.Format] = CanonicalWeights.FormatVersion,
            [CanonicalWeights.Keys.Architecture] = "mobilenet_v1",
            [CanonicalWeights.Keys.Name] = name,
            [CanonicalWeights.Keys.Variant] = variant.ToString(),
            [CanonicalWeights.Keys.Alpha] = variant.AlphaText,
            [CanonicalWeights.Keys.Resolution] = variant.Resolution.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.NumClasses] = arch.NumClasses.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.BackgroundClass] = labels.ImageNet && arch.NumClasses == 1001 ? "true" : "false",
            [CanonicalWeights.Keys.Precision] = CanonicalWeights.PrecisionUInt8,
            [CanonicalWeights.Keys.Weights] = CanonicalWeights.GenuineUInt8,
            [CanonicalWeights.Keys.Quantization] = CanonicalWeights.QuantizationToJson(network),
            [CanonicalWeights.Keys.Source] = label,
            [CanonicalWeights.Keys.SourceFormat] = "tflite",
            [CanonicalWeights.Keys.SourceSha256] = ImportCommon.Sha256Hex(model.Bytes),
            [CanonicalWeights.Keys.Release] = release,
            [CanonicalWeights.Keys.Labels] = labels.ImageNet ? CanonicalWeights.ImageNetLabels : CanonicalWeights.CustomLabels,
            [CanonicalWeights.Keys.Note] = note.Replace('\n', ' ').Replace('\r', ' '),
        };
        if (head != null && headPath != null)
        {
            meta[CanonicalWeights.Keys.HeadSource] = ImportCommon.DefaultSourceLabel(headPath);
            meta[CanonicalWeights.Keys.HeadSourceSha256] = ImportCommon.Sha256Hex(head.Bytes);
        }
        if (labels.Labels != null) meta[CanonicalWeights.Keys.LabelsJson] = CanonicalWeights.LabelsToJson(labels.Labels);
        SafeTensorsFile file;
        try { file = new SafeTensorsFile(meta, tensors); }
        catch (WeightsFormatException e) { throw new ImportException("the source's tensors do not fit the architecture: " + e.Message, e); }
        List<string> problems;
        try { problems = CanonicalWeights.ValidateQuantized(file, CanonicalWeights.ArchitectureOf(file)); }
        catch (WeightsFormatException e) { throw new ImportException($"{model.Where}: the imported weights are not valid: " + e.Message, e); }
        if (problems.Count > 0)
            throw new ImportException($"{model.Where}{(head != null ? " + " + head.Where : "")}: the imported uint8 network is not valid: " + string.Join("; ", problems));
        return file;
    }
}
