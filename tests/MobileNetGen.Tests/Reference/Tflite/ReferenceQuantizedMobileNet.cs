using System.Globalization;
using System.Text.Json;
using MobileNetGen.Model;

namespace MobileNetGen.Tests.Reference.Tflite;

/// <summary>
/// An independent, plain scalar uint8 forward pass of Google's quantized MobileNet v1, built from TFLite's reference kernels
/// (<see cref="ReferenceConv"/>, <see cref="ReferenceDepthwiseConv"/>, <see cref="ReferenceAveragePool"/>,
/// <see cref="ReferenceQuantize"/>, each a transcription of its TFLite source) and the reference's own quantization
/// arithmetic (<see cref="TfliteQuantizationUtil"/>). It reads a canonical uint8 file (weights/README.md, "Quantized (uint8)
/// entries") and runs uint8 image [R,R,3] → every layer's uint8 output → pooled uint8 features → uint8 logits, exactly as
/// TFLite's reference kernels (and, for these ops, its optimized ones) compute them.
/// </summary>
/// <remarks>
/// What it deliberately does NOT share with the product:
/// <list type="bullet">
/// <item>the <c>quantization</c> metadata is parsed here with System.Text.Json (not <c>CanonicalWeights.QuantizationOf</c> / MiniJson);</item>
/// <item>multipliers, shifts, activation ranges, padding and requantization come from <see cref="TfliteQuantizationUtil"/>,
/// not <c>QuantizationMath</c>;</item>
/// <item>layer shapes, widths and strides are computed here (not from <c>MobileNetV1Architecture</c>);</item>
/// <item>the canonical HWIO kernels are turned back into TFLite's OHWI here, and the kernels index them as TFLite does.</item>
/// </list>
/// Only the safetensors container reader (<see cref="SafeTensorsFile"/>) is the product's, as for <see cref="ReferenceMobileNet"/>.
/// The per-layer op parameters are public so that tests can compare them with the product's.
/// </remarks>
public sealed class ReferenceQuantizedMobileNet
{
    // TF-slim mobilenet_v1.py: depthwise strides and pointwise widths (α = 1) of the 13 separable blocks.
    private static readonly int[] BlockStrides = { 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1 };
    private static readonly int[] BlockWidths = { 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024 };

    /// <summary>One step of the network with its TFLite op parameters and tensors.</summary>
    public sealed class Step
    {
        internal Step(string name, string kind) { Name = name; Kind = kind; }
        public string Name { get; }
        /// <summary><c>conv</c>, <c>depthwise</c>, <c>pool</c>.</summary>
        public string Kind { get; }
        internal RuntimeShape InputShape { get; set; }
        internal RuntimeShape OutputShape { get; set; }
        internal RuntimeShape FilterShape { get; set; }
        internal byte[] Filter { get; set; } = Array.Empty<byte>();
        internal int[] Bias { get; set; } = Array.Empty<int>();
        internal ConvParams? Conv { get; set; }
        internal DepthwiseParams? Depthwise { get; set; }
        internal PoolParams? Pool { get; set; }
        public int OutputHeight => OutputShape.Dims(1);
        public int OutputWidth => OutputShape.Dims(2);
        public int OutputChannels => OutputShape.Dims(3);
        public int OutputLength => OutputShape.FlatSize;
        /// <summary>The output multiplier and shift (TFLite convention: shift &gt; 0 = left); 0, 0 for the pool.</summary>
        public int OutputMultiplier => Conv?.output_multiplier ?? Depthwise?.output_multiplier ?? 0;
        public int OutputShift => Conv?.output_shift ?? Depthwise?.output_shift ?? 0;
        public int ActivationMin => Conv?.quantized_activation_min ?? Depthwise?.quantized_activation_min ?? Pool!.quantized_activation_min;
        public int ActivationMax => Conv?.quantized_activation_max ?? Depthwise?.quantized_activation_max ?? Pool!.quantized_activation_max;
        /// <summary>The real multiplier the integer one approximates (input · filter / output scale, TFLite's formula).</summary>
        public double RealMultiplier { get; internal set; }
        /// <summary>The output tensor's scale and zero point.</summary>
        public float OutputScale { get; internal set; }
        public int OutputZeroPoint { get; internal set; }
    }

    /// <summary>Every layer's uint8 output of one forward pass, in network order (conv0 … block13.pointwise, pool, logits).</summary>
    public sealed class Result
    {
        internal Result(IReadOnlyList<string> names, IReadOnlyList<byte[]> outputs) { Names = names; Outputs = outputs; }
        public IReadOnlyList<string> Names { get; }
        public IReadOnlyList<byte[]> Outputs { get; }
        public byte[] Output(string name) => Outputs[IndexOf(name)];
        private int IndexOf(string name)
        {
            for (int i = 0; i < Names.Count; i++) if (Names[i] == name) return i;
            throw new KeyNotFoundException($"no layer '{name}'");
        }
        /// <summary>The pooled uint8 features [1024·α].</summary>
        public byte[] Features => Output("pool");
        /// <summary>The uint8 logits [N].</summary>
        public byte[] Logits => Output("logits");
    }

