using System.Text.Json.Nodes;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Tests.Reference;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The canonical detector format (weights/README.md, "Detector (uint8 SSD) entries") as the generator reads it — header only,
/// <see cref="DetectorWeights.DetectorOf"/> and <see cref="DetectorWeights.ValidateDetector"/> — on the committed file and on
/// copies whose <c>detector</c> metadata or tensors were edited: each edit is a clear <see cref="WeightsFormatException"/>
/// (malformed) or a listed problem (inconsistent), never another exception.
/// </summary>
public class DetectorFormatTests
{
    private static readonly Lazy<SafeTensorsFile> s_file = new(() => SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights(SsdImporterTests.Entry))));
    private static SafeTensorsFile File0 => s_file.Value;

    /// <summary>A copy with the <c>detector</c> JSON edited (and optionally other metadata or the tensor list).</summary>
    private static SafeTensorsFile Edited(Action<JsonObject> edit, Action<Dictionary<string, string>>? meta = null, Func<List<Tensor>, List<Tensor>>? tensors = null)
    {
        var m = new Dictionary<string, string>(File0.Metadata);
        var json = JsonNode.Parse(m["detector"])!.AsObject();
        edit(json);
        m["detector"] = json.ToJsonString();
        meta?.Invoke(m);
        var t = tensors?.Invoke(File0.Tensors.ToList()) ?? File0.Tensors;
        return new SafeTensorsFile(m, t);
    }

    private static JsonObject Layer(JsonObject d, string name) => d["layers"]!.AsArray().Select(n => n!.AsObject()).Single(l => (string)l["name"]! == name);

    private static void Problem(SafeTensorsFile f, string part)
    {
        var problems = DetectorWeights.ValidateDetector(f.Header());
        Assert.True(problems.Any(p => p.Contains(part, StringComparison.Ordinal)), $"no problem mentions '{part}': {string.Join(" | ", problems)}");
    }

    private static void Malformed(SafeTensorsFile f, string part)
    {
        var e = Assert.Throws<WeightsFormatException>(() => DetectorWeights.DetectorOf(f.Header()));
        Assert.Contains(part, e.Message);
        // ValidateDetector reports it as its one problem.
        Assert.Contains(DetectorWeights.ValidateDetector(f.Header()), p => p.Contains(part, StringComparison.Ordinal));
    }

    [Fact]
    public void CommittedFile_ReadsFromTheHeaderAlone_AndWritesBackTheSameJson()
    {
        var header = File0.Header();
        Assert.Empty(DetectorWeights.ValidateDetector(header));
        Assert.True(DetectorWeights.IsDetector(header));
        var net = DetectorWeights.DetectorOf(header);
        Assert.Equal(File0.GetMetadata("detector"), DetectorWeights.ToJson(net)); // deterministic round trip
        Assert.Equal(47, net.Layers.Count);
        Assert.Equal(File0.Tensors.Select(t => t.Name), header.TensorNames);
        Assert.Equal(File0.Tensors.Select(t => t.Name), File0.TensorNames);
        Assert.Equal(91, DetectorWeights.LabelsOf(header, net).Length);
        // Every tensor the header lists belongs to a layer or is the anchors; every layer's tensors have their shapes.
        foreach (var l in net.Layers)
        {
            Assert.Equal(l.KernelShape, header.FindEntry(l.WeightTensor)!.Shape);
            Assert.Equal(TensorDType.I32, header.FindEntry(l.BiasTensor)!.DType);
        }
        // The classifier readers refuse it by name.
        Assert.Contains("ssd_mobilenet_v1", Assert.Throws<WeightsFormatException>(() => CanonicalWeights.ArchitectureOf(header)).Message);
        // 728 M multiply-accumulates (backbone 0.75 at 300 px, extras, predictors; every 3×3 tap counted, padding included).
        Assert.Equal(728_036_496L, net.Macs);
    }

    [Fact]
    public void RuntimeOptions_ComeFromTheFile()
    {
        var o = DetectionPostprocessOptions.From(DetectorWeights.DetectorOf(File0).Postprocess);
        Assert.Equal((10, 1, 100, false, 90), (o.MaxDetections, o.MaxClassesPerDetection, o.DetectionsPerClass, o.UseRegularNms, o.NumClasses));
        Assert.Equal((1e-8f, 0.6f, 10f, 10f, 5f, 5f), (o.NmsScoreThreshold, o.NmsIouThreshold, o.YScale, o.XScale, o.HScale, o.WScale));
    }

    [Fact]
    public void MalformedMetadata_IsAWeightsFormatException_NamingTheKey()
    {
        Malformed(Edited(_ => { }, m => m.Remove("detector")), "metadata 'detector' is missing");
        Malformed(Edited(_ => { }, m => m["detector"] = "{\"layers\":"), "not valid JSON");
        Malformed(Edited(_ => { }, m => m["architecture"] = "mobilenet_v1"), "not an SSD detector but a classifier");
        Malformed(Edited(_ => { }, m => m["precision"] = "float32"), "only uint8-quantized detectors");
        Malformed(Edited(d => d["extra"] = 1), "detector: unknown key 'extra'");
        Malformed(Edited(d => Layer(d, "conv0")["kind"] = "conv5x5"), "kind 'conv5x5' is not supported");
        Malformed(Edited(d => Layer(d, "block3.pointwise")["quantization"]!["weight"]!["zero_point"] = 1.5), "zero_point 1.5 is not an integer");
        Malformed(Edited(d => Layer(d, "box0")["quantization"]!["output"]!["scale"] = 0.079), "must be a JSON string holding a float");
        Malformed(Edited(d => d["anchors"]!["encoding"] = new JsonArray("ymin", "xmin", "ymax", "xmax")), "CenterSizeEncoding");
        Malformed(Edited(d => d["postprocess"]!.AsObject().Remove("use_regular_nms")), "use_regular_nms is missing");
        Malformed(Edited(d => d["postprocess"]!["defaulted"] = new JsonArray("score_threshold")), "not an option of TFLite_Detection_PostProcess");
        Malformed(Edited(d => d["heads"]![0]!["grid"] = new JsonArray(19)), "grid has 1 entries");
        Malformed(Edited(d => d["layers"]!.AsArray().Add(JsonNode.Parse(Layer(d, "conv0").ToJsonString()))), "'conv0' appears twice");
    }

    [Fact]
    public void InconsistentGraphs_AreListedProblems()
    {
        Problem(Edited(d => Layer(d, "block4.depthwise")["padding"]!["top"] = 0), "is not TensorFlow SAME's");
        Problem(Edited(d => Layer(d, "block4.depthwise")["output_shape"] = new JsonArray(37, 37, 96)), "is not SAME's");
        Problem(Edited(d => Layer(d, "block2.depthwise")["input"] = "block5.pointwise"), "neither 'image' nor an earlier layer");
        Problem(Edited(d => Layer(d, "extra1.pointwise")["quantization"]!["input"]!["zero_point"] = 3), "input quantization");
        Problem(Edited(d => Layer(d, "conv0")["quantization"]!["bias_scale"] = "0.001"), "bias scale");
        Problem(Edited(d => Layer(d, "class3")["input"] = "extra3.conv3x3"), "reads 'extra3.conv3x3', not the head's feature map");
        Problem(Edited(d => d["heads"]![2]!["rows"]!["count"] = 149), "149 rows");
        Problem(Edited(d => d["heads"]![1]!["anchors_per_cell"] = 5), "channels, expected 4 × 5");
        Problem(Edited(d => d["class_concat"]!["inputs"]![5] = "class4"), "expected head 5's 'class5'");
        Problem(Edited(d => d["box_concat"]!["shape"] = new JsonArray(1916, 4)), "1916 rows");
        Problem(Edited(d => d["logistic"]!["output"]!["zero_point"] = 1), "1/256");
        Problem(Edited(d => d["logistic"]!["input"]!["scale"] = "0.05"), "differs from class_concat output");
        Problem(Edited(d => d["anchors"]!["shape"] = new JsonArray(1916, 4)), "1916 anchors");
        Problem(Edited(d => d["postprocess"]!["nms_iou_threshold"] = "1.5"), "nms_iou_threshold 1.5");
        Problem(Edited(d => d["postprocess"]!["num_classes"] = 80), "does not fit the class tensor's 91 columns");
        Problem(Edited(d => d["postprocess"]!["h_scale"] = "0"), "h_scale 0");
        Problem(Edited(d => d["classes"] = 92), "differs from the detector's 92 class columns");
        Problem(Edited(_ => { }, m => m["labels_json"] = "[\"???\"]"), "holds 1 labels");
        Problem(Edited(_ => { }, tensors: t => t.Where(x => x.Name != "anchors").ToList()), "tensor 'anchors' is missing");
        Problem(Edited(_ => { }, tensors: t => t.Append(Tensor.FromBytes("extra.weight", new[] { 1 }, new byte[1])).ToList()), "tensor 'extra.weight' does not belong");
        Problem(Edited(_ => { }, tensors: t => t.Select(x => x.Name == "box0.bias" ? Tensor.FromBytes("box0.bias", new[] { 48 }, new byte[48]) : x).ToList()), "tensor 'box0.bias' is U8");
        // A layer nothing reads: a dead end (extra4.conv3x3 relabelled as backbone, no head uses box5/class5 any more).
        Problem(Edited(d =>
        {
            var heads = d["heads"]!.AsArray();
            heads.RemoveAt(5);
            foreach (var key in new[] { "box_concat", "class_concat" }) d[key]!["inputs"]!.AsArray().RemoveAt(5);
        }), "is a predictor of no head");
    }
}
