using System.Globalization;

namespace MobileNetGen.Runtime.Detection;

/// <summary>
/// The scale and zero point of a uint8 tensor: <c>real = scale · (q − zeroPoint)</c> (TFLite's asymmetric per-tensor
/// quantization, <c>QuantizationParameters</c> in the flatbuffer schema).
/// </summary>
public readonly struct Quantization : IEquatable<Quantization>
{
    /// <param name="scale">Positive and finite.</param>
    /// <param name="zeroPoint">0..255 (uint8 tensors).</param>
    public Quantization(float scale, int zeroPoint)
    {
        if (!(scale > 0) || !float.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "quantization scale must be positive and finite");
        if (zeroPoint is < 0 or > 255)
            throw new ArgumentOutOfRangeException(nameof(zeroPoint), zeroPoint, "a uint8 tensor's zero point must be in 0..255");
        Scale = scale;
        ZeroPoint = zeroPoint;
    }

    public float Scale { get; }
    public int ZeroPoint { get; }

    /// <summary>True for <c>default(Quantization)</c>, which has no valid scale: a caller forgot to set it.</summary>
    public bool IsDefault => Scale == 0;

    public bool Equals(Quantization other) => Scale.Equals(other.Scale) && ZeroPoint == other.ZeroPoint;
    public override bool Equals(object? obj) => obj is Quantization q && Equals(q);
    public override int GetHashCode() => HashCode.Combine(Scale, ZeroPoint);
    public static bool operator ==(Quantization a, Quantization b) => a.Equals(b);
    public static bool operator !=(Quantization a, Quantization b) => !a.Equals(b);
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"scale {Scale:R}, zero point {ZeroPoint}");

    internal static void Require(Quantization q, string name)
    {
        if (q.IsDefault) throw new ArgumentException($"{name} is default(Quantization): pass the tensor's scale and zero point", name);
    }
}

/// <summary>A box in normalized image coordinates, in TFLite's order (<c>BoxCornerEncoding</c>: ymin, xmin, ymax, xmax).</summary>
/// <remarks>Values are not clamped: SSD boxes may reach past the image edge (below 0 or above 1).</remarks>
public readonly record struct NormalizedBox(float YMin, float XMin, float YMax, float XMax);

/// <summary>A box in image pixels (floats, not rounded or clamped): left and top inclusive edges, right and bottom the far edges.</summary>
public readonly record struct PixelBox(float Left, float Top, float Right, float Bottom)
{
    public float Width => Right - Left;
    public float Height => Bottom - Top;

    /// <summary>Scales a normalized box to an image of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static PixelBox FromNormalized(NormalizedBox box, int width, int height) =>
        new(box.XMin * width, box.YMin * height, box.XMax * width, box.YMax * height);
}

/// <summary>
/// One detection of TFLite's <c>TFLite_Detection_PostProcess</c>: the box, the class as TFLite outputs it (0-based, background
/// excluded), its label and its score.
/// </summary>
/// <param name="Box">Normalized [ymin, xmin, ymax, xmax], exactly as TFLite's <c>detection_boxes</c> output.</param>
/// <param name="Pixels">The same box in pixels of the frame the detector saw (the whole frame, resized; no crop).</param>
/// <param name="ClassIndex">TFLite's <c>detection_classes</c> value: COCO label map line <c>ClassIndex + 1</c>.</param>
/// <param name="Label">The label map's text for the class ("cat"), or "class N" when no label map was given.</param>
/// <param name="Score">TFLite's <c>detection_scores</c> value (the dequantized sigmoid output).</param>
public readonly record struct Detection(NormalizedBox Box, PixelBox Pixels, int ClassIndex, string Label, float Score);
