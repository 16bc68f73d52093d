using MobileNetGen.Model;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// The product's <see cref="QuantizationMath"/> against hand-checkable values — most of them TFLite's own expectations in
/// tensorflow/lite/kernels/internal/quantization_util_test.cc — and against the reference's independent transcription
/// (<see cref="TfliteQuantizationUtil"/>) on random inputs and on every layer of the five real networks.
/// </summary>
public class QuantizationMathTests
{
    public static TheoryData<double, int, int> MultiplierCases() => new()
    {
        // quantization_util_test.cc, QuantizeMultiplierSmallerThanOneExp
        { 0.25, 1073741824, -1 },
        { 0.50 - 5e-9, 2147483627, -1 },
        { 0.50 - 1e-10, 1073741824, 0 },   // round(q·2^31) reaches 2^31: halved, shift + 1
        { 0.50, 1073741824, 0 },
        { 0.75, 1610612736, 0 },
        { 1 - 1e-9, 2147483646, 0 },
        // QuantizeMultiplierGreaterThanOne
        { 1 + 1e-11, 1073741824, 1 },
        { 1.25, 1342177280, 1 },
        { 1.50, 1610612736, 1 },
        { 1.75, 1879048192, 1 },
        { 2 - 1e-9, 2147483647, 1 },
        { 2 - 1e-11, 1073741824, 2 },
        { 2, 1073741824, 2 },
        // QuantizeMultiplierUnderflow: std::ldexp(1.0f, -31) etc.; shift < −31 flushes to (0, 0)
        { Math.ScaleB(1.0, -31), 1073741824, -30 },
        { Math.ScaleB(1.0, -32), 1073741824, -31 },
        { Math.ScaleB((double)0.99f, -32), 0, 0 },
        { Math.ScaleB(1.0, -33), 0, 0 },
        // QuantizeMultiplierArray
        { -4, -1073741824, 3 }, { -0.5, -1073741824, 0 }, { -0.125, -1073741824, -2 }, { 0, 0, 0 },
        { 0.125, 1073741824, -2 }, { 1, 1073741824, 1 }, { 4, 1073741824, 3 },
        // By hand: 0.1 = 0.8 · 2^−3, round(0.8 · 2^31) = 1717986918 (1717986918.4)
        { 0.1, 1717986918, -3 },
    };

    [Theory]
    [MemberData(nameof(MultiplierCases))]
    public void QuantizeMultiplier_matches_TFLite_and_the_reference(double real, int multiplier, int shift)
    {
        Assert.Equal((multiplier, shift), QuantizationMath.QuantizeMultiplier(real));
        TfliteQuantizationUtil.QuantizeMultiplier(real, out int m, out int s);
        Assert.Equal((multiplier, shift), (m, s));
        QuantizationMath.QuantizeMultiplier(real, out int m2, out int s2);
        Assert.Equal((multiplier, shift), (m2, s2));
    }

    public static TheoryData<int, double, int> MultiplyCases() => new()
    {
        // quantization_util_test.cc, MultiplyByQuantizedMultiplierInt32 (the double-rounding cases included)
        { 0, 0.1, 0 },
        { 1, 0, 0 },
        { 10000, 0.00097656, 10 },
        { -10000, 0.00097656, -10 },
        { int.MinValue, 0.00001, -21475 },
        { int.MaxValue, 0.00001, 21475 },
        { 10000, -0.00097656, -10 },
        { -10000, -0.00097656, 10 },
        { int.MinValue, -0.00001, 21475 },
        { int.MaxValue, -0.00001, -21475 },
        // By hand. 0.5 → (2^30, 0): 3 · 0.5 = 1.5 → 2 and −3 · 0.5 = −1.5 → −1 (SaturatingRoundingDoublingHighMul rounds
        // halves up: (ab + 2^30) / 2^31, resp. (ab + 1 − 2^30) / 2^31 truncated toward zero).
        { 3, 0.5, 2 },
        { -3, 0.5, -1 },
        // 0.25 → (2^30, −1): 5 · 0.25 = 1.25 → 2, the double rounding: the high mul gives 2.5 → 3, then 3 / 2 = 1.5 → 2
        // (a single-rounding build would give 1). 7 · 0.25 = 1.75 → 4 → 2.
        { 5, 0.25, 2 },
        { 7, 0.25, 2 },
        // multiplier ≥ 1 (left shift): 3 · 1.5 = 4.5 → 5
        { 3, 1.5, 5 },
    };

