extern alias generator;
using System.Collections.Immutable;
using System.Text;
using generator::MobileNetGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using MobileNetGen.Tests.Reference;

namespace MobileNetGen.Tests.Generator;

/// <summary>An additional file held in memory (the generator sees only its path and text).</summary>
public sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;

    /// <summary>A weights file as the MSBuild step hands it over: <c>{dir}/{stem}.mngweights</c>, the description
    /// (<see cref="MobileNetGen.Model.WeightsDescription"/>) of the safetensors file <paramref name="bytes"/>.</summary>
    public static InMemoryAdditionalText Weights(string stem, byte[] bytes, string dir = "/obj/mobilenetgen") =>
        new($"{dir}/{stem}{MobileNetGenerator.WeightsSuffix}", MobileNetGen.Model.WeightsDescription.Describe(stem, $"/weights/{stem}.safetensors", bytes));
}

/// <summary>Drives <see cref="MobileNetGenerator"/> over small in-memory compilations.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> _references = new(() =>
    {
        // The BCL of the running test host plus the MobileNetGen runtime (home of [MobileNet] and the kernels).
        var refs = new List<MetadataReference>();
        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        foreach (string path in tpa.Split(Path.PathSeparator))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "mscorlib" or "netstandard")
                refs.Add(MetadataReference.CreateFromFile(path));
        }
        refs.Add(MetadataReference.CreateFromFile(typeof(MobileNetAttribute).Assembly.Location));
        refs.Add(MetadataReference.CreateFromFile(typeof(SixLabors.ImageSharp.Image).Assembly.Location));
        return refs.ToImmutableArray();
    });

    /// <summary>Canonical weights of the repository (bytes), cached.</summary>
    private static readonly Dictionary<string, byte[]> _weights = new();

    public static byte[] WeightsBytes(string stem)
    {
        lock (_weights)
        {
            if (!_weights.TryGetValue(stem, out var bytes))
                _weights[stem] = bytes = File.ReadAllBytes(RepoPaths.Weights(stem));
            return bytes;
        }
    }

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create("GeneratorTest",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"/src/File{i}.cs")),
            _references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> additionalTexts, bool track = false,
        IReadOnlyDictionary<string, string>? buildProperties = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new MobileNetGenerator().AsSourceGenerator() },
            additionalTexts,
            ParseOptions,
            optionsProvider: buildProperties == null ? null : new BuildPropertiesProvider(buildProperties),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    /// <summary>Runs the generator once with MSBuild properties (as <c>CompilerVisibleProperty</c> passes them).</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(string source, IReadOnlyDictionary<string, string> buildProperties,
        params AdditionalText[] additionalTexts)
    {
        var driver = Driver(additionalTexts, buildProperties: buildProperties).RunGeneratorsAndUpdateCompilation(Compilation(source), out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Global analyzer options as MSBuild writes them: <c>build_property.NAME = value</c>.</summary>
    private sealed class BuildPropertiesProvider(IReadOnlyDictionary<string, string> properties) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global = new(properties.ToDictionary(kv => "build_property." + kv.Key, kv => kv.Value));
        public override AnalyzerConfigOptions GlobalOptions => _global;
        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;
        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new(new Dictionary<string, string>());
            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }

    /// <summary>Runs the generator once; returns the run result and the updated compilation.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(string source, params AdditionalText[] additionalTexts)
    {
        var driver = Driver(additionalTexts).RunGeneratorsAndUpdateCompilation(Compilation(source), out var output, out _);
        return (driver.GetRunResult(), output);
    }
}
