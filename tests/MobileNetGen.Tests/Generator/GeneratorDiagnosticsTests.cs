extern alias generator;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using MobileNetGen.Model;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Generator;

/// <summary>
/// The generator's diagnostics MNG0001–MNG0008 on small in-memory compilations, its robustness against hostile weights
/// (always a diagnostic, never an exception), and the shape of a valid run's output.
/// </summary>
public class GeneratorDiagnosticsTests(ITestOutputHelper output)
{
    private const string Stem128 = "mobilenet_v1_0.25_128";

    private static string Source(string attribute, string declaration = "public partial class Net { }") =>
        $"using MobileNetGen;\nnamespace App;\n\n[{attribute}]\n{declaration}\n";

    private static InMemoryAdditionalText Weights128() => InMemoryAdditionalText.Weights(Stem128, GeneratorHarness.WeightsBytes(Stem128));

    /// <summary>Runs the generator, checks it did not throw, and returns its diagnostics and generated sources.</summary>
    private (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<GeneratedSourceResult> Sources, Compilation Output) Run(string source, params AdditionalText[] texts)
    {
        var (result, compilation) = GeneratorHarness.Run(source, texts);
        Assert.Single(result.Results);
        Assert.Null(result.Results[0].Exception);
        foreach (var d in result.Diagnostics) output.WriteLine(d.ToString());
        return (result.Diagnostics, result.Results[0].GeneratedSources, compilation);
    }

    private static Diagnostic Only(IReadOnlyList<Diagnostic> diagnostics, string id)
    {
        Assert.True(diagnostics.Count == 1 && diagnostics[0].Id == id,
            $"expected exactly one {id}, got: {string.Join(" | ", diagnostics.Select(d => d.ToString()))}");
        return diagnostics[0];
    }

    private static void AssertAtClassIdentifier(Diagnostic d, string source, string className = "Net")
    {
        // The generator carries locations as plain values (LocationInfo) and recreates them with Location.Create(path, …),
        // an external-file location: compare the path and span rather than the syntax tree.
        Assert.NotEqual(LocationKind.None, d.Location.Kind);
        Assert.Equal("/src/File0.cs", d.Location.GetLineSpan().Path);
        int start = source.IndexOf("class " + className, StringComparison.Ordinal) + "class ".Length;
        Assert.Equal(new Microsoft.CodeAnalysis.Text.TextSpan(start, className.Length), d.Location.SourceSpan);
    }

    // ---- MNG0001 .. MNG0008 ------------------------------------------------------------------------------------------

    [Fact]
    public void Unknown_variant_reports_MNG0001_at_the_class_identifier()
    {
        string source = Source("MobileNet(\"0.3_224\")");
        var (diagnostics, sources, _) = Run(source, Weights128());
        var d = Only(diagnostics, "MNG0001");
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains("0.3_224", d.GetMessage(CultureInfo.InvariantCulture));
        AssertAtClassIdentifier(d, source);
        Assert.Empty(sources);
    }

    [Fact]
    public void Missing_weights_file_reports_MNG0002_naming_the_expected_file()
    {
        string source = Source("MobileNet(\"0.25_192\")");
        var (diagnostics, sources, _) = Run(source, Weights128());
        var d = Only(diagnostics, "MNG0002");
        Assert.Contains("mobilenet_v1_0.25_192", d.GetMessage(CultureInfo.InvariantCulture));
        AssertAtClassIdentifier(d, source);
        Assert.Empty(sources);
    }

