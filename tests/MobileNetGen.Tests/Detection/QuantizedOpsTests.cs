using MobileNetGen.Runtime.Detection;
using MobileNetGen.Tests.ObjectDetection.Reference;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

public class DetectionQuantizedOpsTests
{
    /// <summary>The SSD's LOGISTIC: input = concat_1 (scale 0.049736768, zero point 223), output 1/256, 0 (docs/ssd-graph.md).</summary>
    private static readonly Quantization LogisticInput = new(0.049736768f, 223);
    private static readonly Quantization LogisticOutput = new(1f / 256, 0);

    public static TheoryData<float, int> LogisticInputs() => new()
    {
        { 0.049736768f, 223 }, // the model's
        { 0.1f, 128 }, { 0.02f, 0 }, { 1f / 16, 255 }, { 0.5f, 100 }, { 1e-4f, 77 },
    };

    [Theory]
    [MemberData(nameof(LogisticInputs))]
    public void Logistic_All256Inputs_EqualTheReference(float scale, int zeroPoint)
    {
        var input = new Quantization(scale, zeroPoint);
        var op = new QuantizedLogistic(input, LogisticOutput);
        var all = Enumerable.Range(0, 256).Select(v => (byte)v).ToArray();
        var output = new byte[256];
        op.Run(all, output);
        for (int v = 0; v < 256; v++)
            Assert.True(TfliteQuantizedOpsReference.Logistic((byte)v, input, LogisticOutput) == output[v], $"input byte {v}: product {output[v]}, reference {TfliteQuantizedOpsReference.Logistic((byte)v, input, LogisticOutput)}");
        // Monotone, as a sigmoid must be.
        for (int v = 1; v < 256; v++) Assert.True(output[v] >= output[v - 1]);
    }

    [Fact]
    public void Logistic_ModelQuantization_HandChecks()
    {
        var op = new QuantizedLogistic(LogisticInput, LogisticOutput);
        // Byte 223 is real 0: sigmoid 0.5 → 128. Byte 0 is −11.09: sigmoid 1.5e-5 → 0. Byte 255 is +1.59: 0.8308 → round(212.7) = 213.
        Assert.Equal(128, op.Table[223]);
        Assert.Equal(0, op.Table[0]);
        Assert.Equal(213, op.Table[255]);
        // In place.
        byte[] data = [223, 0, 255];
        op.Run(data, data);
        Assert.Equal(new byte[] { 128, 0, 213 }, data);
    }

    [Theory]
    [MemberData(nameof(LogisticInputs))]
    public void Logistic_GemmlowpFixedPoint_IsWithinOneOfExactSigmoid(float scale, int zeroPoint)
    {
        // Sanity check of the fixed-point transcription: within 1 of round(256·σ(x)) everywhere.
        var input = new Quantization(scale, zeroPoint);
        for (int v = 0; v < 256; v++)
        {
            double exact = Math.Min(255, Math.Round(256 / (1 + Math.Exp(-(double)scale * (v - zeroPoint)))));
            Assert.InRange(GemmlowpLogisticReference.Logistic((byte)v, input), exact - 1, exact + 1);
        }
    }

    [Fact]
    public void Logistic_TableAndGemmlowp_GiveTheSameBytes_ForTheModelsQuantization()
    {
        // Finding: for concat_1's quantization (0.049736768, 223) the default lookup table and the gemmlowp fixed-point
        // kernel agree on all 256 inputs, so which uint8 LOGISTIC a TFLite build runs does not change this model's scores.
        byte[] table = new QuantizedLogistic(LogisticInput, LogisticOutput).Table.ToArray();
        var differing = Enumerable.Range(0, 256).Where(v => table[v] != GemmlowpLogisticReference.Logistic((byte)v, LogisticInput)).ToArray();
        Assert.True(differing.Length == 0, $"{differing.Length} inputs differ: {string.Join(", ", differing)}");
    }

