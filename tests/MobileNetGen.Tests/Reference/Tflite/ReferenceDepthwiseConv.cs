using static MobileNetGen.Tests.Reference.Tflite.TfliteTypes;

namespace MobileNetGen.Tests.Reference.Tflite;

/// <summary>
/// tensorflow/lite/kernels/internal/reference/depthwiseconv_uint8.h, <c>reference_ops::DepthwiseConv</c> (uint8) =
/// <c>depthwise_conv::DepthwiseConvBasicKernel&lt;DepthwiseConvOutputRounding::kUpward&gt;::Run</c>, line for line. Its
/// <c>DepthwiseConvRound&lt;kUpward&gt;</c> is <c>MultiplyByQuantizedMultiplier</c> (the double-rounding one in TFLite's build).
/// Filter layout 1HWC ([1, H, W, C·depth_multiplier]).
/// </summary>
internal static class ReferenceDepthwiseConv
{
    public static void DepthwiseConv(DepthwiseParams @params, in RuntimeShape input_shape, ReadOnlySpan<byte> input_data,
        in RuntimeShape filter_shape, ReadOnlySpan<byte> filter_data, in RuntimeShape bias_shape, ReadOnlySpan<int> bias_data,
        in RuntimeShape output_shape, Span<byte> output_data)
    {
        int stride_width = @params.stride_width;
        int stride_height = @params.stride_height;
        int dilation_width_factor = @params.dilation_width_factor;
        int dilation_height_factor = @params.dilation_height_factor;
        int pad_width = @params.padding_values.Width;
        int pad_height = @params.padding_values.Height;
        int depth_multiplier = @params.depth_multiplier;
        int output_activation_min = @params.quantized_activation_min;
        int output_activation_max = @params.quantized_activation_max;
        int input_offset = @params.input_offset;
        int filter_offset = @params.weights_offset;
        int output_offset = @params.output_offset;
        int output_multiplier = @params.output_multiplier;
        int output_shift = @params.output_shift;
        if (output_activation_min > output_activation_max) throw new ArgumentException("TFLITE_DCHECK_LE(output_activation_min, output_activation_max)");

        int batches = MatchingDim(input_shape, 0, output_shape, 0);
        int output_depth = MatchingDim(filter_shape, 3, output_shape, 3);
        int input_height = input_shape.Dims(1);
        int input_width = input_shape.Dims(2);
        int input_depth = input_shape.Dims(3);
        int filter_height = filter_shape.Dims(1);
        int filter_width = filter_shape.Dims(2);
        int output_height = output_shape.Dims(1);
        int output_width = output_shape.Dims(2);
        if (output_depth != input_depth * depth_multiplier) throw new ArgumentException("TFLITE_DCHECK_EQ(output_depth, input_depth * depth_multiplier)");
        if (bias_shape.FlatSize != output_depth) throw new ArgumentException("TFLITE_DCHECK_EQ(bias_shape.FlatSize(), output_depth)");

        for (int b = 0; b < batches; ++b)
        {
            for (int out_y = 0; out_y < output_height; ++out_y)
            {
                for (int out_x = 0; out_x < output_width; ++out_x)
                {
                    for (int ic = 0; ic < input_depth; ++ic)
                    {
                        for (int m = 0; m < depth_multiplier; m++)
                        {
                            int oc = m + ic * depth_multiplier;
                            int in_x_origin = (out_x * stride_width) - pad_width;
                            int in_y_origin = (out_y * stride_height) - pad_height;
                            int acc = 0;
                            for (int filter_y = 0; filter_y < filter_height; ++filter_y)
                            {
                                for (int filter_x = 0; filter_x < filter_width; ++filter_x)
                                {
                                    int in_x = in_x_origin + dilation_width_factor * filter_x;
                                    int in_y = in_y_origin + dilation_height_factor * filter_y;
                                    // If the location is outside the bounds of the input image, use zero as a default value.
                                    if ((in_x >= 0) && (in_x < input_width) && (in_y >= 0) && (in_y < input_height))
                                    {
                                        int input_val = input_data[Offset(input_shape, b, in_y, in_x, ic)];
                                        int filter_val = filter_data[Offset(filter_shape, 0, filter_y, filter_x, oc)];
                                        acc += (filter_val + filter_offset) * (input_val + input_offset);
                                    }
                                }
                            }
                            if (bias_data.Length > 0) acc += bias_data[oc];
                            acc = TfliteQuantizationUtil.MultiplyByQuantizedMultiplier(acc, output_multiplier, output_shift); // DepthwiseConvRound<kUpward>
                            acc += output_offset;
                            acc = Math.Max(acc, output_activation_min);
                            acc = Math.Min(acc, output_activation_max);
                            output_data[Offset(output_shape, b, out_y, out_x, oc)] = (byte)acc;
                        }
                    }
                }
            }
        }
    }
}
