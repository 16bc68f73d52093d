using MobileNetGen.Runtime.Detection;

namespace MobileNetGen.Tests.ObjectDetection.Reference;

/// <summary>
/// TFLite's other uint8 LOGISTIC: the gemmlowp fixed-point kernel, <c>reference_ops::Logistic(const LogisticParams&amp;, …,
/// const uint8*, …)</c> (the uint8 sigmoid before TFLite switched its default to the lookup table; its Prepare computed
/// <c>input_multiplier</c>, <c>input_left_shift</c> and <c>input_range_radius</c> with 4 integer bits). Transcribed to compare
/// its bytes with the table that runs by default (<see cref="QuantizedLogistic"/>).
/// </summary>
/// <remarks>
/// Sources: <c>tensorflow/lite/kernels/internal/reference/reference_ops.h</c> (<c>Logistic</c>, uint8),
/// <c>tensorflow/lite/kernels/activations.cc</c> of that era (<c>SigmoidPrepare</c>: <c>input_real_multiplier = scale ·
/// 2^(31−4)</c>, <c>QuantizeMultiplierGreaterThanOne</c>, <c>CalculateInputRadius(4, left_shift)</c>),
/// <c>tensorflow/lite/kernels/internal/quantization_util.cc</c> (<c>QuantizeMultiplier</c>, <c>CalculateInputRadius</c>),
/// <c>tensorflow/lite/kernels/internal/common.h</c> (<c>MultiplyByQuantizedMultiplierGreaterThanOne</c>) and google/gemmlowp
/// <c>fixedpoint/fixedpoint.h</c> (<c>logistic</c>, <c>exp_on_negative_values</c>,
/// <c>exp_on_interval_between_negative_one_quarter_and_0_excl</c>, <c>one_over_one_plus_x_for_x_in_0_1</c> and the int32
/// primitives). Raw int32 values are used throughout; the comments give each value's gemmlowp format (Qm = m integer bits).
/// The int16 variant used by <c>Register_LOGISTIC_FIXED_POINT_OPT</c> (<c>optimized_ops::Logistic16bitPrecision</c>) is not
/// transcribed: its source is not in the stored copies consulted.
/// </remarks>
internal static class GemmlowpLogisticReference
{
    public static byte Logistic(byte inputValue, Quantization input)
    {
        // SigmoidPrepare (uint8): kInputIntegerBits = 4.
        const int inputIntegerBits = 4;
        double inputRealMultiplier = input.Scale * (double)(1 << (31 - inputIntegerBits));
        QuantizeMultiplierGreaterThanOne(inputRealMultiplier, out int inputMultiplier, out int inputLeftShift);
        int inputRangeRadius = CalculateInputRadius(inputIntegerBits, inputLeftShift);

        int inputValCentered = inputValue - input.ZeroPoint;
        if (inputValCentered <= -inputRangeRadius) return 0;
        if (inputValCentered >= inputRangeRadius) return 255;
        int inputValRescaled = SaturatingRoundingDoublingHighMul(inputValCentered * (1 << inputLeftShift), inputMultiplier); // Q4
        int outputValF0 = LogisticQ4(inputValRescaled);                                                                        // Q0
        int outputValS32 = RoundingDivideByPot(outputValF0, 23); // Q0.31 → Q23.8
        if (outputValS32 == 256) outputValS32 = 255;
        return (byte)outputValS32;
    }

