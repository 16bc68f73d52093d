using System.Text;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.ObjectDetection.Reference;
using MobileNetGen.Variants;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The generated detector (<c>[MobileNetSsd("ssd_mobilenet_v1_0.75_300_coco_quant")] SsdMobileNetV1Coco</c> in
/// runtime/MobileNetGen.Variants) against the scalar transcription of TFLite's reference kernels (<see cref="ReferenceSsd"/>):
/// box encodings and class scores identical, uint8 for uint8, on every SIMD path and thread count; then the product pipeline
/// (ImageSharp decode, <see cref="DetectorPreprocessor"/>, the generated network, <see cref="DetectionPostprocess"/>) on the
/// photo tflite-support tests this model with.
/// </summary>
public class GeneratedDetectorTests(ITestOutputHelper output)
{
    private static readonly SimdPath[] Paths = { SimdPath.Auto, SimdPath.Vector512, SimdPath.Vector256, SimdPath.Vector128, SimdPath.Scalar };

    private static readonly Lazy<ReferenceSsd> s_reference = new(() => ReferenceSsd.ForEntry(SsdImporterTests.Entry));

    /// <summary>A uint8 input the photo cannot give: every byte value, in no spatial order (fixed seed).</summary>
    private static readonly Lazy<(byte[] Input, ReferenceSsd.Result Result)> s_noise = new(() =>
    {
        var input = new byte[300 * 300 * 3];
        new Random(20180629).NextBytes(input);
        return (input, s_reference.Value.Forward(input));
    });

    /// <summary>cats_and_dogs.jpg through the product's loader and preprocessing, and the reference network on those bytes.</summary>
    private static readonly Lazy<(byte[] Input, ReferenceSsd.Result Result)> s_catsAndDogs = new(() =>
    {
        using var image = ImageLoader.LoadRgb24(ImagePath);
        var input = new byte[300 * 300 * 3];
        new DetectorPreprocessor(300, 300).Preprocess(image, input);
        return (input, s_reference.Value.Forward(input));
    });

    private static string ImagePath => Path.Combine(SharedData.Root!, GoldenDetections.ImageRelativePath);

    private static SsdMobileNetV1Coco Create(SimdPath path = SimdPath.Auto, int threads = 1) =>
        new(new MobileNetOptions { Simd = path, Threads = threads });

    private static void AssertRaw(ReferenceSsd.Result expected, MobileNetDetector d, string what)
    {
        Assert.True(expected.BoxEncodings.AsSpan().SequenceEqual(d.BoxEncodings), $"{what}: box encodings differ from TFLite's reference kernels at {FirstDifference(expected.BoxEncodings, d.BoxEncodings)}");
        Assert.True(expected.ClassScores.AsSpan().SequenceEqual(d.ClassScores), $"{what}: class scores differ from TFLite's reference kernels at {FirstDifference(expected.ClassScores, d.ClassScores)}");
    }

    private static string FirstDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) return $"length {a.Length} vs {b.Length}";
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return $"byte {i}: {a[i]} vs {b[i]}";
        return "nowhere";
    }

    [Fact]
    public void Model_info_is_the_files_detector()
    {
        var info = SsdMobileNetV1Coco.ModelInfo;
        Assert.Equal("ssd_mobilenet_v1_0.75_300_coco_quant", info.Name);
        Assert.Equal((300, 300, 91, 1917, 0.75), (info.InputWidth, info.InputHeight, info.Classes, info.Anchors, info.Alpha));
        Assert.Equal(91, SsdMobileNetV1Coco.Labels.Count);
        Assert.Equal(("???", "person", "cat", "dog"), (SsdMobileNetV1Coco.Labels[0], SsdMobileNetV1Coco.Labels[1], SsdMobileNetV1Coco.Labels[17], SsdMobileNetV1Coco.Labels[18]));
        var pp = SsdMobileNetV1Coco.PostprocessOptions;
        Assert.Equal((10, false, 0.6f, 90), (pp.MaxDetections, pp.UseRegularNms, pp.NmsIouThreshold, pp.NumClasses));
        using var d = Create();
        Assert.Equal(10, d.MaxDetections);
        Assert.Equal(300 * 300 * 3, d.InputLength);
        // Every step of the network is listed for the profile: 47 convolutions, 12 reshape + concatenations, 4 im2col, LOGISTIC.
        Assert.Equal(64, d.Steps.Count);
        Assert.Equal(s_reference.Value.Layers.Sum(l => l.Macs), d.Steps.Sum(s => s.Macs));
    }

    [Fact]
    public void Every_path_and_thread_count_equals_the_reference_uint8_for_uint8_on_noise()
    {
        var (input, expected) = s_noise.Value;
        var boxes = new byte[1917 * 4];
        var scores = new byte[1917 * 91];
        foreach (var path in Paths)
            foreach (int threads in new[] { 1, 2, 3 })
            {
                if (path == SimdPath.Scalar && threads > 1) continue;
                using var d = Create(path, threads);
                d.RunQuantized(input, boxes, scores);
                AssertRaw(expected, d, $"{path} (resolved {d.SimdPath}) ×{threads}");
                Assert.True(expected.BoxEncodings.AsSpan().SequenceEqual(boxes));
                Assert.True(expected.ClassScores.AsSpan().SequenceEqual(scores));
            }
        output.WriteLine($"{Paths.Length} paths × 1–3 threads: {boxes.Length} box bytes and {scores.Length} score bytes identical to the reference");
    }

    [SharedDataFact]
    public void On_cats_and_dogs_every_path_equals_the_reference_and_postprocessing_matches_it_bit_for_bit()
    {
        var (input, expected) = s_catsAndDogs.Value;
        foreach (var path in Paths)
            foreach (int threads in new[] { 1, 2 })
            {
                using var d = Create(path, threads);
                d.RunQuantized(input, new byte[1917 * 4], new byte[1917 * 91]);
                AssertRaw(expected, d, $"{path} ×{threads}");
            }

        // The whole product pipeline on the decoded image: the same network outputs, and the reference's post-processing.
        using var detector = Create();
        using var image = ImageLoader.LoadRgb24(ImagePath);
        var detections = detector.Detect(image);
        AssertRaw(expected, detector, "Detect(image)");
        var r = expected.Detections;
        Assert.Equal((int)r.NumDetections, detections.Length);
        for (int i = 0; i < detections.Length; i++)
        {
            Assert.Equal(r.DetectionClasses[i], detections[i].ClassIndex);
            Assert.Equal(r.DetectionScores[i], detections[i].Score);
            Assert.Equal(new[] { r.DetectionBoxes[4 * i], r.DetectionBoxes[4 * i + 1], r.DetectionBoxes[4 * i + 2], r.DetectionBoxes[4 * i + 3] },
                new[] { detections[i].Box.YMin, detections[i].Box.XMin, detections[i].Box.YMax, detections[i].Box.XMax });
        }
    }

    /// <summary>
    /// tflite-support's four detections (<see cref="GoldenDetections.Current"/>) from the generated detector on the product's own
    /// decode and resize: classes and labels exact, scores within the Task Library test's 0.05. The boxes move by a few pixels
    /// (the product's resize rounds as libyuv's C / NEON row functions do, the x86 Task Library's as SSE2 does: see
    /// <see cref="SsdGoldenTests.CatsAndDogs_WithTheProductsPreprocessing_KeepsTheClassesAndScores"/>); they must stay within
    /// 3 % of the image side, and the exact-equality test runs on the reference in <see cref="SsdGoldenTests"/>.
    /// </summary>
    [SharedDataFact]
    public void On_cats_and_dogs_finds_tflite_supports_cats_and_dog()
    {
        using var detector = Create();
        var detections = detector.Detect(ImagePath);
        var report = new StringBuilder();
        foreach (var d in detections)
            report.AppendLine($"{d.Label,-8} {d.Score:F4}  [{d.Pixels.Left:F0}, {d.Pixels.Top:F0}, {d.Pixels.Right:F0}, {d.Pixels.Bottom:F0}]");
        output.WriteLine(report.ToString());
        Assert.True(detections.Length >= GoldenDetections.MaxResults);
        for (int i = 0; i < GoldenDetections.MaxResults; i++)
        {
            var g = GoldenDetections.Current[i];
            var d = detections[i];
            Assert.Equal((g.ClassIndex, g.ClassName), (d.ClassIndex, d.Label));
            Assert.InRange(d.Score, g.Score - GoldenDetections.EarlierScoreTolerance, g.Score + GoldenDetections.EarlierScoreTolerance);
            var (x, y, w, h) = GoldenDetections.ToTaskLibraryBox(d.Box, GoldenDetections.ImageWidth, GoldenDetections.ImageHeight);
            Assert.InRange(x, g.OriginX - 36, g.OriginX + 36);
            Assert.InRange(y, g.OriginY - 18, g.OriginY + 18);
            Assert.InRange(w, g.Width - 36, g.Width + 36);
            Assert.InRange(h, g.Height - 18, g.Height + 18);
        }
    }

    /// <summary>
    /// The C test's picture (tests/native/mobilenet_test.c decodes only BMP): <c>Fixtures/cats_and_dogs_600x300.bmp</c> is the demo
    /// photo decoded by the product's loader and halved with ImageSharp's bilinear resize (pixels within 1, in case another
    /// machine's vector width rounds a sample differently), and the managed detector finds on it what the C test asserts.
    /// </summary>
    [SharedDataFact]
    public void The_C_tests_cats_and_dogs_fixture_is_the_demo_photo_halved()
    {
        using var derived = ImageLoader.LoadRgb24(ImagePath);
        derived.Mutate(c => c.Resize(600, 300, KnownResamplers.Triangle));
        using var fixture = ImageLoader.LoadRgb24(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cats_and_dogs_600x300.bmp"));
        Assert.Equal((600, 300), (fixture.Width, fixture.Height));
        var a = new byte[600 * 300 * 3];
        var b = new byte[600 * 300 * 3];
        derived.CopyPixelDataTo(a);
        fixture.CopyPixelDataTo(b);
        int worst = 0, differing = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            worst = Math.Max(worst, d);
            if (d != 0) differing++;
        }
        output.WriteLine($"fixture vs derived: {differing} bytes differ, at most by {worst}");
        Assert.InRange(worst, 0, 1);

        using var detector = Create();
        var found = new Detection[detector.MaxDetections];
        int n = detector.DetectRgb24(b, 600, 300, 600 * 3, found);
        foreach (var x in found.AsSpan(0, n))
            output.WriteLine($"{x.ClassIndex,3} {x.Label,-8} {x.Score:F6}  [{x.Pixels.Left:F2}, {x.Pixels.Top:F2}, {x.Pixels.Right:F2}, {x.Pixels.Bottom:F2}]");
        Assert.InRange(n, 1, detector.MaxDetections);
        Assert.Contains(found[0].ClassIndex, new[] { 16, 17 });
        Assert.True(found[0].Score > 0.4f, $"top score {found[0].Score}");
    }

    [SharedDataFact]
    public void Frames_in_RGB24_and_BGRA32_give_the_decoded_images_detections_and_allocate_nothing()
    {
        using var image = ImageLoader.LoadRgb24(ImagePath);
        int w = image.Width, h = image.Height;
        var rgb = new byte[w * h * 3];
        image.CopyPixelDataTo(rgb);
        var bgra = new byte[w * h * 4];
        for (int i = 0; i < w * h; i++) { bgra[4 * i] = rgb[3 * i + 2]; bgra[4 * i + 1] = rgb[3 * i + 1]; bgra[4 * i + 2] = rgb[3 * i]; bgra[4 * i + 3] = 255; }
        foreach (int threads in new[] { 1, 2 })
        {
            using var detector = Create(threads: threads);
            var expected = detector.Detect(image);
            var found = new Detection[detector.MaxDetections];
            Assert.Equal(expected, found.AsSpan(0, detector.DetectRgb24(rgb, w, h, w * 3, found)).ToArray());
            Assert.Equal(expected, found.AsSpan(0, detector.DetectBgra32(bgra, w, h, w * 4, found)).ToArray());

            for (int i = 0; i < 3; i++) detector.DetectRgb24(rgb, w, h, w * 3, found); // warm: pool threads, tiering
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) detector.DetectRgb24(rgb, w, h, w * 3, found);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
        }
    }

    [Fact]
    public void Bad_arguments_are_clear_errors()
    {
        using var d = Create();
        var found = new Detection[d.MaxDetections];
        var frame = new byte[64 * 48 * 3];
        Assert.Contains("output must hold at least 10", Assert.Throws<ArgumentException>(() => d.DetectRgb24(frame, 64, 48, 64 * 3, new Detection[3])).Message);
        Assert.Throws<ArgumentException>(() => d.DetectRgb24(frame.AsSpan(0, 100), 64, 48, 64 * 3, found));
        Assert.Throws<ArgumentException>(() => d.DetectBgra32(frame, 64, 48, 64 * 4, found)); // 4 bytes a pixel need 12 288 bytes
        Assert.ThrowsAny<ArgumentException>(() => d.DetectRgb24(frame, 0, 48, 0, found));
        Assert.ThrowsAny<ArgumentException>(() => d.DetectRgb24(frame, 64, 48, 10, found)); // stride shorter than a row
        Assert.Throws<ArgumentException>(() => d.RunQuantized(new byte[10], new byte[1917 * 4], new byte[1917 * 91]));
        Assert.Throws<ArgumentException>(() => d.RunQuantized(new byte[d.InputLength], new byte[4], new byte[1917 * 91]));
        Assert.Throws<ArgumentNullException>(() => d.Detect((Image<Rgb24>)null!));
        Assert.Throws<ImageLoadException>(() => d.Detect(Path.Combine(Path.GetTempPath(), "mobilenetgen-no-such-image.jpg")));
        Assert.ThrowsAny<ArgumentException>(() => Create(threads: LayerRunnerMaxThreads + 1));

        // The detector still works after every refusal.
        Assert.Equal(0, d.DetectRgb24(new byte[64 * 48 * 3], 64, 48, 64 * 3, found) > d.MaxDetections ? -1 : 0);
        d.Dispose();
        Assert.Throws<ObjectDisposedException>(() => d.DetectRgb24(frame, 64, 48, 64 * 3, found));
    }

    private static int LayerRunnerMaxThreads => MobileNetGen.Runtime.Kernels.LayerRunner.MaxThreads;
}
