using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Labels;
using MobileNetGen.Tests.ObjectDetection.Reference;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// <see cref="DetectionPostprocess"/> against the transcription of TFLite's kernel
/// (<see cref="TfliteDetectionPostprocessReference"/>): identical boxes (bit for bit), classes, scores and order, on hand-made
/// cases whose answer is also checked by hand, and on random ones.
/// </summary>
public class DetectionPostprocessTests
{
    // Box encodings equal to the zero point dequantize to 0: the decoded box is then the anchor itself
    // (centre + 0, half size = 0.5·exp(0)·size), which makes hand-made cases readable.
    private static readonly Quantization BoxQ = new(0.05f, 128);
    private static readonly Quantization ScoreQ = new(1f / 256, 0);
    // Anchor bytes in 1/128ths: hand-made boxes have exact binary coordinates (byte 64 = 0.5), so IoUs like 0.5 are exact.
    private static readonly Quantization AnchorQ = new(1f / 128, 0);

    private static DetectionPostprocessOptions Options(int maxDetections = 10, int maxClasses = 1, bool regular = false, int numClasses = 3,
                                                       float scoreThreshold = 1e-8f, float iou = 0.6f, int perClass = 100) => new()
    {
        MaxDetections = maxDetections, MaxClassesPerDetection = maxClasses, UseRegularNms = regular, NumClasses = numClasses,
        NmsScoreThreshold = scoreThreshold, NmsIouThreshold = iou, DetectionsPerClass = perClass,
        YScale = 10, XScale = 10, HScale = 5, WScale = 5,
    };

    /// <summary>A case: anchors (cy, cx, h, w bytes), per-anchor score bytes (background column first when present).</summary>
    private sealed record Case(byte[] Anchors, byte[] Scores, int ClassesWithBackground, byte[]? Encodings = null, Quantization? AnchorQuantization = null)
    {
        public int N => Anchors.Length / 4;
        public byte[] BoxEncodings => Encodings ?? Enumerable.Repeat((byte)BoxQ.ZeroPoint, N * 4).ToArray();
        public Quantization AQ => AnchorQuantization ?? AnchorQ;
    }

    /// <summary>Runs product and reference, asserts they agree exactly, and returns the product's detections.</summary>
    private static Detection[] RunBoth(DetectionPostprocessOptions options, Case c, int imageWidth = 640, int imageHeight = 480)
    {
        var reference = TfliteDetectionPostprocessReference.Eval(options, c.BoxEncodings, BoxQ, c.N, 4, c.Scores, ScoreQ, c.ClassesWithBackground, c.Anchors, c.AQ);
        var product = new DetectionPostprocess(options, DetectionPostprocess.DequantizeAnchors(c.Anchors, c.AQ), c.ClassesWithBackground);
        var output = new Detection[product.MaxDetectionCount];
        int count = product.Run(c.BoxEncodings, BoxQ, c.Scores, ScoreQ, imageWidth, imageHeight, output);
        AssertSame(options, reference, output.AsSpan(0, count), imageWidth, imageHeight);
        return output[..count];
    }

    internal static void AssertSame(DetectionPostprocessOptions options, TfliteDetectionPostprocessReference.Outputs reference, ReadOnlySpan<Detection> product,
                                    int imageWidth, int imageHeight)
    {
        int numCategories = Math.Min(options.MaxClassesPerDetection, options.NumClasses);
        int expectedCount = options.UseRegularNms ? (int)reference.NumDetections : (int)reference.NumDetections * numCategories;
        Assert.Equal(expectedCount, product.Length);
        for (int i = 0; i < product.Length; i++)
        {
            // Fast NMS writes anchor a's classes at max_classes_per_detection·a + col; regular NMS writes slot i.
            int slot = options.UseRegularNms ? i : options.MaxClassesPerDetection * (i / numCategories) + i % numCategories;
            var d = product[i];
            Assert.Equal(reference.DetectionBoxes[4 * slot + 0], d.Box.YMin);
            Assert.Equal(reference.DetectionBoxes[4 * slot + 1], d.Box.XMin);
            Assert.Equal(reference.DetectionBoxes[4 * slot + 2], d.Box.YMax);
            Assert.Equal(reference.DetectionBoxes[4 * slot + 3], d.Box.XMax);
            Assert.Equal(reference.DetectionClasses[slot], d.ClassIndex);
            Assert.Equal(reference.DetectionScores[slot], d.Score);
            Assert.Equal(d.Box.XMin * imageWidth, d.Pixels.Left);
            Assert.Equal(d.Box.YMax * imageHeight, d.Pixels.Bottom);
        }
    }