    [Theory]
    [MemberData(nameof(LogisticInputs))]
    public void Logistic_TableAndGemmlowp_DifferByAtMostOne(float scale, int zeroPoint)
    {
        // In general the two kernels are not bit-identical (different rounding), but they never differ by more than 1.
        var input = new Quantization(scale, zeroPoint);
        byte[] table = new QuantizedLogistic(input, LogisticOutput).Table.ToArray();
        for (int v = 0; v < 256; v++) Assert.InRange(GemmlowpLogisticReference.Logistic((byte)v, input) - table[v], -1, 1);
    }

    [Fact]
    public void Logistic_RejectsOutputQuantizationTfliteRejects()
    {
        Assert.Throws<ArgumentException>(() => new QuantizedLogistic(LogisticInput, new Quantization(1f / 255, 0)));
        Assert.Throws<ArgumentException>(() => new QuantizedLogistic(LogisticInput, new Quantization(1f / 256, 1)));
        Assert.Throws<ArgumentException>(() => new QuantizedLogistic(default, LogisticOutput));
        var op = new QuantizedLogistic(LogisticInput, LogisticOutput);
        Assert.Throws<ArgumentException>(() => op.Run(new byte[3], new byte[2]));
    }

    /// <summary>The class-score concatenation of the model: six inputs, each with its own quantization, into concat_1.</summary>
    internal static readonly Quantization[] ClassInputs =
    [
        new(0.04823647f, 230), new(0.041218396f, 216), new(0.03624183f, 213), new(0.03563984f, 215), new(0.027208988f, 226), new(0.02772969f, 214),
    ];
    internal static readonly Quantization ClassOutput = new(0.049736768f, 223);
    internal static readonly Quantization[] BoxInputs =
    [
        new(0.079027876f, 191), new(0.031456824f, 138), new(0.02928216f, 126), new(0.027431415f, 126), new(0.020655567f, 138), new(0.020052034f, 152),
    ];
    internal static readonly Quantization BoxOutput = new(0.079027876f, 191);
    internal static readonly int[] AnchorsPerMap = [1083, 600, 150, 54, 24, 6];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Concatenation_ModelQuantization_EqualsTheReference(bool boxes)
    {
        var inputsQ = boxes ? BoxInputs : ClassInputs;
        int inner = boxes ? 4 : 91;
        var op = new QuantizedConcatenation(inputsQ, AnchorsPerMap, boxes ? BoxOutput : ClassOutput, outerSize: 1, innerSize: inner);
        Assert.Equal(1917 * inner, op.OutputLength);
        // Only the first box input shares the output's quantization.
        for (int i = 0; i < 6; i++) Assert.Equal(!(boxes && i == 0), op.Requantizes(i));

        var rng = new Random(boxes ? 1 : 2);
        var inputs = AnchorsPerMap.Select(n => { var b = new byte[n * inner]; rng.NextBytes(b); return b; }).ToArray();
        for (int k = 0; k < 256; k++) inputs[5][k % inputs[5].Length] = (byte)k; // every byte value through one requantized input
        var output = new byte[op.OutputLength];
        op.Run(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], output);
        var expected = TfliteQuantizedOpsReference.Concatenation(inputs, inputsQ, AnchorsPerMap, boxes ? BoxOutput : ClassOutput, 1, inner);
        Assert.Equal(expected, output);

