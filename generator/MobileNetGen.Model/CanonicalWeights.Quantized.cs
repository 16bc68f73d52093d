using System;
using System.Collections.Generic;
using System.Globalization;

namespace MobileNetGen.Model
{
    /// <summary>The fused activation of a quantized layer, as TFLite records it (<c>ActivationFunctionType</c> in schema.fbs).</summary>
    public enum QuantizedActivation
    {
        /// <summary><c>NONE</c>: the output is clamped to 0..255 only.</summary>
        None,
        /// <summary><c>RELU6</c>: the output is clamped to [quantize(0), quantize(6)] ∩ 0..255.</summary>
        Relu6,
    }

    /// <summary>One tensor's affine quantization: real = <see cref="Scale"/> · (q − <see cref="ZeroPoint"/>).</summary>
    public sealed class QuantParams : IEquatable<QuantParams>
    {
        public QuantParams(float scale, int zeroPoint)
        {
            Scale = scale;
            ZeroPoint = zeroPoint;
        }

        public float Scale { get; }
        public int ZeroPoint { get; }

        /// <summary>Bitwise equality of the scale (as TFLite compares <c>params.scale</c>) and equality of the zero point.</summary>
        public bool Equals(QuantParams? other) =>
            other != null && BitConverter.ToInt32(BitConverter.GetBytes(Scale), 0) == BitConverter.ToInt32(BitConverter.GetBytes(other.Scale), 0) && ZeroPoint == other.ZeroPoint;

        public override bool Equals(object? obj) => obj is QuantParams p && Equals(p);
        public override int GetHashCode() => Scale.GetHashCode() * 31 + ZeroPoint;
        public override string ToString() => "scale " + CanonicalWeights.FloatText(Scale) + ", zero point " + ZeroPoint.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A quantized convolution (the stem, a depthwise or pointwise layer, or the logits): uint8 input, uint8 weights, int32
    /// bias in units of <see cref="BiasScale"/>, uint8 output.
    /// </summary>
    public sealed class QuantizedConvLayer
    {
        public QuantizedConvLayer(string name, QuantParams input, QuantParams weight, float biasScale, QuantParams output, QuantizedActivation activation)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Input = input ?? throw new ArgumentNullException(nameof(input));
            Weight = weight ?? throw new ArgumentNullException(nameof(weight));
            BiasScale = biasScale;
            Output = output ?? throw new ArgumentNullException(nameof(output));
            Activation = activation;
        }

        /// <summary>The layer's canonical name (<see cref="LayerSpec.Name"/>): <c>conv0</c>, <c>block3.depthwise</c>, <c>logits</c>.</summary>
        public string Name { get; }
        public QuantParams Input { get; }
        public QuantParams Weight { get; }
        /// <summary>The int32 bias's scale (its zero point is 0); TFLite requires ≈ input scale · weight scale.</summary>
        public float BiasScale { get; }
        public QuantParams Output { get; }
        public QuantizedActivation Activation { get; }
    }

    /// <summary>The global average pool: uint8 in, uint8 out (TFLite's uint8 AVERAGE_POOL_2D does not requantize).</summary>
    public sealed class QuantizedPool
    {
        public QuantizedPool(QuantParams input, QuantParams output, QuantizedActivation activation)
        {
            Input = input ?? throw new ArgumentNullException(nameof(input));
            Output = output ?? throw new ArgumentNullException(nameof(output));
            Activation = activation;
        }

        public QuantParams Input { get; }
        public QuantParams Output { get; }
        public QuantizedActivation Activation { get; }
    }

    /// <summary>The classifier's SOFTMAX (uint8 logits → uint8 probabilities, TFLite requires output scale 1/256, zero point 0).</summary>
    public sealed class QuantizedSoftmax
    {
        public QuantizedSoftmax(QuantParams input, QuantParams output, float beta)
        {
            Input = input ?? throw new ArgumentNullException(nameof(input));
            Output = output ?? throw new ArgumentNullException(nameof(output));
            Beta = beta;
        }

        public QuantParams Input { get; }
        public QuantParams Output { get; }
        public float Beta { get; }
    }

