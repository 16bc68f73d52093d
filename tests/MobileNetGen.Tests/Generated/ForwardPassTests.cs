using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.Reference;
using MobileNetGen.Variants;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Generated;

/// <summary>Deterministic test inputs (xorshift64*, fixed seeds): the same floats on every machine and run.</summary>
internal static class TestInputs
{
    public const ulong Seed = 0x5EED_2017_0417UL;

    /// <summary><paramref name="length"/> floats uniform in [−1, 1]: the CLI benchmark's xorshift64* generator, the suite's seed.</summary>
    public static float[] Uniform(int length, ulong seed = Seed) => MobileNetGen.Measurement.LatencyMeter.FixedInput(length, seed);

    /// <summary>Random RGB24 pixels (seeded), rows <paramref name="stride"/> bytes apart.</summary>
    public static byte[] Rgb24(int width, int height, int stride, ulong seed = Seed)
    {
        var pixels = new byte[stride * height];
        float[] noise = Uniform(pixels.Length, seed);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((noise[i] + 1f) * 127.5f);
        return pixels;
    }
}

internal static class Compare
{
    /// <summary>max |actual − expected| ≤ relTol · max |expected|; the message names the worst index and both values.</summary>
    public static double AssertClose(string what, IReadOnlyList<double> expected, ReadOnlySpan<float> actual, double relTol = 1e-4)
    {
        Assert.Equal(expected.Count, actual.Length);
        double scale = 0, worst = -1;
        int worstIndex = -1;
        for (int i = 0; i < expected.Count; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Count; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst) { worst = d; worstIndex = i; }
        }
        double bound = relTol * scale;
        Assert.True(scale > 0, $"{what}: the reference is all zeros (degenerate network or input)");
        Assert.True(worst <= bound,
            $"{what}: max |generated - reference| = {worst:G6} at index {worstIndex} (generated {actual[worstIndex]:G9}, reference {expected[worstIndex]:G9}) " +
            $"exceeds {relTol:G2} * max|reference| = {bound:G6}");
        return worst / scale;
    }
}

/// <summary>
/// The generated classifiers against the independent scalar reference (<see cref="ReferenceMobileNet"/>), the SIMD paths
/// against each other, the demo photos against published top-1 labels, and the zero-allocation promise.
/// </summary>
public class ForwardPassTests(ITestOutputHelper output)
{
    /// <summary>The float entries (the uint8 ones have their own tests: GeneratedQuantizedTests, QuantizedOnnxTests).</summary>
    public static TheoryData<string> AllEntries()
    {
        var data = new TheoryData<string>();
        foreach (var e in VariantCatalog.BuiltIn.Where(e => !e.Info.Quantized)) data.Add(e.Name);
        return data;
    }

    [Fact]
    public void Catalog_has_22_entries_16_variants_tflite2018_and_5_uint8()
    {
        // BuiltIn: other tests register custom models into the process-wide catalog.
        Assert.Equal(22, VariantCatalog.BuiltIn.Count);
        Assert.Equal(VariantName.PublishedQuantized.Select(v => v.ToString()), VariantCatalog.BuiltIn.Where(e => e.Info.Quantized).Select(e => e.Variant));
        Assert.Equal(16, VariantCatalog.BuiltIn.Where(e => !e.Info.Quantized).Select(e => e.Variant).Distinct().Count());
        Assert.Contains(VariantCatalog.BuiltIn, e => e.Name == "mobilenet_v1_0.25_224_tflite2018");
        Assert.Equal(4, VariantCatalog.BuiltIn.Count(e => e.Info.Weights == WeightsKind.Synthetic));
    }

