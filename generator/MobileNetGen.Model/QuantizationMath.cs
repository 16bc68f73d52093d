using System;

namespace MobileNetGen.Model
{
    /// <summary>
    /// TensorFlow Lite's integer arithmetic for uint8 per-tensor quantized networks, bit for bit: the product's copy. The
    /// generator computes each layer's output multiplier and shift at build time with <see cref="QuantizeMultiplier(double)"/>
    /// and <see cref="GetQuantizedConvolutionMultiplier"/>, the runtime kernels requantize with
    /// <see cref="MultiplyByQuantizedMultiplier"/>. Every function cites the TFLite (or gemmlowp) source it transcribes.
    /// </summary>
    /// <remarks>
    /// <para><b>Which rounding.</b> <c>tensorflow/lite/kernels/internal/common.cc</c> has two <c>MultiplyByQuantizedMultiplier</c>s,
    /// selected by the preprocessor symbol <c>TFLITE_SINGLE_ROUNDING</c>: a single-rounding one (<c>(x·m + 2^(30−shift)) >> (31−shift)</c>)
    /// and the double-rounding gemmlowp one (<c>RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x·2^left, m), right)</c>).
    /// TFLite's own build does not define the symbol: <c>tflite_copts()</c> in <c>tensorflow/lite/build_def.bzl</c> passes no
    /// <c>-DTFLITE_SINGLE_ROUNDING</c>, so <c>#if TFLITE_SINGLE_ROUNDING</c> is 0 and the double-rounding branch is compiled
    /// (looked up; only TFLite Micro ports and some vendor builds set it to 1). This file implements the double-rounding
    /// variant, and <see cref="QuantizeMultiplier(double)"/> accordingly has no single-rounding "shift > 30 saturates" case.
    /// The uint8 reference DepthwiseConv (<c>reference/depthwiseconv_uint8.h</c>, <c>DepthwiseConvOutputRounding::kUpward</c>)
    /// calls the same <c>MultiplyByQuantizedMultiplier</c>, so conv, depthwise and the logits all requantize alike.</para>
    /// <para><b>Shift convention.</b> As TFLite's: <c>shift</c> &gt; 0 is a left shift (multiplier ≥ 1), &lt; 0 a right shift.
    /// <c>QuantizeMultiplier</c> returns the exponent of <c>frexp</c>, i.e. real = multiplier · 2^(shift − 31).
    /// (<c>PopulateConvolutionQuantizationParams</c> in <c>kernel_util.cc</c> stores <c>-exponent</c> and <c>conv.cc</c> negates it
    /// again into <c>op_params.output_shift</c>, so the kernels see this same exponent.)</para>
    /// </remarks>
    public static class QuantizationMath
    {
        /// <summary>
        /// <c>QuantizeMultiplier</c> (<c>tensorflow/lite/kernels/internal/quantization_util.cc</c>): the double multiplier as a
        /// Q0.31 fixed-point significand and a power-of-two exponent, real ≈ multiplier · 2^(shift − 31):
        /// <c>q = frexp(m, &amp;shift)</c>, <c>q_fixed = round(q · 2^31)</c> (half away from zero, <c>TfLiteRound</c>); when the rounding
        /// reaches 2^31 it is halved and the shift incremented; a shift below −31 flushes to (0, 0); zero gives (0, 0).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">NaN or infinity (undefined in TFLite: <c>frexp</c> does not give a finite significand).</exception>
        public static (int Multiplier, int Shift) QuantizeMultiplier(double doubleMultiplier)
        {
            if (double.IsNaN(doubleMultiplier) || double.IsInfinity(doubleMultiplier))
                throw new ArgumentOutOfRangeException(nameof(doubleMultiplier), doubleMultiplier, "the multiplier must be finite");
            if (doubleMultiplier == 0.0) return (0, 0);
            double q = Frexp(doubleMultiplier, out int shift);
            long qFixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
            // TFLITE_CHECK(q_fixed <= (1LL << 31)): |q| < 1, so |q · 2^31| ≤ 2^31 always.
            if (qFixed == 1L << 31)
            {
                qFixed /= 2;
                ++shift;
            }
            // A shift below −31 would shift every bit out: TFLite flushes such tiny multipliers to zero.
            if (shift < -31)
            {
                shift = 0;
                qFixed = 0;
            }
            return ((int)qFixed, shift);
        }

