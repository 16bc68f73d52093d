extern alias generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using generator::MobileNetGen.Generator;
using MobileNetGen.Model;
using Xunit;

namespace MobileNetGen.Tests.Generator;

/// <summary>
/// The planning steps (<c>Weights</c>: hashing each weights description; <c>Plans</c>: parsing it, validating, planning
/// every layer) must not re-run for edits that do not concern them: the IDE re-runs generators on every keystroke.
/// </summary>
public class IncrementalCachingTests
{
    private const string Stem = "mobilenet_v1_0.25_128";

    private const string NetSource = "using MobileNetGen;\nnamespace App;\n\n[MobileNet(\"0.25_128\")]\npublic partial class Net { }\n";
    private const string OtherSource = "namespace App;\n\npublic static class Helper\n{\n    public static int Answer() => 42;\n}\n";

    private static readonly InMemoryAdditionalText Weights = InMemoryAdditionalText.Weights(Stem, GeneratorHarness.WeightsBytes(Stem));

    private static SyntaxTree Tree(string text, string path) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path: path);

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.Compilation(NetSource).AddSyntaxTrees(Tree(OtherSource, "/src/Other.cs"));
        var driver = GeneratorHarness.Driver(new[] { Weights }, track: true).RunGenerators(compilation);
        var first = driver.GetRunResult().Results[0];
        Assert.Null(first.Exception);
        Assert.Equal(2, first.GeneratedSources.Length);
        Assert.All(Reasons(first, MobileNetGenerator.TrackingNames.Plans), r => Assert.Equal(IncrementalStepRunReason.New, r));
        return (driver, compilation);
    }

    private static List<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step)
    {
        Assert.True(result.TrackedSteps.TryGetValue(step, out var steps), $"tracked step '{step}' did not run; ran: {string.Join(", ", result.TrackedSteps.Keys)}");
        var reasons = steps.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.NotEmpty(reasons);
        return reasons;
    }

    private static void AssertCached(GeneratorDriver driver, string step)
    {
        var result = driver.GetRunResult().Results[0];
        Assert.Null(result.Exception);
        var reasons = Reasons(result, step);
        Assert.True(reasons.All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged),
            $"step '{step}' re-ran: {string.Join(", ", reasons)}");
    }

    [Fact]
    public void Adding_an_unrelated_syntax_tree_keeps_Weights_and_Plans_cached()
    {
        var (driver, compilation) = FirstRun();
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Tree("namespace App; class Unrelated { }", "/src/Unrelated.cs")));
        AssertCached(driver, MobileNetGenerator.TrackingNames.Weights);
        AssertCached(driver, MobileNetGenerator.TrackingNames.Plans);
    }

    [Fact]
    public void Editing_an_unrelated_file_keeps_Weights_and_Plans_cached()
    {
        var (driver, compilation) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/Other.cs");
        var edited = compilation.ReplaceSyntaxTree(old, Tree(OtherSource.Replace("42", "43 + 1"), "/src/Other.cs"));
        driver = driver.RunGenerators(edited);
        AssertCached(driver, MobileNetGenerator.TrackingNames.Weights);
        AssertCached(driver, MobileNetGenerator.TrackingNames.Plans);
    }

    [Fact]
    public void Moving_the_MobileNet_class_down_a_few_lines_keeps_Plans_cached()
    {
        var (driver, compilation) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/File0.cs");
        string moved = NetSource.Replace("namespace App;\n", "namespace App;\n\n\n// a comment\n\n");
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, Tree(moved, old.FilePath)));
        AssertCached(driver, MobileNetGenerator.TrackingNames.Weights);
        AssertCached(driver, MobileNetGenerator.TrackingNames.Plans);
        Assert.Equal(2, driver.GetRunResult().Results[0].GeneratedSources.Length);
    }

    [Fact]
    public void Changing_the_weights_text_reruns_Plans()
    {
        var (driver, compilation) = FirstRun();
        // Same name and variant, different content: the synthetic 0.25_128 weights.
        var changed = InMemoryAdditionalText.Weights(Stem, SyntheticWeights.Create(VariantName.Parse("0.25_128")).Write());
        driver = driver.ReplaceAdditionalText(Weights, changed).RunGenerators(compilation);
        var result = driver.GetRunResult().Results[0];
        Assert.Null(result.Exception);
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, MobileNetGenerator.TrackingNames.Weights));
        Assert.Contains(IncrementalStepRunReason.Modified, Reasons(result, MobileNetGenerator.TrackingNames.Plans));
        Assert.Contains("WeightsKind.Synthetic", result.GeneratedSources.Single(s => s.HintName == "App.Net.g.cs").SourceText.ToString());
    }
}
