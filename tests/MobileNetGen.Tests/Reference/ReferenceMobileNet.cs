using System.Globalization;
using MobileNetGen.Model;

namespace MobileNetGen.Tests.Reference;

/// <summary>
/// An independent, deliberately plain scalar forward pass of MobileNet v1 (TFLite Micro reference-kernel style: one op
/// per method, explicit loops, double accumulators and double activations). It reads the canonical tensors straight
/// from a <see cref="SafeTensorsFile"/> and applies each layer exactly as weights/README.md defines it:
/// <c>y = ReLU6(conv(x, weight) · scale + bias)</c>, then global average pool, then <c>logits = bias + Σ pooled · weight</c>.
/// </summary>
/// <remarks>
/// What it deliberately does NOT share with the product (so that the product is checked, not mirrored):
/// <list type="bullet">
/// <item>BatchNorm is applied after the convolution (<c>acc · scale + bias</c>), never folded into the kernel.</item>
/// <item>8-bit kernels are dequantized here with TF's MIN_FIRST rule (not <c>CanonicalWeights.KernelValues</c>).</item>
/// <item>Layer shapes, widths and TensorFlow SAME padding are computed here (not from <c>MobileNetV1Architecture</c>).</item>
/// <item>Kernels are read in the canonical HWIO layout, not the generator's packed layouts.</item>
/// </list>
/// Layout is NHWC everywhere; the innermost loops run over channels so the reads are sequential.
/// </remarks>
public sealed class ReferenceMobileNet
{
    // TF-slim mobilenet_v1.py: depthwise strides and pointwise widths (α = 1) of the 13 separable blocks.
    private static readonly int[] BlockStrides = { 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1 };
    private static readonly int[] BlockWidths = { 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024 };

    private readonly SafeTensorsFile _file;

    public ReferenceMobileNet(SafeTensorsFile file)
    {
        _file = file;
        Alpha = double.Parse(Meta("alpha"), NumberStyles.Float, CultureInfo.InvariantCulture);
        Resolution = int.Parse(Meta("resolution"), CultureInfo.InvariantCulture);
        NumClasses = int.Parse(Meta("num_classes"), CultureInfo.InvariantCulture);
    }

    public double Alpha { get; }
    public int Resolution { get; }
    public int NumClasses { get; }

    /// <summary>Input floats: Resolution × Resolution × 3 (NHWC, RGB in [−1, 1]).</summary>
    public int InputLength => Resolution * Resolution * 3;

