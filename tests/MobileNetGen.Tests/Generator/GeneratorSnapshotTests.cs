extern alias generator;
using Microsoft.CodeAnalysis;
using MobileNetGen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Generator;

/// <summary>
/// Baseline tests of the generated code, in the style of the Regex and System.Text.Json generators: the full text the
/// generator writes for one float, one 8-bit, one synthetic and one uint8 entry, and the SSD detector, is pinned in <c>Generator/Snapshots/*.g.cs.txt</c>,
/// so that every change of the emitted code shows up in review as a diff of those files.
/// </summary>
/// <remarks>
/// After an intended change, regenerate the files with
/// <c>MOBILENETGEN_UPDATE_SNAPSHOTS=1 dotnet test tests/MobileNetGen.Tests -c Release --filter GeneratorSnapshotTests</c>
/// and review the diff. A failing comparison names the first differing line.
/// </remarks>
public class GeneratorSnapshotTests(ITestOutputHelper output)
{
    private static readonly bool Update = Environment.GetEnvironmentVariable("MOBILENETGEN_UPDATE_SNAPSHOTS") == "1";

    public static TheoryData<string, string, string?> Entries() => new()
    {
        // class, attribute, weights file (null: synthetic)
        { "FloatNet", "MobileNet(\"0.25_224\")", "mobilenet_v1_0.25_224" },
        { "EightBitNet", "MobileNet(\"0.50_160\")", "mobilenet_v1_0.50_160" },
        { "SyntheticNet", "MobileNet(\"1.0_224\", Synthetic = true)", null },
        { "QuantizedNet", "MobileNet(\"0.25_128_quant\")", "mobilenet_v1_0.25_128_quant" },
        { "CocoDetector", "MobileNetSsd(\"ssd_mobilenet_v1_0.75_300_coco_quant\")", "ssd_mobilenet_v1_0.75_300_coco_quant" },
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void Generated_code_matches_its_snapshot(string className, string attribute, string? weights)
    {
        string source = $"using MobileNetGen;\nnamespace Snapshots;\n\n[{attribute}]\npublic partial class {className} {{ }}\n";
        var texts = weights == null ? Array.Empty<AdditionalText>()
            : new AdditionalText[] { InMemoryAdditionalText.Weights(weights, GeneratorHarness.WeightsBytes(weights), "/obj/mobilenetgen") };
        var (result, compilation) = GeneratorHarness.Run(source, texts);
        Assert.Null(result.Results[0].Exception);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "generated code does not compile:\n" + string.Join("\n", errors.Take(5)));

        var generated = result.Results[0].GeneratedSources;
        Assert.Equal(2, generated.Length);
        foreach (var file in generated)
        {
            string path = Path.Combine(RepoPaths.Root, "tests", "MobileNetGen.Tests", "Generator", "Snapshots", file.HintName + ".txt");
            string actual = file.SourceText.ToString();
            if (Update)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, actual);
                output.WriteLine($"updated {path}");
                continue;
            }
            Assert.True(File.Exists(path), $"no snapshot {path}: run with MOBILENETGEN_UPDATE_SNAPSHOTS=1 to create it");
            string expected = File.ReadAllText(path).ReplaceLineEndings("\n");
            if (expected == actual) continue;
            string[] e = expected.Split('\n'), a = actual.Split('\n');
            int line = 0;
            while (line < e.Length && line < a.Length && e[line] == a[line]) line++;
            Assert.Fail($"{file.HintName} differs from its snapshot at line {line + 1}:\n  snapshot:  {(line < e.Length ? e[line] : "(end)")}\n  generated: {(line < a.Length ? a[line] : "(end)")}\n" +
                        "If the change is intended, run with MOBILENETGEN_UPDATE_SNAPSHOTS=1 and review the diff.");
        }
    }

    [Fact]
    public void Generated_source_stays_small()
    {
        // The weights travel as a resource: what the compiler parses per class is code and comments only.
        var (result, _) = GeneratorHarness.Run("using MobileNetGen;\nnamespace S;\n[MobileNet(\"1.0_224\", Synthetic = true)] public partial class Big { }\n");
        long bytes = result.Results[0].GeneratedSources.Sum(s => (long)System.Text.Encoding.UTF8.GetByteCount(s.SourceText.ToString()));
        output.WriteLine($"1.0_224: {bytes:N0} bytes of generated source");
        Assert.True(bytes <= 300_000, $"{bytes:N0} bytes of generated source for one class (target: at most 300 KB)");
    }
}
