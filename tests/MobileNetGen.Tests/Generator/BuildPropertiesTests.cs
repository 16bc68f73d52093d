using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Generator;

/// <summary>
/// The app's MSBuild choices as the generator receives them (<c>build_property.*</c>, made visible by
/// build/MobileNetGen.props): a classifier declared by <c>MobileNetVariant</c> alone, the default thread count,
/// <c>MobileNetIncludeLabels</c>, and MNG0011 for every bad value. The packaging test builds a real app with them.
/// </summary>
public class BuildPropertiesTests(ITestOutputHelper output)
{
    private const string Stem128 = "mobilenet_v1_0.25_128";
    private const string NoClasses = "namespace App; public static class Program { }";

    private static InMemoryAdditionalText Weights128() => InMemoryAdditionalText.Weights(Stem128, GeneratorHarness.WeightsBytes(Stem128));

    private (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<GeneratedSourceResult> Sources, Compilation Output) Run(
        string source, Dictionary<string, string> properties)
    {
        var (result, compilation) = GeneratorHarness.Run(source, properties, Weights128());
        Assert.Null(result.Results[0].Exception);
        foreach (var d in result.Diagnostics) output.WriteLine(d.ToString());
        return (result.Diagnostics, result.Results[0].GeneratedSources, compilation);
    }

    private static string Classifier(IReadOnlyList<GeneratedSourceResult> sources, string hint) =>
        sources.Single(s => s.HintName == hint).SourceText.ToString();

    [Fact]
    public void MobileNetVariant_declares_a_classifier_in_the_root_namespace_without_code()
    {
        var (diagnostics, sources, compilation) = Run(NoClasses, new() { ["MobileNetVariant"] = "0.25_128", ["RootNamespace"] = "My.App" });
        Assert.Empty(diagnostics);
        Assert.Contains(sources, s => s.HintName == "My.App.MobileNetModel.g.cs");
        Assert.Contains(sources, s => s.HintName == "My.App.MobileNetModel.Weights.g.cs");
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.NotNull(compilation.GetTypeByMetadataName("My.App.MobileNetModel"));
        Assert.Contains("public const int DefaultThreads = 1;", Classifier(sources, "My.App.MobileNetModel.g.cs"));
    }

    [Fact]
    public void MobileNetClassName_and_MobileNetWeightsName_name_the_class_and_its_weights()
    {
        var (diagnostics, sources, compilation) = Run(NoClasses, new()
        {
            ["MobileNetVariant"] = "0.25_128", ["MobileNetClassName"] = "Birds", ["MobileNetWeightsName"] = Stem128,
        });
        Assert.Empty(diagnostics);
        Assert.NotNull(compilation.GetTypeByMetadataName("Birds")); // no RootNamespace: the global namespace
    }

    [Fact]
    public void MobileNetVariant_with_missing_weights_is_MNG0002_without_a_location()
    {
        var (diagnostics, sources, _) = Run(NoClasses, new() { ["MobileNetVariant"] = "0.50_160" });
        var d = Assert.Single(diagnostics);
        Assert.Equal("MNG0002", d.Id);
        Assert.Equal(Location.None, d.Location);
        Assert.Empty(sources);
    }

    [Theory]
    [InlineData("3", "public const int DefaultThreads = 3;")]
    [InlineData("auto", "public static int DefaultThreads => global::System.Math.Min(global::System.Environment.ProcessorCount")]
    public void MobileNetThreads_sets_every_classifier_s_default(string value, string expected)
    {
        string source = "using MobileNetGen;\nnamespace App;\n[MobileNet(\"0.25_128\")]\npublic partial class Net { }\n";
        var (diagnostics, sources, compilation) = Run(source, new() { ["MobileNetThreads"] = value });
        Assert.Empty(diagnostics);
        string code = Classifier(sources, "App.Net.g.cs");
        Assert.Contains(expected, code);
        Assert.Contains("base(ModelInfo, ActivationElements, options, DefaultThreads)", code);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void MobileNetIncludeLabels_false_makes_every_label_class_N()
    {
        var (diagnostics, sources, _) = Run(NoClasses, new() { ["MobileNetVariant"] = "0.25_128", ["MobileNetIncludeLabels"] = "false" });
        Assert.Empty(diagnostics);
        Assert.Contains("public override string LabelOf(int outputIndex) => NumberedLabel(outputIndex);", Classifier(sources, "MobileNetModel.g.cs"));
    }

    [Theory]
    [InlineData("MobileNetThreads", "0")]
    [InlineData("MobileNetThreads", "65")]
    [InlineData("MobileNetThreads", "two")]
    [InlineData("MobileNetIncludeLabels", "maybe")]
    [InlineData("MobileNetClassName", "1Net")]
    [InlineData("MobileNetWeightsName", "weights/mobilenet_v1_0.25_128")]
    [InlineData("RootNamespace", "My-App")]
    [InlineData("MobileNetSynthetic", "yes")]
    public void Bad_property_values_are_MNG0011_naming_property_and_value(string property, string value)
    {
        var properties = new Dictionary<string, string> { ["MobileNetVariant"] = "0.25_128", [property] = value };
        var (diagnostics, _, _) = Run(NoClasses, properties);
        var d = Assert.Single(diagnostics);
        Assert.Equal("MNG0011", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains(property, d.GetMessage());
        Assert.Contains(value, d.GetMessage());
    }

    [Fact]
    public void MobileNetSynthetic_gives_the_MSBuild_class_synthetic_weights_and_says_so()
    {
        var (diagnostics, sources, compilation) = Run(NoClasses, new() { ["MobileNetVariant"] = "1.0_128", ["MobileNetSynthetic"] = "true" });
        var d = Assert.Single(diagnostics);
        Assert.Equal("MNG0007", d.Id);
        Assert.Contains("SYNTHETIC", d.GetMessage());
        Assert.Contains("WeightsKind.Synthetic", Classifier(sources, "MobileNetModel.g.cs"));
        Assert.Empty(compilation.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void MobileNetSynthetic_with_a_weights_name_is_MNG0011()
    {
        var (diagnostics, sources, _) = Run(NoClasses, new()
        {
            ["MobileNetVariant"] = "0.25_128", ["MobileNetSynthetic"] = "true", ["MobileNetWeightsName"] = Stem128,
        });
        Assert.Equal("MNG0011", Assert.Single(diagnostics).Id);
        Assert.Empty(sources);
    }

    [Fact]
    public void MobileNetClassName_without_MobileNetVariant_is_MNG0011()
    {
        var (diagnostics, sources, _) = Run(NoClasses, new() { ["MobileNetClassName"] = "Birds" });
        Assert.Equal("MNG0011", Assert.Single(diagnostics).Id);
        Assert.Empty(sources);
    }
}
