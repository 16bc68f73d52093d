namespace MobileNetGen.Runtime;

/// <summary>Where a classifier's weights came from.</summary>
public enum WeightsKind
{
    /// <summary>Google's published float32 weights.</summary>
    GenuineFloat,
    /// <summary>Google's published 8-bit-weight graphs (quantize_weights): 8-bit in the binary, dequantized when the weights are first loaded.</summary>
    Genuine8Bit,
    /// <summary>Deterministic synthetic weights: for speed and size only, never accuracy.</summary>
    Synthetic,
    /// <summary>Google's fully quantized networks (uint8 activations and weights, int32 biases), run with integer arithmetic.</summary>
    GenuineUInt8,
}

/// <summary>Everything fixed about a generated classifier, known at build time.</summary>
/// <param name="ImageNetLabels">True when the outputs are Google's ImageNet classes (weights metadata <c>labels = imagenet</c>);
/// false for a custom (fine-tuned) head, whose labels the generated class embeds and whose outputs are never mapped to ImageNet
/// indices, whatever its class count.</param>
/// <param name="WeightsResource">The manifest resource holding the weights file the class was generated from (the canonical
/// safetensors, byte for byte); null for synthetic weights, which are made from their seed.</param>
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
    long WeightBytes, // bytes the weights add to the binary: the embedded weights file (synthetic weights are made at load; for them, the size of a genuine file of the same shape)
    bool ImageNetLabels = true,
    string? WeightsResource = null)
{
    /// <summary>True for an integer network (<see cref="WeightsKind.GenuineUInt8"/>: a <c>QuantizedMobileNetClassifier</c>).</summary>
    public bool Quantized => Weights == WeightsKind.GenuineUInt8;

    /// <summary>"genuine float", "genuine 8-bit weights" or "SYNTHETIC".</summary>
    public string WeightsLabel => MobileNetGen.Model.CanonicalWeights.KindLabel(WeightsKindName);

    /// <summary>The weights kind as the weights file's metadata writes it: "genuine-float", "genuine-8bit" or "synthetic".</summary>
    public string WeightsKindName => Weights switch
    {
        WeightsKind.GenuineFloat => MobileNetGen.Model.CanonicalWeights.GenuineFloat,
        WeightsKind.Genuine8Bit => MobileNetGen.Model.CanonicalWeights.Genuine8Bit,
        WeightsKind.GenuineUInt8 => MobileNetGen.Model.CanonicalWeights.GenuineUInt8,
        _ => MobileNetGen.Model.CanonicalWeights.Synthetic,
    };
}