    [Theory]
    [MemberData(nameof(AllEntries))]
    public void Generated_logits_and_embeddings_match_scalar_reference_within_1e4_relative(string entryName)
    {
        var entry = VariantCatalog.Entries.Single(e => e.Name == entryName);
        var reference = ReferenceMobileNet.ForEntry(entry.Name, entry.Variant, entry.Info.Weights == WeightsKind.Synthetic);
        using var classifier = entry.Create(null);
        Assert.Equal(reference.Resolution, classifier.InputSize);
        Assert.Equal(reference.NumClasses, classifier.NumClasses);

        float[] input = TestInputs.Uniform(classifier.InputLength);
        var logits = new float[classifier.NumClasses];
        classifier.Run(input, logits);
        var (refLogits, refFeatures) = reference.Forward(input);

        Assert.Equal(refFeatures.Length, classifier.FeatureSize);
        double logitErr = Compare.AssertClose($"{entryName} logits", refLogits, logits);
        double featErr = Compare.AssertClose($"{entryName} embeddings", refFeatures, classifier.Embeddings);
        output.WriteLine($"{entryName} ({classifier.SimdPath}): max|Δlogit|/max|logit| = {logitErr:E2}, max|Δfeature|/max|feature| = {featErr:E2}, max|logit| = {refLogits.Max(Math.Abs):F3}");
    }

    [Fact]
    public void Reference_dequantization_reproduces_the_readme_example()
    {
        // weights/README.md: min = −0.3, max = 0.7 → step = 1/255, min/step = −76.5 → −77: q=0 → −0.30196, q=77 → 0, q=255 → 0.69804.
        float[] v = ReferenceMobileNet.DequantizeMinFirst(new byte[] { 0, 77, 255 }, -0.3f, 0.7f);
        Assert.Equal(-0.30196, v[0], 5);
        Assert.Equal(0.0, v[1], 6);
        Assert.Equal(0.69804, v[2], 5);
    }

    // ---- SIMD paths ------------------------------------------------------------------------------------------------

    public static TheoryData<string> SimdVariants() => new() { "0.25_224", "0.50_160", "1.0_128" };

    private static float[] LogitsOn(string variant, SimdPath path, float[]? input = null)
    {
        using var classifier = VariantCatalog.Create(variant, new MobileNetOptions { Simd = path });
        Assert.Equal(path, classifier.SimdPath);
        input ??= TestInputs.Uniform(classifier.InputLength);
        var logits = new float[classifier.NumClasses];
        classifier.Run(input, logits);
        return logits;
    }

    private static void AssertBitIdentical(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: logit {i} differs: {actual[i]:G9} vs scalar {expected[i]:G9} (bits {BitConverter.SingleToInt32Bits(actual[i]):X8} vs {BitConverter.SingleToInt32Bits(expected[i]):X8})");
    }

    [Theory]
    [MemberData(nameof(SimdVariants))]
    public void Vector128_path_used_on_ARM64_gives_bit_identical_logits_to_scalar(string variant)
    {
        float[] scalar = LogitsOn(variant, SimdPath.Scalar);
        AssertBitIdentical($"{variant} Vector128 (ARM64 path)", scalar, LogitsOn(variant, SimdPath.Vector128));
    }