    [Fact]
    public void A_description_not_written_by_the_build_step_reports_MNG0003()
    {
        var text = new InMemoryAdditionalText($"/obj/{Stem128}{WeightsDescription.Suffix}", "this is *not* a weights description");
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), text);
        var d = Only(diagnostics, "MNG0003");
        Assert.Contains("build step", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    [Fact]
    public void Truncated_safetensors_reports_MNG0003()
    {
        byte[] first100 = GeneratorHarness.WeightsBytes(Stem128).AsSpan(0, 100).ToArray();
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), InMemoryAdditionalText.Weights(Stem128, first100));
        Only(diagnostics, "MNG0003");
        Assert.Empty(sources);
    }

    [Fact]
    public void Weights_whose_metadata_is_another_variant_report_MNG0004()
    {
        // A file named for 0.25_192 that holds the 0.25_224 weights.
        var text = InMemoryAdditionalText.Weights("mobilenet_v1_0.25_192", GeneratorHarness.WeightsBytes("mobilenet_v1_0.25_224"));
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_192\")"), text);
        var d = Only(diagnostics, "MNG0004");
        string message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("0.25_192", message);
        Assert.Contains("224", message);
        Assert.Empty(sources);
    }

    [Fact]
    public void Tensor_with_wrong_shape_reports_MNG0004_naming_the_tensor()
    {
        var original = SafeTensorsFile.Read(GeneratorHarness.WeightsBytes(Stem128));
        const string victim = "block3.pointwise.weight";
        var tensors = original.Tensors.Select(t =>
        {
            if (t.Name != victim) return t;
            Assert.Equal(TensorDType.F32, t.DType);
            int[] shape = { t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3] / 2 }; // half the output channels
            return new Tensor(t.Name, t.DType, shape, t.Data.AsSpan(0, t.Data.Length / 2).ToArray());
        }).ToList();
        byte[] modified = new SafeTensorsFile(original.Metadata, tensors).Write();

        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), InMemoryAdditionalText.Weights(Stem128, modified));
        var d = Only(diagnostics, "MNG0004");
        Assert.Contains(victim, d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    public static TheoryData<string, string> InvalidClasses() => new()
    {
        { "public class Net { }", "partial" },
        { "public partial class Outer { [MobileNet(\"0.25_128\")] public partial class Net { } }", "nested" },
        { "public partial class Net<T> { }", "generic" },
        { "public static partial class Net { }", "static" },
        { "public abstract partial class Net { }", "abstract" },
        { "public partial class Net : System.Exception { }", "derives" },
    };

    [Theory]
    [MemberData(nameof(InvalidClasses))]
    public void Invalid_class_shape_reports_MNG0005_saying_why(string declaration, string reason)
    {
        // The nested case carries its own attribute on the inner class; the outer one is a plain partial class.
        string source = declaration.StartsWith("public partial class Outer", StringComparison.Ordinal)
            ? "using MobileNetGen;\nnamespace App;\n\n" + declaration + "\n"
            : Source("MobileNet(\"0.25_128\")", declaration);
        var (diagnostics, sources, _) = Run(source, Weights128());
        var d = Only(diagnostics, "MNG0005");
        Assert.Contains(reason, d.GetMessage(CultureInfo.InvariantCulture));
        AssertAtClassIdentifier(d, source);
        Assert.Empty(sources);
    }

    [Theory]
    [InlineData("MobileNet(\"0.25_128\", Weights = \"a/b\")", "path")]
    [InlineData("MobileNet(\"0.25_128\", Weights = \"mobilenet_v1_0.25_128\", Synthetic = true)", "Synthetic")]
    public void Unsupported_option_reports_MNG0006(string attribute, string expectedText)
    {
        var (diagnostics, sources, _) = Run(Source(attribute), Weights128());
        var d = Only(diagnostics, "MNG0006");
        Assert.Contains(expectedText, d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    [Fact]
    public void Synthetic_weights_report_info_MNG0007_and_still_generate_the_classifier()
    {
        var (diagnostics, sources, compilation) = Run(Source("MobileNet(\"0.25_128\", Synthetic = true)"));
        var d = Only(diagnostics, "MNG0007");
        Assert.Equal(DiagnosticSeverity.Info, d.Severity);
        Assert.Contains(SyntheticWeights.DefaultSeed.ToString(CultureInfo.InvariantCulture), d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(2, sources.Count);
        Assert.Contains("WeightsKind.Synthetic", sources.Single(s => s.HintName == "App.Net.g.cs").SourceText.ToString());
        AssertNoErrors(compilation);
    }

    [Fact]
    public void Two_weights_files_with_the_same_name_report_MNG0008_and_use_the_first()
    {
        var first = InMemoryAdditionalText.Weights(Stem128, GeneratorHarness.WeightsBytes(Stem128), "/one");
        var second = InMemoryAdditionalText.Weights(Stem128, GeneratorHarness.WeightsBytes(Stem128), "/two");
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), first, second);
        var d = Only(diagnostics, "MNG0008");
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        string message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("/one/", message);
        Assert.Contains("/two/", message);
        Assert.Equal(2, sources.Count);
    }

    // ---- Hostile weights: a diagnostic, never an exception -----------------------------------------------------------

    public static TheoryData<string, byte[]> HostileWeights()
    {
        var random = new byte[4096];
        new Random(20170417).NextBytes(random);
        byte[] hugeHeader = new byte[64];
        BitConverter.GetBytes(ulong.MaxValue - 7).CopyTo(hugeHeader, 0);
        byte[] header16M = new byte[64];
        BitConverter.GetBytes((ulong)(16 * 1024 * 1024 + 1)).CopyTo(header16M, 0);
        string deep = new string('[', 100_000);
        byte[] nested = WithHeader(deep);
        byte[] notUtf8 = WithHeader("{\"a\":\"\xFF\"}", raw: new byte[] { 0xC3, 0x28, 0xA0, 0xA1 });
        byte[] notObject = WithHeader("[1,2,3]");
        byte[] badOffsets = WithHeader("{\"conv0.weight\":{\"dtype\":\"F32\",\"shape\":[3,3,3,8],\"data_offsets\":[0,999999999]}}");
        byte[] hugeShape = WithHeader("{\"conv0.weight\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}");
        byte[] noMetadata = WithHeader("{}");
        byte[] nanAlpha = WithHeader("{\"__metadata__\":{\"format\":\"mobilenetgen/1\",\"architecture\":\"mobilenet_v1\",\"alpha\":\"NaN\",\"resolution\":\"128\",\"num_classes\":\"1001\"}}");
        byte[] valid = GeneratorHarness.WeightsBytes(Stem128);
        return new TheoryData<string, byte[]>
        {
            { "random bytes", random },
            { "empty file", Array.Empty<byte>() },
            { "header length 2^64-8", hugeHeader },
            { "header length 16 MiB + 1", header16M },
            { "JSON nested 100000 deep", nested },
            { "header not UTF-8", notUtf8 },
            { "header not an object", notObject },
            { "data offsets past the end", badOffsets },
            { "shape of 2^93 elements", hugeShape },
            { "no metadata", noMetadata },
            { "alpha NaN", nanAlpha },
            { "truncated by one byte", valid.AsSpan(0, valid.Length - 1).ToArray() },
        };
    }

    private static byte[] WithHeader(string json, byte[]? raw = null)
    {
        byte[] header = raw ?? Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + 16];
        BitConverter.GetBytes((ulong)header.Length).CopyTo(bytes, 0);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(HostileWeights))]
    public void Hostile_weights_give_an_error_diagnostic_never_a_generator_exception(string what, byte[] file)
    {
        // The build step describes any file it is given, hostile or not; the generator turns the description into a diagnostic.
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), InMemoryAdditionalText.Weights(Stem128, file));
        AssertOneMalformedWeightsError(what, diagnostics);
        Assert.Empty(sources);
    }

    public static TheoryData<string, string> HostileDescriptions()
    {
        string valid = WeightsDescription.Describe(Stem128, "/weights/x.safetensors", GeneratorHarness.WeightsBytes(Stem128));
        return new TheoryData<string, string>
        {
            { "empty text", "" },
            { "whitespace", "   \n " },
            { "base64 of the file (the old build step)", Convert.ToBase64String(GeneratorHarness.WeightsBytes(Stem128)) },
            { "first line only", valid.Substring(0, valid.IndexOf('\n') + 1) },
            { "header cut short", valid.Substring(0, valid.Length - 10) },
            { "length not a number", valid.Replace("\nlength: ", "\nlength: x") },
            { "header longer than the file", System.Text.RegularExpressions.Regex.Replace(valid, "\nlength: \\d+", "\nlength: 100") },
            { "fields out of order", valid.Replace("\nname: ", "\nnome: ") },
        };
    }

    [Theory]
    [MemberData(nameof(HostileDescriptions))]
    public void Hostile_descriptions_give_an_error_diagnostic_never_a_generator_exception(string what, string description)
    {
        var text = new InMemoryAdditionalText($"/obj/{Stem128}{WeightsDescription.Suffix}", description);
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), text);
        AssertOneMalformedWeightsError(what, diagnostics);
        Assert.Empty(sources);
    }

    [Fact]
    public void Weights_holding_NaN_are_MNG0004_naming_the_tensor()
    {
        var file = SafeTensorsFile.Read(GeneratorHarness.WeightsBytes(Stem128));
        var kernel = file.Find("block5.pointwise.weight")!;
        BitConverter.GetBytes(float.NaN).CopyTo(kernel.Data, 40);
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), InMemoryAdditionalText.Weights(Stem128, file.Write()));
        var d = Only(diagnostics, "MNG0004");
        Assert.Contains("block5.pointwise.weight", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    private static void AssertOneMalformedWeightsError(string what, IReadOnlyList<Diagnostic> diagnostics) =>
        Assert.True(diagnostics.Count == 1 && diagnostics[0].Severity == DiagnosticSeverity.Error
                    && diagnostics[0].Id is "MNG0003" or "MNG0004",
            $"{what}: expected one MNG0003/MNG0004 error, got: {string.Join(" | ", diagnostics.Select(d => d.ToString()))}");

    // ---- uint8 networks ------------------------------------------------------------------------------------------------

    [Fact]
    public void A_quant_variant_with_a_float_file_and_a_float_variant_with_a_uint8_file_are_MNG0004()
    {
        var floatFile = InMemoryAdditionalText.Weights("mobilenet_v1_0.25_128_quant", GeneratorHarness.WeightsBytes(Stem128));
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128_quant\")"), floatFile);
        Assert.Contains("uint8-quantized", Only(diagnostics, "MNG0004").GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);

        var quantFile = InMemoryAdditionalText.Weights(Stem128, GeneratorHarness.WeightsBytes("mobilenet_v1_0.25_128_quant"));
        (diagnostics, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), quantFile);
        Assert.Contains("0.25_128_quant", Only(diagnostics, "MNG0004").GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    [Fact]
    public void Synthetic_uint8_weights_are_MNG0006()
    {
        var (diagnostics, sources, _) = Run(Source("MobileNet(\"1.0_224_quant\", Synthetic = true)"));
        Assert.Contains("uint8", Only(diagnostics, "MNG0006").GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    [Fact]
    public void A_uint8_entry_generates_an_integer_classifier_that_compiles()
    {
        const string stem = "mobilenet_v1_0.25_128_quant";
        var (diagnostics, sources, compilation) = Run(Source("MobileNet(\"0.25_128_quant\")"), InMemoryAdditionalText.Weights(stem, GeneratorHarness.WeightsBytes(stem)));
        Assert.Empty(diagnostics);
        AssertNoErrors(compilation);
        Assert.Equal("MobileNetGen.Runtime.QuantizedMobileNetClassifier", compilation.GetTypeByMetadataName("App.Net")!.BaseType!.ToDisplayString());
        string text = sources.Single(s => s.HintName == "App.Net.g.cs").SourceText.ToString();
        Assert.Contains("requantize:", text);
        Assert.Contains("QPointwiseKernels.Run<Conv2d_13_pointwise_Shape>", text);
    }

    // ---- A valid run ------------------------------------------------------------------------------------------------

    private static void AssertNoErrors(Compilation compilation)
    {
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "generated compilation has errors:\n" + string.Join("\n", errors.Take(10)));
    }

    [Fact]
    public void Valid_weights_generate_code_that_compiles_without_errors()
    {
        var (diagnostics, sources, compilation) = Run(Source("MobileNet(\"0.25_128\")"), Weights128());
        Assert.Empty(diagnostics);
        Assert.Equal(new[] { "App.Net.Weights.g.cs", "App.Net.g.cs" }, sources.Select(s => s.HintName).OrderBy(n => n, StringComparer.Ordinal));
        AssertNoErrors(compilation);
        var net = compilation.GetTypeByMetadataName("App.Net");
        Assert.NotNull(net);
        Assert.Equal("MobileNetGen.Runtime.MobileNetClassifier", net!.BaseType!.ToDisplayString());
    }

    [Fact]
    public void Generated_source_has_a_comment_per_layer_with_its_MACs()
    {
        var (_, sources, _) = Run(Source("MobileNet(\"0.25_128\")"), Weights128());
        string text = sources.Single(s => s.HintName == "App.Net.g.cs").SourceText.ToString();
        string[] lines = text.Split('\n');

        // Expected layers and MACs, computed here from the paper's table for α = 0.25 at 128 px.
        var expected = new List<(string Slim, long Macs)>();
        int[] strides = { 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1 };
        int[] widths = { 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024 };
        int size = 64, channels = 8;
        expected.Add(("Conv2d_0", 64L * 64 * 8 * 27));
        for (int b = 0; b < 13; b++)
        {
            size = (size + strides[b] - 1) / strides[b];
            expected.Add(($"Conv2d_{b + 1}_depthwise", (long)size * size * channels * 9));
            int w = Math.Max(widths[b] / 4, 8);
            expected.Add(($"Conv2d_{b + 1}_pointwise", (long)size * size * channels * w));
            channels = w;
        }
        expected.Add(("AvgPool_1a", 0));
        expected.Add(("Logits/Conv2d_1c_1x1", 256L * 1001));

        for (int i = 0; i < expected.Count; i++)
        {
            int at = Array.FindIndex(lines, l => l.TrimStart().StartsWith($"// Layer {i}: {expected[i].Slim} ", StringComparison.Ordinal));
            Assert.True(at >= 0, $"no comment line '// Layer {i}: {expected[i].Slim}' in the generated source");
            string detail = lines[at + 1];
            var m = Regex.Match(detail, @"([\d,]+) MACs");
            Assert.True(m.Success, $"layer {i}: no MACs in '{detail.Trim()}'");
            Assert.Equal(expected[i].Macs, long.Parse(m.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture));
        }
        Assert.DoesNotContain(lines, l => l.Contains("// Layer 29:", StringComparison.Ordinal));
    }

    [Fact]
    public void Generation_is_deterministic_two_runs_give_identical_text()
    {
        var (_, first, _) = Run(Source("MobileNet(\"0.25_128\")"), Weights128());
        var (_, second, _) = Run(Source("MobileNet(\"0.25_128\")"), Weights128());
        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].HintName, second[i].HintName);
            Assert.True(first[i].SourceText.ToString() == second[i].SourceText.ToString(), $"{first[i].HintName} differs between two runs");
        }
    }

    // ---- SSD detectors -------------------------------------------------------------------------------------------------

    private const string SsdStem = "ssd_mobilenet_v1_0.75_300_coco_quant";

    [Fact]
    public void A_detector_without_its_weights_file_is_MNG0002_at_the_class()
    {
        string source = Source($"MobileNetSsd(\"{SsdStem}\")");
        var (diagnostics, sources, _) = Run(source, Weights128());
        var d = Only(diagnostics, "MNG0002");
        Assert.Contains(SsdStem, d.GetMessage(CultureInfo.InvariantCulture));
        AssertAtClassIdentifier(d, source);
        Assert.Empty(sources);
    }

    [Fact]
    public void A_detector_given_a_classifier_file_is_MNG0004()
    {
        var text = InMemoryAdditionalText.Weights(SsdStem, GeneratorHarness.WeightsBytes("mobilenet_v1_0.25_128_quant"));
        var (diagnostics, sources, _) = Run(Source($"MobileNetSsd(\"{SsdStem}\")"), text);
        AssertOneMalformedWeightsError("classifier file for a detector", diagnostics);
        Assert.Empty(sources);
    }

    [Theory]
    [MemberData(nameof(HostileWeights))]
    public void Hostile_detector_weights_give_an_error_diagnostic_never_a_generator_exception(string what, byte[] file)
    {
        var (diagnostics, sources, _) = Run(Source($"MobileNetSsd(\"{SsdStem}\")"), InMemoryAdditionalText.Weights(SsdStem, file));
        AssertOneMalformedWeightsError(what, diagnostics);
        Assert.Empty(sources);
    }

    [Fact]
    public void A_detector_tensor_with_a_wrong_shape_is_MNG0004_naming_it()
    {
        var original = SafeTensorsFile.Read(GeneratorHarness.WeightsBytes(SsdStem));
        const string victim = "class3.weight";
        var tensors = original.Tensors.Select(t =>
            t.Name != victim ? t : new Tensor(t.Name, t.DType, new[] { t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3] - 1 },
                t.Data.AsSpan(0, t.Data.Length / t.Shape[3] * (t.Shape[3] - 1)).ToArray())).ToList();
        byte[] modified = new SafeTensorsFile(original.Metadata, tensors).Write();
        var (diagnostics, sources, _) = Run(Source($"MobileNetSsd(\"{SsdStem}\")"), InMemoryAdditionalText.Weights(SsdStem, modified));
        AssertOneMalformedWeightsError("class3 with one output channel less", diagnostics);
        Assert.Contains("class3", diagnostics[0].GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }

    [Theory]
    [InlineData("public class Net { }", "partial")]
    [InlineData("public partial struct Net { }", null)]
    public void An_invalid_detector_class_is_MNG0005(string declaration, string? reason)
    {
        var (diagnostics, sources, _) = Run(Source($"MobileNetSsd(\"{SsdStem}\")", declaration),
            InMemoryAdditionalText.Weights(SsdStem, GeneratorHarness.WeightsBytes(SsdStem)));
        if (declaration.Contains("struct"))
        {
            // [MobileNetSsd] is AttributeTargets.Class: the compiler refuses it (CS0592); the generator adds nothing.
            Assert.Empty(sources);
            return;
        }
        var d = Only(diagnostics, "MNG0005");
        Assert.Contains(reason!, d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(sources);
    }
}
