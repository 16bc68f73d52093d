using System.Globalization;
using System.Text.Json;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.Cli;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Tests.Reference.Tflite;
using MobileNetGen.Variants;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// The generated uint8 classifiers (runtime/MobileNetGen.Variants, <c>[MobileNet("…_quant")]</c>) against the scalar
/// transcription of TFLite's reference kernels (<see cref="ReferenceQuantizedMobileNet"/>), uint8 for uint8: on every SIMD
/// path and thread count, through the float entry points (TF-slim preprocessing, QUANTIZE) and the uint8 one, on the whole
/// labelled sample set (the golden files the reference wrote) and on the demo photos.
/// </summary>
public class GeneratedQuantizedTests(ITestOutputHelper output)
{
    private static readonly SimdPath[] Paths = { SimdPath.Auto, SimdPath.Vector512, SimdPath.Vector256, SimdPath.Vector128, SimdPath.Scalar };

    private static QuantizedMobileNetClassifier Create(string entry, SimdPath path = SimdPath.Auto, int threads = 1) =>
        (QuantizedMobileNetClassifier)VariantCatalog.Create(entry, new MobileNetOptions { Simd = path, Threads = threads });

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Every_path_and_thread_count_equals_the_reference_uint8_for_uint8(string entry)
    {
        var reference = QuantizedEntries.Reference(entry);
        byte[] input = QuantizedEntries.QuantizedInput(reference, QuantizedEntries.Images("demo/parrot.jpg"));
        var expected = reference.Forward(input);
        var logits = new byte[reference.NumClasses];
        foreach (var path in Paths)
            foreach (int threads in new[] { 1, 2, 3 })
            {
                if (path == SimdPath.Scalar && threads > 1) continue; // the scalar path is the slow reference: one thread suffices
                using var c = Create(entry, path, threads);
                c.RunQuantized(input, logits);
                Assert.True(expected.Logits.AsSpan().SequenceEqual(logits), $"{entry} {path} ×{threads}: uint8 logits differ from TFLite's reference kernels at {FirstDifference(expected.Logits, logits)}");
                Assert.True(expected.Features.AsSpan().SequenceEqual(c.QuantizedFeatures), $"{entry} {path} ×{threads}: pooled features differ");
            }
        output.WriteLine($"{entry}: {Paths.Length} paths × 1–3 threads, 1001 uint8 logits identical to the reference");
    }

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void The_float_entry_points_quantize_as_TFLite_and_dequantize_the_ends(string entry)
    {
        var reference = QuantizedEntries.Reference(entry);
        using var image = ImageLoader.LoadRgb24(QuantizedEntries.Images("demo/burger.jpg"));
        var floats = new float[reference.InputLength];
        Preprocessor.ImageToInput(image, reference.Resolution, floats);
        var expected = reference.Forward(reference.Quantize(floats));

        using var c = Create(entry);
        var logits = new float[c.NumClasses];
        c.Run(floats, logits);
        Assert.True(expected.Logits.AsSpan().SequenceEqual(c.QuantizedLogits), $"{entry}: Run(float input) gives other uint8 logits than the reference");
        var q = c.Quantization;
        for (int i = 0; i < logits.Length; i++) Assert.Equal(q.LogitsScale * (expected.Logits[i] - q.LogitsZeroPoint), logits[i]);
        for (int i = 0; i < c.FeatureSize; i++) Assert.Equal(q.FeatureScale * (expected.Features[i] - q.FeatureZeroPoint), c.Embeddings[i]);

        // The camera-frame path: the same preprocessing from RGB24 bytes, then the same integer network.
        var rgb = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(rgb);
        var top = new Prediction[5];
        c.ClassifyRgb24(rgb, image.Width, image.Height, image.Width * 3, top);
        Assert.True(expected.Logits.AsSpan().SequenceEqual(c.QuantizedLogits), $"{entry}: ClassifyRgb24 differs from the reference");
        Assert.Equal(ReferenceQuantizedMobileNet.TopK(expected.Logits, 5), top.Select(p => p.OutputIndex).ToArray());
    }