    [Theory]
    [MemberData(nameof(SimdVariants))]
    public void Vector256_and_Vector512_paths_give_bit_identical_logits_to_scalar(string variant)
    {
        float[] scalar = LogitsOn(variant, SimdPath.Scalar);
        AssertBitIdentical($"{variant} Vector256", scalar, LogitsOn(variant, SimdPath.Vector256));
        // Vector512 runs (software-emulated) even where AVX-512 is absent: the invariant holds either way.
        output.WriteLine($"Vector512 hardware accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        AssertBitIdentical($"{variant} Vector512", scalar, LogitsOn(variant, SimdPath.Vector512));
    }

    // ---- Demo photos -------------------------------------------------------------------------------------------------

    /// <summary>
    /// The published top-1s (shared/README.md) come from an independent implementation that resized with Pillow's
    /// antialiased bilinear filter. 0.25_224 reproduces them with both resize methods; the Keras 0.75_224 model's
    /// grace_hopper (835 suit vs 653 military uniform) and dragonfly (320 vs 321 damselfly) are borderline and flip under
    /// TF1's non-antialiased resize, so 0.75_224 is checked with the reference's method (see PreprocessingVariantsTests).
    /// </summary>
    public static TheoryData<string, string, int, ResizeMethod> DemoGolden()
    {
        var data = new TheoryData<string, string, int, ResizeMethod>();
        // 2017 slim 0.25_224 float (slim indices).
        foreach (var resize in new[] { ResizeMethod.TensorFlowBilinear, ResizeMethod.Antialiased })
            foreach (var (photo, index) in new[] { ("bird", 20), ("cat", 283), ("dragonfly", 320), ("grace_hopper", 458), ("hot_dog", 935),
                                                   ("owl", 83), ("parrot", 89), ("sunflower", 986), ("burger", 934) })
                data.Add("0.25_224", photo, index, resize);
        // Keras / TF.js 0.75_224 (1000 classes; compared as slim indices through Prediction.ImageNetIndex).
        foreach (var (photo, index) in new[] { ("grace_hopper", 835), ("cat", 286), ("bird", 20), ("dragonfly", 320), ("hot_dog", 935),
                                               ("parrot", 89), ("sunflower", 986), ("burger", 934) })
            data.Add("0.75_224", photo, index, ResizeMethod.Antialiased);
        return data;
    }

    internal static string DemoPhoto(string stem)
    {
        foreach (string dir in new[] { Path.Combine(AppContext.BaseDirectory, "Fixtures", "demo"), Path.Combine(SharedData.Root!, "images", "demo") })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (string ext in new[] { ".jpg", ".png", ".bmp" })
            {
                string p = Path.Combine(dir, stem + ext);
                if (File.Exists(p)) return p;
            }
        }
        throw new FileNotFoundException($"demo photo '{stem}' not found under Fixtures/demo or shared/images/demo");
    }

    [SharedDataTheory]
    [MemberData(nameof(DemoGolden))]
    public void Demo_photo_top1_matches_published_reference(string variant, string photo, int expectedImageNetIndex, ResizeMethod resize)
    {
        using var classifier = VariantCatalog.Create(variant, new MobileNetOptions { Resize = resize });
        using var image = ImageLoader.LoadRgb24(DemoPhoto(photo));
        var top = classifier.Classify(image, 5);
        output.WriteLine($"{variant} {photo} ({resize}): " + string.Join(", ", top.Select(p => $"{p.ImageNetIndex} {p.Label} {p.Probability:F3}")));
        Assert.True(top[0].ImageNetIndex == expectedImageNetIndex,
            $"{variant} {photo}: top-1 is {top[0].ImageNetIndex} '{top[0].Label}' ({top[0].Probability:F3}), expected {expectedImageNetIndex}; top-5: " +
            string.Join(", ", top.Select(p => $"{p.ImageNetIndex} {p.Label} {p.Probability:F3}")));
    }

    // ---- Zero allocation ----------------------------------------------------------------------------------------------

    public static TheoryData<string> AllocationVariants() => new() { "0.25_224", "1.0_128" };

    private const int WarmUpCalls = 50;

    [Theory]
    [MemberData(nameof(AllocationVariants))]
    public void Run_allocates_nothing_after_warm_up(string variant)
    {
        using var classifier = VariantCatalog.Create(variant);
        float[] input = TestInputs.Uniform(classifier.InputLength);
        var logits = new float[classifier.NumClasses];
        // Warm up past tiered compilation's call-counting threshold (30 calls): its bookkeeping can allocate on the calling thread.
        for (int i = 0; i < WarmUpCalls; i++) classifier.Run(input, logits);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) classifier.Run(input, logits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{variant}: 10 Run calls allocated {allocated} bytes");
    }

    [Theory]
    [MemberData(nameof(AllocationVariants))]
    public void ClassifyRgb24_allocates_nothing_after_warm_up(string variant)
    {
        using var classifier = VariantCatalog.Create(variant);
        const int width = 333, height = 250, stride = width * 3 + 7; // odd size and padded rows: crop and resize both work
        byte[] pixels = TestInputs.Rgb24(width, height, stride);
        var top = new Prediction[5];
        for (int i = 0; i < WarmUpCalls; i++) classifier.ClassifyRgb24(pixels, width, height, stride, top);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) classifier.ClassifyRgb24(pixels, width, height, stride, top);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{variant}: 10 ClassifyRgb24 calls allocated {allocated} bytes");
        Assert.InRange(top[0].Probability, 0f, 1f);
    }
}
