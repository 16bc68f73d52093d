using MobileNetGen.Fuzzing;
using MobileNetGen.Tests.Cli;
using Xunit;

namespace MobileNetGen.Tests.Fuzz;

/// <summary>
/// Every input that fuzzing found to escape a parser's documented exception (Fixtures/fuzz/TARGET/*, see docs/fuzzing.md)
/// is replayed through its target: it must now be refused with that exception, and the CLI must report it as a one-line error.
/// </summary>
public sealed class FuzzRegressionTests : IDisposable
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "fuzz");
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "mng-fuzz-regression-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string dir in Directory.GetDirectories(Root).Order())
            foreach (string file in Directory.GetFiles(dir).Order())
                data.Add(Path.GetFileName(dir), Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void FoundInputIsRefusedWithTheDocumentedException(string target, string file)
    {
        byte[] data = File.ReadAllBytes(Path.Combine(Root, target, file));
        FuzzTargets.Run(target, data, _workDir, out var rejection);
        Assert.NotNull(rejection);
        Assert.IsType(FuzzTargets.ExpectedException(target), rejection);
        Assert.False(string.IsNullOrWhiteSpace(rejection!.Message));
    }

    [Theory]
    [InlineData("invalid-utf8-property-name.tfjs", "not valid UTF-8")]
    [InlineData("lone-surrogate-weight-name.tfjs", "not valid JSON text")]
    public void TfjsTextErrors_ImportCommand_OneLineError(string file, string expected)
    {
        using var tmp = new CliRunner.TempDir();
        Directory.CreateDirectory(tmp.File("model"));
        File.Copy(Path.Combine(Root, "tfjs", file), tmp.File("model/model.json"));
        var r = CliRunner.Run("import", tmp.File("model"), "--variant", "0.25_224", "-o", tmp.File("out"));
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
