namespace MobileNetGen.Variants;

// α = 1.0: SYNTHETIC weights (SplitMix64, seed 20170417), for speed and size only. See weights/README.md.
[MobileNet("1.0_224", Synthetic = true)] public partial class MobileNetV1_1_0_224 { }
[MobileNet("1.0_192", Synthetic = true)] public partial class MobileNetV1_1_0_192 { }
[MobileNet("1.0_160", Synthetic = true)] public partial class MobileNetV1_1_0_160 { }
[MobileNet("1.0_128", Synthetic = true)] public partial class MobileNetV1_1_0_128 { }
