using System.Diagnostics;
using System.IO.Compression;
using MobileNetGen.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Packaging;

/// <summary>Runs by default (CI); <c>MOBILENETGEN_PACKAGE_TESTS=0</c> skips it for a quick local run.</summary>
public sealed class PackageFactAttribute : FactAttribute
{
    public PackageFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("MOBILENETGEN_PACKAGE_TESTS") == "0")
            Skip = "MOBILENETGEN_PACKAGE_TESTS=0";
    }
}

/// <summary>
/// The NuGet path end to end: packs MobileNetGen, MobileNetGen.Runtime and MobileNetGen.Weights.0_25_224 into a temporary
/// local feed, creates an app outside the repository (its own nuget.config: the feed, nuget.org, and the machine's global
/// packages folder as a fallback so that ImageSharp needs no network), restores into a private packages folder (never a
/// stale copy of our packages), builds, runs it on grace_hopper.bmp and expects "bow tie"; then publishes the same app
/// with NativeAOT and runs the binary. The app declares one class by attribute and one by MSBuild properties
/// (MobileNetVariant, MobileNetThreads, MobileNetIsa). A few minutes on 2 cores.
/// </summary>
[Collection(nameof(PackageTests))]
[CollectionDefinition(nameof(PackageTests), DisableParallelization = true)]
public sealed class PackageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);

    [PackageFact]
    public void Packed_packages_build_an_app_that_classifies_under_JIT_and_NativeAOT()
    {
        string root = Path.Combine(Path.GetTempPath(), "mobilenetgen-pack-" + Guid.NewGuid().ToString("N"));
        string feed = Path.Combine(root, "feed"), packages = Path.Combine(root, "packages"), app = Path.Combine(root, "app");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(app);
        try
        {
            string repo = RepoPaths.Root;
            // `dotnet pack` at the root gives exactly the publishable packages: the generator, the runtime, one weights package per entry.
            Dotnet(repo, "pack", Path.Combine(repo, "MobileNetGen.sln"), "-c", "Release", "-o", feed, "-nodeReuse:false");
            var expected = new[] { "MobileNetGen.0.1.0.nupkg", "MobileNetGen.Runtime.0.1.0.nupkg" }
                .Concat(Directory.GetFiles(Path.Combine(repo, "weights"), "*.safetensors")
                    .Select(f => $"MobileNetGen.Weights.{Path.GetFileNameWithoutExtension(f).Replace("mobilenet_v1_", "").Replace('.', '_')}.0.1.0.nupkg"))
                .OrderBy(n => n, StringComparer.Ordinal).ToArray();
            Assert.Equal(expected, Directory.GetFiles(feed).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray());

            // Package layout.
            using (var zip = ZipFile.OpenRead(Path.Combine(feed, "MobileNetGen.0.1.0.nupkg")))
            {
                var names = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("analyzers/dotnet/cs/MobileNetGen.Generator.dll", names);
                Assert.Contains("build/MobileNetGen.props", names);
                Assert.Contains("build/MobileNetGen.targets", names);
                Assert.Contains("tasks/netstandard2.0/MobileNetGen.Tasks.dll", names);
                Assert.DoesNotContain(names, n => n.EndsWith("MobileNetGen.Model.dll", StringComparison.Ordinal));
                string nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
                Assert.Contains("id=\"MobileNetGen.Runtime\" version=\"0.1.0\"", nuspec);
                Assert.DoesNotContain("MobileNetGen.Model", nuspec);
                Assert.DoesNotContain("MobileNetGen.Generator\"", nuspec);
                Assert.Contains("<license type=\"expression\">Apache-2.0</license>", nuspec);
            }
            using (var zip = ZipFile.OpenRead(Path.Combine(feed, "MobileNetGen.Weights.0_25_224.0.1.0.nupkg")))
            {
                var names = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("weights/mobilenet_v1_0.25_224.safetensors", names);
                Assert.Contains("build/MobileNetGen.Weights.0_25_224.targets", names);
                Assert.DoesNotContain(names, n => n.StartsWith("lib/", StringComparison.Ordinal));
            }
            using (var zip = ZipFile.OpenRead(Path.Combine(feed, "MobileNetGen.Runtime.0.1.0.nupkg")))
            {
                var names = zip.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("lib/net10.0/MobileNetGen.Runtime.dll", names);
                Assert.Contains("lib/net10.0/MobileNetGen.Model.dll", names);
                string nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
                Assert.DoesNotContain("MobileNetGen.Model", nuspec);
            }

            string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                  <fallbackPackageFolders>
                    <add key="machine" value="{globalPackages}" />
                  </fallbackPackageFolders>
                </configuration>
                """);
            // The app states its choices the way the README shows: one class by attribute, one by MSBuild properties alone.
            File.WriteAllText(Path.Combine(app, "PackagedApp.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <InvariantGlobalization>true</InvariantGlobalization>
                    <MobileNetVariant>0.25_224</MobileNetVariant>
                    <MobileNetClassName>Birds</MobileNetClassName>
                    <MobileNetThreads>2</MobileNetThreads>
                    <MobileNetIsa>x86-64-v3</MobileNetIsa>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="MobileNetGen" Version="0.1.0" />
                    <PackageReference Include="MobileNetGen.Weights.0_25_224" Version="0.1.0" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using MobileNetGen;
                using System.Runtime.Intrinsics;

                using var net = new PackagedApp.Net();
                foreach (var p in net.Classify(args[0], 3))
                    Console.WriteLine($"{p.ImageNetIndex}\t{p.Label}\t{p.Probability:0.0000}");
                using var birds = new PackagedApp.Birds();   // declared by <MobileNetVariant> in the project file
                var top = birds.Classify(args[0], 1)[0];
                Console.WriteLine($"birds\t{top.ImageNetIndex}\t{top.Label}\tthreads={birds.Threads}\tsimd={birds.SimdPath}\tv256={Vector256.IsHardwareAccelerated}");

                namespace PackagedApp
                {
                    [MobileNet("0.25_224")]
                    public partial class Net { }
                }
                """);

            string photo = Path.Combine(AppContext.BaseDirectory, "Fixtures", "grace_hopper.bmp");
            DotnetWithPackages(app, packages, "build", "-c", "Release", "-nodeReuse:false");
            string dll = Path.Combine(app, "bin", "Release", "net10.0", "PackagedApp.dll");
            AssertClassifies(DotnetWithPackages(app, packages, dll, photo), "JIT");

            // The same app as a NativeAOT binary (MobileNetIsa x86-64-v3 from the package's targets: Vector256 accelerated).
            string publish = Path.Combine(root, "publish");
            DotnetWithPackages(app, packages, "publish", "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", publish, "-nodeReuse:false");
            string exe = Path.Combine(publish, "PackagedApp");
            Assert.True(File.Exists(exe), $"NativeAOT publish wrote no {exe}");
            Assert.False(File.Exists(Path.Combine(publish, "PackagedApp.dll")), "the publish is not NativeAOT: an IL PackagedApp.dll was written");
            string aot = Run(exe, photo);
            AssertClassifies(aot, "NativeAOT");
            Assert.Contains("v256=True", aot);
            output.WriteLine($"NativeAOT binary: {new FileInfo(exe).Length / 1e6:0.00} MB");
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static void AssertClassifies(string stdout, string flavour)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 4, $"{flavour}: expected 3 predictions and the Birds line, got:\n{stdout}");
        Assert.StartsWith("458\tbow tie\t", lines[0]);
        Assert.StartsWith("birds\t458\tbow tie\tthreads=2\t", lines[3]);
    }

    /// <summary>Runs a program; fails the test with its output on a non-zero exit or a timeout.</summary>
    private string Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program);
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Run(psi, program);
    }

    private string Dotnet(string workingDirectory, params string[] args) => DotnetWithPackages(workingDirectory, null, args);

    /// <summary>Runs <c>dotnet args</c>; fails the test with its output on a non-zero exit or a timeout.</summary>
    private string DotnetWithPackages(string workingDirectory, string? nugetPackages, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory };
        foreach (string a in args) psi.ArgumentList.Add(a);
        // Not the test host's MSBuild context: a child build must resolve its own SDK and properties.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "VSTEST_HOST_DEBUG").ToList())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        if (nugetPackages != null) psi.Environment["NUGET_PACKAGES"] = nugetPackages;
        return Run(psi, $"dotnet {string.Join(' ', args)}");
    }

    /// <summary>Starts <paramref name="psi"/> with its output captured, logs exit code and duration, and fails the test
    /// with the output on a timeout or a non-zero exit; returns standard output.</summary>
    private string Run(ProcessStartInfo psi, string what)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(StepTimeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{what} timed out after {StepTimeout}\n{stdout.Result}\n{stderr.Result}");
        }
        output.WriteLine($"{what}: exit {p.ExitCode} in {sw.Elapsed.TotalSeconds:0.0} s");
        if (p.ExitCode != 0) Assert.Fail($"{what} exited {p.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}