    private static byte[] Anchors(params (int Cy, int Cx, int H, int W)[] a) => a.SelectMany(x => new[] { (byte)x.Cy, (byte)x.Cx, (byte)x.H, (byte)x.W }).ToArray();

    [Fact]
    public void OverlappingBoxes_LowerScoreSuppressed_SeparateKept()
    {
        // A and B overlap with IoU 0.88 (> 0.6); C is far away.
        var c = new Case(Anchors((64, 64, 32, 32), (64, 66, 32, 32), (16, 16, 16, 16)),
                         [0, 230, 0, 0, 200, 0, 0, 0, 150], ClassesWithBackground: 3);
        var d = RunBoth(Options(numClasses: 2), c);
        Assert.Equal(2, d.Length);
        Assert.Equal(new NormalizedBox(0.375f, 0.375f, 0.625f, 0.625f), d[0].Box);
        Assert.Equal(230f / 256, d[0].Score);
        Assert.Equal(0, d[0].ClassIndex); // column 1 after the background column
        Assert.Equal(1, d[1].ClassIndex);
        Assert.Equal(150f / 256, d[1].Score);
    }

    [Fact]
    public void IouExactlyAtThreshold_IsNotSuppressed()
    {
        // x ranges [0.0625, 0.4375] and [0.1875, 0.5625], height 0.25: intersection 0.0625, union 0.125, IoU exactly 0.5.
        // Suppression needs IoU > threshold.
        var c = new Case(Anchors((64, 32, 32, 48), (64, 48, 32, 48)), [0, 200, 0, 100], ClassesWithBackground: 2);
        Assert.Equal(2, RunBoth(Options(numClasses: 1, iou: 0.5f), c).Length);
        Assert.Single(RunBoth(Options(numClasses: 1, iou: 0.49f), c));
    }

    [Fact]
    public void ExactTies_KeepAnchorOrder()
    {
        // std::stable_sort by decreasing score: equal scores keep increasing anchor order.
        var c = new Case(Anchors((13, 13, 8, 8), (38, 38, 8, 8), (64, 64, 8, 8), (90, 90, 8, 8), (115, 115, 8, 8)),
                         [0, 100, 0, 200, 0, 100, 0, 200, 0, 100], ClassesWithBackground: 2);
        var d = RunBoth(Options(numClasses: 1), c);
        Assert.Equal(new[] { 38, 90, 13, 64, 115 }.Select(b => b / 128f), d.Select(x => (x.Box.YMin + x.Box.YMax) / 2));
    }

    [Fact]
    public void IdenticalBoxesWithTiedScores_TheFirstAnchorSurvives()
    {
        var c = new Case(Anchors((64, 64, 32, 32), (64, 64, 32, 32), (64, 64, 32, 32)), [0, 77, 0, 77, 0, 77], ClassesWithBackground: 2,
                         Encodings: [128, 128, 128, 128, 129, 128, 128, 128, 130, 128, 128, 128]); // tiny shifts tell them apart
        var d = RunBoth(Options(numClasses: 1), c);
        Assert.Single(d);
        Assert.Equal(0.375f, d[0].Box.YMin); // anchor 0 (no shift)
    }

