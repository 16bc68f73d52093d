namespace MobileNetGen.Runtime;

/// <summary>Where a classifier's weights came from.</summary>
public enum WeightsKind
{
    /// <summary>Google's published float32 weights.</summary>
    GenuineFloat,
    /// <summary>Google's published 8-bit-weight graphs (quantize_weights), dequantized at build time.</summary>
    Genuine8Bit,
    /// <summary>Deterministic synthetic weights: for speed and size only, never accuracy.</summary>
    Synthetic,
}

/// <summary>Everything fixed about a generated classifier, known at build time.</summary>
/// <param name="ImageNetLabels">True when the outputs are Google's ImageNet classes (weights metadata <c>labels = imagenet</c>);
/// false for a custom (fine-tuned) head, whose labels the generated class embeds and whose outputs are never mapped to ImageNet
/// indices, whatever its class count.</param>
public sealed record MobileNetModelInfo(
    string Name,
    string Variant,
    double Alpha,
    int Resolution,
    int NumClasses,
    bool BackgroundClass,
    WeightsKind Weights,
    string Source,
    string SourceSha256,
    long Macs,
    long Parameters,
    int FeatureSize,
    long WeightBytes, // bytes the embedded weights add to the binary (base64 text of the packed weights)
    bool ImageNetLabels = true)
{
    /// <summary>"genuine float", "genuine 8-bit weights" or "SYNTHETIC".</summary>
    public string WeightsLabel => Weights switch
    {
        WeightsKind.GenuineFloat => "genuine float",
        WeightsKind.Genuine8Bit => "genuine 8-bit weights",
        _ => "SYNTHETIC (speed only)",
    };
}
