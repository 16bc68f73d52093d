using MobileNetGen.Runtime;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

public class PostprocessTests
{
    private static float[] Softmax(params float[] logits)
    {
        var p = new float[logits.Length];
        Postprocess.Softmax(logits, p);
        return p;
    }

    private static int[] TopK(int k, params float[] scores)
    {
        var indices = new int[k];
        Postprocess.TopK(scores, indices);
        return indices;
    }

    [Fact]
    public void SoftmaxSumsToOneAndMatchesDoubleReference()
    {
        var random = new Random(5);
        var logits = new float[1001];
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)(random.NextDouble() * 30 - 15);
        float[] p = Softmax(logits);

        double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < logits.Length; i++) Assert.Equal(Math.Exp(logits[i] - max) / sum, p[i], 6);
        Assert.Equal(1.0, p.Sum(v => (double)v), 5);
        Assert.All(p, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void SoftmaxHandCase()
    {
        float[] p = Softmax(0f, MathF.Log(3f)); // e^0 : e^ln3 = 1 : 3
        Assert.Equal(0.25f, p[0], 6);
        Assert.Equal(0.75f, p[1], 6);
        Assert.Equal(new[] { 1f }, Softmax(123.4f));
        Assert.All(Softmax(2f, 2f, 2f, 2f), v => Assert.Equal(0.25f, v));
    }

    [Fact]
    public void SoftmaxIsStableForHugeLogits()
    {
        float[] shifted = Softmax(1000f, 1001f, 1002f);
        float[] plain = Softmax(0f, 1f, 2f);
        Assert.Equal(plain, shifted);
        Assert.All(shifted, v => Assert.True(float.IsFinite(v)));

        float[] huge = Softmax(3e38f, -3e38f, 3e38f, 1e30f);
        Assert.Equal(new[] { 0.5f, 0f, 0.5f, 0f }, huge);

        float[] negative = Softmax(-1e4f, -1e4f - 1f);
        Assert.Equal(1.0, negative.Sum(v => (double)v), 6);
        Assert.True(negative[0] > negative[1]);
    }

    [Fact]
    public void SoftmaxInfinities()
    {
        Assert.Equal(new[] { 0f, 0.5f, 0.5f }, Softmax(1f, float.PositiveInfinity, float.PositiveInfinity));
        Assert.Equal(new[] { 0.5f, 0.5f }, Softmax(float.NegativeInfinity, float.NegativeInfinity));
        Assert.Equal(new[] { 1f, 0f }, Softmax(0f, float.NegativeInfinity));
        Assert.All(Softmax(1f, float.NaN), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void SoftmaxCanRunInPlace()
    {
        var buffer = new float[] { 0f, MathF.Log(3f) };
        Postprocess.Softmax(buffer, buffer);
        Assert.Equal(0.25f, buffer[0], 6);
        Assert.Equal(0.75f, buffer[1], 6);
    }

    [Fact]
    public void SoftmaxValidatesLengths()
    {
        Assert.Throws<ArgumentException>(() => Postprocess.Softmax(ReadOnlySpan<float>.Empty, new float[1]));
        Assert.Throws<ArgumentException>(() => Postprocess.Softmax(new float[3], new float[2]));
        var longer = new float[] { 9f, 9f, 9f, 9f };
        Postprocess.Softmax(new float[] { 0f, 0f }, longer);
        Assert.Equal(new[] { 0.5f, 0.5f, 9f, 9f }, longer);
    }

    [Fact]
    public void TopKIsDescending()
    {
        float[] scores = { 0.1f, 0.7f, 0.05f, 0.9f, 0.3f, -2f };
        Assert.Equal(new[] { 3, 1, 4 }, TopK(3, scores));
        Assert.Equal(new[] { 3 }, TopK(1, scores));
        Assert.Equal(new[] { 3, 1, 4, 0, 2, 5 }, TopK(6, scores));
        Assert.Empty(TopK(0, scores));
    }

    [Fact]
    public void TopKTiesGoToTheLowerIndexFirst()
    {
        Assert.Equal(new[] { 1, 3, 4, 2 }, TopK(4, 0f, 5f, 1f, 5f, 5f, -1f));
        Assert.Equal(new[] { 1, 3, 4, 2, 0 }, TopK(5, 0f, 5f, 1f, 5f, 5f, -1f));
        Assert.Equal(new[] { 0, 1, 2 }, TopK(3, 2f, 2f, 2f, 2f, 2f));
        Assert.Equal(new[] { 2, 3, 0, 1 }, TopK(4, 1f, 1f, 3f, 3f));
    }

    [Fact]
    public void TopKRanksNaNLast()
    {
        Assert.Equal(new[] { 2, 1, 0 }, TopK(3, float.NaN, -5f, 1f));
        Assert.Equal(new[] { 1, 0 }, TopK(2, float.NaN, float.NegativeInfinity));
    }

    [Fact]
    public void TopKMatchesSortOnRandomScores()
    {
        var random = new Random(9);
        var scores = new float[1001];
        for (int i = 0; i < scores.Length; i++) scores[i] = random.Next(200) / 7f; // plenty of ties
        int[] expected = Enumerable.Range(0, scores.Length)
            .OrderByDescending(i => scores[i]).ThenBy(i => i).Take(10).ToArray();
        Assert.Equal(expected, TopK(10, scores));
    }

    [Fact]
    public void TopKValidatesLength()
    {
        Assert.Throws<ArgumentException>(() => Postprocess.TopK(new float[2], new int[3]));
    }
}
