using System.Text;
using MobileNetGen.Importers;
using Xunit;

namespace MobileNetGen.Tests.Importers;

/// <summary>Every malformed, truncated, empty or random input raises <see cref="ImportException"/> — no other exception type, no hang.</summary>
public class MalformedInputTests
{
    private const string Pb = "slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb";
    private const string QuantPb = "slim-2017-weight-quantized/mobilenet_v1_0.50_128/quantized_graph.pb";
    private const string Tflite = "tflite-2018/mobilenet_v1_0.25_224_1_default_1.tflite";
    private const string TfjsDir = "keras-tfjs/mobilenet_v1_0.25_224";

    private static void AssertImportFails(string path, string because)
    {
        var e = Record.Exception(() => MobileNetImporter.Import(path, new ImportOptions()));
        Assert.True(e is ImportException, $"{because}: expected ImportException, got {(e == null ? "success" : e.GetType().Name + ": " + e.Message)}");
        Assert.False(string.IsNullOrWhiteSpace(e!.Message));
    }

    private static byte[] Random(int seed, int length)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void EmptyFiles_Throw()
    {
        using var tmp = new TempFolder();
        AssertImportFails(tmp.File("empty.pb", Array.Empty<byte>()), "empty .pb");
        AssertImportFails(tmp.File("empty.tflite", Array.Empty<byte>()), "empty .tflite");
        AssertImportFails(tmp.File("json/model.json", Array.Empty<byte>()), "empty model.json");
        AssertImportFails(Path.Combine(tmp.Path, "json"), "directory with an empty model.json");
    }

    [Fact]
    public void RandomFiles_Throw()
    {
        using var tmp = new TempFolder();
        for (int seed = 0; seed < 20; seed++)
        {
            byte[] r = Random(seed, 1 + seed * 997);
            AssertImportFails(tmp.File($"r{seed}.pb", r), $"random .pb seed {seed}");
            AssertImportFails(tmp.File($"r{seed}.tflite", r), $"random .tflite seed {seed}");
            var withId = (byte[])r.Clone();
            if (withId.Length >= 8) Encoding.ASCII.GetBytes("TFL3").CopyTo(withId, 4);
            AssertImportFails(tmp.File($"id{seed}.tflite", withId), $"random .tflite with TFL3 identifier seed {seed}");
            AssertImportFails(tmp.File($"j{seed}/model.json", r), $"random model.json seed {seed}");
        }
        AssertImportFails(tmp.File("j/model.json", Encoding.UTF8.GetBytes("{\"weightsManifest\": 5}")), "weightsManifest not an array");
        AssertImportFails(tmp.File("k/model.json", Encoding.UTF8.GetBytes("[1,2,3]")), "JSON array root");
        AssertImportFails(tmp.File("l/model.json", Encoding.UTF8.GetBytes("{\"weightsManifest\":[{\"paths\":[\"../../etc/passwd\"],\"weights\":[]}]}")), "escaping shard path");
    }

    [Fact]
    public void MissingFileAndUnknownExtension_Throw()
    {
        using var tmp = new TempFolder();
        AssertImportFails(Path.Combine(tmp.Path, "nope.pb"), "missing .pb");
        AssertImportFails(Path.Combine(tmp.Path, "nope.tflite"), "missing .tflite");
        AssertImportFails(tmp.File("weights.onnx", new byte[] { 1, 2, 3 }), "unknown extension");
        AssertImportFails(tmp.Path, "directory without model.json");
    }

    [SharedDataFact]
    public void TruncatedGraphDefs_Throw()
    {
        using var tmp = new TempFolder();
        foreach (string src in new[] { Pb, QuantPb })
        {
            byte[] full = File.ReadAllBytes(SharedData.Model(src));
            foreach (double frac in new[] { 0.0001, 0.01, 0.3, 0.5, 0.9, 0.999 })
                AssertImportFails(tmp.File($"t{frac}.pb", full.AsSpan(0, (int)(full.Length * frac)).ToArray()), $"{src} truncated to {frac:P2}");
            AssertImportFails(tmp.File("minus1.pb", full.AsSpan(0, full.Length - 1).ToArray()), $"{src} minus its last byte");
        }
    }

    [SharedDataFact]
    public void TruncatedAndCorruptedTflite_Throw()
    {
        using var tmp = new TempFolder();
        byte[] full = File.ReadAllBytes(SharedData.Model(Tflite));
        var rng = new Random(1234);
        for (int i = 0; i < 40; i++)
        {
            // (The last few bytes of this file are vtable padding no reader needs; cut at least 64 so data is lost.)
            int len = i == 0 ? full.Length - 64 : rng.Next(0, full.Length - 64);
            AssertImportFails(tmp.File($"t{i}.tflite", full.AsSpan(0, len).ToArray()), $"tflite truncated to {len} bytes");
        }
        // Corrupt the flatbuffer's tables (the file's root table and vtables; weights are elsewhere): each either still
        // imports (a harmless byte) or raises ImportException — never another exception.
        int root = BitConverter.ToInt32(full, 0);
        for (int i = 0; i < 200; i++)
        {
            var bad = (byte[])full.Clone();
            int at = i < 100 ? rng.Next(0, Math.Min(full.Length, 64)) : rng.Next(Math.Max(0, root - 2048), Math.Min(full.Length, root + 4096));
            bad[at] = (byte)rng.Next(256);
            string p = tmp.File($"c{i}.tflite", bad);
            var e = Record.Exception(() => MobileNetImporter.Import(p, new ImportOptions()));
            Assert.True(e == null || e is ImportException, $"corrupted byte {at}: {e?.GetType().Name}: {e?.Message}");
        }
    }

    [SharedDataFact]
    public void TruncatedTfjs_Throw()
    {
        using var tmp = new TempFolder();
        string srcDir = SharedData.Model(TfjsDir);
        string Copy(string name, Func<string, byte[], byte[]> edit)
        {
            string dir = Path.Combine(tmp.Path, name);
            Directory.CreateDirectory(dir);
            foreach (var f in Directory.GetFiles(srcDir))
                File.WriteAllBytes(Path.Combine(dir, Path.GetFileName(f)), edit(Path.GetFileName(f), File.ReadAllBytes(f)));
            return dir;
        }
        AssertImportFails(Copy("json-half", (n, b) => n == "model.json" ? b.AsSpan(0, b.Length / 2).ToArray() : b), "model.json truncated");
        AssertImportFails(Copy("shard-short", (n, b) => n == "group29-shard1of1" ? b.AsSpan(0, b.Length - 4).ToArray() : b), "logits shard truncated");
        AssertImportFails(Copy("shard-empty", (n, b) => n == "group1-shard1of1" ? Array.Empty<byte>() : b), "stem shard empty");
        AssertImportFails(Copy("shard-long", (n, b) => n == "group5-shard1of1" ? b.Concat(new byte[4]).ToArray() : b), "shard with extra bytes");
        string missing = Copy("shard-missing", (n, b) => b);
        File.Delete(Path.Combine(missing, "group3-shard1of1"));
        AssertImportFails(missing, "missing shard");
    }
}
