using static MobileNetGen.Tests.Reference.Tflite.TfliteTypes;

namespace MobileNetGen.Tests.Reference.Tflite;

/// <summary>
/// tensorflow/lite/kernels/internal/reference/conv.h, <c>reference_ops::Conv</c>, the uint8 overload, line for line
/// (TfLite Micro style: named locals, <see cref="TfliteTypes.Offset"/>, the out_y/out_x/out_channel/filter_y/filter_x/in_channel
/// loops, padding as a bounds check). Filter layout OHWI. Groups are kept (MobileNet's convolutions have one).
/// </summary>
internal static class ReferenceConv
{
    public static void Conv(ConvParams @params, in RuntimeShape input_shape, ReadOnlySpan<byte> input_data,
        in RuntimeShape filter_shape, ReadOnlySpan<byte> filter_data, in RuntimeShape bias_shape, ReadOnlySpan<int> bias_data,
        in RuntimeShape output_shape, Span<byte> output_data)
    {
        int stride_width = @params.stride_width;
        int stride_height = @params.stride_height;
        int dilation_width_factor = @params.dilation_width_factor;
        int dilation_height_factor = @params.dilation_height_factor;
        int pad_width = @params.padding_values.Width;
        int pad_height = @params.padding_values.Height;
        int input_offset = @params.input_offset;
        int filter_offset = @params.weights_offset;
        int output_offset = @params.output_offset;
        int output_multiplier = @params.output_multiplier;
        int output_shift = @params.output_shift;
        int output_activation_min = @params.quantized_activation_min;
        int output_activation_max = @params.quantized_activation_max;
        if (output_activation_min > output_activation_max) throw new ArgumentException("TFLITE_DCHECK_LE(output_activation_min, output_activation_max)");

        int batches = MatchingDim(input_shape, 0, output_shape, 0);
        int input_depth = input_shape.Dims(3);
        int output_depth = MatchingDim(filter_shape, 0, output_shape, 3);
        if (bias_data.Length > 0 && bias_shape.FlatSize != output_depth) throw new ArgumentException("TFLITE_DCHECK_EQ(bias_shape.FlatSize(), output_depth)");
        int input_height = input_shape.Dims(1);
        int input_width = input_shape.Dims(2);
        int filter_height = filter_shape.Dims(1);
        int filter_width = filter_shape.Dims(2);
        int filter_input_depth = filter_shape.Dims(3);
        int groups = input_depth / filter_input_depth;
        if (input_depth % filter_input_depth != 0) throw new ArgumentException("TFLITE_DCHECK_EQ(input_depth % filter_input_depth, 0)");
        int filters_per_group = output_depth / groups;
        int output_height = output_shape.Dims(1);
        int output_width = output_shape.Dims(2);
        for (int batch = 0; batch < batches; ++batch)
        {
            for (int out_y = 0; out_y < output_height; ++out_y)
            {
                int in_y_origin = (out_y * stride_height) - pad_height;
                for (int out_x = 0; out_x < output_width; ++out_x)
                {
                    int in_x_origin = (out_x * stride_width) - pad_width;
                    for (int out_channel = 0; out_channel < output_depth; ++out_channel)
                    {
                        int group = out_channel / filters_per_group;
                        int acc = 0;
                        for (int filter_y = 0; filter_y < filter_height; ++filter_y)
                        {
                            int in_y = in_y_origin + dilation_height_factor * filter_y;
                            for (int filter_x = 0; filter_x < filter_width; ++filter_x)
                            {
                                int in_x = in_x_origin + dilation_width_factor * filter_x;

                                // Zero padding by omitting the areas outside the image.
                                bool is_point_inside_image = (in_x >= 0) && (in_x < input_width) && (in_y >= 0) && (in_y < input_height);
                                if (!is_point_inside_image) continue;

                                for (int in_channel = 0; in_channel < filter_input_depth; ++in_channel)
                                {
                                    int input_val = input_data[Offset(input_shape, batch, in_y, in_x, in_channel + group * filter_input_depth)];
                                    int filter_val = filter_data[Offset(filter_shape, out_channel, filter_y, filter_x, in_channel)];
                                    acc += (filter_val + filter_offset) * (input_val + input_offset);
                                }
                            }
                        }
                        if (bias_data.Length > 0) acc += bias_data[out_channel];
                        acc = TfliteQuantizationUtil.MultiplyByQuantizedMultiplier(acc, output_multiplier, output_shift);
                        acc += output_offset;
                        acc = Math.Max(acc, output_activation_min);
                        acc = Math.Min(acc, output_activation_max);
                        output_data[Offset(output_shape, batch, out_y, out_x, out_channel)] = (byte)acc;
                    }
                }
            }
        }
    }
}