    /// <summary>
    /// Every quantization parameter of a uint8 MobileNet v1, as the canonical file's <c>quantization</c> metadata holds them
    /// (weights/README.md, "Quantized (uint8) entries"): TFLite's numbers, unchanged.
    /// </summary>
    public sealed class QuantizedNetwork
    {
        private readonly Dictionary<string, QuantizedConvLayer> _byName = new Dictionary<string, QuantizedConvLayer>(StringComparer.Ordinal);

        public QuantizedNetwork(QuantParams input, IReadOnlyList<QuantizedConvLayer> convolutions, QuantizedPool pool, QuantizedSoftmax? softmax)
        {
            Input = input ?? throw new ArgumentNullException(nameof(input));
            Convolutions = convolutions ?? throw new ArgumentNullException(nameof(convolutions));
            Pool = pool ?? throw new ArgumentNullException(nameof(pool));
            Softmax = softmax;
            foreach (var c in convolutions)
            {
                if (_byName.ContainsKey(c.Name)) throw new ArgumentException($"layer '{c.Name}' appears twice", nameof(convolutions));
                _byName.Add(c.Name, c);
            }
            if (!_byName.TryGetValue("logits", out var logits)) throw new ArgumentException("the convolutions must include 'logits'", nameof(convolutions));
            Logits = logits;
        }

        /// <summary>The network input (the uint8 image): TFLite's MobileNets use scale 1/128, zero point 128.</summary>
        public QuantParams Input { get; }

        /// <summary>Every convolution in network order: conv0, block1.depthwise, block1.pointwise, …, block13.pointwise, logits.</summary>
        public IReadOnlyList<QuantizedConvLayer> Convolutions { get; }

        public QuantizedPool Pool { get; }
        public QuantizedConvLayer Logits { get; }

        /// <summary>The SOFTMAX after the logits, or null when the source network ends at the logits.</summary>
        public QuantizedSoftmax? Softmax { get; }

        /// <summary>A convolution by its canonical name; throws <see cref="KeyNotFoundException"/> for an unknown name.</summary>
        public QuantizedConvLayer Layer(string name) =>
            _byName.TryGetValue(name, out var l) ? l : throw new KeyNotFoundException($"no quantized layer '{name}'");
    }

    public static partial class CanonicalWeights
    {
        /// <summary>Metadata <c>precision</c> of the fully quantized networks.</summary>
        public const string PrecisionUInt8 = "uint8";
        /// <summary>Metadata <c>precision</c> of float files (the value an absent key means).</summary>
        public const string PrecisionFloat32 = "float32";

        /// <summary>True when the file's metadata says it is a uint8-quantized network (<c>precision = uint8</c>).</summary>
        public static bool IsQuantized(ITensorDirectory file) => file.GetMetadata(Keys.Precision) == PrecisionUInt8;

        /// <summary>
        /// A float's shortest round-trip text (<c>"R"</c>), checked to parse back to the same bits (<c>"G9"</c> otherwise, which
        /// always does): the form the <c>quantization</c> metadata stores scales in, as JSON strings.
        /// </summary>
        public static string FloatText(float value)
        {
            string r = value.ToString("R", CultureInfo.InvariantCulture);
            if (float.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out float back) && SameBits(back, value)) return r;
            return value.ToString("G9", CultureInfo.InvariantCulture);
        }

        private static bool SameBits(float a, float b) =>
            BitConverter.ToInt32(BitConverter.GetBytes(a), 0) == BitConverter.ToInt32(BitConverter.GetBytes(b), 0);

        internal static string ActivationText(QuantizedActivation a) => a switch
        {
            QuantizedActivation.None => "none",
            QuantizedActivation.Relu6 => "relu6",
            _ => throw new ArgumentOutOfRangeException(nameof(a), a, "unknown activation"),
        };

