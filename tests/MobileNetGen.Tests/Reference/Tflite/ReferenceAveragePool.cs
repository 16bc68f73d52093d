using static MobileNetGen.Tests.Reference.Tflite.TfliteTypes;

namespace MobileNetGen.Tests.Reference.Tflite;

/// <summary>
/// tensorflow/lite/kernels/internal/reference/pooling.h, <c>reference_ops::AveragePool</c>, the uint8 overload, line for
/// line: int32 sum over the clamped window, then <c>(acc + filter_count / 2) / filter_count</c> (rounds halves up: the sum
/// is non-negative), clamped to the activation range. No requantization (input and output share scale and zero point).
/// </summary>
internal static class ReferenceAveragePool
{
    public static void AveragePool(PoolParams @params, in RuntimeShape input_shape, ReadOnlySpan<byte> input_data,
        in RuntimeShape output_shape, Span<byte> output_data)
    {
        if (@params.quantized_activation_min > @params.quantized_activation_max) throw new ArgumentException("TFLITE_DCHECK_LE(quantized_activation_min, quantized_activation_max)");
        int batches = MatchingDim(input_shape, 0, output_shape, 0);
        int depth = MatchingDim(input_shape, 3, output_shape, 3);
        int input_height = input_shape.Dims(1);
        int input_width = input_shape.Dims(2);
        int output_height = output_shape.Dims(1);
        int output_width = output_shape.Dims(2);
        int stride_height = @params.stride_height;
        int stride_width = @params.stride_width;
        for (int batch = 0; batch < batches; ++batch)
        {
            for (int out_y = 0; out_y < output_height; ++out_y)
            {
                for (int out_x = 0; out_x < output_width; ++out_x)
                {
                    for (int channel = 0; channel < depth; ++channel)
                    {
                        int in_x_origin = (out_x * stride_width) - @params.padding_values.Width;
                        int in_y_origin = (out_y * stride_height) - @params.padding_values.Height;
                        // Compute the boundaries of the filter region clamped so as to ensure that the filter window fits in the input array.
                        int filter_x_start = Math.Max(0, -in_x_origin);
                        int filter_x_end = Math.Min(@params.filter_width, input_width - in_x_origin);
                        int filter_y_start = Math.Max(0, -in_y_origin);
                        int filter_y_end = Math.Min(@params.filter_height, input_height - in_y_origin);
                        int acc = 0;
                        int filter_count = 0;
                        for (int filter_y = filter_y_start; filter_y < filter_y_end; ++filter_y)
                        {
                            for (int filter_x = filter_x_start; filter_x < filter_x_end; ++filter_x)
                            {
                                int in_x = in_x_origin + filter_x;
                                int in_y = in_y_origin + filter_y;
                                acc += input_data[Offset(input_shape, batch, in_y, in_x, channel)];
                                filter_count++;
                            }
                        }
                        acc = (acc + filter_count / 2) / filter_count;
                        acc = Math.Max(acc, @params.quantized_activation_min);
                        acc = Math.Min(acc, @params.quantized_activation_max);
                        output_data[Offset(output_shape, batch, out_y, out_x, channel)] = (byte)acc;
                    }
                }
            }
        }
    }
}
