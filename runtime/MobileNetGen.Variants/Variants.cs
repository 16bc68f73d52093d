namespace MobileNetGen.Variants;

// Every variant with Google's published weights (weights/*.safetensors), generated exactly as an app would.
// α = 0.75 at 224: float (Keras / TF.js, 1000 classes); 0.75 at 192/160/128 and all 0.50: Google's 8-bit-weight graphs.
[MobileNet("0.75_224")] public partial class MobileNetV1_0_75_224 { }
[MobileNet("0.75_192")] public partial class MobileNetV1_0_75_192 { }
[MobileNet("0.75_160")] public partial class MobileNetV1_0_75_160 { }
[MobileNet("0.75_128")] public partial class MobileNetV1_0_75_128 { }
[MobileNet("0.50_224")] public partial class MobileNetV1_0_50_224 { }
[MobileNet("0.50_192")] public partial class MobileNetV1_0_50_192 { }
[MobileNet("0.50_160")] public partial class MobileNetV1_0_50_160 { }
[MobileNet("0.50_128")] public partial class MobileNetV1_0_50_128 { }
[MobileNet("0.25_224")] public partial class MobileNetV1_0_25_224 { }
[MobileNet("0.25_192")] public partial class MobileNetV1_0_25_192 { }
[MobileNet("0.25_160")] public partial class MobileNetV1_0_25_160 { }
[MobileNet("0.25_128")] public partial class MobileNetV1_0_25_128 { }

/// <summary>The 2018 TFLite re-release of 0.25_224 (a different training run), kept as a separate entry.</summary>
[MobileNet("0.25_224", Weights = "mobilenet_v1_0.25_224_tflite2018")] public partial class MobileNetV1_0_25_224_Tflite2018 { }

// Google's fully quantized (uint8) classifiers, quantization-aware trained (TFLite hosted models, 2018): integer layers,
// every uint8 output equal to TensorFlow Lite's reference kernels. 1.0_224 is the only genuine α = 1.0 network here.
[MobileNet("1.0_224_quant")] public partial class MobileNetV1_1_0_224_Quant { }
[MobileNet("0.75_192_quant")] public partial class MobileNetV1_0_75_192_Quant { }
[MobileNet("0.50_160_quant")] public partial class MobileNetV1_0_50_160_Quant { }
[MobileNet("0.25_224_quant")] public partial class MobileNetV1_0_25_224_Quant { }
[MobileNet("0.25_128_quant")] public partial class MobileNetV1_0_25_128_Quant { }

/// <summary>
/// SSD MobileNet v1 (α = 0.75, 300 × 300) trained on COCO, Google's uint8 detector (coco_ssd_mobilenet_v1_1.0_quant_2018_06_29):
/// the integer backbone, extra feature layers and box / class predictors, then TFLite's detection post-processing.
/// </summary>
[MobileNetSsd("ssd_mobilenet_v1_0.75_300_coco_quant")] public partial class SsdMobileNetV1Coco { }
