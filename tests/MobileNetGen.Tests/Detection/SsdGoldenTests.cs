using System.Globalization;
using System.Text;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Labels;
using MobileNetGen.Tests.ObjectDetection.Reference;
using MobileNetGen.Tests.Reference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The reference SSD (<see cref="ReferenceSsd"/>, TFLite's reference kernels on the canonical file) checked against the raw
/// .tflite, and end to end on cats_and_dogs.jpg against tflite-support's published detections (<see cref="GoldenDetections"/>).
/// </summary>
public class SsdGoldenTests(ITestOutputHelper output)
{
    private static readonly Lazy<ReferenceSsd> s_reference = new(() => ReferenceSsd.ForEntry(SsdImporterTests.Entry));

    /// <summary>The reference pass on the Task Library's input for cats_and_dogs.jpg (about a second of scalar code; run once).</summary>
    private static readonly Lazy<(byte[] Input, ReferenceSsd.Result Result)> s_catsAndDogs = new(() =>
    {
        using var image = Image.Load<Rgb24>(Path.Combine(SharedData.Root!, GoldenDetections.ImageRelativePath));
        var pre = new DetectorPreprocessor(300, 300);
        var input = new byte[pre.OutputLength];
        pre.Preprocess(image, input);
        return (input, s_reference.Value.Forward(input));
    });

    [Fact]
    public void Reference_ReadsTheCommittedFile_WithTflitesArithmetic()
    {
        var r = s_reference.Value;
        Assert.Equal(47, r.Layers.Count);
        Assert.Equal(1917, r.AnchorCount);
        Assert.Equal(91, r.Classes);
        Assert.Equal((300, 300, 3), (r.InputHeight, r.InputWidth, r.InputChannels));
        Assert.Equal(new[] { 1083, 600, 150, 54, 24, 6 }, r.Heads.Select(h => h.Rows));
        Assert.Equal("class5", r.Layers[^1].Name);
    }

    [SharedDataFact]
    public void Reference_FiltersAndBiases_AreTheTflitesBytes_ThroughTheImportersReader()
    {
        // The importer's own flatbuffer reader on the raw file; the reference turned the canonical HWIO back into OHWI.
        byte[] bytes = File.ReadAllBytes(SharedData.Model(SsdModelFile.RelativePath));
        var fb = TfliteFlatbuffer.Parse(bytes, "detect.tflite");
        var convs = Enumerable.Range(0, fb.OperatorCount).Select(fb.Operator)
            .Where(o => o.Builtin is TfliteFlatbuffer.OpConv2D or TfliteFlatbuffer.OpDepthwiseConv2D).ToList();
        var r = s_reference.Value;
        Assert.Equal(convs.Count, r.Layers.Count);
        for (int k = 0; k < convs.Count; k++)
        {
            int[] ins = convs[k].Inputs;
            var layer = r.Layers[k];
            Assert.True(fb.Data(fb.Tensors[ins[1]], "filter").SequenceEqual(layer.Filter), $"{layer.Name}: filter bytes");
            var bias = fb.Data(fb.Tensors[ins[2]], "bias");
            Assert.Equal(bias.Length, 4 * layer.Bias.Length);
            for (int i = 0; i < layer.Bias.Length; i++) Assert.Equal(BitConverter.ToInt32(bias.Slice(4 * i, 4)), layer.Bias[i]);
            var q = fb.Quantization(fb.Tensors[convs[k].Outputs[0]])!;
            Assert.Equal(q.Scale[0], layer.Output.Scale);
            Assert.Equal((int)q.ZeroPoint[0], layer.Output.ZeroPoint);
        }
        var anchors = Enumerable.Range(0, fb.OperatorCount).Select(fb.Operator).Single(o => o.CustomCode == "TFLite_Detection_PostProcess").Inputs[2];
        Assert.True(fb.Data(fb.Tensors[anchors], "anchors").SequenceEqual(r.Anchors));
    }

    [SharedDataFact]
    public void Reference_Conv0_IsTheRealValuedConvolutionRoundedWithinOneStep()
    {
        // An independent reading of conv0's semantics: real = s_in·s_w·Σ(w − z_w)(x − z_x) + s_b·bias, y = z_out + real/s_out,
        // rounded and clamped. TFLite's fixed-point requantization may differ from the real-valued rounding by at most 1.
        var (input, result) = s_catsAndDogs.Value;
        var file = SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(SsdImporterTests.Entry)));
        var l = DetectorWeights.DetectorOf(file).Layer("conv0");
        byte[] w = file.Find("conv0.weight")!.Data; // HWIO [3,3,3,24]
        int[] b = file.Find("conv0.bias")!.ToInt32s();
        var q = l.Quantization;
        byte[] y = result.Layers["conv0"];
        int worst = 0, exact = 0;
        for (int oy = 0; oy < 150; oy++)
            for (int ox = 0; ox < 150; ox++)
                for (int oc = 0; oc < 24; oc++)
                {
                    long acc = 0;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = oy * 2 - l.PadTop + ky, ix = ox * 2 - l.PadLeft + kx;
                            if (iy < 0 || iy >= 300 || ix < 0 || ix >= 300) continue;
                            for (int ic = 0; ic < 3; ic++)
                                acc += (long)(w[((ky * 3 + kx) * 3 + ic) * 24 + oc] - q.Weight.ZeroPoint) * (input[(iy * 300 + ix) * 3 + ic] - q.Input.ZeroPoint);
                        }
                    double real = ((double)q.Input.Scale * q.Weight.Scale * acc + (double)q.BiasScale * b[oc]) / q.Output.Scale + q.Output.ZeroPoint;
                    int expected = (int)Math.Clamp(Math.Round(real, MidpointRounding.AwayFromZero), 0, 255);
                    int d = Math.Abs(expected - y[(oy * 150 + ox) * 24 + oc]);
                    worst = Math.Max(worst, d);
                    if (d == 0) exact++;
                }
        output.WriteLine($"conv0: {exact} of {150 * 150 * 24} outputs equal the real-valued rounding, worst difference {worst}");
        Assert.InRange(worst, 0, 1);
    }

    /// <summary>A detection in the Task Library's form: pixel box (origin, size), class index, score.</summary>
    private sealed record TaskDetection(int OriginX, int OriginY, int Width, int Height, int ClassIndex, float Score, NormalizedBox Box);

    [SharedDataFact]
    public void CatsAndDogs_MatchesTfliteSupportsGoldenDetections()
    {
        var (input, result) = s_catsAndDogs.Value;
        var reference = s_reference.Value;
        var file = SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(SsdImporterTests.Entry)));
        var net = DetectorWeights.DetectorOf(file);

        // The product post-processing on the reference network's raw outputs, configured from the canonical file.
        var options = DetectionPostprocessOptions.From(net.Postprocess);
        var anchorQ = new Quantization(net.Anchors.Quantization.Scale, net.Anchors.Quantization.ZeroPoint);
        var pp = new DetectionPostprocess(options, DetectionPostprocess.DequantizeAnchors(file.Find("anchors")!.Data, anchorQ), net.Classes,
            labelMap: DetectorWeights.LabelsOf(file, net));
        var detections = new Detection[pp.MaxDetectionCount];
        int count = pp.Run(result.BoxEncodings, new Quantization(net.BoxConcat.Output.Scale, net.BoxConcat.Output.ZeroPoint),
            result.ClassScores, new Quantization(net.Logistic.Output.Scale, net.Logistic.Output.ZeroPoint),
            GoldenDetections.ImageWidth, GoldenDetections.ImageHeight, detections);

        // The reference post-processing (run inside ReferenceSsd.Forward): identical, bit for bit.
        var r = result.Detections;
        Assert.Equal((float)count, r.NumDetections);
        for (int i = 0; i < count; i++)
        {
            var d = detections[i];
            Assert.Equal(r.DetectionClasses[i], d.ClassIndex);
            Assert.Equal(BitConverter.SingleToInt32Bits(r.DetectionScores[i]), BitConverter.SingleToInt32Bits(d.Score));
            Assert.Equal(new[] { r.DetectionBoxes[4 * i], r.DetectionBoxes[4 * i + 1], r.DetectionBoxes[4 * i + 2], r.DetectionBoxes[4 * i + 3] },
                new[] { d.Box.YMin, d.Box.XMin, d.Box.YMax, d.Box.XMax });
        }

        // The Task Library's results: the first max_results detections (its score threshold is below every one here),
        // boxes through OrientAndDenormalizeBoundingBox.
        var ours = detections.Take(count).Select(d =>
        {
            var (x, y, w, h) = GoldenDetections.ToTaskLibraryBox(d.Box, GoldenDetections.ImageWidth, GoldenDetections.ImageHeight);
            return new TaskDetection(x, y, w, h, d.ClassIndex, d.Score, d.Box);
        }).ToList();

        var report = new StringBuilder();
        report.AppendLine($"input: {input.Length} bytes; raw outputs: box encodings [{reference.AnchorCount},4], class scores [{reference.AnchorCount},{reference.Classes}]; {count} detections");
        report.AppendLine(" #  class          score        origin_x origin_y width height   normalized [ymin, xmin, ymax, xmax]");
        for (int i = 0; i < ours.Count; i++)
        {
            var t = ours[i];
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{i,2}  {t.ClassIndex,2} {CocoLabels.ForClass(t.ClassIndex),-10} {t.Score,-11:R}  {t.OriginX,8} {t.OriginY,8} {t.Width,5} {t.Height,6}   [{t.Box.YMin:R}, {t.Box.XMin:R}, {t.Box.YMax:R}, {t.Box.XMax:R}]"));
        }
        report.AppendLine("vs tflite-support (current, exact in object_detector_test.py):");
        int exactFields = 0, fields = 0;
        for (int i = 0; i < GoldenDetections.MaxResults; i++)
        {
            var g = GoldenDetections.Current[i];
            var t = ours[i];
            var diffs = new List<string>();
            void Field(string name, double ourValue, double golden)
            {
                fields++;
                if (ourValue == golden) exactFields++;
                else diffs.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {ourValue:R} vs {golden:R} ({ourValue - golden:+0.########;-0.########})"));
            }
            Field("origin_x", t.OriginX, g.OriginX); Field("origin_y", t.OriginY, g.OriginY); Field("width", t.Width, g.Width); Field("height", t.Height, g.Height);
            Field("class", t.ClassIndex, g.ClassIndex); Field("score", t.Score, g.Score);
            report.AppendLine($"  {i}: {(diffs.Count == 0 ? "identical" : string.Join(", ", diffs))}");
        }
        report.AppendLine($"  {exactFields} of {fields} fields identical");
        output.WriteLine(report.ToString());

        // tflite-support's tolerances (the earlier C++ ExpectApproximatelyEqual): class exact, score ± 0.05, box fields ± 3 px —
        // against both published versions; the class names through the label map.
        Assert.True(count >= GoldenDetections.MaxResults, $"only {count} detections");
        foreach (var golden in new[] { GoldenDetections.Current, GoldenDetections.Earlier })
            for (int i = 0; i < GoldenDetections.MaxResults; i++)
            {
                var g = golden[i];
                var t = ours[i];
                Assert.Equal(g.ClassIndex, t.ClassIndex);
                Assert.Equal(g.ClassName, detections[i].Label);
                Assert.InRange(t.Score, g.Score - GoldenDetections.EarlierScoreTolerance, g.Score + GoldenDetections.EarlierScoreTolerance);
                Assert.InRange(t.OriginX, g.OriginX - GoldenDetections.EarlierBoxTolerance, g.OriginX + GoldenDetections.EarlierBoxTolerance);
                Assert.InRange(t.OriginY, g.OriginY - GoldenDetections.EarlierBoxTolerance, g.OriginY + GoldenDetections.EarlierBoxTolerance);
                Assert.InRange(t.Width, g.Width - GoldenDetections.EarlierBoxTolerance, g.Width + GoldenDetections.EarlierBoxTolerance);
                Assert.InRange(t.Height, g.Height - GoldenDetections.EarlierBoxTolerance, g.Height + GoldenDetections.EarlierBoxTolerance);
            }
    }
}