    [Fact]
    public void AllScoresBelowThreshold_NoDetections()
    {
        var c = new Case(Anchors((50, 50, 20, 20), (20, 20, 10, 10)), [250, 100, 0, 250, 120, 3], ClassesWithBackground: 3);
        Assert.Empty(RunBoth(Options(numClasses: 2, scoreThreshold: 0.5f), c));
        // The model's threshold (1e-8) drops exactly the zero scores.
        var zeros = new Case(Anchors((50, 50, 20, 20)), [255, 0, 0], ClassesWithBackground: 3);
        Assert.Empty(RunBoth(Options(numClasses: 2), zeros));
    }

    [Fact]
    public void ScoreEqualToThreshold_IsKept()
    {
        // SelectDetectionsAboveScoreThreshold keeps values >= threshold.
        var c = new Case(Anchors((50, 50, 20, 20)), [0, 128], ClassesWithBackground: 2);
        Assert.Single(RunBoth(Options(numClasses: 1, scoreThreshold: 0.5f), c));
    }

    [Fact]
    public void MoreCandidatesThanMaxDetections_TheHighestAreKept()
    {
        var anchors = new List<(int, int, int, int)>();
        var scores = new List<byte>();
        for (int i = 0; i < 20; i++)
        {
            anchors.Add((5 + 10 * (i % 10), 5 + 40 * (i / 10), 4, 4)); // disjoint
            scores.AddRange([0, (byte)(10 + 11 * ((i * 7) % 20))]);
        }
        var c = new Case(Anchors([.. anchors]), [.. scores], ClassesWithBackground: 2);
        var d = RunBoth(Options(maxDetections: 5, numClasses: 1), c);
        Assert.Equal(5, d.Length);
        Assert.Equal(d.OrderByDescending(x => x.Score).Select(x => x.Score), d.Select(x => x.Score));
        Assert.Equal((10 + 11 * 19) / 256f, d[0].Score);
    }

    [Fact]
    public void ZeroAreaBoxes_HaveIouZero_AndAreNeverSuppressed()
    {
        // Degenerate anchors of height 0: ComputeIntersectionOverUnion returns 0 when an area is <= 0, so two identical
        // zero-area boxes are both kept.
        var c = new Case(Anchors((64, 64, 0, 32), (64, 64, 0, 32), (64, 64, 32, 0)), [0, 200, 0, 190, 0, 180], ClassesWithBackground: 2);
        var d = RunBoth(Options(numClasses: 1), c);
        Assert.Equal(3, d.Length);
        Assert.Equal(d[0].Box, d[1].Box);
        Assert.Equal(0, d[0].Box.YMax - d[0].Box.YMin);
    }

    [Fact]
    public void BackgroundColumn_IsIgnored_AndClassesAreCountedWithoutIt()
    {
        // Column 0 is background (label_offset 1): its 255 never wins; class 1 = column 2.
        var withBackground = new Case(Anchors((50, 50, 20, 20)), [255, 10, 90, 40], ClassesWithBackground: 4);
        var d = RunBoth(Options(numClasses: 3), withBackground);
        Assert.Equal(1, Assert.Single(d).ClassIndex);
        Assert.Equal(90f / 256, d[0].Score);
        // Without a background column (label_offset 0) the first column is class 0.
        var noBackground = new Case(Anchors((50, 50, 20, 20)), [255, 10, 90], ClassesWithBackground: 3);
        Assert.Equal(0, Assert.Single(RunBoth(Options(numClasses: 3), noBackground)).ClassIndex);
    }

