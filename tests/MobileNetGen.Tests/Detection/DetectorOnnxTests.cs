using System.Text;
using MobileNetGen.Importers.Exporters;
using MobileNetGen.Importers.Onnx;
using MobileNetGen.Model;
using MobileNetGen.OnnxBaseline;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.ObjectDetection.Reference;
using MobileNetGen.Tests.Reference;
using MobileNetGen.Variants;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The uint8 ONNX peer of the generated detector (<see cref="DetectorOnnxExporter"/> run by <see cref="DetectorOnnxBaseline"/>)
/// against <see cref="SsdMobileNetV1Coco"/>: the same network, uint8 for uint8, computed by ONNX Runtime's integer kernels.
/// <para>
/// They do not agree bit for bit, and cannot: ONNX Runtime requantizes in float, TFLite (whose reference kernels the generated
/// detector equals, <see cref="GeneratedDetectorTests"/>) in fixed point. QLinearConv rounds scale · accumulator once where
/// TFLite's <c>MultiplyByQuantizedMultiplier</c> rounds twice (<c>SaturatingRoundingDoublingHighMul</c>, then
/// <c>RoundingDivideByPOT</c>): about 2^−(1−shift) of a layer's outputs land one unit apart. QLinearConcat requantizes through a
/// table of round-half-even(dequantized / s_out) where TFLite's <c>ConcatenationWithScaling</c> rounds half away from zero;
/// QLinearSigmoid tabulates the float sigmoid where TFLite uses gemmlowp's fixed-point logistic. A unit's difference in an early
/// layer then travels through every later layer, so end to end some outputs differ by more than one. The bounds asserted here
/// are the measured ones (reported in the test output) with a margin; every single operator, fed ORT's own input, must agree
/// with TFLite's reference kernel within one unit.
/// </para>
/// </summary>
public class DetectorOnnxTests(ITestOutputHelper output)
{
    private const int Anchors = 1917, Classes = 91;

