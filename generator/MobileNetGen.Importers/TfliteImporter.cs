using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>
/// TFLite flatbuffer (schema.fbs, identifier <c>TFL3</c>; read by <see cref="TfliteFlatbuffer"/>). Two kinds of model:
/// <list type="bullet">
/// <item>float32 models (this file). Layers are taken in operator order — the first <c>CONV_2D</c> is the stem, then
/// 13 × (<c>DEPTHWISE_CONV_2D</c>, <c>CONV_2D</c>), then the logits <c>CONV_2D</c> — rather than by tensor names. Operator
/// inputs are (input, filter, bias). Filters are OHWI (depthwise 1HWC, which has the memory order of HWIO [H,W,C,1]) and
/// are transposed to HWIO; BatchNorm is folded into the filters and biases, so scale = ones.</item>
/// <item>fully quantized uint8 models (<see cref="QuantizedTfliteImporter"/>): chosen when the convolutions' tensors are
/// quantized integer types.</item>
/// <item>uint8 SSD detectors (<see cref="SsdTfliteImporter"/>): chosen when the graph has the custom operator
/// <c>TFLite_Detection_PostProcess</c> (or CONCATENATION / LOGISTIC, which no classifier has).</item>
/// </list>
/// </summary>
internal static class TfliteImporter
{
    public static SafeTensorsFile Import(string path, ImportOptions options)
    {
        var (fb, where) = Read(path, "TFLite model");
        TfliteFlatbuffer? head = null;
        string? headWhere = null;
        if (options.HeadPath != null) (head, headWhere) = Read(options.HeadPath, "TFLite head model");
        return Guard(where, () =>
        {
            if (SsdTfliteImporter.IsDetector(fb)) return SsdTfliteImporter.Import(fb, path, options);
            if (head != null || IsQuantized(fb)) return QuantizedTfliteImporter.Import(fb, path, head, options.HeadPath, options);
            return ImportFloat(fb, path, options);
        }, headWhere);
    }

    private static (TfliteFlatbuffer Model, string Where) Read(string path, string what)
    {
        byte[] bytes = ImportCommon.ReadFileBounded(path, what);
        string where = Path.GetFileName(path);
        return (Guard(where, () => TfliteFlatbuffer.Parse(bytes, where)), where);
    }

