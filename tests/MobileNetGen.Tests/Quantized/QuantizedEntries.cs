using MobileNetGen.Model;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.Reference;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;

namespace MobileNetGen.Tests.Quantized;

/// <summary>The five uint8 entries in weights/, their sources in shared/models, published accuracy and shared helpers.</summary>
public static class QuantizedEntries
{
    /// <summary>One genuine uint8 network: entry name, source file(s) under shared/models, published ImageNet-val top-1/top-5.</summary>
    public sealed record Entry(string Name, string Variant, string Source, string? Head, double PublishedTop1, double PublishedTop5);

    /// <summary>TFLite hosted models' published figures (shared/README.md).</summary>
    public static readonly Entry[] All =
    {
        new("mobilenet_v1_0.25_128_quant", "0.25_128_quant", "tflite-quant-2018/mobilenet_v1_0.25_128_quant.tflite", null, 39.5, 64.4),
        new("mobilenet_v1_0.25_224_quant", "0.25_224_quant", "tflite-quant-2018/mobilenet_v1_0.25_224_quant.tflite", null, 48.2, 72.8),
        new("mobilenet_v1_0.50_160_quant", "0.50_160_quant", "tflite-quant-2018/mobilenet_v1_0.5_160_quant.tflite", null, 57.2, 80.5),
        new("mobilenet_v1_0.75_192_quant", "0.75_192_quant", "tflite-quant-2018/mobilenet_v1_0.75_192_quant.tflite", null, 66.1, 86.2),
        new("mobilenet_v1_1.0_224_quant", "1.0_224_quant", "tflite-quant-2018/coral-1.0_224-split/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
            "tflite-quant-2018/coral-1.0_224-split/mobilenet_quant_v1_224_head_layers.tflite", 70.0, 89.0),
    };

    public static Entry Get(string name) => All.Single(e => e.Name == name);

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var e in All) d.Add(e.Name);
        return d;
    }

    /// <summary>weights/{entry}.safetensors.</summary>
    public static SafeTensorsFile Weights(string name) => SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(name)));

    private static readonly Dictionary<string, ReferenceQuantizedMobileNet> s_reference = new();

    /// <summary>The reference network of an entry (built once per process; it is immutable).</summary>
    public static ReferenceQuantizedMobileNet Reference(string name)
    {
        lock (s_reference)
        {
            if (!s_reference.TryGetValue(name, out var r)) s_reference[name] = r = new ReferenceQuantizedMobileNet(Weights(name));
            return r;
        }
    }

    /// <summary>An image file → TF-slim preprocessing (runtime Preprocessor, TF bilinear) → TFLite's QUANTIZE → uint8 [R,R,3].</summary>
    public static byte[] QuantizedInput(ReferenceQuantizedMobileNet net, string imagePath)
    {
        using var image = ImageLoader.LoadRgb24(imagePath);
        var input = new float[net.InputLength];
        Preprocessor.ImageToInput(image, net.Resolution, input);
        return net.Quantize(input);
    }

    /// <summary>shared/images/{relative}.</summary>
    public static string Images(string relative) =>
        Path.Combine(SharedData.Root ?? throw new InvalidOperationException("shared/ data folder not found"), "images", relative.Replace('/', Path.DirectorySeparatorChar));
}
