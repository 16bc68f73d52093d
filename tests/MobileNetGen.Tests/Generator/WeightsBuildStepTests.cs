using System.Diagnostics;
using MobileNetGen.Model;
using MobileNetGen.Tests.Packaging;
using MobileNetGen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Generator;

/// <summary>
/// The MSBuild weights step (build/MobileNetGen.targets, MobileNetGen.Tasks) in real <c>dotnet build</c>s of a small app
/// outside the repository that uses it the way the README shows: the file is embedded as a manifest resource and only its
/// description reaches the compiler; missing, duplicate and malformed files are MNG0010, MNG0008 and MNG0003; a build
/// with nothing changed rewrites nothing. About a minute on 2 cores (MOBILENETGEN_PACKAGE_TESTS=0 skips it).
/// </summary>
[Collection(nameof(PackageTests))]
public sealed class WeightsBuildStepTests(ITestOutputHelper output)
{
    private const string Stem = "mobilenet_v1_0.25_128";

    [PackageFact]
    public void The_build_embeds_the_weights_and_reports_bad_files_with_their_ids()
    {
        string root = Path.Combine(Path.GetTempPath(), "mobilenetgen-step-" + Guid.NewGuid().ToString("N"));
        string app = Path.Combine(root, "app");
        Directory.CreateDirectory(app);
        try
        {
            string repo = RepoPaths.Root;
            string weights = Path.Combine(root, Stem + ".safetensors");
            File.Copy(RepoPaths.Weights(Stem), weights);
            WriteApp(app, repo, $"<MobileNetWeights Include=\"{weights}\" />");

            // 1. A valid file: the app builds, classifies, and its assembly holds the file byte for byte as a resource.
            var (code, log) = Dotnet(app, "build", "-c", "Release", "-nodeReuse:false");
            Assert.True(code == 0, log);
            string dll = Path.Combine(app, "bin", "Release", "net10.0", "StepApp.dll");
            var (runCode, stdout) = Dotnet(app, dll, Path.Combine(AppContext.BaseDirectory, "Fixtures", "grace_hopper.bmp"));
            Assert.True(runCode == 0, stdout);
            output.WriteLine(stdout);
            Assert.Contains("resource bytes equal the file: True", stdout);
            string description = Path.Combine(app, "obj", "mobilenetgen", Stem + WeightsDescription.Suffix);
            Assert.True(File.Exists(description), "no description in obj/mobilenetgen");
            Assert.True(new FileInfo(description).Length < 64 * 1024, "the description is not small");

            // 2. Nothing changed: the step does not run again (the description keeps its time stamp).
            var stamp = File.GetLastWriteTimeUtc(description);
            (code, log) = Dotnet(app, "build", "-c", "Release", "-nodeReuse:false");
            Assert.True(code == 0, log);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(description));

            // 3. A second file with the same entry name: warning MNG0008, the first is used, the build succeeds.
            string other = Path.Combine(root, "copy");
            Directory.CreateDirectory(other);
            File.Copy(weights, Path.Combine(other, Stem + ".safetensors"));
            WriteApp(app, repo, $"<MobileNetWeights Include=\"{weights}\" /><MobileNetWeights Include=\"{Path.Combine(other, Stem + ".safetensors")}\" />");
            (code, log) = Dotnet(app, "build", "-c", "Release", "-nodeReuse:false");
            Assert.True(code == 0, log);
            Assert.Contains("warning MNG0008", log);

            // 4. A file that does not exist: error MNG0010.
            WriteApp(app, repo, "<MobileNetWeights Include=\"no/such/file.safetensors\" />");
            (code, log) = Dotnet(app, "build", "-c", "Release", "-nodeReuse:false");
            Assert.NotEqual(0, code);
            Assert.Contains("error MNG0010", log);

            // 5. A truncated file: error MNG0003 at the class that asks for it, never a crash.
            byte[] bytes = File.ReadAllBytes(RepoPaths.Weights(Stem));
            File.WriteAllBytes(weights, bytes.AsSpan(0, bytes.Length / 2).ToArray());
            WriteApp(app, repo, $"<MobileNetWeights Include=\"{weights}\" />");
            (code, log) = Dotnet(app, "build", "-c", "Release", "-nodeReuse:false");
            Assert.NotEqual(0, code);
            Assert.Contains("error MNG0003", log);
            Assert.Contains("Program.cs", log);
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static void WriteApp(string app, string repo, string weightsItems)
    {
        File.WriteAllText(Path.Combine(app, "StepApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{repo}/generator/MobileNetGen.Generator/build/MobileNetGen.props" />
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{repo}/runtime/MobileNetGen.Runtime/MobileNetGen.Runtime.csproj" />
                <ProjectReference Include="{repo}/generator/MobileNetGen.Generator/MobileNetGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                {weightsItems}
              </ItemGroup>
              <Import Project="{repo}/generator/MobileNetGen.Generator/build/MobileNetGen.targets" />
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), $$"""
            using MobileNetGen;

            using var net = new StepApp.Net();
            var top = net.Classify(args[0], 1)[0];
            Console.WriteLine($"{top.ImageNetIndex}\t{top.Label}");
            using var resource = typeof(StepApp.Net).Assembly.GetManifestResourceStream("{{WeightsDescription.ResourceName(Stem)}}")!;
            using var copy = new MemoryStream();
            resource.CopyTo(copy);
            string file = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "{{Stem}}.safetensors");
            Console.WriteLine($"resource bytes equal the file: {copy.ToArray().AsSpan().SequenceEqual(File.ReadAllBytes(file))}");

            namespace StepApp
            {
                [MobileNet("0.25_128")] public partial class Net { }
            }
            """);
    }

    private (int Code, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(entireProcessTree: true); Assert.Fail($"dotnet {string.Join(' ', args)} timed out"); }
        output.WriteLine($"dotnet {string.Join(' ', args)}: exit {p.ExitCode} in {sw.Elapsed.TotalSeconds:0.0} s");
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
