using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MobileNetGen.Importers.Exporters;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Variants;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Onnx;

/// <summary>
/// The ONNX exporter (<see cref="OnnxExporter"/>) run by ONNX Runtime (<see cref="OnnxBaseline.OnnxBaseline"/>) against the
/// generated classifiers: the same weights must give the same logits, so ORT is a valid correctness and speed baseline.
/// </summary>
public class OnnxExportTests(ITestOutputHelper output)
{
    private const double RelTol = 1e-4;

    /// <summary>The float entries (the uint8 ones have their own tests: GeneratedQuantizedTests, QuantizedOnnxTests).</summary>
    public static TheoryData<string> AllEntries()
    {
        var data = new TheoryData<string>();
        foreach (var e in VariantCatalog.BuiltIn.Where(e => !e.Info.Quantized)) data.Add(e.Name);
        return data;
    }

    /// <summary>The canonical weights an entry was generated from: weights/{Name}.safetensors, or the synthetic stand-in.</summary>
    private static SafeTensorsFile WeightsOf(VariantEntry entry) =>
        entry.Info.Weights == WeightsKind.Synthetic
            ? SyntheticWeights.Create(VariantName.Parse(entry.Variant))
            : SafeTensorsFile.Read(File.ReadAllBytes(Path.Combine(WeightsFolder.Value, entry.Name + ".safetensors")));