        var viaArray = new byte[op.OutputLength];
        op.Run(inputs.Select(b => (ReadOnlyMemory<byte>)b).ToArray(), viaArray);
        Assert.Equal(expected, viaArray);
    }

    [Fact]
    public void Concatenation_OuterSizeAndHandChecks()
    {
        // Two inputs [2, 1, 2] and [2, 2, 2] along axis 1 (outer 2, inner 2); the second is requantized.
        var q0 = new Quantization(0.5f, 10);
        var q1 = new Quantization(0.25f, 0);
        var op = new QuantizedConcatenation([q0, q1], [1, 2], q0, outerSize: 2, innerSize: 2);
        byte[] a = [1, 2, 3, 4];
        byte[] b = [0, 1, 2, 3, 4, 5, 6, 7];
        var output = new byte[op.OutputLength];
        op.Run(a, b, default, default, default, default, output);
        // q' = round(q · 0.5 + 0) + 10; 1·0.5 = 0.5 rounds away from zero to 1; 3·0.5 = 1.5 → 2.
        Assert.Equal(new byte[] { 1, 2, 10, 11, 11, 12, 3, 4, 12, 13, 13, 14 }, output);
        Assert.Equal(TfliteQuantizedOpsReference.Concatenation([a, b], [q0, q1], [1, 2], q0, 2, 2), output);
        // Saturation at both ends.
        var wide = new QuantizedConcatenation([new Quantization(1f, 0)], [1], new Quantization(0.5f, 100), 1, 3);
        var sat = new byte[3];
        wide.Run(new byte[] { 0, 77, 255 }, default, default, default, default, default, sat);
        Assert.Equal(new byte[] { 100, 254, 255 }, sat);
    }

    [Fact]
    public void Concatenation_BadArguments()
    {
        var q = new Quantization(0.5f, 10);
        Assert.Throws<ArgumentException>(() => new QuantizedConcatenation([], [], q, 1, 1));
        Assert.Throws<ArgumentException>(() => new QuantizedConcatenation([q], [1, 2], q, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizedConcatenation([q], [1], q, 0, 1));
        var op = new QuantizedConcatenation([q, q], [1, 1], q, 1, 2);
        Assert.Throws<ArgumentException>(() => op.Run(new byte[2], new byte[3], default, default, default, default, new byte[4]));
        Assert.Throws<ArgumentException>(() => op.Run(new byte[2], new byte[2], default, default, default, default, new byte[5]));
    }

    [Fact]
    public void Reshape_IsAByteCopy_SoPredictorOutputsFeedTheConcatenationDirectly()
    {
        // [1, 19, 19, 12] (3 anchors × 4 codes per cell, NHWC) → [1, 1083, 1, 4]: element (y, x, a·4 + k) is anchor
        // (y·19 + x)·3 + a, code k, at the same offset.
        var input = Enumerable.Range(0, 19 * 19 * 12).Select(i => (byte)(i * 31)).ToArray();
        Assert.Equal(input, TfliteQuantizedOpsReference.Reshape(input));
        int y = 7, x = 11, a = 2, k = 3;
        Assert.Equal(((y * 19 + x) * 3 + a) * 4 + k, (y * 19 + x) * 12 + a * 4 + k);
    }

    [SharedDataFact]
    public void ModelQuantization_MatchesTheTestConstants()
    {
        var model = SsdModelFile.Load();
        Assert.Equal(LogisticInput, model.Tensor("concat_1").Quantization);
        Assert.Equal(LogisticOutput, model.Tensor("convert_scores").Quantization);
        Assert.Equal(BoxOutput, model.Tensor("concat").Quantization);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(BoxInputs[i], model.Tensor($"BoxPredictor_{i}/Reshape").Quantization);
            Assert.Equal(ClassInputs[i], model.Tensor($"BoxPredictor_{i}/Reshape_1").Quantization);
            Assert.Equal(AnchorsPerMap[i], model.Tensor($"BoxPredictor_{i}/Reshape_1").Shape[1]);
        }
    }

    [Fact]
    public void Run_AllocatesNothing()
    {
        var logistic = new QuantizedLogistic(LogisticInput, LogisticOutput);
        var concat = new QuantizedConcatenation(ClassInputs, AnchorsPerMap, ClassOutput, 1, 91);
        var inputs = AnchorsPerMap.Select(n => new byte[n * 91]).ToArray();
        var output = new byte[concat.OutputLength];
        concat.Run(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], output);
        logistic.Run(output, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        concat.Run(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], output);
        logistic.Run(output, output);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
