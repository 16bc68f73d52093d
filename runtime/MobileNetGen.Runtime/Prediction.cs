namespace MobileNetGen.Runtime;

/// <summary>One class of a top-k result.</summary>
/// <param name="OutputIndex">Index into the model's logits.</param>
/// <param name="ImageNetIndex">TF-slim ImageNet index 0..1000 (0 = background), the same for 1001- and 1000-class models;
/// equal to <paramref name="OutputIndex"/> for custom heads.</param>
/// <param name="Probability">Softmax probability.</param>
/// <param name="Label">Human-readable label.</param>
public readonly record struct Prediction(int OutputIndex, int ImageNetIndex, float Probability, string Label);