    private static T Guard<T>(string where, Func<T> body, string? headWhere = null)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException or ArgumentException)
        {
            // Safety net: every access is bounds-checked, but a malformed buffer must never escape as another type.
            string files = headWhere == null ? where : where + " / " + headWhere;
            throw new ImportException($"{files}: malformed TFLite flatbuffer ({e.Message})", e);
        }
    }

    /// <summary>
    /// True when the model's first convolution reads or holds quantized integers (uint8, int8 or int16 input or filter):
    /// such models go to <see cref="QuantizedTfliteImporter"/>, which imports uint8 and explains what it does not support.
    /// A float32 model with 8-bit weights and DEQUANTIZE ops stays on the float path (and is refused there).
    /// </summary>
    private static bool IsQuantized(TfliteFlatbuffer fb)
    {
        for (int i = 0; i < fb.OperatorCount; i++)
        {
            var op = fb.Operator(i);
            if (op.Builtin != TfliteFlatbuffer.OpConv2D && op.Builtin != TfliteFlatbuffer.OpDepthwiseConv2D) continue;
            int[] ins = op.Inputs;
            foreach (int t in ins.Take(2))
            {
                if (t < 0 || t >= fb.Tensors.Count) continue; // reported by the path that reads it
                sbyte type = fb.Tensors[t].Type;
                if (type is TfliteFlatbuffer.TypeUInt8 or TfliteFlatbuffer.TypeInt8 or TfliteFlatbuffer.TypeInt16)
                {
                    // Float activations with integer filters are weight-only ("hybrid") quantization: not the uint8 network.
                    if (ins.Length > 0 && ins[0] >= 0 && ins[0] < fb.Tensors.Count && fb.Tensors[ins[0]].Type == TfliteFlatbuffer.TypeFloat32) return false;
                    return true;
                }
            }
            return false;
        }
        return false;
    }

    private static SafeTensorsFile ImportFloat(TfliteFlatbuffer fb, string path, ImportOptions options)
    {
        string where = fb.Where;
        int? resolution = null;
        if (fb.Inputs.Length >= 1)
        {
            var input = fb.TensorAt(fb.Inputs[0], "subgraph input");
            if (input.Shape.Length == 4 && input.Shape[1] > 0 && input.Shape[2] > 0)
            {
                if (input.Shape[1] != input.Shape[2]) throw new ImportException($"{where}: input is {input.Shape[1]}x{input.Shape[2]}; MobileNet v1 inputs are square");
                resolution = input.Shape[1];
            }
        }

        // Operators, keeping the convolutions in graph order.
        var convs = new List<(bool Depthwise, int Filter, int Bias, int Index)>();
        for (int i = 0; i < fb.OperatorCount; i++)
        {
            var op = fb.Operator(i);
            if (op.Builtin != TfliteFlatbuffer.OpConv2D && op.Builtin != TfliteFlatbuffer.OpDepthwiseConv2D) continue;
            int[] ins = op.Inputs;
            if (ins.Length < 3) throw new ImportException($"{where}: convolution operator {i} has {ins.Length} inputs; expected input, filter and bias");
            convs.Add((op.Builtin == TfliteFlatbuffer.OpDepthwiseConv2D, ins[1], ins[2], i));
        }
        if (convs.Count != 28)
            throw new ImportException($"{where}: {convs.Count} convolution operators; MobileNet v1 has 28 (stem, 13 × depthwise + pointwise, logits)");
        for (int i = 0; i < convs.Count; i++)
        {
            bool expectDw = i >= 1 && i <= 26 && (i % 2) == 1;
            if (convs[i].Depthwise != expectDw)
                throw new ImportException($"{where}: convolution {i} (operator {convs[i].Index}) is {(convs[i].Depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")}; MobileNet v1 order expects {(expectDw ? "DEPTHWISE_CONV_2D" : "CONV_2D")}");
        }

        var stem = fb.TensorAt(convs[0].Filter, "stem filter");
        var logits = fb.TensorAt(convs[27].Filter, "logits filter");
        if (stem.Shape.Length != 4 || logits.Shape.Length != 4) throw new ImportException($"{where}: stem and logits filters must be rank 4 (OHWI)");
        double alpha = ImportCommon.AlphaFromWidths(stem.Shape[0], logits.Shape[3], where);
        int numClasses = logits.Shape[0];
        if (numClasses < 1 || numClasses > 100000) throw new ImportException($"{where}: {numClasses} classes is out of range");
        var variant = ImportCommon.ResolveVariant(alpha, resolution, options, where);
        var arch = new MobileNetV1Architecture(variant, numClasses);

        var layers = new Dictionary<string, (KernelData, float[]?, float[])>();
        var convLayers = arch.Layers.Where(l => l.Kind != LayerKind.GlobalAveragePool).ToList();
        for (int i = 0; i < convLayers.Count; i++)
        {
            var l = convLayers[i];
            var f = fb.TensorAt(convs[i].Filter, $"{l.Name} filter");
            int[] k = l.KernelShape; // HWIO
            int[] expected = l.Kind == LayerKind.Depthwise3x3 ? new[] { 1, k[0], k[1], k[2] } : new[] { k[3], k[0], k[1], k[2] };
            float[] src = FloatData(fb, f, expected, $"{l.Name} filter");
            float[] hwio = l.Kind == LayerKind.Depthwise3x3 ? src : ImportCommon.OhwiToHwio(src, k[3], k[0], k[1], k[2]);
            float[] bias = FloatData(fb, fb.TensorAt(convs[i].Bias, $"{l.Name} bias"), new[] { l.OutC }, $"{l.Name} bias");
            layers[l.Name] = (KernelData.Float(hwio), l.HasBatchNorm ? ImportCommon.Ones(l.OutC) : null, bias);
        }
        var (carried, carriedFrom) = fb.AssociatedLabels();
        var labels = ImportCommon.ResolveLabels(numClasses, carried, carriedFrom, options, where);
        string format = "TFLite float32 flatbuffer; OHWI filters (depthwise 1HWC) transposed to HWIO; BatchNorm folded by the TFLite converter " +
                        "(scale = 1, bias = the converter's bias); layers mapped by operator order";
        string note = labels.Custom ? ImportCommon.CustomHeadNote(format, numClasses, labels) : format + ". Google MobileNet v1 weights, Apache-2.0.";
        return ImportCommon.Build(arch, variant, layers, options, path, "tflite", ImportCommon.Sha256Hex(fb.Bytes), "unknown", note, labels);
    }

    private static float[] FloatData(TfliteFlatbuffer fb, TfliteTensor t, int[] expected, string what)
    {
        string where = fb.Where;
        if (t.Type != TfliteFlatbuffer.TypeFloat32)
            throw new ImportException($"{where}: {what} '{t.Name}' has TFLite tensor type {t.Type} ({TfliteFlatbuffer.TypeName(t.Type)}); a float model needs float32 here " +
                                      "(weight-only quantized TFLite is not supported; fully quantized uint8 models are)");
        if (!t.Shape.SequenceEqual(expected))
            throw new ImportException($"{where}: {what} '{t.Name}' has shape [{string.Join(",", t.Shape)}], the architecture needs [{string.Join(",", expected)}]");
        long n = 1;
        foreach (int d in expected) n *= d;
        var data = fb.Data(t, what);
        if (data.Length != n * 4) throw new ImportException($"{where}: {what} '{t.Name}' has {data.Length} data bytes, expected {n * 4} (truncated or constant missing?)");
        return ImportCommon.FloatsFromBytes(data);
    }
}