    private static readonly Lazy<SafeTensorsFile> s_weights = new(() => SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(SsdImporterTests.Entry))));
    private static readonly Lazy<ReferenceSsd> s_reference = new(() => new ReferenceSsd(s_weights.Value));

    private static string ImagePath => Path.Combine(SharedData.Root!, GoldenDetections.ImageRelativePath);

    /// <summary>The same fixed noise as <see cref="GeneratedDetectorTests"/>: every byte value, no spatial order.</summary>
    private static byte[] Noise()
    {
        var input = new byte[300 * 300 * 3];
        new Random(20180629).NextBytes(input);
        return input;
    }

    private static byte[] CatsAndDogs()
    {
        using var image = ImageLoader.LoadRgb24(ImagePath);
        var input = new byte[300 * 300 * 3];
        new DetectorPreprocessor(300, 300).Preprocess(image, input);
        return input;
    }

    /// <summary>NCHW [1,C,H,W] (ONNX) → NHWC [1,H,W,C] (TFLite, canonical).</summary>
    private static byte[] ToNhwc(ReadOnlySpan<byte> nchw, int c, int h, int w)
    {
        var nhwc = new byte[nchw.Length];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    nhwc[(y * w + x) * c + ch] = nchw[(ch * h + y) * w + x];
        return nhwc;
    }

    private readonly record struct Diff(int Differ, int Max, int Length)
    {
        public override string ToString() => $"{Differ,6} of {Length,6} bytes differ ({100.0 * Differ / Length:F3} %), max |difference| {Max}";
    }

    private static Diff Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.Equal(a.Length, b.Length);
        int differ = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            if (d != 0) differ++;
            max = Math.Max(max, d);
        }
        return new Diff(differ, max, a.Length);
    }

    /// <summary>The generated detector's raw outputs on <paramref name="input"/>.</summary>
    private static (byte[] Boxes, byte[] Scores) Generated(byte[] input)
    {
        using var d = new SsdMobileNetV1Coco();
        var boxes = new byte[Anchors * 4];
        var scores = new byte[Anchors * Classes];
        d.RunQuantized(input, boxes, scores);
        return (boxes, scores);
    }

    /// <summary>
    /// ORT against the generated detector end to end, and every ORT operator against TFLite's reference kernel on ORT's own input
    /// (so that earlier differences do not count): returns the end-to-end comparisons and the largest single-operator difference.
    /// </summary>
    private (Diff Boxes, Diff Scores, int MaxLocal) CompareRun(string label, byte[] input)
    {
        var (genBoxes, genScores) = Generated(input);
        using var ort = DetectorOnnxBaseline.FromWeights(s_weights.Value, 1, new DetectorOnnxExportOptions { LayerOutputs = true, ClassLogitsOutput = true });
        var boxes = new byte[Anchors * 4];
        var scores = new byte[Anchors * Classes];
        ort.Run(input, boxes, scores);
        Assert.True(ort.BoxEncodings.SequenceEqual(boxes) && ort.ClassScores.SequenceEqual(scores));

        // The plain export (no extra outputs) computes the same bytes.
        using (var plain = DetectorOnnxBaseline.FromWeights(s_weights.Value, 1))
        {
            var b = new byte[boxes.Length];
            var s = new byte[scores.Length];
            plain.Run(input, b, s);
            Assert.True(b.AsSpan().SequenceEqual(boxes) && s.AsSpan().SequenceEqual(scores), $"{label}: extra graph outputs changed ORT's results");
        }

        var reference = s_reference.Value;
        var report = new StringBuilder();
        var ortLayers = new Dictionary<string, byte[]>(StringComparer.Ordinal) { ["image"] = input };
        int maxLocal = 0, differingLayers = 0;
        foreach (var l in reference.Layers)
        {
            byte[] ortOut = ToNhwc(ort.Output(l.Name), l.OutputChannels, l.OutputHeight, l.OutputWidth);
            var local = Compare(reference.RunLayer(l, ortLayers[l.Input]), ortOut);
            ortLayers[l.Name] = ortOut;
            maxLocal = Math.Max(maxLocal, local.Max);
            if (local.Differ > 0) differingLayers++;
            report.AppendLine($"{label} {l.Name,-20} same input: {local}");
        }
        // RESHAPE + CONCATENATION and LOGISTIC, each on ORT's own inputs.
        var heads = reference.Heads;
        byte[] refBoxes = TfliteQuantizedOpsReference.Concatenation(heads.Select(h => ortLayers[h.Box]).ToList(), heads.Select(h => reference.Layers.First(l => l.Name == h.Box).Output).ToList(),
            heads.Select(h => h.Rows).ToList(), reference.BoxConcatOutput, outerSize: 1, baseInnerSize: 4);
        byte[] refLogits = TfliteQuantizedOpsReference.Concatenation(heads.Select(h => ortLayers[h.Class]).ToList(), heads.Select(h => reference.Layers.First(l => l.Name == h.Class).Output).ToList(),
            heads.Select(h => h.Rows).ToList(), reference.ClassConcatOutput, outerSize: 1, baseInnerSize: Classes);
        byte[] ortLogits = ort.Output(DetectorOnnxExporter.ClassLogitsName).ToArray();
        var refScores = new byte[ortLogits.Length];
        for (int i = 0; i < ortLogits.Length; i++) refScores[i] = TfliteQuantizedOpsReference.Logistic(ortLogits[i], reference.LogisticInput, reference.LogisticOutput);
        var boxConcat = Compare(refBoxes, boxes);
        var classConcat = Compare(refLogits, ortLogits);
        var logistic = Compare(refScores, scores);
        report.AppendLine($"{label} box concatenation    same input: {boxConcat}");
        report.AppendLine($"{label} class concatenation  same input: {classConcat}");
        report.AppendLine($"{label} logistic             same input: {logistic}");
        maxLocal = Math.Max(maxLocal, Math.Max(boxConcat.Max, Math.Max(classConcat.Max, logistic.Max)));

        // End to end: the class logits before the sigmoid against TFLite's, then the two outputs against the generated detector.
        var chain = reference.Forward(input);
        var logitsEnd = Compare(chain.ClassLogits, ortLogits);
        var boxesEnd = Compare(genBoxes, boxes);
        var scoresEnd = Compare(genScores, scores);
        Assert.True(chain.BoxEncodings.AsSpan().SequenceEqual(genBoxes) && chain.ClassScores.AsSpan().SequenceEqual(genScores), "the generated detector differs from the reference");
        report.AppendLine($"{label} END TO END class logits (before the sigmoid) vs TFLite: {logitsEnd}");
        report.AppendLine($"{label} END TO END box encodings vs the generated detector:    {boxesEnd}");
        report.AppendLine($"{label} END TO END class scores  vs the generated detector:    {scoresEnd}");
        report.AppendLine($"{label} {differingLayers} of {reference.Layers.Count} convolutions differ on the same input; the largest single-operator difference is {maxLocal}");
        output.WriteLine(report.ToString());
        return (boxesEnd, scoresEnd, maxLocal);
    }

    [Fact]
    public void Export_is_deterministic_and_is_the_detectors_graph()
    {
        var weights = s_weights.Value;
        byte[] a = DetectorOnnxExporter.Export(weights), b = DetectorOnnxExporter.Export(weights);
        Assert.Equal(a, b);
        var model = ModelProto.Parser.ParseFrom(a);
        var ops = model.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        var net = DetectorWeights.DetectorOf(weights);
        Assert.Equal(47, net.Layers.Count);
        Assert.Equal(net.Layers.Count, ops["QLinearConv"]);
        Assert.Equal(2, ops["QLinearConcat"]);
        Assert.Equal(1, ops["QLinearSigmoid"]);
        Assert.Equal(12, ops["Reshape"]);
        Assert.Equal(1 + 12, ops["Transpose"]); // the input to NCHW, each predictor back to NHWC
        Assert.All(model.Graph.Node.Where(n => n.OpType.StartsWith("QLinear", StringComparison.Ordinal) && n.OpType != "QLinearConv"),
            n => Assert.Equal(DetectorOnnxExporter.MicrosoftDomain, n.Domain));
        // The predictors have no fused activation, so no Clip after them; another layer's activation (RELU6, or NONE where the
        // converter folded it into the output range) becomes a Clip where its range is narrower than 0..255
        // (TFLite's CalculateActivationRangeUint8).
        foreach (var l in net.Layers)
        {
            bool predictor = l.Role is DetectorLayerRole.BoxPredictor or DetectorLayerRole.ClassPredictor;
            var (min, max) = QuantizationMath.CalculateActivationRangeUint8(l.Quantization.Activation, l.Quantization.Output.Scale, l.Quantization.Output.ZeroPoint);
            if (predictor) Assert.Equal(QuantizedActivation.None, l.Quantization.Activation);
            Assert.Equal(min > 0 || max < 255, model.Graph.Node.Any(n => n.Name == l.Name + ".clip"));
            if (predictor) Assert.DoesNotContain(model.Graph.Node, n => n.Name == l.Name + ".clip");
        }
        output.WriteLine($"{ops.GetValueOrDefault("Clip")} of the {net.Layers.Count} layers need a Clip ({net.Layers.Count(l => l.Quantization.Activation == QuantizedActivation.Relu6)} with RELU6); {model.Graph.Initializer.Count} initializers, {a.Length} bytes");
        Assert.Equal(new[] { DetectorOnnxExporter.BoxEncodingsName, DetectorOnnxExporter.ClassScoresName }, model.Graph.Output.Select(o => o.Name));

        using var ort = new DetectorOnnxBaseline(a, threads: 1);
        Assert.Equal((300, 300, Anchors, Classes), (ort.InputHeight, ort.InputWidth, ort.Anchors, ort.Classes));
        Assert.Empty(ort.ExtraOutputNames);
    }

    [Fact]
    public void On_noise_ort_is_close_to_the_generated_detector()
    {
        var (boxes, scores, maxLocal) = CompareRun("noise", Noise());
        Assert.True(maxLocal <= 1, $"an ORT operator differs from TFLite's reference kernel by {maxLocal} on the same input (allowed: 1)");
        // Measured (ORT 1.31.1, x64): see the constants below and the test output. Bounds: the measured values with a margin.
        Assert.True(boxes.Max <= NoiseBoxMax && boxes.Differ <= NoiseBoxDiffer, $"box encodings: {boxes}");
        Assert.True(scores.Max <= NoiseScoreMax && scores.Differ <= NoiseScoreDiffer, $"class scores: {scores}");
    }

    [SharedDataFact]
    public void On_cats_and_dogs_ort_is_close_and_postprocessing_finds_the_same_cats_and_dog()
    {
        byte[] input = CatsAndDogs();
        var (boxes, scores, maxLocal) = CompareRun("cats_and_dogs", input);
        Assert.True(maxLocal <= 1, $"an ORT operator differs from TFLite's reference kernel by {maxLocal} on the same input (allowed: 1)");
        Assert.True(boxes.Max <= PhotoBoxMax && boxes.Differ <= PhotoBoxDiffer, $"box encodings: {boxes}");
        Assert.True(scores.Max <= PhotoScoreMax && scores.Differ <= PhotoScoreDiffer, $"class scores: {scores}");

        // Our post-processing on ORT's outputs: the same top-4 classes as on the generated detector's (cat, cat, cat, dog).
        using var ort = DetectorOnnxBaseline.FromWeights(s_weights.Value, 1);
        var ortBoxes = new byte[Anchors * 4];
        var ortScores = new byte[Anchors * Classes];
        ort.Run(input, ortBoxes, ortScores);
        var q = SsdMobileNetV1Coco.Quantization;
        var anchors = DetectionPostprocess.DequantizeAnchors(s_weights.Value.Find(DetectorWeights.AnchorsTensor)!.Data, q.Anchors);
        var post = new DetectionPostprocess(SsdMobileNetV1Coco.PostprocessOptions, anchors, Classes, labelMap: SsdMobileNetV1Coco.Labels);
        var found = new Detection[post.MaxDetectionCount];
        int n = post.Run(ortBoxes, q.Boxes, ortScores, q.Scores, GoldenDetections.ImageWidth, GoldenDetections.ImageHeight, found);
        using var generated = new SsdMobileNetV1Coco();
        var ours = generated.Detect(ImagePath);
        var report = new StringBuilder();
        for (int i = 0; i < Math.Min(n, 6); i++)
            report.AppendLine($"ORT #{i}: {found[i].Label,-6} {found[i].Score:F4} [{found[i].Box.YMin:F3}, {found[i].Box.XMin:F3}, {found[i].Box.YMax:F3}, {found[i].Box.XMax:F3}]" +
                              (i < ours.Length ? $"   ours: {ours[i].Label,-6} {ours[i].Score:F4} [{ours[i].Box.YMin:F3}, {ours[i].Box.XMin:F3}, {ours[i].Box.YMax:F3}, {ours[i].Box.XMax:F3}]" : ""));
        output.WriteLine(report.ToString());
        Assert.True(n >= GoldenDetections.MaxResults);
        for (int i = 0; i < GoldenDetections.MaxResults; i++)
        {
            Assert.Equal((GoldenDetections.Current[i].ClassIndex, GoldenDetections.Current[i].ClassName), (found[i].ClassIndex, found[i].Label));
            Assert.Equal(ours[i].ClassIndex, found[i].ClassIndex);
        }
    }

    [Fact]
    public void A_run_allocates_almost_nothing_and_bad_arguments_are_clear_errors()
    {
        using var ort = DetectorOnnxBaseline.FromWeights(s_weights.Value, 1);
        var input = Noise();
        var boxes = new byte[Anchors * 4];
        var scores = new byte[Anchors * Classes];
        for (int i = 0; i < 3; i++) ort.Run(input, boxes, scores);
        const int runs = 10;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++) ort.Run(input, boxes, scores);
        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;
        output.WriteLine($"managed allocation per detector ORT run: {perRun} bytes");
        Assert.True(perRun <= 2048, $"a detector ORT run allocates {perRun} bytes on the managed heap");

        Assert.Throws<ArgumentException>(() => ort.Run(new byte[10], boxes, scores));
        Assert.Throws<ArgumentException>(() => ort.Run(input, new byte[4], scores));
        Assert.Throws<ArgumentException>(() => ort.Run(input, boxes, new byte[91]));
        Assert.Throws<KeyNotFoundException>(() => ort.Output("conv0"));
        Assert.ThrowsAny<ArgumentException>(() => DetectorOnnxBaseline.FromWeights(s_weights.Value, 0));
        // A classifier file is not a detector.
        Assert.Throws<WeightsFormatException>(() => DetectorOnnxExporter.Export(SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights("mobilenet_v1_0.25_128_quant")))));
        ort.Run(input, boxes, scores); // still works
    }

    // Measured with ONNX Runtime 1.31.1 on x64 (Intel Xeon with AVX-512 VNNI), end to end against the generated detector:
    //   noise:         box encodings 2604 of 7668 bytes differ, max 5; class scores 4610 of 174447 differ, max 4
    //   cats_and_dogs: box encodings 2170 of 7668 bytes differ, max 5; class scores 5596 of 174447 differ, max 6
    // (class logits before the sigmoid: 58446 / 54600 of 174447 differ, max 4 / 3). Every single operator on ORT's own input:
    // max 1, and QLinearConcat and QLinearSigmoid agree exactly with TFLite's CONCATENATION and LOGISTIC on these inputs.
    // The bounds: about 25 % more differing bytes, and 8 units.
    private const int NoiseBoxMax = 8, NoiseBoxDiffer = 3300, NoiseScoreMax = 8, NoiseScoreDiffer = 7000;
    private const int PhotoBoxMax = 8, PhotoBoxDiffer = 3300, PhotoScoreMax = 8, PhotoScoreDiffer = 7000;
}
