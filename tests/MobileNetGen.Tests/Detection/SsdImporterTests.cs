using System.Buffers.Binary;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Runtime.Labels;
using MobileNetGen.Tests.Importers;
using MobileNetGen.Tests.Quantized;
using MobileNetGen.Tests.Reference;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The SSD importer on Google's detect.tflite: what it imports is checked against the raw flatbuffer (the test-side readers
/// <see cref="RawTflite"/> and <see cref="SsdModelFile"/>, not the importer's), the committed canonical file is what the
/// importer gives today, and hostile patched copies are refused with an <see cref="ImportException"/> that says why.
/// </summary>
public class SsdImporterTests : IDisposable
{
    public const string Entry = "ssd_mobilenet_v1_0.75_300_coco_quant";
    private const string Model = SsdModelFile.RelativePath;

    private readonly TempFolder _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static readonly Lazy<SafeTensorsFile> s_imported = new(() => MobileNetImporter.Import(SharedData.Model(Model), new ImportOptions()));
    private static SafeTensorsFile Imported => s_imported.Value;

    private static string LabelMap => SharedData.Model("ssd-mobilenet-v1-coco-quant/labelmap.txt");

    [SharedDataFact]
    public void RealModel_Imports_AndTheCommittedFileIsWhatTheImporterGives()
    {
        var file = Imported;
        Assert.Equal("ssd_mobilenet_v1", file.GetMetadata("architecture"));
        Assert.Equal(Entry, file.GetMetadata("name"));
        Assert.Equal("uint8", file.GetMetadata("precision"));
        Assert.Equal("genuine-uint8", file.GetMetadata("weights"));
        Assert.Equal("0.75", file.GetMetadata("alpha"));
        Assert.Equal("300", file.GetMetadata("resolution"));
        Assert.Equal("91", file.GetMetadata("num_classes"));
        Assert.Equal("true", file.GetMetadata("background_class"));
        Assert.Equal("coco", file.GetMetadata("labels"));
        Assert.Equal("ssd-mobilenet-v1-coco-quant/detect.tflite", file.GetMetadata("source"));
        Assert.Equal("e4b118e5e4531945de2e659742c7c590f7536f8d0ed26d135abcfe83b4779d13", file.GetMetadata("source_sha256"));
        // 47 convolutions × (weight, bias) + anchors.
        Assert.Equal(95, file.Tensors.Count);
        Assert.Empty(DetectorWeights.ValidateDetector(file));
        Assert.Empty(DetectorWeights.ValidateDetector(file.Header())); // the generator's view: the header only
        // Deterministic, and weights/ holds exactly this.
        byte[] bytes = file.Write();
        Assert.Equal(bytes, MobileNetImporter.Import(SharedData.Model(Model), new ImportOptions()).Write());
        Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(RepoPaths.Weights(Entry))),
            "weights/" + Entry + ".safetensors is not what the importer gives: run weights/import-all.sh");
    }

    [SharedDataFact]
    public void Layers_MatchTheRawFlatbuffer_KernelsBiasesAndEveryScale()
    {
        var raw = new RawTflite(File.ReadAllBytes(SharedData.Model(Model)));
        var ssd = SsdModelFile.Load();
        var net = DetectorWeights.DetectorOf(Imported);
        var convOps = raw.OperatorsOf(3, 4); // CONV_2D, DEPTHWISE_CONV_2D in operator order
        Assert.Equal(47, convOps.Count);
        Assert.Equal(convOps.Count, net.Layers.Count);
        for (int k = 0; k < convOps.Count; k++)
        {
            var l = net.Layers[k];
            int[] ins = raw.OperatorInputs(convOps[k]);
            int output = raw.OperatorOutputs(convOps[k])[0];
            Assert.Equal(raw.TensorName(output), l.Source);
            // Shapes: NHWC activations, OHWI filters (depthwise 1HWC).
            Assert.Equal(new[] { 1 }.Concat(l.InputShape), raw.TensorShape(ins[0]));
            Assert.Equal(new[] { 1 }.Concat(l.OutputShape), raw.TensorShape(output));
            // Every scale bit for bit, every zero point.
            void Same(QuantParams p, int tensor)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(raw.Scales(tensor).Single()), BitConverter.SingleToInt32Bits(p.Scale));
                Assert.Equal(raw.ZeroPoints(tensor).Single(), p.ZeroPoint);
            }
            Same(l.Quantization.Input, ins[0]);
            Same(l.Quantization.Weight, ins[1]);
            Same(l.Quantization.Output, output);
            Assert.Equal(BitConverter.SingleToInt32Bits(raw.Scales(ins[2]).Single()), BitConverter.SingleToInt32Bits(l.Quantization.BiasScale));
            // The kernel: HWIO back to OHWI gives the file's bytes; the bias is the file's int32s.
            byte[] hwio = Imported.Find(l.WeightTensor)!.Data;
            byte[] src = raw.TensorData(ins[1]);
            int kh = l.KernelShape[0], kw = l.KernelShape[1], ci = l.KernelShape[2], co = l.KernelShape[3];
            if (l.Kind == DetectorLayerKind.Depthwise3x3) Assert.Equal(src, hwio);
            else
                for (int o = 0; o < co; o++)
                    for (int h = 0; h < kh; h++)
                        for (int w = 0; w < kw; w++)
                            for (int i = 0; i < ci; i++)
                                Assert.Equal(src[((o * kh + h) * kw + w) * ci + i], hwio[((h * kw + w) * ci + i) * co + o]);
            Assert.Equal(raw.TensorData(ins[2]), Imported.Find(l.BiasTensor)!.Data);
        }
        // The anchors: the constant's bytes and quantization; the options: the map TFLite's Init reads.
        Assert.Equal(ssd.Anchors.Data, Imported.Find("anchors")!.Data);
        Assert.Equal(ssd.Anchors.Quantization, new Quantization(net.Anchors.Quantization.Scale, net.Anchors.Quantization.ZeroPoint));
        Assert.Equal(ssd.BoxEncodings.Quantization, new Quantization(net.BoxConcat.Output.Scale, net.BoxConcat.Output.ZeroPoint));
        Assert.Equal(ssd.ClassScores.Quantization, new Quantization(net.Logistic.Output.Scale, net.Logistic.Output.ZeroPoint));
        Assert.Equal(ssd.Tensor("concat_1").Quantization, new Quantization(net.ClassConcat.Output.Scale, net.ClassConcat.Output.ZeroPoint));
        Assert.Equal(ssd.PostprocessOptionBytes, net.Postprocess.CustomOptions);
    }

    [SharedDataFact]
    public void Structure_IsTheSurveyedGraph()
    {
        var net = DetectorWeights.DetectorOf(Imported);
        // docs/ssd-graph.md: six feature maps, 3 then 6 anchors per cell, 1917 anchors, 91 class columns.
        Assert.Equal(new[] { "block11.pointwise", "block13.pointwise", "extra1.conv3x3", "extra2.conv3x3", "extra3.conv3x3", "extra4.conv3x3" }, net.Heads.Select(h => h.Feature));
        Assert.Equal(new[] { 3, 6, 6, 6, 6, 6 }, net.Heads.Select(h => h.AnchorsPerCell));
        Assert.Equal(new[] { 19, 10, 5, 3, 2, 1 }, net.Heads.Select(h => h.GridHeight));
        Assert.Equal(new[] { 0, 1083, 1683, 1833, 1887, 1911 }, net.Heads.Select(h => h.RowOffset));
        Assert.Equal(1917, net.Anchors.Count);
        Assert.Equal(91, net.Classes);
        Assert.Equal(new[] { 24, 48, 96, 96, 192, 192, 384, 384, 384, 384, 384, 384, 768, 768 },
            net.Layers.Where(l => l.Role == DetectorLayerRole.Backbone && l.Kind != DetectorLayerKind.Depthwise3x3).Select(l => l.OutC));
        Assert.Equal(new[] { 192, 384, 96, 192, 96, 192, 48, 96 }, net.Layers.Where(l => l.Role == DetectorLayerRole.Extra).Select(l => l.OutC));
        Assert.All(net.Layers.Where(l => l.Role == DetectorLayerRole.Extra), l => Assert.Equal(QuantizedActivation.Relu6, l.Quantization.Activation));
        Assert.All(net.Layers.Where(l => l.Role == DetectorLayerRole.Backbone), l => Assert.Equal(QuantizedActivation.None, l.Quantization.Activation));
        Assert.Equal(new QuantParams(1f / 256, 0), net.Logistic.Output);
        Assert.Equal(new QuantParams(0.049736768f, 223), net.ClassConcat.Output);
        // Padding: stride 2 on odd sizes pads 1 on both sides (75 → 38, 19 → 10, 5 → 3, 3 → 2), on even sizes 0 before, 1 after.
        var l4 = net.Layer("block4.depthwise");
        Assert.Equal((1, 1, 1, 1), (l4.PadTop, l4.PadBottom, l4.PadLeft, l4.PadRight));
        var l0 = net.Layer("conv0");
        Assert.Equal((0, 1, 0, 1), (l0.PadTop, l0.PadBottom, l0.PadLeft, l0.PadRight));
        // The label map: 91 lines, "???" first, equal to the runtime's COCO list.
        Assert.Equal(CocoLabels.All, DetectorWeights.LabelsOf(Imported, net));
    }

    [SharedDataFact]
    public void Options_AreWhatTflitesInitReads_AndGiveTheRuntimeOptions()
    {
        var post = DetectorWeights.DetectorOf(Imported).Postprocess;
        // The test-side transcription of Init (SsdOptions.FromFlexBuffer), independent of the importer's.
        var expected = SsdOptions.FromFlexBuffer(SsdModelFile.Load().PostprocessOptionBytes);
        var product = DetectionPostprocessOptions.From(post);
        Assert.Equal(expected.ToString(), product.ToString());
        Assert.Equal(BitConverter.SingleToInt32Bits(expected.NmsScoreThreshold), BitConverter.SingleToInt32Bits(product.NmsScoreThreshold));
        Assert.Equal(new[] { "detections_per_class", "use_regular_nms" }, post.Defaulted);
        Assert.Equal("TFLite_Detection_PostProcess", post.Source);
    }

    [SharedDataFact]
    public void Cli_Import_WritesTheEntry()
    {
        var ctx = new MobileNetGen.Cli.Commands.CliContext(new StringWriter(), new StringWriter(), interactive: false);
        int code = MobileNetGen.Cli.Commands.ImportCommand.Execute(ctx, SharedData.Model(Model), null, _tmp.Path, null);
        Assert.Equal(0, code);
        Assert.Equal(File.ReadAllBytes(RepoPaths.Weights(Entry)), File.ReadAllBytes(Path.Combine(_tmp.Path, Entry + ".safetensors")));
    }

    [SharedDataFact]
    public void Labels_ComeFromBesideTheModel_OrTheOption_AndMustFit()
    {
        // A copy without labelmap.txt beside it: refused, with the way out.
        string lone = _tmp.File("lone/detect.tflite", File.ReadAllBytes(SharedData.Model(Model)));
        AssertMessage(Refused(lone, withLabels: false), "no label map", "--labels");
        // --labels with the wrong count.
        string few = _tmp.File("few.txt", "???\nperson\n"u8.ToArray());
        AssertMessage(Assert.Throws<ImportException>(() => MobileNetImporter.Import(lone, new ImportOptions { LabelsPath = few })), "2 labels", "91 class columns");
        // --labels that are not COCO's: a custom entry.
        var custom = Enumerable.Range(0, 91).Select(i => i == 0 ? "background" : $"thing {i}").ToArray();
        var file = MobileNetImporter.Import(lone, new ImportOptions { Labels = custom });
        Assert.Equal("custom", file.GetMetadata("labels"));
        Assert.Equal("ssd_mobilenet_v1_0.75_300_custom_quant", file.GetMetadata("name"));
        Assert.Equal(custom, DetectorWeights.LabelsOf(file, DetectorWeights.DetectorOf(file)));
        // Classifier options do not apply.
        AssertMessage(Assert.Throws<ImportException>(() => MobileNetImporter.Import(lone, new ImportOptions { Labels = custom, Variant = new VariantName(0.75, 224) })), "--variant");
    }

    // ------------------------------------------------------------------ hostile copies

    private byte[] Original => File.ReadAllBytes(SharedData.Model(Model));

    private string Patched(string name, Action<byte[], RawTflite> patch)
    {
        byte[] b = Original;
        patch(b, new RawTflite(Original));
        return _tmp.File(name + ".tflite", b);
    }

    private static ImportException Refused(string path, bool withLabels = true) =>
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(path, withLabels ? new ImportOptions { LabelsPath = LabelMap } : new ImportOptions()));

    private static void AssertMessage(ImportException e, params string[] parts)
    {
        foreach (string p in parts) Assert.True(e.Message.Contains(p, StringComparison.Ordinal), $"message lacks '{p}': {e.Message}");
    }

    private static int OperatorWith(RawTflite raw, int builtin) => raw.OperatorsOf(builtin).Single();

    private static int PostprocessOperator(RawTflite raw) =>
        Enumerable.Range(0, raw.OperatorCount).Single(i => raw.OpcodeCustomCode(raw.OperatorOpcode(i)) == "TFLite_Detection_PostProcess");

    [SharedDataFact]
    public void Truncated_IsRefused()
    {
        byte[] full = Original;
        // Cut anywhere from the header to the operator codes' shared vtable, 9 bytes before the end. (The file's last 8 bytes,
        // a table at 4,183,304, are not pointed at by anything the importer reads: a copy without them imports the same.)
        var accepted = new List<int>();
        foreach (int len in new[] { 3, 8, 16, 100, 4096, 956_532, full.Length / 2, full.Length - 7_000, full.Length - 64, full.Length - 9 })
        {
            string p = _tmp.File($"trunc{len}.tflite", full.AsSpan(0, len).ToArray());
            try { MobileNetImporter.Import(p, new ImportOptions { LabelsPath = LabelMap }); accepted.Add(len); }
            catch (ImportException) { }
        }
        Assert.True(accepted.Count == 0, "accepted truncated lengths: " + string.Join(", ", accepted));
    }

    [SharedDataFact]
    public void WrongOperator_IsRefused()
    {
        // LOGISTIC (14) → TANH (28).
        string tanh = Patched("tanh", (b, raw) => b[raw.FieldPosition(raw.Opcode(raw.OperatorOpcode(OperatorWith(raw, 14))), 0)] = 28);
        AssertMessage(Refused(tanh), "TANH", "not part of the SSD detector");
        // The custom code renamed: an unknown custom operator.
        string custom = Patched("custom", (b, raw) =>
        {
            var (start, count) = raw.OpcodeCustomCodeBytes(raw.OperatorOpcode(PostprocessOperator(raw)));
            Assert.Equal("TFLite_Detection_PostProcess", RawTflite.Ascii(b, start, count));
            b[start + 27] = (byte)'X';
        });
        AssertMessage(Refused(custom), "TFLite_Detection_PostProcesX", "not part of the SSD detector");
    }

    [SharedDataFact]
    public void DifferentOperatorOrder_IsRefused()
    {
        // Swap operators 1 (block1.depthwise) and 2 (block1.pointwise): slots hold offsets relative to themselves.
        string swapped = Patched("swap", (b, raw) =>
        {
            int p1 = raw.OperatorSlotPosition(1), p2 = raw.OperatorSlotPosition(2);
            int t1 = p1 + BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(p1)), t2 = p2 + BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(p2));
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(p1), t2 - p1);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(p2), t1 - p2);
        });
        AssertMessage(Refused(swapped), "operator 1", "before the operator that writes it");
        // The box predictor of head 0 reading the wrong feature map (block12.pointwise's output instead of block11's).
        string rewired = Patched("rewired", (b, raw) =>
        {
            int box0 = raw.OperatorsOf(3, 4)[35];
            int wrong = raw.OperatorOutputs(raw.OperatorsOf(3, 4)[24])[0];
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(raw.OperatorInputsPosition(box0)), wrong);
        });
        AssertMessage(Refused(rewired), "box0", "a different wiring or operator order");
    }

    [SharedDataFact]
    public void FloatTensor_IsRefused()
    {
        string f = Patched("float", (b, raw) => b[raw.TensorTypePosition(raw.TensorIndex("FeatureExtractor/MobilenetV1/MobilenetV1/Conv2d_5_pointwise/Relu6"))] = 0);
        AssertMessage(Refused(f), "Conv2d_5_pointwise/Relu6", "float32");
        string input = Patched("float-input", (b, raw) => b[raw.TensorTypePosition(raw.Inputs[0])] = 0);
        AssertMessage(Refused(input), "normalized_input_image_tensor", "float32");
    }

    [SharedDataFact]
    public void PerChannelQuantization_IsRefused()
    {
        // block3.pointwise's filter with two scales (the second is whatever follows in the file).
        string pc = Patched("perchannel", (b, raw) =>
        {
            int filter = raw.OperatorInputs(raw.OperatorsOf(3, 4)[6])[1];
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(raw.ScaleDataPosition(filter) - 4), 2);
        });
        AssertMessage(Refused(pc), "per-channel");
    }

    [SharedDataFact]
    public void MissingCustomOptions_IsRefused()
    {
        string none = Patched("nooptions", (b, raw) =>
        {
            var (start, _) = raw.CustomOptions(PostprocessOperator(raw));
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(start - 4), 0);
        });
        AssertMessage(Refused(none), "has no custom options");
        // Options that are not a FlexBuffer map (the root type byte says INT).
        string notMap = Patched("notmap", (b, raw) =>
        {
            var (start, count) = raw.CustomOptions(PostprocessOperator(raw));
            b[start + count - 2] = (1 << 2) | 2;
        });
        AssertMessage(Refused(notMap), "custom options", "not a map");
    }

    [SharedDataFact]
    public void OptionsOutOfRange_AreRefused()
    {
        string Patch(string name, byte[] from, byte[] to) => Patched(name, (b, raw) =>
        {
            var (start, count) = raw.CustomOptions(PostprocessOperator(raw));
            var span = b.AsSpan(start, count);
            int at = span.IndexOf(from);
            Assert.True(at >= 0 && span[(at + 1)..].IndexOf(from) < 0, "the value's bytes must occur once in the options");
            to.CopyTo(span[at..]);
        });
        // nms_iou_threshold 0.6 → 1.5 (TFLite requires (0, 1]).
        AssertMessage(Refused(Patch("iou", BitConverter.GetBytes(0.6f), BitConverter.GetBytes(1.5f))), "nms_iou_threshold 1.5", "(0, 1]");
        // num_classes 90 → 80: does not fit the 91 class columns.
        AssertMessage(Refused(Patch("classes", BitConverter.GetBytes(90), BitConverter.GetBytes(80))), "num_classes 80", "91 columns");
        // nms_score_threshold 1e-8 → NaN.
        AssertMessage(Refused(Patch("nan", BitConverter.GetBytes(1e-8f), BitConverter.GetBytes(float.NaN))), "nms_score_threshold is NaN");
    }

    [SharedDataFact]
    public void MissingOrMisshapenAnchors_AreRefused()
    {
        string empty = Patched("noanchors", (b, raw) =>
        {
            int anchors = raw.OperatorInputs(PostprocessOperator(raw))[2];
            var (start, _) = raw.BufferDataVector(raw.TensorBuffer(anchors));
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(start - 4), 0);
        });
        AssertMessage(Refused(empty), "anchors", "no constant data");
        string shape = Patched("anchorshape", (b, raw) =>
        {
            int anchors = raw.OperatorInputs(PostprocessOperator(raw))[2];
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(raw.TensorShapePosition(anchors)), 1916);
        });
        AssertMessage(Refused(shape), "anchors", "[1917,4]");
    }

    [SharedDataFact]
    public void DifferentShape_IsRefused()
    {
        // class0's filter claims 274 output channels.
        string shape = Patched("shape", (b, raw) =>
        {
            int filter = raw.OperatorInputs(raw.OperatorsOf(3, 4)[36])[1];
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(raw.TensorShapePosition(filter)), 274);
        });
        Refused(shape);
        // LOGISTIC's output with another zero point (TFLite's uint8 LOGISTIC requires 1/256 and 0).
        string zp = Patched("logistic-zp", (b, raw) =>
        {
            int output = raw.OperatorOutputs(OperatorWith(raw, 14))[0];
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(raw.ZeroPointDataPosition(output)), 1);
        });
        AssertMessage(Refused(zp), "1/256");
    }
}
