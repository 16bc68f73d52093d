using System.Text;
using MobileNetGen.Fuzzing;
using Xunit;

namespace MobileNetGen.Tests.Cli;

/// <summary>
/// The importer bullet of the hostile-input issue at the command line: empty, random, truncated and corrupted
/// <c>.pb</c>, <c>.tflite</c> and TF.js folders (built from the fuzz seeds, so ../shared is not needed) give one
/// <c>error: ...</c> line on stderr, exit code 2, no stack trace and no output file.
/// </summary>
public class HostileImportTests
{
    public static TheoryData<string> Cases() => new()
    {
        "empty.pb", "random.pb", "truncated.pb", "bitflipped.pb",
        "empty.tflite", "random.tflite", "tfl3-random.tflite", "truncated.tflite", "zeroed-tables.tflite",
        "empty-json", "random-json", "truncated-json", "missing-shard", "truncated-shard", "shard-path-escapes", "huge-shape",
    };

    private static string Make(CliRunner.TempDir tmp, string kind)
    {
        var random = new byte[3000];
        new Random(kind.Length).NextBytes(random);
        byte[] pb = FuzzSeeds.GraphDef(quantizedBlock: false), tflite = FuzzSeeds.Tflite();
        var tfjs = FuzzTargets.SplitTfjs(FuzzSeeds.Tfjs());
        byte[] json = tfjs[0], shard = tfjs[1];
        string Pb(byte[] b) { File.WriteAllBytes(tmp.File("model.pb"), b); return tmp.File("model.pb"); }
        string Tfl(byte[] b) { File.WriteAllBytes(tmp.File("model.tflite"), b); return tmp.File("model.tflite"); }
        string Dir(byte[] modelJson, byte[]? shardBytes)
        {
            string dir = tmp.File("tfjs model ü");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, "model.json"), modelJson);
            if (shardBytes != null) File.WriteAllBytes(Path.Combine(dir, FuzzTargets.TfjsShardName), shardBytes);
            File.WriteAllText(Path.Combine(dir, "labels.txt"), "cat\ndog\n");
            return dir;
        }
        switch (kind)
        {
            case "empty.pb": return Pb(Array.Empty<byte>());
            case "random.pb": return Pb(random);
            case "truncated.pb": return Pb(pb.AsSpan(0, pb.Length * 2 / 3).ToArray());
            case "bitflipped.pb": { var b = (byte[])pb.Clone(); for (int i = 100; i < b.Length; i += 997) b[i] ^= 0x40; return Pb(b); }
            case "empty.tflite": return Tfl(Array.Empty<byte>());
            case "random.tflite": return Tfl(random);
            case "tfl3-random.tflite": { var b = (byte[])random.Clone(); Encoding.ASCII.GetBytes("TFL3").CopyTo(b, 4); return Tfl(b); }
            case "truncated.tflite": return Tfl(tflite.AsSpan(0, 5000).ToArray());
            case "zeroed-tables.tflite": { var b = (byte[])tflite.Clone(); Array.Clear(b, 8, 2000); return Tfl(b); }
            case "empty-json": return Dir(Array.Empty<byte>(), shard);
            case "random-json": return Dir(random, shard);
            case "truncated-json": return Dir(json.AsSpan(0, json.Length / 2).ToArray(), shard);
            case "missing-shard": return Dir(json, null);
            case "truncated-shard": return Dir(json, shard.AsSpan(0, shard.Length - 4).ToArray());
            case "shard-path-escapes": return Dir(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json).Replace(FuzzTargets.TfjsShardName, "../../../etc/passwd")), shard);
            case "huge-shape": return Dir(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json).Replace("\"shape\":[3,3,3,8]", "\"shape\":[2147483647,2147483647,2147483647,8]")), shard);
            default: throw new ArgumentException(kind);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostileSource_ExitTwo_OneLineError_NoOutput(string kind)
    {
        using var tmp = new CliRunner.TempDir();
        string source = Make(tmp, kind);
        string output = tmp.File("out");
        var r = CliRunner.Run("import", source, "--variant", "0.25_128", "-o", output);
        Assert.True(r.ExitCode == 2, $"{kind}: {r}");
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), $"{kind}: an output file was written");
    }

    [Fact]
    public void TheUncorruptedSeeds_Import()
    {
        // The cases above are corruptions of inputs that do import: the failures come from the corruption.
        using var tmp = new CliRunner.TempDir();
        var tfjs = FuzzTargets.SplitTfjs(FuzzSeeds.Tfjs());
        string dir = tmp.File("tfjs");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "model.json"), tfjs[0]);
        File.WriteAllBytes(Path.Combine(dir, FuzzTargets.TfjsShardName), tfjs[1]);
        File.WriteAllBytes(Path.Combine(dir, "labels.txt"), tfjs[2]);
        File.WriteAllBytes(tmp.File("model.pb"), FuzzSeeds.GraphDef(quantizedBlock: false));
        File.WriteAllBytes(tmp.File("model.tflite"), FuzzSeeds.Tflite());
        foreach (string source in new[] { tmp.File("model.pb"), tmp.File("model.tflite"), dir })
        {
            var r = CliRunner.Run("import", source, "--variant", "0.25_128", "-o", tmp.File("out"), "--name", "seed_" + Path.GetFileName(source).Replace('.', '_'));
            Assert.True(r.ExitCode == 0, $"{source}: {r}");
        }
    }
}