    /// <summary>The canonical weights of a catalog entry: weights/{name}.safetensors, or SyntheticWeights for synthetic entries.</summary>
    public static ReferenceMobileNet ForEntry(string entryName, string variant, bool synthetic) =>
        new(synthetic ? SyntheticWeights.Create(VariantName.Parse(variant)) : SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(entryName))));

    /// <summary>Logits (NumClasses) and pooled features (1024·α) of one input.</summary>
    public (double[] Logits, double[] Features) Forward(ReadOnlySpan<float> input)
    {
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} floats");
        var x = new double[input.Length];
        for (int i = 0; i < x.Length; i++) x[i] = input[i];

        int height = Resolution, width = Resolution, channels = 3;

        // Conv2d_0: 3×3, stride 2, 32·α outputs.
        int stem = Depth(32);
        x = Conv3x3(x, height, width, channels, "conv0", stem, stride: 2, out int outH, out int outW);
        height = outH; width = outW; channels = stem;

        for (int block = 1; block <= 13; block++)
        {
            int stride = BlockStrides[block - 1];
            x = Depthwise3x3(x, height, width, channels, $"block{block}.depthwise", stride, out outH, out outW);
            height = outH; width = outW;
            int outC = Depth(BlockWidths[block - 1]);
            x = Pointwise(x, height, width, channels, $"block{block}.pointwise", outC);
            channels = outC;
        }

        double[] features = GlobalAveragePool(x, height, width, channels);
        double[] logits = FullyConnected(features, "logits");
        return (logits, features);
    }

    /// <summary>slim's depth(d) = max(int(d·α), 8).</summary>
    private int Depth(int d) => Math.Max((int)(d * Alpha), 8);

    /// <summary>TensorFlow SAME: out = ceil(in / stride); pad_total = max((out − 1)·stride + k − in, 0); the smaller half before.</summary>
    private static void SamePadding(int inSize, int stride, int filterSize, out int outSize, out int padBefore)
    {
        outSize = (inSize + stride - 1) / stride;
        int padTotal = Math.Max((outSize - 1) * stride + filterSize - inSize, 0);
        padBefore = padTotal / 2;
    }

    private static double Relu6(double v) => Math.Min(Math.Max(v, 0.0), 6.0);

    /// <summary>Full 3×3 convolution (HWIO kernel [3,3,inC,outC]) + BatchNorm (scale, bias) + ReLU6.</summary>
    private double[] Conv3x3(double[] input, int inH, int inW, int inC, string layer, int outC, int stride, out int outH, out int outW)
    {
        double[] filter = Kernel(layer, 3, 3, inC, outC);
        double[] scale = Vector(layer + ".scale", outC);
        double[] bias = Vector(layer + ".bias", outC);
        SamePadding(inH, stride, 3, out outH, out int padTop);
        SamePadding(inW, stride, 3, out outW, out int padLeft);
        var output = new double[outH * outW * outC];
        var acc = new double[outC];
        for (int out_y = 0; out_y < outH; out_y++)
        {
            for (int out_x = 0; out_x < outW; out_x++)
            {
                Array.Clear(acc);
                for (int filter_y = 0; filter_y < 3; filter_y++)
                {
                    int in_y = out_y * stride - padTop + filter_y;
                    for (int filter_x = 0; filter_x < 3; filter_x++)
                    {
                        int in_x = out_x * stride - padLeft + filter_x;
                        // Zero padding: taps outside the image contribute nothing.
                        if (in_y < 0 || in_y >= inH || in_x < 0 || in_x >= inW) continue;
                        for (int ic = 0; ic < inC; ic++)
                        {
                            double v = input[(in_y * inW + in_x) * inC + ic];
                            int f = ((filter_y * 3 + filter_x) * inC + ic) * outC;
                            for (int oc = 0; oc < outC; oc++) acc[oc] += v * filter[f + oc];
                        }
                    }
                }
                int o = (out_y * outW + out_x) * outC;
                for (int oc = 0; oc < outC; oc++) output[o + oc] = Relu6(acc[oc] * scale[oc] + bias[oc]);
            }
        }
        return output;
    }

    /// <summary>Depthwise 3×3 convolution (kernel [3,3,C,1]) + BatchNorm + ReLU6.</summary>
    private double[] Depthwise3x3(double[] input, int inH, int inW, int channels, string layer, int stride, out int outH, out int outW)
    {
        double[] filter = Kernel(layer, 3, 3, channels, 1);
        double[] scale = Vector(layer + ".scale", channels);
        double[] bias = Vector(layer + ".bias", channels);
        SamePadding(inH, stride, 3, out outH, out int padTop);
        SamePadding(inW, stride, 3, out outW, out int padLeft);
        var output = new double[outH * outW * channels];
        var acc = new double[channels];
        for (int out_y = 0; out_y < outH; out_y++)
        {
            for (int out_x = 0; out_x < outW; out_x++)
            {
                Array.Clear(acc);
                for (int filter_y = 0; filter_y < 3; filter_y++)
                {
                    int in_y = out_y * stride - padTop + filter_y;
                    for (int filter_x = 0; filter_x < 3; filter_x++)
                    {
                        int in_x = out_x * stride - padLeft + filter_x;
                        // Zero padding: taps outside the image contribute nothing.
                        if (in_y < 0 || in_y >= inH || in_x < 0 || in_x >= inW) continue;
                        int i = (in_y * inW + in_x) * channels;
                        int f = (filter_y * 3 + filter_x) * channels;
                        for (int c = 0; c < channels; c++) acc[c] += input[i + c] * filter[f + c];
                    }
                }
                int o = (out_y * outW + out_x) * channels;
                for (int c = 0; c < channels; c++) output[o + c] = Relu6(acc[c] * scale[c] + bias[c]);
            }
        }
        return output;
    }

    /// <summary>Pointwise 1×1 convolution (kernel [1,1,inC,outC]) + BatchNorm + ReLU6.</summary>
    private double[] Pointwise(double[] input, int height, int width, int inC, string layer, int outC)
    {
        double[] filter = Kernel(layer, 1, 1, inC, outC);
        double[] scale = Vector(layer + ".scale", outC);
        double[] bias = Vector(layer + ".bias", outC);
        var output = new double[height * width * outC];
        var acc = new double[outC];
        for (int out_y = 0; out_y < height; out_y++)
        {
            for (int out_x = 0; out_x < width; out_x++)
            {
                Array.Clear(acc);
                int i = (out_y * width + out_x) * inC;
                for (int ic = 0; ic < inC; ic++)
                {
                    double v = input[i + ic];
                    int f = ic * outC;
                    for (int oc = 0; oc < outC; oc++) acc[oc] += v * filter[f + oc];
                }
                int o = (out_y * width + out_x) * outC;
                for (int oc = 0; oc < outC; oc++) output[o + oc] = Relu6(acc[oc] * scale[oc] + bias[oc]);
            }
        }
        return output;
    }

    /// <summary>Mean over all pixels, per channel.</summary>
    private static double[] GlobalAveragePool(double[] input, int height, int width, int channels)
    {
        var sum = new double[channels];
        for (int p = 0; p < height * width; p++)
            for (int c = 0; c < channels; c++) sum[c] += input[p * channels + c];
        for (int c = 0; c < channels; c++) sum[c] /= height * width;
        return sum;
    }

    /// <summary>logits[n] = bias[n] + Σ_c features[c] · W[0,0,c,n]; no activation.</summary>
    private double[] FullyConnected(double[] features, string layer)
    {
        int inC = features.Length;
        double[] filter = Kernel(layer, 1, 1, inC, NumClasses);
        double[] bias = Vector(layer + ".bias", NumClasses);
        var logits = (double[])bias.Clone();
        for (int ic = 0; ic < inC; ic++)
            for (int n = 0; n < NumClasses; n++) logits[n] += features[ic] * filter[ic * NumClasses + n];
        return logits;
    }

    private string Meta(string key) =>
        _file.GetMetadata(key) ?? throw new InvalidOperationException($"weights metadata '{key}' is missing");

    private Tensor Find(string name) =>
        _file.Find(name) ?? throw new InvalidOperationException($"tensor '{name}' is missing");

    /// <summary>An F32 vector of the given length, widened to double.</summary>
    private double[] Vector(string name, int length)
    {
        float[] v = F32(Find(name), new[] { length });
        return Array.ConvertAll(v, f => (double)f);
    }

    /// <summary>A kernel in HWIO layout, F32 as stored or U8 dequantized with TF's MIN_FIRST rule.</summary>
    private double[] Kernel(string layer, params int[] shape)
    {
        Tensor t = Find(layer + ".weight");
        if (t.DType == TensorDType.F32) return Array.ConvertAll(F32(t, shape), f => (double)f);
        CheckShape(t, shape);
        float min = F32(Find(layer + ".weight.min"), new[] { 1 })[0];
        float max = F32(Find(layer + ".weight.max"), new[] { 1 })[0];
        return Array.ConvertAll(DequantizeMinFirst(t.Data, min, max), f => (double)f);
    }

    /// <summary>
    /// TensorFlow's MIN_FIRST dequantization of quint8 (quantization_utils.h, QuantizedToFloat), written out here
    /// independently of the product: step = (max − min)/255 in double; min_rounded = round(min / float(step)) · float(step)
    /// with round half away from zero and the division in float, as TF does; value = float(min_rounded + q·step).
    /// </summary>
    public static float[] DequantizeMinFirst(byte[] quantized, float min, float max)
    {
        var values = new float[quantized.Length];
        if (min == max)
        {
            Array.Fill(values, min);
            return values;
        }
        double step = ((double)max - (double)min) / 255.0;
        float stepAsFloat = (float)step;
        float ratio = min / stepAsFloat; // float division, as TF's `range_min / static_cast<float>(range_scale)`
        double rounded = ratio >= 0 ? Math.Floor(ratio + 0.5) : -Math.Floor(-ratio + 0.5); // half away from zero
        double minRounded = rounded * stepAsFloat;
        for (int q = 0; q < quantized.Length; q++) values[q] = (float)(minRounded + quantized[q] * step);
        return values;
    }

    private static float[] F32(Tensor t, int[] shape)
    {
        CheckShape(t, shape);
        if (t.DType != TensorDType.F32) throw new InvalidOperationException($"tensor '{t.Name}' is {t.DType}, expected F32");
        var values = new float[t.Data.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.ToSingle(t.Data, i * 4);
        return values;
    }

    private static void CheckShape(Tensor t, int[] shape)
    {
        if (!t.Shape.SequenceEqual(shape))
            throw new InvalidOperationException($"tensor '{t.Name}' has shape [{string.Join(",", t.Shape)}], the reference expects [{string.Join(",", shape)}]");
    }
}

/// <summary>Paths inside the repository (found by walking up from the test binaries to the folder holding weights/).</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> _root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "weights", "mobilenet_v1_0.25_224.safetensors"))
                && Directory.Exists(Path.Combine(dir.FullName, "generator")))
                return dir.FullName;
        throw new InvalidOperationException("repository root (with weights/) not found above " + AppContext.BaseDirectory);
    });

    public static string Root => _root.Value;

    public static string Weights(string entryName) => Path.Combine(Root, "weights", entryName + ".safetensors");
}