        /// <summary><see cref="QuantizeMultiplier(double)"/> with out parameters, as TFLite's signature.</summary>
        public static void QuantizeMultiplier(double doubleMultiplier, out int quantizedMultiplier, out int shift)
        {
            var (m, s) = QuantizeMultiplier(doubleMultiplier);
            quantizedMultiplier = m;
            shift = s;
        }

        /// <summary>
        /// <c>std::frexp</c>: <paramref name="x"/> = significand · 2^exponent with |significand| in [0.5, 1); 0 for 0.
        /// Exact (only the exponent bits change), subnormals included.
        /// </summary>
        internal static double Frexp(double x, out int exponent)
        {
            exponent = 0;
            if (x == 0 || double.IsNaN(x) || double.IsInfinity(x)) return x;
            long bits = BitConverter.DoubleToInt64Bits(x);
            int biased = (int)((bits >> 52) & 0x7FF);
            int extra = 0;
            if (biased == 0)
            {
                // Subnormal: scale by 2^64 (exact) so that the value is normal, and take the 64 back from the exponent.
                bits = BitConverter.DoubleToInt64Bits(x * 18446744073709551616.0);
                biased = (int)((bits >> 52) & 0x7FF);
                extra = -64;
            }
            exponent = biased - 1022 + extra;
            bits = (bits & ~(0x7FFL << 52)) | (1022L << 52); // biased exponent 1022: magnitude in [0.5, 1)
            return BitConverter.Int64BitsToDouble(bits);
        }

        /// <summary>
        /// <c>GetQuantizedConvolutionMultipler</c> (<c>tensorflow/lite/kernels/kernel_util.cc</c>): the real output multiplier of a
        /// uint8 convolution, <c>input_scale · filter_scale / output_scale</c>. As in TFLite the scales are the tensors' float
        /// <c>params.scale</c>: the product <c>input->params.scale * filter->params.scale</c> is a float product (then widened to
        /// double), the division is in double. (Bit-exactness needs that float product: the multiplier's rounding in
        /// <see cref="QuantizeMultiplier(double)"/> can depend on the last bits.)
        /// </summary>
        /// <exception cref="ArgumentException">A negative scale product (TFLite: <c>TF_LITE_ENSURE(input_product_scale >= 0)</c>).</exception>
        public static double GetQuantizedConvolutionMultiplier(float inputScale, float filterScale, float outputScale)
        {
            double inputProductScale = (float)(inputScale * filterScale); // float * float in C++: rounded to float
            if (!(inputProductScale >= 0)) throw new ArgumentException($"input scale × filter scale = {inputProductScale} is negative (or NaN)");
            return inputProductScale / outputScale;
        }

        /// <summary>
        /// TFLite's bias check (<c>GetQuantizedConvolutionMultipler</c> with a bias, <c>kernel_util.cc</c>):
        /// <c>|input_scale·filter_scale − bias_scale| ≤ 1e-6 · min(input_scale·filter_scale, bias_scale)</c>, the product a float
        /// product as above. TFLite refuses the model (Prepare fails) when this is false.
        /// </summary>
        public static bool BiasScaleMatches(float inputScale, float filterScale, float biasScale)
        {
            double inputProductScale = (float)(inputScale * filterScale);
            double b = biasScale;
            return Math.Abs(inputProductScale - b) <= 1e-6 * Math.Min(inputProductScale, b);
        }