    private readonly List<Step> _steps = new();

    public ReferenceQuantizedMobileNet(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string Meta(string key) => file.GetMetadata(key) ?? throw new InvalidOperationException($"metadata '{key}' is missing");
        if (Meta("precision") != "uint8") throw new InvalidOperationException("not a uint8 canonical file (metadata precision)");
        Name = Meta("name");
        Alpha = double.Parse(Meta("alpha"), NumberStyles.Float, CultureInfo.InvariantCulture);
        Resolution = int.Parse(Meta("resolution"), CultureInfo.InvariantCulture);
        NumClasses = int.Parse(Meta("num_classes"), CultureInfo.InvariantCulture);
        using var json = JsonDocument.Parse(Meta("quantization"));
        var root = json.RootElement;
        (InputScale, InputZeroPoint) = Params(root.GetProperty("input"));
        var layers = root.GetProperty("layers");

        int height = Resolution, channels = 3;
        // Conv2d_0: 3×3 stride 2, 32·α filters.
        height = AddConv(file, layers, "conv0", "conv", height, channels, Depth(32), 3, 2);
        channels = Depth(32);
        for (int block = 1; block <= 13; block++)
        {
            height = AddConv(file, layers, $"block{block}.depthwise", "depthwise", height, channels, channels, 3, BlockStrides[block - 1]);
            int width = Depth(BlockWidths[block - 1]);
            height = AddConv(file, layers, $"block{block}.pointwise", "conv", height, channels, width, 1, 1);
            channels = width;
        }
        FeatureSize = channels;
        // AvgPool_1a: global, VALID, the whole feature map.
        var pool = layers.GetProperty("pool");
        var (poolOutScale, poolOutZp) = Params(pool.GetProperty("output"));
        TfliteQuantizationUtil.CalculateActivationRangeUint8(pool.GetProperty("activation").GetString()!, poolOutScale, poolOutZp, out int poolMin, out int poolMax);
        _steps.Add(new Step("pool", "pool")
        {
            InputShape = new RuntimeShape(1, height, height, channels),
            OutputShape = new RuntimeShape(1, 1, 1, channels),
            Pool = new PoolParams
            {
                padding_values = new PaddingValues(0, 0), stride_height = 1, stride_width = 1,
                filter_height = height, filter_width = height, quantized_activation_min = poolMin, quantized_activation_max = poolMax,
            },
            OutputScale = poolOutScale, OutputZeroPoint = poolOutZp,
        });
        // Logits/Conv2d_1c_1x1: a 1×1 convolution on the [1,1,1,C] pooled map.
        AddConv(file, layers, "logits", "conv", 1, channels, NumClasses, 1, 1);
    }

    public string Name { get; }
    public double Alpha { get; }
    public int Resolution { get; }
    public int NumClasses { get; }
    public int FeatureSize { get; }
    public float InputScale { get; }
    public int InputZeroPoint { get; }
    public int InputLength => Resolution * Resolution * 3;
    public IReadOnlyList<Step> Steps => _steps;