    [Fact]
    public void Labels_FollowTheCocoLabelMap()
    {
        var options = Options(numClasses: 90);
        var scores = new byte[91];
        scores[1 + 16] = 200; // class 16
        var pp = new DetectionPostprocess(options, DetectionPostprocess.DequantizeAnchors(Anchors((50, 50, 20, 20)), AnchorQ), 91, labelMap: CocoLabels.All);
        var output = new Detection[pp.MaxDetectionCount];
        Assert.Equal(1, pp.Run(new byte[] { 128, 128, 128, 128 }, BoxQ, scores, ScoreQ, 100, 100, output));
        Assert.Equal(16, output[0].ClassIndex);
        Assert.Equal("cat", output[0].Label);
        var unlabelled = new DetectionPostprocess(options, DetectionPostprocess.DequantizeAnchors(Anchors((50, 50, 20, 20)), AnchorQ), 91);
        unlabelled.Run(new byte[] { 128, 128, 128, 128 }, BoxQ, scores, ScoreQ, 100, 100, output);
        Assert.Equal("class 16", output[0].Label);
    }

    [Fact]
    public void NegativeAnchorSize_ProductRejectsAtConstruction_TfliteFailsEveryEval()
    {
        // Anchor bytes 5 with zero point 10 dequantize to a negative height: TFLite's ValidateBoxes fails.
        var q = new Quantization(0.01f, 10);
        byte[] anchors = [60, 60, 5, 30];
        var options = Options(numClasses: 1);
        var e = Assert.Throws<ArgumentException>(() => new DetectionPostprocess(options, DetectionPostprocess.DequantizeAnchors(anchors, q), 2));
        Assert.Contains("negative", e.Message);
        Assert.Throws<TfliteDetectionPostprocessReference.TfliteErrorException>(() =>
            TfliteDetectionPostprocessReference.Eval(options, [128, 128, 128, 128], BoxQ, 1, 4, [0, 10], ScoreQ, 2, anchors, q));
    }

