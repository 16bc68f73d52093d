using System.Security.Cryptography;
using MobileNetGen.Fuzzing;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Tests.Cli;
using MobileNetGen.Tests.Generated;
using Xunit;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// The uint8 TFLite importer on Google's five quantized networks: each imports and validates, the canonical tensors and
/// quantization parameters equal what the .tflite file holds (read by the independent <see cref="RawTflite"/>), the split
/// 1.0_224 pair becomes one model, the committed weights/ files are exactly what the importer writes today.
/// </summary>
public class QuantizedTfliteImporterTests
{
    internal static SafeTensorsFile Import(QuantizedEntries.Entry e) =>
        e.Head == null
            ? MobileNetImporter.Import(SharedData.Model(e.Source), new ImportOptions())
            : MobileNetImporter.ImportPair(SharedData.Model(e.Source), SharedData.Model(e.Head), new ImportOptions());

    private static readonly Dictionary<string, SafeTensorsFile> s_imported = new();

    private static SafeTensorsFile Imported(string name)
    {
        lock (s_imported)
        {
            if (!s_imported.TryGetValue(name, out var f)) s_imported[name] = f = Import(QuantizedEntries.Get(name));
            return f;
        }
    }

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Imports_validates_and_names_the_entry(string entry)
    {
        var e = QuantizedEntries.Get(entry);
        var file = Imported(entry);
        var arch = CanonicalWeights.ArchitectureOf(file);
        Assert.Empty(CanonicalWeights.ValidateQuantized(file, arch));
        Assert.Equal(entry, file.GetMetadata("name"));
        Assert.Equal(e.Variant, file.GetMetadata("variant"));
        Assert.Equal(VariantName.Parse(e.Variant), new VariantName(arch.Alpha, arch.Resolution, quantized: true));
        Assert.Equal("uint8", file.GetMetadata("precision"));
        Assert.Equal("genuine-uint8", file.GetMetadata("weights"));
        Assert.Equal("1001", file.GetMetadata("num_classes"));
        Assert.Equal("true", file.GetMetadata("background_class"));
        Assert.Equal("imagenet", file.GetMetadata("labels"));
        Assert.Null(file.GetMetadata("labels_json"));
        Assert.Equal("tflite", file.GetMetadata("source_format"));
        Assert.Equal("tflite-quant-2018", file.GetMetadata("release"));
        Assert.Equal(e.Source, file.GetMetadata("source"));
        Assert.Equal(Sha256(SharedData.Model(e.Source)), file.GetMetadata("source_sha256"));
        Assert.Equal(e.Head, file.GetMetadata("head_source"));
        if (e.Head != null) Assert.Equal(Sha256(SharedData.Model(e.Head)), file.GetMetadata("head_source_sha256"));
        // 28 convolutions × (U8 weight, I32 bias); no float tensors at all.
        Assert.Equal(56, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(t.Name.EndsWith(".weight", StringComparison.Ordinal) ? TensorDType.U8 : TensorDType.I32, t.DType));
        // The float path's checks refuse it, naming the reason.
        Assert.Contains(CanonicalWeights.Validate(file, arch), p => p.Contains("uint8-quantized", StringComparison.Ordinal));
        var q = CanonicalWeights.QuantizationOf(file);
        Assert.Equal(new QuantParams(1f / 128, 128), q.Input);
        Assert.Equal(new QuantParams(1f / 256, 0), q.Softmax!.Output);
        Assert.Equal(1f, q.Softmax.Beta);
    }

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Committed_weights_file_is_what_the_importer_writes(string entry)
    {
        // Deterministic output, and weights/ is up to date with the importer.
        byte[] fresh = Imported(entry).Write();
        Assert.Equal(fresh, Import(QuantizedEntries.Get(entry)).Write());
        Assert.True(fresh.AsSpan().SequenceEqual(File.ReadAllBytes(Reference.RepoPaths.Weights(entry))),
            $"weights/{entry}.safetensors differs from a fresh import: run weights/import-all.sh");
    }