    [Theory]
    [MemberData(nameof(MultiplyCases))]
    public void MultiplyByQuantizedMultiplier_matches_TFLite_and_the_reference(int x, double real, int expected)
    {
        var (m, s) = QuantizationMath.QuantizeMultiplier(real);
        Assert.Equal(expected, QuantizationMath.MultiplyByQuantizedMultiplier(x, m, s));
        TfliteQuantizationUtil.QuantizeMultiplier(real, out int rm, out int rs);
        Assert.Equal(expected, TfliteQuantizationUtil.MultiplyByQuantizedMultiplier(x, rm, rs));
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_largest_operands()
    {
        // quantization_util_test.cc: x = quantized_multiplier = INT32_MAX, shift −3, expected round(x · m / 2^34).
        const int x = int.MaxValue, m = int.MaxValue, shift = -3;
        int expected = (int)Math.Round((long)x * m / (double)(1L << (31 - shift)), MidpointRounding.AwayFromZero);
        Assert.Equal(expected, QuantizationMath.MultiplyByQuantizedMultiplier(x, m, shift));
        Assert.Equal(-expected, QuantizationMath.MultiplyByQuantizedMultiplier(-x, m, shift));
        Assert.Equal(expected, TfliteQuantizationUtil.MultiplyByQuantizedMultiplier(x, m, shift));
    }

    [Theory]
    [InlineData(5, 1, 3)]    // 2.5 → 3 (halves away from zero)
    [InlineData(-5, 1, -3)]  // −2.5 → −3
    [InlineData(4, 1, 2)]
    [InlineData(7, 2, 2)]    // 1.75 → 2
    [InlineData(6, 2, 2)]    // 1.5 → 2
    [InlineData(-6, 2, -2)]  // −1.5 → −2
    [InlineData(-7, 2, -2)]  // −1.75 → −2
    [InlineData(-5, 2, -1)]  // −1.25 → −1
    [InlineData(123, 0, 123)]
    [InlineData(int.MinValue, 31, -1)]
    [InlineData(int.MaxValue, 31, 1)]
    public void RoundingDivideByPOT_by_hand(int x, int exponent, int expected)
    {
        Assert.Equal(expected, QuantizationMath.RoundingDivideByPOT(x, exponent));
        Assert.Equal(expected, TfliteQuantizationUtil.RoundingDivideByPOT(x, exponent));
    }

    [Theory]
    [InlineData(int.MinValue, int.MinValue, int.MaxValue)]   // the one saturating case (−1 · −1)
    [InlineData(1 << 30, 1 << 30, 1 << 29)]                  // 0.5 · 0.5 = 0.25
    [InlineData(-(1 << 30), 1 << 30, -(1 << 29))]
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue - 1)] // (2^31−1)²/2^31 = 2^31 − 2 + 2^−31 → 2^31 − 2
    [InlineData(3, 1 << 30, 2)]                              // 1.5 → 2 (nudge 2^30)
    [InlineData(-3, 1 << 30, -1)]                            // −1.5 → −1 (nudge 1 − 2^30, division truncating toward zero: halves go up)
    [InlineData(1, 1 << 30, 1)]                              // 0.5 → 1
    [InlineData(-1, 1 << 30, 0)]                             // −0.5 → 0
    [InlineData(-5, 1 << 30, -2)]                            // −2.5 → −2
    public void SaturatingRoundingDoublingHighMul_by_hand(int a, int b, int expected)
    {
        Assert.Equal(expected, QuantizationMath.SaturatingRoundingDoublingHighMul(a, b));
        Assert.Equal(expected, TfliteQuantizationUtil.SaturatingRoundingDoublingHighMul(a, b));
    }

    [Theory]
    [InlineData(6f / 255f, 0, 0, 255)]       // Google's ReLU6 outputs: [0, 6] over the whole uint8 range
    [InlineData(0.05f, 100, 100, 220)]       // quantize(6) = 100 + 6/0.05 = 220
    [InlineData(0.1f, 10, 10, 70)]           // 6/0.1 = 60.000002 in float → 60
    [InlineData(0.01f, 0, 0, 255)]           // quantize(6) = 600, clamped
    [InlineData(0.02f, 200, 200, 255)]
    public void CalculateActivationRangeUint8_relu6_by_hand(float scale, int zeroPoint, int min, int max)
    {
        Assert.Equal((min, max), QuantizationMath.CalculateActivationRangeUint8(QuantizedActivation.Relu6, scale, zeroPoint));
        TfliteQuantizationUtil.CalculateActivationRangeUint8("relu6", scale, zeroPoint, out int rmin, out int rmax);
        Assert.Equal((min, max), (rmin, rmax));
        Assert.Equal((0, 255), QuantizationMath.CalculateActivationRangeUint8(QuantizedActivation.None, scale, zeroPoint));
    }

    [Theory]
    [InlineData(1.0f, 255)]            // 128 + 128 = 256 → clamped
    [InlineData(-1.0f, 0)]             // 128 − 128
    [InlineData(0.5f, 192)]
    [InlineData(0.00390625f, 129)]     // x / scale = 0.5 → 1 (half away from zero)
    [InlineData(-0.00390625f, 127)]    // −0.5 → −1
    [InlineData(0f, 128)]
    [InlineData(-2f, 0)]
    public void AffineQuantize_by_hand(float value, byte expected)
    {
        Assert.Equal(expected, QuantizationMath.AffineQuantizeUint8(value, 1f / 128, 128));
        var q = new byte[1];
        ReferenceQuantize.AffineQuantize(1f / 128, 128, new[] { value }, q);
        Assert.Equal(expected, q[0]);
    }

    [Fact]
    public void GetQuantizedConvolutionMultiplier_uses_a_float_scale_product()
    {
        // kernel_util.cc: input->params.scale * filter->params.scale is float * float. With these scales the float product
        // differs from the double product, and the multiplier must follow the float one.
        float a = 0.023528477f, b = 0.046544373f, o = 0.023528477f;
        double viaFloat = (double)(float)(a * b) / o;
        Assert.NotEqual((double)a * b / o, viaFloat);
        Assert.Equal(viaFloat, QuantizationMath.GetQuantizedConvolutionMultiplier(a, b, o));
        Assert.Equal(viaFloat, TfliteQuantizationUtil.GetQuantizedConvolutionMultipler(a, b, o));
        Assert.True(QuantizationMath.BiasScaleMatches(a, b, a * b));
        Assert.False(QuantizationMath.BiasScaleMatches(a, b, a * b * 1.00001f));
    }

    [Fact]
    public void Product_and_reference_agree_on_random_inputs()
    {
        var rng = new Random(20180802);
        for (int i = 0; i < 200_000; i++)
        {
            // Multipliers over many binades (MobileNet's are ~1e-4 .. 1), positive and negative.
            double real = Math.ScaleB(rng.NextDouble() + 0.5, rng.Next(-40, 8)) * (rng.Next(8) == 0 ? -1 : 1);
            var (m, s) = QuantizationMath.QuantizeMultiplier(real);
            TfliteQuantizationUtil.QuantizeMultiplier(real, out int rm, out int rs);
            Assert.Equal((rm, rs), (m, s));
            if (s > 30) continue;
            int x = rng.Next(4) switch { 0 => rng.Next(-300, 300), 1 => rng.Next(-100_000, 100_000), _ => rng.Next(int.MinValue, int.MaxValue) };
            if (s > 0) x >>= s; // keep x · 2^shift inside int32, as TFLite's accumulators are
            Assert.Equal(TfliteQuantizationUtil.MultiplyByQuantizedMultiplier(x, rm, rs), QuantizationMath.MultiplyByQuantizedMultiplier(x, m, s));
        }
    }

    [Fact]
    public void Product_and_reference_agree_on_every_layer_of_the_five_networks()
    {
        foreach (var e in QuantizedEntries.All)
        {
            var file = QuantizedEntries.Weights(e.Name);
            var net = CanonicalWeights.QuantizationOf(file);
            var reference = new ReferenceQuantizedMobileNet(file);
            foreach (var step in reference.Steps)
            {
                if (step.Kind == "pool")
                {
                    Assert.Equal((step.ActivationMin, step.ActivationMax),
                        QuantizationMath.CalculateActivationRangeUint8(net.Pool.Activation, net.Pool.Output.Scale, net.Pool.Output.ZeroPoint));
                    continue;
                }
                var l = net.Layer(step.Name);
                double real = QuantizationMath.GetQuantizedConvolutionMultiplier(l.Input.Scale, l.Weight.Scale, l.Output.Scale);
                Assert.Equal(step.RealMultiplier, real);
                Assert.Equal((step.OutputMultiplier, step.OutputShift), QuantizationMath.QuantizeMultiplier(real));
                Assert.Equal((step.ActivationMin, step.ActivationMax), QuantizationMath.CalculateActivationRangeUint8(l.Activation, l.Output.Scale, l.Output.ZeroPoint));
                Assert.InRange(step.OutputShift, -31, 0); // every MobileNet multiplier is below 1
            }
        }
    }

    [Fact]
    public void Out_of_range_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationMath.QuantizeMultiplier(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationMath.QuantizeMultiplier(double.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationMath.RoundingDivideByPOT(1, 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationMath.RoundingDivideByPOT(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationMath.MultiplyByQuantizedMultiplier(1, 1 << 30, 31));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationMath.MultiplyByQuantizedMultiplier(1, 1 << 30, -32));
        Assert.Throws<ArgumentException>(() => QuantizationMath.GetQuantizedConvolutionMultiplier(-1f, 1f, 1f));
    }
}