    /// <summary>The canonical file of an entry in weights/.</summary>
    public static ReferenceQuantizedMobileNet ForEntry(string entryName) => new(SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(entryName))));

    /// <summary>slim's depth(d) = max(int(d·α), 8).</summary>
    private int Depth(int d) => Math.Max((int)(d * Alpha), 8);

    private static (float Scale, int ZeroPoint) Params(JsonElement e) =>
        (float.Parse(e.GetProperty("scale").GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture), e.GetProperty("zero_point").GetInt32());

    /// <summary>Adds a convolution layer (TFLite SAME padding, padding.h) and returns its output height (= width).</summary>
    private int AddConv(SafeTensorsFile file, JsonElement layers, string name, string kind, int inSize, int inC, int outC, int k, int stride)
    {
        var q = layers.GetProperty(name);
        var (inScale, inZp) = Params(q.GetProperty("input"));
        var (wScale, wZp) = Params(q.GetProperty("weight"));
        var (outScale, outZp) = Params(q.GetProperty("output"));
        string activation = q.GetProperty("activation").GetString()!;
        int outSize = TfliteQuantizationUtil.ComputeOutSizeSame(inSize, stride);
        int pad = TfliteQuantizationUtil.ComputePadding(stride, 1, inSize, k, outSize);
        double real = TfliteQuantizationUtil.GetQuantizedConvolutionMultipler(inScale, wScale, outScale);
        TfliteQuantizationUtil.QuantizeMultiplier(real, out int multiplier, out int shift);
        TfliteQuantizationUtil.CalculateActivationRangeUint8(activation, outScale, outZp, out int actMin, out int actMax);

        var kernel = file.Find(name + ".weight") ?? throw new InvalidOperationException($"tensor '{name}.weight' is missing");
        var bias = file.Find(name + ".bias") ?? throw new InvalidOperationException($"tensor '{name}.bias' is missing");
        if (kernel.DType != TensorDType.U8 || bias.DType != TensorDType.I32) throw new InvalidOperationException($"layer {name}: expected U8 weight and I32 bias");
        var biasValues = new int[outC];
        for (int i = 0; i < outC; i++) biasValues[i] = BitConverter.ToInt32(bias.Data, 4 * i);
        var step = new Step(name, kind)
        {
            InputShape = new RuntimeShape(1, inSize, inSize, inC),
            OutputShape = new RuntimeShape(1, outSize, outSize, outC),
            Bias = biasValues,
            RealMultiplier = real,
            OutputScale = outScale,
            OutputZeroPoint = outZp,
        };
        if (kind == "depthwise")
        {
            // Canonical [3,3,C,1] has the memory order of TFLite's 1HWC [1,3,3,C].
            if (kernel.Data.Length != k * k * inC) throw new InvalidOperationException($"layer {name}: {kernel.Data.Length} kernel bytes");
            step.FilterShape = new RuntimeShape(1, k, k, inC);
            step.Filter = kernel.Data;
            step.Depthwise = new DepthwiseParams
            {
                padding_values = new PaddingValues(pad, pad), stride_width = stride, stride_height = stride, depth_multiplier = 1,
                input_offset = -inZp, weights_offset = -wZp, output_offset = outZp, output_multiplier = multiplier, output_shift = shift,
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
            step.FilterShape = new RuntimeShape(outC, k, k, inC);
            step.Filter = ohwi;
            step.Conv = new ConvParams
            {
                padding_values = new PaddingValues(pad, pad), stride_width = stride, stride_height = stride,
                input_offset = -inZp, weights_offset = -wZp, output_offset = outZp, output_multiplier = multiplier, output_shift = shift,
                quantized_activation_min = actMin, quantized_activation_max = actMax,
            };
        }
        _steps.Add(step);
        return outSize;
    }

    /// <summary>
    /// TFLite's QUANTIZE of a preprocessed float image (TF-slim preprocessing, values in [−1, 1]) with the network's input
    /// parameters (1/128, 128 for Google's models): round half away from zero of x/scale, + zero point, clamp to 0..255.
    /// </summary>
    public byte[] Quantize(ReadOnlySpan<float> preprocessedInput)
    {
        if (preprocessedInput.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} floats ([{Resolution},{Resolution},3])");
        var q = new byte[InputLength];
        ReferenceQuantize.AffineQuantize(InputScale, InputZeroPoint, preprocessedInput, q);
        return q;
    }

    /// <summary>Runs the network on a uint8 image [R,R,3] (NHWC) and returns every layer's output.</summary>
    public Result Forward(ReadOnlySpan<byte> input)
    {
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} bytes ([{Resolution},{Resolution},3])");
        var names = new List<string>();
        var outputs = new List<byte[]>();
        byte[] x = input.ToArray();
        foreach (var s in _steps)
        {
            var y = RunStep(s, x);
            names.Add(s.Name);
            outputs.Add(y);
            x = y;
        }
        return new Result(names, outputs);
    }

    /// <summary>One layer on a given uint8 input (NHWC, the step's input shape): for layer-by-layer comparisons with another engine.</summary>
    public byte[] RunStep(Step s, ReadOnlySpan<byte> x)
    {
        if (x.Length != s.InputShape.FlatSize) throw new ArgumentException($"layer {s.Name} takes {s.InputShape.FlatSize} bytes {s.InputShape}");
        var y = new byte[s.OutputShape.FlatSize];
        if (s.Conv != null)
            ReferenceConv.Conv(s.Conv, s.InputShape, x, s.FilterShape, s.Filter, new RuntimeShape(1, 1, 1, s.Bias.Length), s.Bias, s.OutputShape, y);
        else if (s.Depthwise != null)
            ReferenceDepthwiseConv.DepthwiseConv(s.Depthwise, s.InputShape, x, s.FilterShape, s.Filter, new RuntimeShape(1, 1, 1, s.Bias.Length), s.Bias, s.OutputShape, y);
        else
            ReferenceAveragePool.AveragePool(s.Pool!, s.InputShape, x, s.OutputShape, y);
        return y;
    }

    /// <summary>
    /// The <paramref name="k"/> best outputs of uint8 logits: larger value first, equal values by lower index (uint8 logits
    /// tie often; this order is the one the golden files record).
    /// </summary>
    public static int[] TopK(ReadOnlySpan<byte> logits, int k)
    {
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var copy = logits.ToArray();
        Array.Sort(order, (a, b) => copy[a] != copy[b] ? copy[b].CompareTo(copy[a]) : a.CompareTo(b));
        return order.Take(k).ToArray();
    }
}