        /// <summary>
        /// The <c>quantization</c> metadata value of <paramref name="network"/> (compact JSON, deterministic; scales as strings):
        /// <code>
        /// {"input":{"scale":"0.0078125","zero_point":128},
        ///  "layers":{"conv0":{"input":{…},"weight":{…},"bias_scale":"…","output":{…},"activation":"relu6"}, …,
        ///            "pool":{"input":{…},"output":{…},"activation":"none"}, "logits":{…,"activation":"none"}},
        ///  "softmax":{"input":{…},"output":{…},"beta":"1"}}
        /// </code>
        /// <c>layers</c> lists the convolutions in network order with <c>pool</c> between block13.pointwise and logits;
        /// <c>softmax</c> is absent when the network has none.
        /// </summary>
        public static string QuantizationToJson(QuantizedNetwork network)
        {
            if (network == null) throw new ArgumentNullException(nameof(network));
            MiniJson.JsonObject P(QuantParams p) => new MiniJson.JsonObject().Add("scale", FloatText(p.Scale)).Add("zero_point", p.ZeroPoint);
            var layers = new MiniJson.JsonObject();
            foreach (var c in network.Convolutions)
            {
                if (c.Name == "logits")
                    layers.Add("pool", new MiniJson.JsonObject().Add("input", P(network.Pool.Input)).Add("output", P(network.Pool.Output))
                        .Add("activation", ActivationText(network.Pool.Activation)));
                layers.Add(c.Name, new MiniJson.JsonObject()
                    .Add("input", P(c.Input)).Add("weight", P(c.Weight)).Add("bias_scale", FloatText(c.BiasScale))
                    .Add("output", P(c.Output)).Add("activation", ActivationText(c.Activation)));
            }
            var root = new MiniJson.JsonObject().Add("input", P(network.Input)).Add("layers", layers);
            if (network.Softmax is QuantizedSoftmax s)
                root.Add("softmax", new MiniJson.JsonObject().Add("input", P(s.Input)).Add("output", P(s.Output)).Add("beta", FloatText(s.Beta)));
            return MiniJson.Write(root);
        }

        /// <summary>
        /// Reads the <c>quantization</c> metadata of a uint8 file against the architecture its metadata describes. Throws
        /// <see cref="WeightsFormatException"/>, naming the key, for anything missing, of the wrong kind or unknown. Values are
        /// not range-checked here (a scale may be negative, a zero point 300): <see cref="ValidateQuantized"/> lists those.
        /// </summary>
        public static QuantizedNetwork QuantizationOf(ITensorDirectory file)
        {
            if (file == null) throw new ArgumentNullException(nameof(file));
            var arch = ArchitectureOf(file);
            string precision = file.GetMetadata(Keys.Precision) ?? PrecisionFloat32;
            if (precision != PrecisionUInt8)
                throw new WeightsFormatException($"metadata precision is '{precision}', not '{PrecisionUInt8}': the file is not a uint8-quantized network");
            string json = file.GetMetadata(Keys.Quantization)
                ?? throw new WeightsFormatException($"metadata '{Keys.Quantization}' is missing (a uint8 file must give every tensor's scale and zero point)");
            object? rootValue;
            try { rootValue = MiniJson.Parse(json); }
            catch (FormatException e) { throw new WeightsFormatException($"metadata '{Keys.Quantization}' is not valid JSON: {e.Message}", e); }
            const string q = "quantization";
            var root = Obj(rootValue, q);
            Only(root, q, "input", "layers", "softmax");
            var input = Params(root["input"], q + ".input");
            var layers = Obj(root["layers"], q + ".layers");
            var expected = new List<string>();
            foreach (var l in arch.Layers) expected.Add(l.Name);
            Only(layers, q + ".layers", expected.ToArray());

            var convs = new List<QuantizedConvLayer>();
            QuantizedPool? pool = null;
            foreach (var l in arch.Layers)
            {
                string where = q + ".layers." + l.Name;
                var o = Obj(layers[l.Name], where);
                if (l.Kind == LayerKind.GlobalAveragePool)
                {
                    Only(o, where, "input", "output", "activation");
                    pool = new QuantizedPool(Params(o["input"], where + ".input"), Params(o["output"], where + ".output"), Activation(o["activation"], where + ".activation"));
                    continue;
                }
                Only(o, where, "input", "weight", "bias_scale", "output", "activation");
                convs.Add(new QuantizedConvLayer(l.Name, Params(o["input"], where + ".input"), Params(o["weight"], where + ".weight"),
                    Float(o["bias_scale"], where + ".bias_scale"), Params(o["output"], where + ".output"), Activation(o["activation"], where + ".activation")));
            }
            QuantizedSoftmax? softmax = null;
            if (root.ContainsKey("softmax"))
            {
                string where = q + ".softmax";
                var o = Obj(root["softmax"], where);
                Only(o, where, "input", "output", "beta");
                softmax = new QuantizedSoftmax(Params(o["input"], where + ".input"), Params(o["output"], where + ".output"), Float(o["beta"], where + ".beta"));
            }
            return new QuantizedNetwork(input, convs, pool!, softmax);
        }