        /// <summary>
        /// <c>CalculateActivationRangeUint8</c> → <c>CalculateActivationRangeQuantizedImpl</c> (<c>tensorflow/lite/kernels/kernel_util.cc</c>),
        /// for the two fused activations MobileNet v1 uses: the clamp range of a uint8 output. <c>quantize(f) = zero_point +
        /// (int)TfLiteRound(f / scale)</c> with <c>f</c> and <c>scale</c> float (a float division, rounded half away from zero);
        /// ReLU6: [max(0, quantize(0)), min(255, quantize(6))]; none: [0, 255].
        /// </summary>
        /// <remarks>Where <c>f / scale</c> does not fit an int (only for absurd scales) TFLite's cast is undefined; here it saturates.</remarks>
        public static (int Min, int Max) CalculateActivationRangeUint8(QuantizedActivation activation, float outputScale, int outputZeroPoint)
        {
            const int qmin = 0, qmax = 255;
            long Quantize(float f)
            {
                float q = (float)(f / outputScale); // a float division, as in C++
                float rounded = (float)Math.Round((double)q, MidpointRounding.AwayFromZero); // roundf: exact through double
                long r = rounded >= 2147483648f ? int.MaxValue : rounded <= -2147483648f ? int.MinValue : (long)rounded;
                return outputZeroPoint + r;
            }
            switch (activation)
            {
                case QuantizedActivation.Relu6:
                    return ((int)Math.Max(qmin, Quantize(0f)), (int)Math.Min(qmax, Quantize(6f)));
                case QuantizedActivation.None:
                    return (qmin, qmax);
                default:
                    throw new ArgumentOutOfRangeException(nameof(activation), activation, "only ReLU6 and none are supported");
            }
        }

        /// <summary>
        /// gemmlowp's <c>SaturatingRoundingDoublingHighMul</c> (<c>fixedpoint/fixedpoint.h</c>, the int32 specialization; ARM
        /// VQRDMULH): <c>(a·b + nudge) / 2^31</c> with nudge = 2^30 for a non-negative product and 1 − 2^30 otherwise, division
        /// truncating toward zero; int.MinValue · int.MinValue saturates to int.MaxValue.
        /// </summary>
        public static int SaturatingRoundingDoublingHighMul(int a, int b)
        {
            bool overflow = a == b && a == int.MinValue;
            long ab = (long)a * b;
            int nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
            int abX2High32 = (int)((ab + nudge) / (1L << 31)); // C++ and C# integer division both truncate toward zero
            return overflow ? int.MaxValue : abX2High32;
        }

        /// <summary>
        /// gemmlowp's <c>RoundingDivideByPOT</c> (<c>fixedpoint/fixedpoint.h</c>): x / 2^exponent rounded to nearest, halves away
        /// from zero (a rounding arithmetic right shift). <paramref name="exponent"/> in 0..31, as gemmlowp asserts.
        /// </summary>
        public static int RoundingDivideByPOT(int x, int exponent)
        {
            if (exponent < 0 || exponent > 31) throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "the exponent must be in 0..31");
            int mask = (int)((1L << exponent) - 1);
            int remainder = x & mask;
            int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
            return (x >> exponent) + (remainder > threshold ? 1 : 0);
        }

        /// <summary>
        /// <c>MultiplyByQuantizedMultiplier(int32 x, int32 quantized_multiplier, int shift)</c>, the double-rounding variant
        /// (<c>tensorflow/lite/kernels/internal/common.cc</c>, <c>#else</c> of <c>TFLITE_SINGLE_ROUNDING</c>; see the class remarks):
        /// <c>RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^max(shift,0), m), max(−shift,0))</c>. The left shift
        /// wraps on overflow (undefined in C++; TFLite's multipliers never get there).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="shift"/> outside −31..30 (C++ would shift by 32 or more: undefined).</exception>
        public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
        {
            if (shift < -31 || shift > 30) throw new ArgumentOutOfRangeException(nameof(shift), shift, "the shift must be in -31..30");
            int leftShift = shift > 0 ? shift : 0;
            int rightShift = shift > 0 ? 0 : -shift;
            return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(unchecked(x * (1 << leftShift)), quantizedMultiplier), rightShift);
        }

        /// <summary>
        /// <c>AffineQuantize</c> (<c>tensorflow/lite/kernels/internal/reference/quantize.h</c>) to uint8, TFLite's QUANTIZE op:
        /// <c>clamp(TfLiteRound(value / (float)scale) + zero_point, 0, 255)</c>, the division in float, rounding half away from zero.
        /// </summary>
        public static byte AffineQuantizeUint8(float value, float scale, int zeroPoint)
        {
            float q = (float)(value / scale); // val / static_cast<float>(scale): a float division
            double unclamped = Math.Round((double)q, MidpointRounding.AwayFromZero) + zeroPoint;
            if (double.IsNaN(unclamped)) unclamped = 0; // std::min/max keep NaN's first argument; TFLite leaves it undefined
            double clamped = Math.Min(Math.Max(unclamped, 0.0), 255.0);
            return (byte)clamped;
        }
    }
}