    private static readonly Lazy<string> WeightsFolder = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "weights");
            if (File.Exists(Path.Combine(candidate, "mobilenet_v1_0.25_224.safetensors"))) return candidate;
        }
        throw new InvalidOperationException("the repository's weights/ folder was not found above " + AppContext.BaseDirectory);
    });

    /// <summary>Deterministic input uniform in [−1, 1] (the suite's xorshift64* generator, this file's own seed).</summary>
    private static float[] Input(int length) => MobileNetGen.Tests.Generated.TestInputs.Uniform(length, 0x0DD5_EED5_2017UL);

    /// <summary>max |actual − expected| ≤ <see cref="RelTol"/> · max |expected|; returns the relative error.</summary>
    private static double AssertClose(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, worst = -1;
        int worstIndex = -1;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst) { worst = d; worstIndex = i; }
        }
        Assert.True(scale > 0, $"{what}: the generated classifier's output is all zeros");
        Assert.True(worst <= RelTol * scale,
            $"{what}: max |ORT - generated| = {worst:G6} at index {worstIndex} (ORT {actual[worstIndex]:G9}, generated {expected[worstIndex]:G9}) " +
            $"exceeds {RelTol:G2} * max|generated| = {RelTol * scale:G6}");
        return worst / scale;
    }

    [Theory]
    [MemberData(nameof(AllEntries))]
    public void Onnx_runtime_logits_match_generated_classifier_within_1e4_relative(string entryName)
    {
        var entry = VariantCatalog.Entries.Single(e => e.Name == entryName);
        byte[] model = OnnxExporter.Export(WeightsOf(entry));

        using var classifier = entry.Create(null);
        using var ort = new OnnxBaseline.OnnxBaseline(model, threads: 1);
        Assert.Equal(classifier.InputSize, ort.Resolution);
        Assert.Equal(classifier.NumClasses, ort.NumClasses);
        Assert.Equal(classifier.FeatureSize, ort.FeatureSize);

        float[] input = Input(classifier.InputLength);
        var expected = new float[classifier.NumClasses];
        var actual = new float[ort.NumClasses];
        classifier.Run(input, expected);
        ort.Run(input, actual);

        double logitErr = AssertClose($"{entryName} logits", expected, actual);
        double featErr = AssertClose($"{entryName} embeddings", classifier.Embeddings, ort.Embeddings);
        output.WriteLine($"{entryName} ({entry.Info.Weights}): max|Δlogit|/max|logit| = {logitErr:E2}, max|Δfeature|/max|feature| = {featErr:E2}");
    }

    [Theory]
    [MemberData(nameof(AllEntries))]
    public void Export_is_deterministic(string entryName)
    {
        var entry = VariantCatalog.Entries.Single(e => e.Name == entryName);
        byte[] first = OnnxExporter.Export(WeightsOf(entry));
        byte[] second = OnnxExporter.Export(WeightsOf(entry));
        Assert.True(first.AsSpan().SequenceEqual(second), $"{entryName}: two exports of the same weights differ");
    }

    [Theory]
    [InlineData("mobilenet_v1_0.25_224")]      // genuine float, 1001 classes
    [InlineData("mobilenet_v1_0.50_160")]      // genuine 8-bit kernels
    [InlineData("mobilenet_v1_0.75_224")]      // Keras / TF.js, 1000 classes
    [InlineData("mobilenet_v1_1.0_128")]       // synthetic
    public void Exported_model_declares_opset_13_and_named_inputs_and_outputs(string entryName)
    {
        var entry = VariantCatalog.Entries.Single(e => e.Name == entryName);
        var weights = WeightsOf(entry);
        var arch = CanonicalWeights.ArchitectureOf(weights);
        byte[] model = OnnxExporter.Export(weights);

        var (irVersion, opsets) = ReadHeader(model);
        Assert.Equal(OnnxExporter.IrVersion, irVersion);
        Assert.Equal(new[] { ("", 13L) }, opsets);

        using var session = new InferenceSession(model);
        Assert.Equal(new[] { "input" }, session.InputNames);
        Assert.Equal(new[] { "logits", "embeddings" }, session.OutputNames);
        Assert.Equal(new[] { 1, arch.Resolution, arch.Resolution, 3 }, session.InputMetadata["input"].Dimensions);
        Assert.Equal(typeof(float), session.InputMetadata["input"].ElementType);
        Assert.Equal(new[] { 1, arch.NumClasses }, session.OutputMetadata["logits"].Dimensions);
        Assert.Equal(new[] { 1, arch.FeatureSize }, session.OutputMetadata["embeddings"].Dimensions);
        Assert.Equal(entry.Info.NumClasses, arch.NumClasses);

        var meta = session.ModelMetadata;
        Assert.Equal("MobileNetGen", meta.ProducerName);
        Assert.Equal(entryName, meta.GraphName);
        Assert.Contains(entryName, meta.Description);
        Assert.Contains(weights.GetMetadata(CanonicalWeights.Keys.Weights)!, meta.Description);
        Assert.Contains(weights.GetMetadata(CanonicalWeights.Keys.Source)!, meta.Description);
        if (weights.GetMetadata(CanonicalWeights.Keys.SourceSha256) is string sha) Assert.Contains(sha, meta.Description);
    }

    [Fact]
    public void Export_without_embeddings_declares_only_logits()
    {
        byte[] model = OnnxExporter.Export(SyntheticWeights.Create(VariantName.Parse("0.25_128")), new OnnxExportOptions { EmbeddingsOutput = false });
        using var session = new InferenceSession(model);
        Assert.Equal(new[] { "logits" }, session.OutputNames);
        using var ort = new OnnxBaseline.OnnxBaseline(model, threads: 1);
        Assert.Equal(0, ort.FeatureSize);
        Assert.True(ort.Embeddings.IsEmpty);
    }

    [Fact]
    public void Baseline_run_allocates_almost_nothing()
    {
        var entry = VariantCatalog.Entries.Single(e => e.Name == "mobilenet_v1_0.25_128");
        using var ort = new OnnxBaseline.OnnxBaseline(OnnxExporter.Export(WeightsOf(entry)), threads: 1);
        float[] input = Input(ort.InputLength);
        var logits = new float[ort.NumClasses];
        for (int i = 0; i < 5; i++) ort.Run(input, logits);
        const int runs = 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++) ort.Run(input, logits);
        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;
        output.WriteLine($"managed allocation per ORT run: {perRun} bytes");
        Assert.True(perRun <= 2048, $"an ORT baseline run allocates {perRun} bytes on the managed heap (expected at most a few hundred)");
    }

    /// <summary>ModelProto's ir_version (field 1) and opset_import (field 8: domain = 1, version = 2), read straight off the wire.</summary>
    private static (long IrVersion, (string Domain, long Version)[] Opsets) ReadHeader(byte[] model)
    {
        long ir = -1;
        var opsets = new List<(string, long)>();
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    ir = input.ReadInt64();
                    break;
                case 8 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                {
                    var sub = new CodedInputStream(input.ReadBytes().ToByteArray());
                    string domain = "";
                    long version = -1;
                    uint t;
                    while ((t = sub.ReadTag()) != 0)
                    {
                        if (t == WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited)) domain = sub.ReadString();
                        else if (t == WireFormat.MakeTag(2, WireFormat.WireType.Varint)) version = sub.ReadInt64();
                        else sub.SkipLastField();
                    }
                    opsets.Add((domain, version));
                    break;
                }
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return (ir, opsets.ToArray());
    }
}