    [Fact]
    public void BadArguments_AreClearExceptions()
    {
        var options = Options(numClasses: 2);
        float[] anchors = DetectionPostprocess.DequantizeAnchors(Anchors((50, 50, 20, 20), (20, 20, 10, 10)), AnchorQ);
        Assert.Throws<ArgumentException>(() => new DetectionPostprocess(options, anchors.AsSpan(0, 6), 3));             // not 4 per anchor
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionPostprocess(options, anchors, 5));               // 2 classes + 3?
        Assert.Throws<ArgumentException>(() => new DetectionPostprocess(Options(iou: 0), anchors, 4));                 // IoU threshold 0
        Assert.Throws<ArgumentException>(() => new DetectionPostprocess(Options(maxClasses: 0), anchors, 4));
        Assert.Throws<ArgumentException>(() => new DetectionPostprocess(new DetectionPostprocessOptions { MaxDetections = 1, MaxClassesPerDetection = 1, NumClasses = 1, NmsIouThreshold = 0.5f }, anchors, 2)); // scales 0
        Assert.Throws<ArgumentException>(() => new DetectionPostprocess(options, [0.5f, 0.5f, float.NaN, 0.1f], 3));
        var pp = new DetectionPostprocess(options, anchors, 3);
        var output = new Detection[pp.MaxDetectionCount];
        byte[] boxes = new byte[8], scores = new byte[6];
        Assert.Throws<ArgumentException>(() => pp.Run(boxes.AsSpan(0, 7), BoxQ, scores, ScoreQ, 10, 10, output));
        Assert.Throws<ArgumentException>(() => pp.Run(boxes, BoxQ, scores.AsSpan(0, 5), ScoreQ, 10, 10, output));
        Assert.Throws<ArgumentException>(() => pp.Run(boxes, BoxQ, scores, ScoreQ, 10, 10, output.AsSpan(0, pp.MaxDetectionCount - 1)));
        Assert.Throws<ArgumentException>(() => pp.Run(boxes, default, scores, ScoreQ, 10, 10, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => pp.Run(boxes, BoxQ, scores, ScoreQ, 0, 10, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Quantization(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Quantization(1, 256));
    }

    [Fact]
    public void SeveralClassesPerDetection_TiesOrderedAsLibstdcxxPartialSort()
    {
        // max_classes_per_detection = 3 sorts each anchor's classes with std::partial_sort; equal scores come out in libstdc++'s
        // heap order, which is not index order. Hand check of one row: scores [5, 9, 9, 9, 1, 9] → top 3.
        float[] values = [5, 9, 9, 9, 1, 9];
        var product = new int[values.Length];
        DetectionPostprocess.PartialSortDecreasing(values, product, 3);
        var reference = Enumerable.Range(0, values.Length).ToArray();
        StdPartialSort.PartialSort(reference, 0, 3, values.Length, (i, j) => values[i] > values[j]);
        Assert.Equal(reference[..3], product[..3]);
        Assert.All(product[..3], i => Assert.Equal(9, values[i]));
        Assert.Equal(new[] { 3, 1, 2 }, product[..3]); // worked through libstdc++'s heap steps by hand; not index order

        var c = new Case(Anchors((50, 50, 20, 20), (10, 10, 10, 10)), [0, 5, 9, 9, 9, 1, 9, 0, 7, 7, 7, 7, 7, 7], ClassesWithBackground: 7);
        RunBoth(Options(numClasses: 6, maxClasses: 3), c);
        RunBoth(Options(numClasses: 6, maxClasses: 8), c); // more than num_classes: TFLite leaves gaps, the product packs them
    }

    [Fact]
    public void RegularNms_PerClassSuppression_AndMerge()
    {
        // Two overlapping boxes: class 0 prefers A, class 1 prefers B; regular NMS keeps one box per class (and the other class's
        // box for the other class), fast NMS only compares best classes.
        var c = new Case(Anchors((64, 64, 32, 32), (64, 65, 32, 32), (16, 100, 16, 16)),
                         [0, 200, 100, 0, 90, 210, 0, 50, 50], ClassesWithBackground: 3);
        var regular = RunBoth(Options(numClasses: 2, regular: true), c);
        Assert.Equal(new[] { 210, 200, 50, 50 }, regular.Select(d => (int)(d.Score * 256)));
        // The tie at 50 (anchor C, classes 0 and 1): libstdc++'s partial_sort over [200, 50, 210, 50] gives [2, 0, 1, 3].
        Assert.Equal(new[] { 1, 0, 0, 1 }, regular.Select(d => d.ClassIndex));
        var fast = RunBoth(Options(numClasses: 2), c);
        Assert.Equal(2, fast.Length);
        RunBoth(Options(numClasses: 2, regular: true, maxDetections: 1), c); // ArgMaxVector path of the merge
        RunBoth(Options(numClasses: 2, regular: true, perClass: 1), c);
        RunBoth(Options(numClasses: 2, regular: true, maxDetections: 0), c);
    }

    public static TheoryData<int, bool, int, int> RandomConfigurations() => new()
    {
        { 1, false, 10, 1 }, { 2, false, 10, 3 }, { 3, false, 4, 2 }, { 4, true, 10, 1 }, { 5, true, 3, 1 }, { 6, true, 20, 1 }, { 7, false, 0, 1 },
    };

    [Theory]
    [MemberData(nameof(RandomConfigurations))]
    public void RandomCases_ProductEqualsReference(int seed, bool regular, int maxDetections, int maxClasses)
    {
        var rng = new Random(seed);
        for (int round = 0; round < 25; round++)
        {
            int n = rng.Next(1, 120), numClasses = rng.Next(1, 8), cwb = numClasses + rng.Next(0, 2);
            var anchors = new byte[n * 4];
            for (int i = 0; i < n; i++)
            {
                anchors[4 * i] = (byte)rng.Next(0, 101);
                anchors[4 * i + 1] = (byte)rng.Next(0, 101);
                anchors[4 * i + 2] = (byte)rng.Next(0, 40); // includes zero-size anchors
                anchors[4 * i + 3] = (byte)rng.Next(0, 40);
            }
            var encodings = new byte[n * 4];
            rng.NextBytes(encodings);
            // Few distinct score levels: many exact ties, in NMS and in the partial sorts.
            var scores = new byte[n * cwb];
            for (int i = 0; i < scores.Length; i++) scores[i] = (byte)(rng.Next(0, 5) * 60);
            var c = new Case(anchors, scores, cwb, encodings);
            RunBoth(Options(maxDetections: maxDetections, maxClasses: maxClasses, regular: regular, numClasses: numClasses,
                            iou: (float)(0.1 + 0.9 * rng.NextDouble()), perClass: rng.Next(1, 6)), c);
        }
    }

    [Fact]
    public void Run_AllocatesNothing()
    {
        var rng = new Random(11);
        var anchors = new byte[300 * 4];
        rng.NextBytes(anchors);
        var encodings = new byte[300 * 4];
        rng.NextBytes(encodings);
        var scores = new byte[300 * 91];
        rng.NextBytes(scores);
        foreach (bool regular in new[] { false, true })
        {
            var pp = new DetectionPostprocess(Options(numClasses: 90, regular: regular), DetectionPostprocess.DequantizeAnchors(anchors, AnchorQ), 91, labelMap: CocoLabels.All);
            var output = new Detection[pp.MaxDetectionCount];
            pp.Run(encodings, BoxQ, scores, ScoreQ, 640, 480, output); // warm-up (JIT)
            long before = GC.GetAllocatedBytesForCurrentThread();
            int count = pp.Run(encodings, BoxQ, scores, ScoreQ, 640, 480, output);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
            Assert.True(count > 0);
        }
    }

    [SharedDataFact]
    public void RealModel_QuantizationAndAnchors_AsDocumented()
    {
        var model = SsdModelFile.Load();
        Assert.Equal([1917, 4], model.Anchors.Shape);
        Assert.Equal(SsdOptions.AnchorQuantization, model.Anchors.Quantization);
        Assert.Equal(SsdOptions.BoxQuantization, model.BoxEncodings.Quantization);
        Assert.Equal(SsdOptions.ScoreQuantization, model.ClassScores.Quantization);
        Assert.Equal([1, 1917, 4], model.BoxEncodings.Shape);
        Assert.Equal([1, 1917, 91], model.ClassScores.Shape);
        // Encodings at the zero point decode every box to its anchor: centre ± size / 2.
        var pp = new DetectionPostprocess(SsdOptions.Real, DetectionPostprocess.DequantizeAnchors(model.Anchors.Data, SsdOptions.AnchorQuantization), 91);
        Assert.Equal(1917, pp.AnchorCount);
        Assert.Equal(10, pp.MaxDetectionCount);
    }

    [SharedDataFact]
    public void RealAnchorsAndOptions_RandomPredictions_ProductEqualsReference()
    {
        var model = SsdModelFile.Load();
        var options = SsdOptions.Real;
        byte[] anchors = model.Anchors.Data!;
        var pp = new DetectionPostprocess(options, DetectionPostprocess.DequantizeAnchors(anchors, SsdOptions.AnchorQuantization), 91, labelMap: CocoLabels.All);
        var rng = new Random(16);
        var output = new Detection[pp.MaxDetectionCount];
        for (int round = 0; round < 4; round++)
        {
            var encodings = new byte[1917 * 4];
            for (int i = 0; i < encodings.Length; i++) encodings[i] = (byte)Math.Clamp(191 + (int)(rng.NextDouble() * 40 - 20), 0, 255);
            var scores = new byte[1917 * 91];
            for (int i = 0; i < scores.Length; i++) scores[i] = (byte)(rng.Next(0, 100) < 95 ? rng.Next(0, 4) : rng.Next(0, 256));
            var reference = TfliteDetectionPostprocessReference.Eval(options, encodings, SsdOptions.BoxQuantization, 1917, 4, scores, SsdOptions.ScoreQuantization, 91, anchors, SsdOptions.AnchorQuantization);
            int count = pp.Run(encodings, SsdOptions.BoxQuantization, scores, SsdOptions.ScoreQuantization, 1200, 600, output);
            Assert.Equal(10, count);
            AssertSame(options, reference, output.AsSpan(0, count), 1200, 600);
        }
    }
}