    // quantization_util.cc QuantizeMultiplier + the > 1 check of QuantizeMultiplierGreaterThanOne.
    private static void QuantizeMultiplierGreaterThanOne(double doubleMultiplier, out int quantizedMultiplier, out int leftShift)
    {
        if (!(doubleMultiplier > 1.0)) throw new ArgumentOutOfRangeException(nameof(doubleMultiplier), doubleMultiplier, "TFLITE_CHECK_GT(double_multiplier, 1.)");
        // std::frexp: q in [0.5, 1), doubleMultiplier = q · 2^shift.
        int shift = Math.ILogB(doubleMultiplier) + 1;
        double q = Math.ScaleB(doubleMultiplier, -shift);
        long qFixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero); // TfLiteRound
        if (qFixed == 1L << 31)
        {
            qFixed /= 2;
            ++shift;
        }
        quantizedMultiplier = (int)qFixed;
        leftShift = shift;
    }

    private static int CalculateInputRadius(int inputIntegerBits, int inputLeftShift)
    {
        double maxInputRescaled = 1.0 * ((1 << inputIntegerBits) - 1) * (1L << (31 - inputIntegerBits)) / (1L << inputLeftShift);
        return (int)Math.Floor(maxInputRescaled);
    }

    // ---- gemmlowp int32 primitives ----

    private static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        bool overflow = a == b && a == int.MinValue;
        long ab64 = (long)a * b;
        int nudge = ab64 >= 0 ? 1 << 30 : 1 - (1 << 30);
        int abX2High32 = (int)((ab64 + nudge) / (1L << 31)); // C++ integer division truncates toward zero, as C# does
        return overflow ? int.MaxValue : abX2High32;
    }

    private static int RoundingDivideByPot(int x, int exponent)
    {
        int mask = (int)((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    // SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0 (saturating shift left) or < 0 (rounding shift right).
    private static int SaturatingRoundingMultiplyByPot(int x, int exponent)
    {
        if (exponent == 0) return x;
        if (exponent < 0) return RoundingDivideByPot(x, -exponent);
        int threshold = (1 << (31 - exponent)) - 1;
        if (x > threshold) return int.MaxValue;
        if (x < -threshold) return int.MinValue;
        return x << exponent;
    }

    private static int RoundingHalfSum(int a, int b)
    {
        long sum = (long)a + b;
        long sign = sum >= 0 ? 1 : -1;
        return (int)((sum + sign) / 2);
    }

    private static int Mul(int a, int b) => SaturatingRoundingDoublingHighMul(a, b); // FixedPoint operator*: integer bits add up
    private static int Add(int a, int b) => unchecked(a + b);                        // int32 Add (AddSaturatingIf16Bit too)
    private static int Sub(int a, int b) => unchecked(a - b);
    private static int Neg(int a) => unchecked(-a);

    private const int OneQ0 = int.MaxValue; // FixedPoint<int32, 0>::One() is ScalarRawMax

    // logistic(FixedPoint<int32, 4>) → FixedPoint<int32, 0>
    private static int LogisticQ4(int a)
    {
        bool positive = a > 0, zero = a == 0;
        int absInput = positive ? a : Neg(a);
        int resultIfPositive = OneOverOnePlusXForXIn01(ExpOnNegativeValuesQ4(Neg(absInput))); // logistic_on_positive_values
        int resultIfNegative = Sub(OneQ0, resultIfPositive);
        const int oneHalf = 1 << 30;
        return zero ? oneHalf : positive ? resultIfPositive : resultIfNegative;
    }

    // exp_on_negative_values(FixedPoint<int32, 4>) → FixedPoint<int32, 0>; kFractionalBits = 32 − 1 − 4 = 27.
    private static int ExpOnNegativeValuesQ4(int a)
    {
        const int integerBits = 4, fractionalBits = 27;
        int oneQuarter = 1 << (fractionalBits - 2);               // ConstantPOT<-2>
        int mask = oneQuarter - 1;
        int aModQuarterMinusOneQuarter = Sub(a & mask, oneQuarter);
        int result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(SaturatingRoundingMultiplyByPot(aModQuarterMinusOneQuarter, integerBits)); // Rescale<0>
        int remainder = Sub(aModQuarterMinusOneQuarter, a);
        (int Exponent, int Multiplier)[] barrel = [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242)];
        foreach (var (exponent, multiplier) in barrel)
        {
            if (integerBits > exponent)
            {
                int shiftAmount = fractionalBits + exponent;
                if ((remainder & (1 << shiftAmount)) != 0) result = Mul(result, multiplier);
            }
        }
        // kIntegerBits > 5 clamp: not for Q4.
        if (a == 0) result = OneQ0;
        return result;
    }

    // exp_on_interval_between_negative_one_quarter_and_0_excl(FixedPoint<int32, 0>)
    private static int ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int a)
    {
        const int constantTerm = 1895147668;     // exp(-1/8)
        const int constant1Over3 = 715827883;    // 1/3
        int x = Add(a, 1 << 28);                 // a + 1/8
        int x2 = Mul(x, x);
        int x3 = Mul(x2, x);
        int x4 = Mul(x2, x2);
        int x4Over4 = SaturatingRoundingMultiplyByPot(x4, -2);
        int x4Over24PlusX3Over6PlusX2Over2 = SaturatingRoundingMultiplyByPot(Add(Mul(Add(x4Over4, x3), constant1Over3), x2), -1);
        return Add(constantTerm, Mul(constantTerm, Add(x, x4Over24PlusX3Over6PlusX2Over2)));
    }

    // one_over_one_plus_x_for_x_in_0_1(FixedPoint<int32, 0>) → FixedPoint<int32, 0>
    private static int OneOverOnePlusXForXIn01(int a)
    {
        int halfDenominator = RoundingHalfSum(a, OneQ0);   // Q0
        const int constant48Over17 = 1515870810;           // Q2
        const int constantNeg32Over17 = -1010580540;       // Q2
        int x = Add(constant48Over17, Mul(halfDenominator, constantNeg32Over17)); // Q2
        const int oneQ2 = 1 << 29;
        for (int i = 0; i < 3; i++)
        {
            int halfDenominatorTimesX = Mul(halfDenominator, x);                  // Q2
            int oneMinusHalfDenominatorTimesX = Sub(oneQ2, halfDenominatorTimesX); // Q2
            x = Add(x, SaturatingRoundingMultiplyByPot(Mul(x, oneMinusHalfDenominatorTimesX), 2)); // Q4 → Rescale<2>
        }
        return SaturatingRoundingMultiplyByPot(x, 1); // ExactMulByPot<-1> (Q2 → Q1, same raw), Rescale<0>
    }
}
