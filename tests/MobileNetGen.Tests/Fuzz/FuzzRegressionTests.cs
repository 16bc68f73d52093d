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

    /// <summary>
    /// Fixtures/fuzz/image: inputs on which ImageSharp 2.1.13's decoders throw NullReferenceException, IndexOutOfRange,
    /// ArgumentOutOfRange or DivideByZero (BMP palette/RLE, JPEG identify and post-processing, EXIF, PNG pHYs). The loader
    /// contains them as ImageLoadException; the message must say the data is corrupt, not repeat the runtime's text.
    /// </summary>
    [Fact]
    public void ImageDecoderFailures_OneLineCorruptDataError_InLoaderAndCli()
    {
        string[] runtimeTexts = { "Object reference", "Index was outside", "Specified argument", "Attempted to divide", "Stream length" };
        var files = Directory.GetFiles(Path.Combine(Root, "image")).Order().ToArray();
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            // As found: the in-memory entry points (span, or a non-seekable stream when the last byte is odd).
            FuzzTargets.Run(FuzzTargets.Image, File.ReadAllBytes(file), _workDir, out var rejection);
            Assert.IsType<MobileNetGen.Runtime.Imaging.ImageLoadException>(rejection);
            foreach (string text in runtimeTexts) Assert.DoesNotContain(text, rejection!.Message);
            // From the file (a seekable stream): refused the same way, or decoded (seeking past 2 GiB works on a file).
            try { using var image = MobileNetGen.Runtime.Imaging.ImageLoader.LoadRgb24(file); }
            catch (MobileNetGen.Runtime.Imaging.ImageLoadException e)
            {
                Assert.Contains(Path.GetFileName(file), e.Message);
                foreach (string text in runtimeTexts) Assert.DoesNotContain(text, e.Message);
            }
        }
        var r = CliRunner.Run(new[] { "classify", "--variant", "0.25_128" }.Concat(files).ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.InRange(r.StderrLines.Length, files.Length - 1, files.Length);
        Assert.All(r.StderrLines, line =>
        {
            Assert.StartsWith("error: ", line);
            foreach (string text in runtimeTexts) Assert.DoesNotContain(text, line);
        });
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Theory]
    [InlineData("invalid-utf8-property-name.tfjs", "not valid UTF-8")]
    [InlineData("lone-surrogate-weight-name.tfjs", "not valid JSON text")]
    [InlineData("escaped-surrogate-property-name.tfjs", "not valid JSON text")]
    public void TfjsTextErrors_ImportCommand_OneLineError(string file, string expected)
    {
        using var tmp = new CliRunner.TempDir();
        Directory.CreateDirectory(tmp.File("model"));
        var parts = FuzzTargets.SplitTfjs(File.ReadAllBytes(Path.Combine(Root, "tfjs", file)));
        File.WriteAllBytes(tmp.File("model/model.json"), parts[0]);
        if (parts.Count > 1) File.WriteAllBytes(tmp.File("model/" + FuzzTargets.TfjsShardName), parts[1]);
        var r = CliRunner.Run("import", tmp.File("model"), "--variant", "0.25_224", "-o", tmp.File("out"));
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