    /// <summary>
    /// The second reference: every convolution's kernel, bias and quantization in the canonical file against the raw
    /// flatbuffer, read with <see cref="RawTflite"/> — OHWI transposed by hand here, depthwise 1HWC verbatim.
    /// </summary>
    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Canonical_tensors_equal_the_raw_flatbuffer(string entry)
    {
        var e = QuantizedEntries.Get(entry);
        var file = Imported(entry);
        var arch = CanonicalWeights.ArchitectureOf(file);
        var q = CanonicalWeights.QuantizationOf(file);
        var layers = arch.Layers.Where(l => l.Kind != LayerKind.GlobalAveragePool).ToList();

        // The convolutions in operator order, across both files for the pair.
        var sources = new List<(RawTflite Raw, int Op)>();
        var backbone = new RawTflite(File.ReadAllBytes(SharedData.Model(e.Source)));
        sources.AddRange(backbone.OperatorsOf(3, 4).Select(op => (backbone, op)));
        RawTflite? head = e.Head == null ? null : new RawTflite(File.ReadAllBytes(SharedData.Model(e.Head)));
        if (head != null) sources.AddRange(head.OperatorsOf(3, 4).Select(op => (head, op)));
        Assert.Equal(layers.Count, sources.Count);

        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            var (raw, op) = sources[i];
            int[] ins = raw.OperatorInputs(op);
            int input = ins[0], filter = ins[1], bias = ins[2], output = raw.OperatorOutputs(op)[0];
            Assert.Equal(l.Kind == LayerKind.Depthwise3x3 ? 4 : 3, raw.OperatorBuiltin(op));

            byte[] ohwi = raw.TensorData(filter);
            byte[] hwio = file.Find(l.Name + ".weight")!.Data;
            Assert.Equal(ohwi.Length, hwio.Length);
            int[] fs = raw.TensorShape(filter); // OHWI, or 1HWC for depthwise
            if (l.Kind == LayerKind.Depthwise3x3) Assert.Equal(ohwi, hwio);
            else
            {
                int o = fs[0], h = fs[1], w = fs[2], c = fs[3];
                for (int oo = 0; oo < o; oo++)
                    for (int hh = 0; hh < h; hh++)
                        for (int ww = 0; ww < w; ww++)
                            for (int cc = 0; cc < c; cc++)
                                if (ohwi[((oo * h + hh) * w + ww) * c + cc] != hwio[((hh * w + ww) * c + cc) * o + oo])
                                    Assert.Fail($"{entry} {l.Name}: HWIO[{hh},{ww},{cc},{oo}] is not OHWI[{oo},{hh},{ww},{cc}]");
            }
            Assert.Equal(raw.TensorData(bias), file.Find(l.Name + ".bias")!.Data); // int32 little-endian, byte for byte

            var layer = q.Layer(l.Name);
            Assert.Equal(new QuantParams(raw.Scales(input).Single(), (int)raw.ZeroPoints(input).Single()), layer.Input);
            Assert.Equal(new QuantParams(raw.Scales(filter).Single(), (int)raw.ZeroPoints(filter).Single()), layer.Weight);
            Assert.Equal(new QuantParams(raw.Scales(output).Single(), (int)raw.ZeroPoints(output).Single()), layer.Output);
            Assert.Equal(raw.Scales(bias).Single(), layer.BiasScale);
        }
        // The network input is the model's input tensor (no QUANTIZE in these files).
        int modelInput = backbone.Inputs[0];
        Assert.Equal(new QuantParams(backbone.Scales(modelInput)[0], (int)backbone.ZeroPoints(modelInput)[0]), q.Input);
    }

    [SharedDataFact]
    public void Fused_activations_are_kept_as_TFLite_records_them()
    {
        // TOCO (2018) wrote no fused activation on the ReLU6 layers (the [0, 6] output range makes the clamp implicit);
        // the MLIR converter writes RELU6. The logits have none in both.
        var toco = CanonicalWeights.QuantizationOf(Imported("mobilenet_v1_0.25_224_quant"));
        Assert.All(toco.Convolutions, c => Assert.Equal(QuantizedActivation.None, c.Activation));
        var mlir = CanonicalWeights.QuantizationOf(Imported("mobilenet_v1_0.25_128_quant"));
        Assert.All(mlir.Convolutions.Where(c => c.Name != "logits"), c => Assert.Equal(QuantizedActivation.Relu6, c.Activation));
        Assert.Equal(QuantizedActivation.None, mlir.Logits.Activation);
        // Either way the clamp is the whole uint8 range for these outputs (scale 6/255, zero point 0).
        foreach (var c in toco.Convolutions.Concat(mlir.Convolutions).Where(c => c.Name != "logits"))
            Assert.Equal((0, 255), QuantizationMath.CalculateActivationRangeUint8(c.Activation, c.Output.Scale, c.Output.ZeroPoint));
    }

    [SharedDataFact]
    public void The_split_pair_is_one_model_joined_at_the_pooled_features()
    {
        var e = QuantizedEntries.Get("mobilenet_v1_1.0_224_quant");
        var file = Imported(e.Name);
        var q = CanonicalWeights.QuantizationOf(file);
        var head = new RawTflite(File.ReadAllBytes(SharedData.Model(e.Head!)));
        var backbone = new RawTflite(File.ReadAllBytes(SharedData.Model(e.Source)));
        int headIn = head.Inputs[0], backboneOut = backbone.Outputs[0];
        Assert.Equal(backbone.TensorShape(backboneOut), head.TensorShape(headIn));
        Assert.Equal(q.Pool.Output, new QuantParams(head.Scales(headIn)[0], (int)head.ZeroPoints(headIn)[0]));
        Assert.Equal(q.Logits.Input, q.Pool.Output);
        Assert.Equal(1024, CanonicalWeights.ArchitectureOf(file).FeatureSize);
        // The option and the method are the same import.
        var viaOption = MobileNetImporter.Import(SharedData.Model(e.Source), new ImportOptions { HeadPath = SharedData.Model(e.Head!) });
        Assert.Equal(file.Write(), viaOption.Write());
    }

    [SharedDataFact]
    public void Half_of_the_pair_alone_is_refused_with_a_hint()
    {
        var e = QuantizedEntries.Get("mobilenet_v1_1.0_224_quant");
        var ex = Assert.Throws<ImportException>(() => MobileNetImporter.Import(SharedData.Model(e.Source), new ImportOptions()));
        Assert.Contains("--head", ex.Message);
        ex = Assert.Throws<ImportException>(() => MobileNetImporter.Import(SharedData.Model(e.Head!), new ImportOptions()));
        Assert.Contains("DEPTHWISE_CONV_2D", ex.Message);
        // Head and backbone swapped.
        ex = Assert.Throws<ImportException>(() => MobileNetImporter.ImportPair(SharedData.Model(e.Head!), SharedData.Model(e.Source), new ImportOptions()));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        // A head after a complete classifier.
        ex = Assert.Throws<ImportException>(() => MobileNetImporter.ImportPair(SharedData.Model("tflite-quant-2018/mobilenet_v1_0.25_224_quant.tflite"), SharedData.Model(e.Head!), new ImportOptions()));
        Assert.Contains("must end at the AVERAGE_POOL_2D", ex.Message);
        // --head for a non-TFLite source.
        ex = Assert.Throws<ImportException>(() => MobileNetImporter.ImportPair(SharedData.Model("slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb"), SharedData.Model(e.Head!), new ImportOptions()));
        Assert.Contains("TFLite", ex.Message);
    }

    [SharedDataFact]
    public void Variant_option_for_quantized_and_float_models()
    {
        string quant = SharedData.Model("tflite-quant-2018/mobilenet_v1_0.25_224_quant.tflite");
        Assert.Equal("0.25_224_quant", MobileNetImporter.Import(quant, new ImportOptions { Variant = VariantName.Parse("0.25_224") }).GetMetadata("variant"));
        Assert.Equal("0.25_224_quant", MobileNetImporter.Import(quant, new ImportOptions { Variant = VariantName.Parse("mobilenet_v1_0.25_224_quant") }).GetMetadata("variant"));
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(quant, new ImportOptions { Variant = VariantName.Parse("0.25_128_quant") }));
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(quant, new ImportOptions { Variant = VariantName.Parse("0.50_224") }));
        var ex = Assert.Throws<ImportException>(() => MobileNetImporter.Import(SharedData.Model("tflite-2018/mobilenet_v1_0.25_224_1_default_1.tflite"),
            new ImportOptions { Variant = VariantName.Parse("0.25_224_quant") }));
        Assert.Contains("float", ex.Message);
    }

    [SharedDataFact]
    public void Cli_import_with_head()
    {
        var e = QuantizedEntries.Get("mobilenet_v1_1.0_224_quant");
        using var tmp = new CliRunner.TempDir();
        var r = CliRunner.Run("import", SharedData.Model(e.Source), "--head", SharedData.Model(e.Head!), "-o", tmp.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("variant 1.0_224_quant, genuine-uint8", r.Stdout);
        Assert.Equal(File.ReadAllBytes(Reference.RepoPaths.Weights(e.Name)), File.ReadAllBytes(Path.Combine(tmp.Path, e.Name + ".safetensors")));
        // Without the head: a clean input error naming the option.
        r = CliRunner.Run("import", SharedData.Model(e.Source), "-o", tmp.Path);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--head", r.Stderr);
    }

    [Fact]
    public void Leading_QUANTIZE_and_trailing_DEQUANTIZE_give_the_same_uint8_network()
    {
        using var tmp = new Importers.TempFolder();
        var plain = MobileNetImporter.Import(tmp.File("plain.tflite", FuzzSeeds.TfliteQuant()), new ImportOptions());
        var ends = MobileNetImporter.Import(tmp.File("ends.tflite", FuzzSeeds.TfliteQuant(floatEnds: true)), new ImportOptions());
        Assert.Equal(QuantizedGolden.NetworkSha256(plain), QuantizedGolden.NetworkSha256(ends));
        Assert.Contains("leading QUANTIZE", ends.GetMetadata("note"));
        Assert.Contains("trailing DEQUANTIZE is dropped", ends.GetMetadata("note"));
        // A custom 2-class head: labels from the appended metadata zip, the _custom entry name.
        Assert.Equal("mobilenet_v1_0.25_128_quant_custom", plain.GetMetadata("name"));
        Assert.Equal(new[] { "fork", "spoon" }, CanonicalWeights.ParseLabelsJson(plain.GetMetadata("labels_json")!));
        Assert.Equal("false", plain.GetMetadata("background_class"));
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();
}
