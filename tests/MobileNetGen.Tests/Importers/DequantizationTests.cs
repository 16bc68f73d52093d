using MobileNetGen.Importers;
using MobileNetGen.Model;
using Xunit;

namespace MobileNetGen.Tests.Importers;

/// <summary>
/// TensorFlow's MIN_FIRST rule (QuantizedToFloat): step = (max − min)/255 in double, range_min_rounded =
/// round(min / float(step)) · float(step) (round half away from zero), value = range_min_rounded + q·step.
/// The point is that zero is exactly representable; the plain <c>min + q·step</c> is shifted by up to half a step.
/// </summary>
public class DequantizationTests
{
    private const float Tol = 1e-6f;

    [Fact]
    public void MinusOneToOne_HandChecked()
    {
        // float(2/255) = 0.007843138 (rounded up), so min/step = -127.49999 -> round -> -127 (TF casts the step to float).
        // range_min_rounded = -127 * 0.007843138f = -0.99607853; q=127 lands on 0.
        var v = CanonicalWeights.Dequantize(new byte[] { 0, 1, 127, 128, 255 }, -1f, 1f);
        Assert.Equal(-0.9960785f, v[0], Tol);
        Assert.Equal(-0.9882353f, v[1], Tol);
        Assert.Equal(0f, v[2], Tol);
        Assert.Equal(0.0078431f, v[3], Tol);
        Assert.Equal(1.0039215f, v[4], Tol);
    }

    [Fact]
    public void HalfwayCase_RoundsAwayFromZero()
    {
        // min=-0.3, max=0.7: step = 1/255, min/step = -76.5 -> -77 (away from zero); range_min_rounded = -77/255.
        var v = CanonicalWeights.Dequantize(new byte[] { 0, 77, 128, 255 }, -0.3f, 0.7f);
        Assert.Equal(-77f / 255f, v[0], Tol);   // -0.3019608, not -0.3
        Assert.Equal(0f, v[1], Tol);            // zero is exact at q = 77
        Assert.Equal(51f / 255f, v[2], Tol);    // 0.2
        Assert.Equal(178f / 255f, v[3], Tol);   // 0.6980392, not 0.7
    }

    [Fact]
    public void ZeroMin_IsPlainScaling_AndEqualRangeIsConstant()
    {
        var v = CanonicalWeights.Dequantize(new byte[] { 0, 1, 100, 255 }, 0f, 2.55f);
        Assert.Equal(new[] { 0f, 0.01f, 1f, 2.55f }, v, new ToleranceComparer(Tol));
        Assert.All(CanonicalWeights.Dequantize(new byte[] { 0, 9, 255 }, 0.5f, 0.5f), x => Assert.Equal(0.5f, x));
    }

    [Fact]
    public void PlainMinPlusQStep_IsDifferent()
    {
        // shared/README.md warns that min + q*step is not TF's rule: it is off by a constant fraction of a step.
        foreach (var (min, max) in new[] { (-1f, 1f), (-0.3f, 0.7f) })
        {
            double step = ((double)max - min) / 255;
            var q = new byte[] { 0, 77, 127, 255 };
            var tf = CanonicalWeights.Dequantize(q, min, max);
            for (int i = 0; i < q.Length; i++)
            {
                double plain = min + q[i] * step;
                Assert.True(Math.Abs(plain - tf[i]) > 0.25 * step, $"min={min} max={max} q={q[i]}: plain {plain} vs MIN_FIRST {tf[i]}");
            }
        }
    }

    [SharedDataFact]
    public void EightBitLogits_DequantizeWithinHalfAStepOfTheFloatCheckpoint()
    {
        // The 8-bit 0.75_224 graph is Google's quantization of the checkpoint the Keras 0.75_224 model holds in float.
        var q = MobileNetImporter.Import(SharedData.Model("slim-2017-weight-quantized/mobilenet_v1_0.75_224/quantized_graph.pb"), new ImportOptions());
        var f = MobileNetImporter.Import(SharedData.Model("keras-tfjs/mobilenet_v1_0.75_224"), new ImportOptions());
        var arch = CanonicalWeights.ArchitectureOf(q);
        var logits = arch.Layers[^1];
        float min = q.Find(CanonicalWeights.KernelMin(logits))!.ToFloats()[0], max = q.Find(CanonicalWeights.KernelMax(logits))!.ToFloats()[0];
        double step = ((double)max - min) / 255;
        float[] deq = CanonicalWeights.KernelValues(q, logits);        // [1,1,768,1001]
        float[] reference = f.Find("logits.weight")!.ToFloats();         // [1,1,768,1000], Keras k = slim k+1
        byte[] raw = q.Find(CanonicalWeights.Kernel(logits))!.Data;
        double worst = 0, worstPlain = 0;
        for (int c = 0; c < 768; c++)
            for (int k = 0; k < 1000; k++)
            {
                int i = c * 1001 + k + 1;
                double r = reference[c * 1000 + k];
                worst = Math.Max(worst, Math.Abs(deq[i] - r));
                worstPlain = Math.Max(worstPlain, Math.Abs(min + raw[i] * step - r));
            }
        Assert.True(worst <= 0.5 * step + 1e-6, $"MIN_FIRST error {worst} exceeds half a step {0.5 * step}");
        Assert.True(worstPlain > worst, $"plain min+q*step error {worstPlain} should be worse than MIN_FIRST {worst}");
    }

    private sealed class ToleranceComparer(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(float x) => 0;
    }
}