    /// <summary>Top-1 of the independent reference on each demo photo (slim index), written down from its run (helper table in the
    /// importer's report; QuantizedReferenceDemoTests recomputes it): the generated classifiers must give the same.</summary>
    public static TheoryData<string, string, int> DemoPhotos() => new()
    {
        { "mobilenet_v1_1.0_224_quant", "parrot.jpg", 89 }, { "mobilenet_v1_1.0_224_quant", "burger.jpg", 934 },
        { "mobilenet_v1_1.0_224_quant", "hot_dog.jpg", 935 }, { "mobilenet_v1_1.0_224_quant", "sunflower.bmp", 986 },
        { "mobilenet_v1_1.0_224_quant", "bird.bmp", 20 }, { "mobilenet_v1_1.0_224_quant", "dragonfly.bmp", 320 },
        { "mobilenet_v1_1.0_224_quant", "owl.jpg", 83 }, { "mobilenet_v1_1.0_224_quant", "cat.bmp", 286 },
        { "mobilenet_v1_0.75_192_quant", "parrot.jpg", 89 }, { "mobilenet_v1_0.75_192_quant", "burger.jpg", 934 },
        { "mobilenet_v1_0.50_160_quant", "parrot.jpg", 89 }, { "mobilenet_v1_0.50_160_quant", "dragonfly.bmp", 320 },
        { "mobilenet_v1_0.25_224_quant", "grace_hopper.bmp", 458 }, { "mobilenet_v1_0.25_224_quant", "owl.jpg", 83 },
        { "mobilenet_v1_0.25_128_quant", "parrot.jpg", 89 }, { "mobilenet_v1_0.25_128_quant", "sunflower.bmp", 986 },
    };