        internal static MiniJson.JsonObject Obj(object? v, string where) =>
            v as MiniJson.JsonObject ?? throw new WeightsFormatException(v == null ? $"{where} is missing" : $"{where} is not a JSON object");

        internal static void Only(MiniJson.JsonObject o, string where, params string[] allowed)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var m in o.Members)
            {
                if (Array.IndexOf(allowed, m.Key) < 0)
                    throw new WeightsFormatException($"{where}: unknown key '{m.Key}' (expected {string.Join(", ", allowed)})");
                if (!seen.Add(m.Key)) throw new WeightsFormatException($"{where}: key '{m.Key}' appears twice");
            }
        }

        internal static QuantParams Params(object? v, string where)
        {
            var o = Obj(v, where);
            Only(o, where, "scale", "zero_point");
            float scale = Float(o["scale"], where + ".scale");
            if (!(o["zero_point"] is double z)) throw new WeightsFormatException(o.ContainsKey("zero_point") ? $"{where}.zero_point is not a number" : $"{where}.zero_point is missing");
            if (z != Math.Floor(z) || z < int.MinValue || z > int.MaxValue) throw new WeightsFormatException($"{where}.zero_point {z} is not an integer");
            return new QuantParams(scale, (int)z);
        }

        internal static float Float(object? v, string where)
        {
            if (v == null) throw new WeightsFormatException($"{where} is missing");
            if (!(v is string s)) throw new WeightsFormatException($"{where} must be a JSON string holding a float (e.g. \"0.0078125\"), not {(v is double ? "a number" : "a " + v.GetType().Name)}");
            if (!float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float f))
                throw new WeightsFormatException($"{where} '{s}' is not a float");
            return f;
        }

        internal static QuantizedActivation Activation(object? v, string where) => v switch
        {
            "none" => QuantizedActivation.None,
            "relu6" => QuantizedActivation.Relu6,
            null => throw new WeightsFormatException($"{where} is missing"),
            string s => throw new WeightsFormatException($"{where} '{s}' is not supported (expected \"none\" or \"relu6\")"),
            _ => throw new WeightsFormatException($"{where} is not a string"),
        };

        /// <summary>
        /// Every problem with a uint8-quantized file against the architecture; empty when it is valid:
        /// metadata (<c>precision</c>, <c>quantization</c>); tensors (<c>{layer}.weight</c> U8 in the HWIO shape, <c>{layer}.bias</c>
        /// I32 [C], nothing else); zero points in 0..255, scales finite and &gt; 0; each bias scale ≈ input · weight scale as TFLite
        /// checks it (<see cref="QuantizationMath.BiasScaleMatches"/>); the chain (network input = conv0 input, each layer's
        /// output = the next one's input, pool input = pool output, softmax input = logits output); softmax output 1/256, 0
        /// (TFLite's uint8 SOFTMAX requires it); every output multiplier representable (<see cref="QuantizationMath.QuantizeMultiplier(double)"/>
        /// shift in −31..30).
        /// </summary>
        public static List<string> ValidateQuantized(ITensorDirectory file, MobileNetV1Architecture arch)
        {
            if (file == null) throw new ArgumentNullException(nameof(file));
            if (arch == null) throw new ArgumentNullException(nameof(arch));
            var problems = new List<string>();
            string? precision = file.GetMetadata(Keys.Precision);
            if (precision != PrecisionUInt8) problems.Add($"metadata precision is '{precision ?? "(absent: float32)"}', expected '{PrecisionUInt8}'");

            var expected = new HashSet<string>(StringComparer.Ordinal);
            foreach (var l in arch.Layers)
            {
                if (l.Kind == LayerKind.GlobalAveragePool) continue;
                CheckTensor(file, problems, Kernel(l), TensorDType.U8, l.KernelShape);
                CheckTensor(file, problems, Bias(l), TensorDType.I32, new[] { l.OutC });
                expected.Add(Kernel(l));
                expected.Add(Bias(l));
            }
            foreach (var t in file.TensorNames)
                if (!expected.Contains(t)) problems.Add($"tensor '{t}' does not belong in a uint8 file (only {{layer}}.weight U8 and {{layer}}.bias I32)");

            QuantizedNetwork net;
            try { net = QuantizationOf(file); }
            catch (WeightsFormatException e) { problems.Add(e.Message); return problems; }

            void CheckParams(QuantParams p, string where)
            {
                if (float.IsNaN(p.Scale) || float.IsInfinity(p.Scale) || !(p.Scale > 0)) problems.Add($"{where}: scale {FloatText(p.Scale)} is not a finite positive number");
                if (p.ZeroPoint < 0 || p.ZeroPoint > 255) problems.Add($"{where}: zero point {p.ZeroPoint} is outside 0..255 (uint8)");
            }
            void Same(QuantParams a, string aWhere, QuantParams b, string bWhere)
            {
                if (!a.Equals(b)) problems.Add($"{aWhere} ({a}) differs from {bWhere} ({b})");
            }

            CheckParams(net.Input, "input");
            QuantParams? previous = net.Input;
            string previousWhere = "the network input";
            foreach (var c in net.Convolutions)
            {
                if (c.Name == "logits")
                {
                    CheckParams(net.Pool.Input, "pool input");
                    CheckParams(net.Pool.Output, "pool output");
                    Same(net.Pool.Input, "pool input", previous, previousWhere);
                    Same(net.Pool.Output, "pool output", net.Pool.Input, "pool input (TFLite's uint8 average pool does not requantize)");
                    previous = net.Pool.Output;
                    previousWhere = "pool output";
                }
                CheckParams(c.Input, c.Name + " input");
                CheckParams(c.Weight, c.Name + " weight");
                CheckParams(c.Output, c.Name + " output");
                Same(c.Input, c.Name + " input", previous, previousWhere);
                if (float.IsNaN(c.BiasScale) || float.IsInfinity(c.BiasScale) || !(c.BiasScale > 0))
                    problems.Add($"{c.Name}: bias scale {FloatText(c.BiasScale)} is not a finite positive number");
                else if (!QuantizationMath.BiasScaleMatches(c.Input.Scale, c.Weight.Scale, c.BiasScale))
                    problems.Add($"{c.Name}: bias scale {FloatText(c.BiasScale)} is not input scale × weight scale ({FloatText(c.Input.Scale)} × {FloatText(c.Weight.Scale)}) within TFLite's 1e-6 relative tolerance");
                if (c.Input.Scale > 0 && c.Weight.Scale > 0 && c.Output.Scale > 0 && !float.IsInfinity(c.Input.Scale) && !float.IsInfinity(c.Weight.Scale) && !float.IsInfinity(c.Output.Scale))
                {
                    double m = QuantizationMath.GetQuantizedConvolutionMultiplier(c.Input.Scale, c.Weight.Scale, c.Output.Scale);
                    if (double.IsInfinity(m) || double.IsNaN(m)) problems.Add($"{c.Name}: output multiplier {m} is not finite");
                    else
                    {
                        var (_, shift) = QuantizationMath.QuantizeMultiplier(m);
                        if (shift < -31 || shift > 30) problems.Add($"{c.Name}: output multiplier {m:R} needs shift {shift}, outside TFLite's −31..30");
                    }
                }
                previous = c.Output;
                previousWhere = c.Name + " output";
            }
            if (net.Softmax is QuantizedSoftmax s)
            {
                CheckParams(s.Input, "softmax input");
                Same(s.Input, "softmax input", net.Logits.Output, "logits output");
                if (!s.Output.Equals(new QuantParams(1f / 256, 0)))
                    problems.Add($"softmax output ({s.Output}) must be scale 1/256, zero point 0 (TFLite's uint8 SOFTMAX requires it)");
                if (float.IsNaN(s.Beta) || float.IsInfinity(s.Beta) || !(s.Beta > 0)) problems.Add($"softmax beta {FloatText(s.Beta)} is not a finite positive number");
            }
            return problems;
        }

        private static void CheckTensor(ITensorDirectory file, List<string> problems, string name, TensorDType dtype, int[] shape)
        {
            var t = file.FindEntry(name);
            if (t == null) { problems.Add($"tensor '{name}' is missing (expected {dtype} [{string.Join(",", shape)}])"); return; }
            if (t.DType != dtype) problems.Add($"tensor '{name}' is {t.DType}, a uint8 file needs {dtype}");
            if (!SameShape(t.Shape, shape)) problems.Add($"tensor '{name}' has shape {t.ShapeText}, the architecture needs [{string.Join(",", shape)}]");
        }
    }
}
