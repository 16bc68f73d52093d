namespace MobileNetGen;

/// <summary>
/// Put on a <c>partial class</c> to have the MobileNetGen source generator turn it into a complete MobileNet v1
/// classifier for one variant, weights embedded:
/// <code>
/// [MobileNet("0.25_224")]
/// public partial class BirdClassifier { }
/// </code>
/// The weights come from a canonical <c>.safetensors</c> file passed to the build as a <c>MobileNetWeights</c> item
/// (see README). Variants without published weights (α = 1.0) need <see cref="Synthetic"/> = true.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class MobileNetAttribute : Attribute
{
    /// <param name="variant">α_resolution as in the MobileNet table: <c>1.0_224</c>, <c>0.75_160</c>, <c>0.50_128</c>, <c>0.25_192</c>
    /// (also <c>0.5_128</c> and a <c>mobilenet_v1_</c> prefix).</param>
    public MobileNetAttribute(string variant) => Variant = variant;

    public string Variant { get; }

    /// <summary>Name of the weights entry (file stem) to use; default <c>mobilenet_v1_{variant}</c>.
    /// E.g. <c>mobilenet_v1_0.25_224_tflite2018</c> for the 2018 TFLite re-release.</summary>
    public string? Weights { get; set; }

    /// <summary>Use deterministic synthetic weights (SplitMix64, documented seed) instead of a weights file:
    /// for measuring speed and size of variants without published weights. Results are labelled synthetic.</summary>
    public bool Synthetic { get; set; }
}

/// <summary>
/// Put on a <c>partial class</c> to have the MobileNetGen source generator turn it into a complete SSD MobileNet v1 object
/// detector, weights embedded, integer arithmetic exact to TensorFlow Lite:
/// <code>
/// [MobileNetSsd("ssd_mobilenet_v1_0.75_300_coco_quant")]
/// public partial class CocoDetector { }
/// </code>
/// The weights come from the canonical detector file (<c>mobilenetgen import detect.tflite</c>) passed to the build as a
/// <c>MobileNetWeights</c> item.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class MobileNetSsdAttribute : Attribute
{
    /// <param name="weights">The detector's weights entry (file stem), e.g. <c>ssd_mobilenet_v1_0.75_300_coco_quant</c>.</param>
    public MobileNetSsdAttribute(string weights) => Weights = weights;

    public string Weights { get; }
}
