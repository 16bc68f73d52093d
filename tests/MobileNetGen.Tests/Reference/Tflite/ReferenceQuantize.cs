namespace MobileNetGen.Tests.Reference.Tflite;

/// <summary>
/// tensorflow/lite/kernels/internal/reference/quantize.h, <c>reference_ops::AffineQuantize&lt;float, uint8_t&gt;</c> (TFLite's
/// QUANTIZE op): <c>unclamped = (double)TfLiteRound(val / (float)scale) + zero_point</c>, clamped to 0..255.
/// </summary>
internal static class ReferenceQuantize
{
    public static void AffineQuantize(float scale, int zero_point, ReadOnlySpan<float> input_data, Span<byte> output_data)
    {
        if (input_data.Length != output_data.Length) throw new ArgumentException("MatchingFlatSize(input_shape, output_shape)");
        const int min_val = byte.MinValue;
        const int max_val = byte.MaxValue;
        for (int i = 0; i < input_data.Length; i++)
        {
            float val = input_data[i];
            float ratio = (float)(val / scale); // val / static_cast<float>(scale): a float division
            double unclamped = (double)MathF.Round(ratio, MidpointRounding.AwayFromZero) + zero_point;
            double clamped = Math.Min(Math.Max(unclamped, min_val), max_val);
            output_data[i] = (byte)clamped;
        }
    }
}
