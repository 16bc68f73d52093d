namespace MobileNetGen.Tests.Reference.Tflite;

/// <summary>
/// The reference's OWN transcription of TFLite's quantization arithmetic — deliberately not the product's
/// <c>MobileNetGen.Model.QuantizationMath</c>, so that the product is checked, not mirrored:
/// <list type="bullet">
/// <item><c>QuantizeMultiplier</c>: tensorflow/lite/kernels/internal/quantization_util.cc (the non-TFLITE_EMULATE_FLOAT path,
/// <c>std::frexp</c> here from <see cref="Math.ILogB"/> / <see cref="Math.ScaleB"/>, not bit manipulation);</item>
/// <item><c>SaturatingRoundingDoublingHighMul</c>, <c>RoundingDivideByPOT</c>: gemmlowp fixedpoint/fixedpoint.h (scalar int32);</item>
/// <item><c>MultiplyByQuantizedMultiplier</c>: tensorflow/lite/kernels/internal/common.cc, the double-rounding branch that
/// TFLite's build compiles (its tflite_copts() do not define TFLITE_SINGLE_ROUNDING);</item>
/// <item><c>GetQuantizedConvolutionMultipler</c>, <c>CalculateActivationRangeUint8</c>: tensorflow/lite/kernels/kernel_util.cc;</item>
/// <item><c>ComputePadding</c>, <c>ComputeOutSize</c>: tensorflow/lite/kernels/padding.h.</item>
/// </list>
/// </summary>
internal static class TfliteQuantizationUtil
{
    // quantization_util.cc: QuantizeMultiplier(double double_multiplier, int32_t* quantized_multiplier, int* shift)
    public static void QuantizeMultiplier(double double_multiplier, out int quantized_multiplier, out int shift)
    {
        if (double_multiplier == 0.0)
        {
            quantized_multiplier = 0;
            shift = 0;
            return;
        }
        // const double q = std::frexp(double_multiplier, shift);   q in [0.5, 1), double_multiplier = q * 2^shift
        shift = Math.ILogB(double_multiplier) + 1;
        double q = Math.ScaleB(double_multiplier, -shift);
        // auto q_fixed = static_cast<int64_t>(TfLiteRound(q * (1LL << 31)));   TfLiteRound = std::round: halves away from zero
        long q_fixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
        if (q_fixed > (1L << 31)) throw new InvalidOperationException("TFLITE_CHECK(q_fixed <= (1LL << 31)) failed");
        if (q_fixed == (1L << 31))
        {
            q_fixed /= 2;
            ++shift;
        }
        if (q_fixed > int.MaxValue) throw new InvalidOperationException("TFLITE_CHECK_LE(q_fixed, int32 max) failed");
        // A shift amount smaller than -31 would cause all bits to be shifted out and thus all results would be zero.
        if (shift < -31)
        {
            shift = 0;
            q_fixed = 0;
        }
        quantized_multiplier = (int)q_fixed;
    }

    // gemmlowp fixedpoint.h: SaturatingRoundingDoublingHighMul(std::int32_t a, std::int32_t b)
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        bool overflow = a == b && a == int.MinValue;
        long a_64 = a;
        long b_64 = b;
        long ab_64 = a_64 * b_64;
        int nudge = ab_64 >= 0 ? (1 << 30) : (1 - (1 << 30));
        int ab_x2_high32 = (int)((ab_64 + nudge) / (1L << 31));
        return overflow ? int.MaxValue : ab_x2_high32;
    }

    // gemmlowp fixedpoint.h: RoundingDivideByPOT(IntegerType x, int exponent)
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        if (exponent < 0 || exponent > 31) throw new ArgumentOutOfRangeException(nameof(exponent), "assert(exponent >= 0 && exponent <= 31)");
        int mask = (int)((1L << exponent) - 1);
        const int zero = 0;
        const int one = 1;
        int remainder = x & mask;
        int threshold = (mask >> 1) + ((x < zero ? -1 : 0) & one); // Add(ShiftRight(mask, 1), BitAnd(MaskIfLessThan(x, zero), one))
        return (x >> exponent) + ((remainder > threshold ? -1 : 0) & one); // BitAnd(MaskIfGreaterThan(remainder, threshold), one)
    }

    // common.cc (double rounding, #else of TFLITE_SINGLE_ROUNDING):
    // MultiplyByQuantizedMultiplier(int32_t x, int32_t quantized_multiplier, int shift)
    public static int MultiplyByQuantizedMultiplier(int x, int quantized_multiplier, int shift)
    {
        int left_shift = shift > 0 ? shift : 0;
        int right_shift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(unchecked(x * (1 << left_shift)), quantized_multiplier), right_shift);
    }

    // kernel_util.cc: GetQuantizedConvolutionMultipler(context, input, filter, output, &multiplier)
    // input->params.scale * filter->params.scale is a float product in C++ (both operands float).
    public static double GetQuantizedConvolutionMultipler(float input_scale, float filter_scale, float output_scale)
    {
        float product = (float)(input_scale * filter_scale); // the cast pins float precision, as C++ float * float
        double input_product_scale = product;
        if (!(input_product_scale >= 0)) throw new InvalidOperationException("TF_LITE_ENSURE(input_product_scale >= 0) failed");
        return input_product_scale / output_scale;
    }

    // kernel_util.cc: the bias check of GetQuantizedConvolutionMultipler(context, input, filter, bias, output, &multiplier)
    public static bool BiasScaleOk(float input_scale, float filter_scale, float bias_scale)
    {
        float product = (float)(input_scale * filter_scale); // the cast pins float precision, as C++ float * float
        double input_product_scale = product;
        double bias = bias_scale;
        return Math.Abs(input_product_scale - bias) <= 1e-6 * Math.Min(input_product_scale, bias);
    }

    // kernel_util.cc: CalculateActivationRangeUint8 → CalculateActivationRangeQuantizedImpl(activation, 0, 255, output, ...)
    public static void CalculateActivationRangeUint8(string activation, float scale, int zero_point, out int act_min, out int act_max)
    {
        const int qmin = 0;   // std::numeric_limits<uint8_t>::min()
        const int qmax = 255; // std::numeric_limits<uint8_t>::max()
        // auto quantize = [scale, zero_point](float f) { return zero_point + static_cast<int32_t>(TfLiteRound(f / scale)); };
        int quantize(float f)
        {
            float ratio = (float)(f / scale); // a float division, as in C++
            return zero_point + checked((int)MathF.Round(ratio, MidpointRounding.AwayFromZero));
        }
        switch (activation)
        {
            case "relu6": // kTfLiteActRelu6
                act_min = Math.Max(qmin, quantize(0.0f));
                act_max = Math.Min(qmax, quantize(6.0f));
                break;
            case "none": // kTfLiteActNone (the else branch)
                act_min = qmin;
                act_max = qmax;
                break;
            default:
                throw new NotSupportedException($"activation '{activation}' is not one MobileNet v1 uses");
        }
    }

    // padding.h: ComputeOutSize(kTfLitePaddingSame, image_size, filter_size, stride, dilation_rate)
    public static int ComputeOutSizeSame(int image_size, int stride) => (image_size + stride - 1) / stride;

    // padding.h: ComputePadding(stride, dilation_rate, in_size, filter_size, out_size)
    public static int ComputePadding(int stride, int dilation_rate, int in_size, int filter_size, int out_size)
    {
        int effective_filter_size = (filter_size - 1) * dilation_rate + 1;
        int padding = ((out_size - 1) * stride + effective_filter_size - in_size) / 2;
        return padding > 0 ? padding : 0;
    }
}
