namespace MobileNetGen.Variants;

public static partial class VariantCatalog
{
    private static readonly VariantEntry[] s_entries =
    {
        new("mobilenet_v1_1.0_224", "1.0_224", MobileNetV1_1_0_224.ModelInfo, o => new MobileNetV1_1_0_224(o)),
        new("mobilenet_v1_1.0_192", "1.0_192", MobileNetV1_1_0_192.ModelInfo, o => new MobileNetV1_1_0_192(o)),
        new("mobilenet_v1_1.0_160", "1.0_160", MobileNetV1_1_0_160.ModelInfo, o => new MobileNetV1_1_0_160(o)),
        new("mobilenet_v1_1.0_128", "1.0_128", MobileNetV1_1_0_128.ModelInfo, o => new MobileNetV1_1_0_128(o)),
        new("mobilenet_v1_0.75_224", "0.75_224", MobileNetV1_0_75_224.ModelInfo, o => new MobileNetV1_0_75_224(o)),
        new("mobilenet_v1_0.75_192", "0.75_192", MobileNetV1_0_75_192.ModelInfo, o => new MobileNetV1_0_75_192(o)),
        new("mobilenet_v1_0.75_160", "0.75_160", MobileNetV1_0_75_160.ModelInfo, o => new MobileNetV1_0_75_160(o)),
        new("mobilenet_v1_0.75_128", "0.75_128", MobileNetV1_0_75_128.ModelInfo, o => new MobileNetV1_0_75_128(o)),
        new("mobilenet_v1_0.50_224", "0.50_224", MobileNetV1_0_50_224.ModelInfo, o => new MobileNetV1_0_50_224(o)),
        new("mobilenet_v1_0.50_192", "0.50_192", MobileNetV1_0_50_192.ModelInfo, o => new MobileNetV1_0_50_192(o)),
        new("mobilenet_v1_0.50_160", "0.50_160", MobileNetV1_0_50_160.ModelInfo, o => new MobileNetV1_0_50_160(o)),
        new("mobilenet_v1_0.50_128", "0.50_128", MobileNetV1_0_50_128.ModelInfo, o => new MobileNetV1_0_50_128(o)),
        new("mobilenet_v1_0.25_224", "0.25_224", MobileNetV1_0_25_224.ModelInfo, o => new MobileNetV1_0_25_224(o)),
        new("mobilenet_v1_0.25_192", "0.25_192", MobileNetV1_0_25_192.ModelInfo, o => new MobileNetV1_0_25_192(o)),
        new("mobilenet_v1_0.25_160", "0.25_160", MobileNetV1_0_25_160.ModelInfo, o => new MobileNetV1_0_25_160(o)),
        new("mobilenet_v1_0.25_128", "0.25_128", MobileNetV1_0_25_128.ModelInfo, o => new MobileNetV1_0_25_128(o)),
        new("mobilenet_v1_0.25_224_tflite2018", "0.25_224", MobileNetV1_0_25_224_Tflite2018.ModelInfo, o => new MobileNetV1_0_25_224_Tflite2018(o)),
        new("mobilenet_v1_1.0_224_quant", "1.0_224_quant", MobileNetV1_1_0_224_Quant.ModelInfo, o => new MobileNetV1_1_0_224_Quant(o)),
        new("mobilenet_v1_0.75_192_quant", "0.75_192_quant", MobileNetV1_0_75_192_Quant.ModelInfo, o => new MobileNetV1_0_75_192_Quant(o)),
        new("mobilenet_v1_0.50_160_quant", "0.50_160_quant", MobileNetV1_0_50_160_Quant.ModelInfo, o => new MobileNetV1_0_50_160_Quant(o)),
        new("mobilenet_v1_0.25_224_quant", "0.25_224_quant", MobileNetV1_0_25_224_Quant.ModelInfo, o => new MobileNetV1_0_25_224_Quant(o)),
        new("mobilenet_v1_0.25_128_quant", "0.25_128_quant", MobileNetV1_0_25_128_Quant.ModelInfo, o => new MobileNetV1_0_25_128_Quant(o)),
    };
}