    [SharedDataTheory]
    [MemberData(nameof(DemoPhotos))]
    public void Demo_photos_get_the_reference_top1(string entry, string photo, int slimIndex)
    {
        using var c = Create(entry);
        var top = c.Classify(QuantizedEntries.Images("demo/" + photo), 1)[0];
        Assert.True(top.ImageNetIndex == slimIndex, $"{entry} {photo}: top-1 {top.ImageNetIndex} ({top.Label}), expected {slimIndex}");
    }

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Every_labelled_photo_matches_the_golden_file_and_eval_reports_its_counts(string entry)
    {
        var golden = QuantizedGolden.Read(QuantizedGolden.PathOf(entry));
        string dir = QuantizedEntries.Images("imagenet-sample-dev");
        using var c = Create(entry);
        var floats = new float[c.InputLength];
        int differ = 0;
        string? first = null;
        foreach (var row in golden.Rows)
        {
            using var image = ImageLoader.LoadRgb24(Path.Combine(dir, row.File));
            Preprocessor.ImageToInput(image, c.InputSize, floats);
            c.Run(floats, new float[c.NumClasses]);
            int[] top5 = ReferenceQuantizedMobileNet.TopK(c.QuantizedLogits, 5);
            byte[] top5Logits = top5.Select(k => c.QuantizedLogits[k]).ToArray();
            if (!top5.SequenceEqual(row.Top5) || !top5Logits.SequenceEqual(row.Top5Logits)) { differ++; first ??= row.File; }
        }
        Assert.True(differ == 0, $"{entry}: {differ} of {golden.Rows.Count} photos differ from the reference's golden file (first: {first})");

        var r = CliRunner.Run("eval", "--variant", entry, "--images", dir, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        int top1 = doc.RootElement.GetProperty("top1_correct").GetInt32(), top5c = doc.RootElement.GetProperty("top5_correct").GetInt32();
        Assert.Equal(golden.Top1Correct, top1);
        Assert.Equal(golden.Top5Correct, top5c);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{entry}: eval top-1 {top1}/500 = {top1 / 5.0:0.0} %, top-5 {top5c}/500 = {top5c / 5.0:0.0} %, equal to the reference's golden counts"));
    }

    [Fact]
    public void Inference_allocates_nothing_after_warm_up()
    {
        using var c = Create("mobilenet_v1_0.25_128_quant");
        var input = new byte[c.InputLength];
        new Random(7).NextBytes(input);
        var logits = new byte[c.NumClasses];
        var floats = TestInputs.Uniform(c.InputLength);
        var floatLogits = new float[c.NumClasses];
        var frame = TestInputs.Rgb24(640, 480, 640 * 3);
        var top = new Prediction[5];
        for (int i = 0; i < 300; i++) { c.RunQuantized(input, logits); c.Run(floats, floatLogits); c.ClassifyRgb24(frame, 640, 480, 640 * 3, top); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) { c.RunQuantized(input, logits); c.Run(floats, floatLogits); c.ClassifyRgb24(frame, 640, 480, 640 * 3, top); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Model_info_names_the_integer_network_and_its_size()
    {
        var e = VariantCatalog.Find("1.0_224_quant")!;
        Assert.Equal("mobilenet_v1_1.0_224_quant", e.Name);
        Assert.Equal(WeightsKind.GenuineUInt8, e.Info.Weights);
        Assert.Equal("genuine-uint8", e.Info.WeightsKindName);
        Assert.Equal(224, e.Info.Resolution);
        Assert.Equal(1.0, e.Info.Alpha);
        // One byte per weight and four per bias, plus the header: the embedded file, under a quarter of the float size.
        Assert.InRange(e.Info.WeightBytes, e.Info.Parameters, e.Info.Parameters + 200_000);
        Assert.Equal("1.0_224_quant", VariantName(e));

        static string VariantName(VariantEntry x) => x.ShortName;
    }

    private static string FirstDifference(byte[] a, byte[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++) if (a[i] != b[i]) return $"index {i} ({a[i]} vs {b[i]})";
        return "length";
    }
}

/// <summary>The vectorized QUANTIZE of the float entry points against the scalar rule, on every kind of value.</summary>
public class QuantizeInputTests
{
    [Fact]
    public void Vectorized_quantize_equals_the_scalar_rule_everywhere()
    {
        var values = new List<float>();
        var random = new Random(20181226);
        for (int i = 0; i < 100_000; i++) values.Add((float)(random.NextDouble() * 2.2 - 1.1));
        // Exact halves and their neighbours (q = ±k + 0.5 at scale 1/128), zero, signed zero.
        for (int k = -200; k <= 200; k++)
        {
            float h = (k + 0.5f) / 128f;
            values.Add(h); values.Add(MathF.BitIncrement(h)); values.Add(MathF.BitDecrement(h));
        }
        values.AddRange(new[] { 0f, -0f, 1f, -1f, 1.5f, -1.5f, float.Epsilon, -float.Epsilon, 32768.5f / 128, -32768.5f / 128 });
        // Out of the vector rule's range (|q| > 2^22) or not finite: an input holding one is redone by the scalar rule.
        var hostile = new[] { 1e9f, -1e9f, float.MaxValue, float.MinValue, float.NaN, float.PositiveInfinity, float.NegativeInfinity };
        foreach (var (scale, zp) in new[] { (0.0078125f, 128), (0.0123f, 3), (1f / 255, 0), (0.5f, 255) })
            foreach (int tail in new[] { 0, 3, 8, 11, 15 }) // the 16-, 8- and 4-lane loops' tails and the scalar one
            {
                var inRange = values.Concat(Enumerable.Repeat(0.25f, tail)).ToArray();
                Check(inRange, scale, zp);
                var withHostile = inRange.ToArray();
                for (int h = 0; h < hostile.Length; h++) withHostile[1000 + 7919 * h] = hostile[h];
                Check(withHostile, scale, zp);
            }

        static void Check(float[] input, float scale, int zp)
        {
            var expected = input.Select(v => MobileNetGen.Model.QuantizationMath.AffineQuantizeUint8(v, scale, zp)).ToArray();
            var actual = new byte[input.Length];
            QuantizedMobileNetClassifier.QuantizeUint8(input, scale, zp, actual);
            for (int i = 0; i < input.Length; i++)
                Assert.True(expected[i] == actual[i], $"scale {scale}, zero point {zp}, length {input.Length}: {input[i]:R} → {actual[i]}, TFLite's rule gives {expected[i]}");
        }
    }
}
