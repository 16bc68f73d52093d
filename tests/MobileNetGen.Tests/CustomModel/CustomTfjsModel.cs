extern alias generator;
using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json.Nodes;
using generator::MobileNetGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using MobileNetGen.Runtime;
using MobileNetGen.Tests.Generator;

namespace MobileNetGen.Tests.CustomModel;

/// <summary>
/// Writes a deterministic "fine-tuned" MobileNet v1 in TF.js layers format: Google's genuine Keras 0.25_224 backbone
/// (model.json + shards copied from shared/models/keras-tfjs/mobilenet_v1_0.25_224) with the 1000-class <c>conv_preds</c>
/// head replaced by a seeded N-class one ([1,1,256,N] kernel, [N] bias), the manifest shapes and the topology's
/// <c>filters</c> updated, and (optionally) a <c>labels.txt</c> beside <c>model.json</c>.
/// </summary>
internal static class CustomTfjsModel
{
    public const string SourceFolder = "keras-tfjs/mobilenet_v1_0.25_224";
    public const int Features = 256;

    /// <summary>Writes the model into <paramref name="dir"/>; returns the path of its model.json.</summary>
    /// <param name="kernelClasses">Classes of the kernel (manifest shape and data).</param>
    /// <param name="biasClasses">Classes of the bias; default = <paramref name="kernelClasses"/> (differ to build a malformed head).</param>
    /// <param name="manifestKernelClasses">Classes the manifest states for the kernel; default = the data's (differ: the manifest lies).</param>
    public static string Write(string dir, int kernelClasses, string[]? labels, ulong seed = 20240229,
        int? biasClasses = null, int? manifestKernelClasses = null)
    {
        string src = SharedData.Model(SourceFolder);
        Directory.CreateDirectory(dir);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "model.json")))!.AsObject();
        int nb = biasClasses ?? kernelClasses;
        var rng = new SplitMix64(seed);
        // Kernel: uniform in ±√(6/256) (He-uniform), bias in ±0.5: decisive but not saturated logits.
        float limit = MathF.Sqrt(6f / Features);
        var kernel = new float[Features * kernelClasses];
        for (int i = 0; i < kernel.Length; i++) kernel[i] = (rng.NextFloat() * 2 - 1) * limit;
        var bias = new float[nb];
        for (int i = 0; i < nb; i++) bias[i] = rng.NextFloat() - 0.5f;

        foreach (var groupNode in json["weightsManifest"]!.AsArray())
        {
            var group = groupNode!.AsObject();
            var paths = group["paths"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
            var weights = group["weights"]!.AsArray();
            bool isHead = weights.Any(w => w!["name"]!.GetValue<string>().StartsWith("conv_preds/", StringComparison.Ordinal));
            if (!isHead)
            {
                foreach (string p in paths) File.Copy(Path.Combine(src, p), Path.Combine(dir, p), overwrite: true);
                continue;
            }
            // Rebuild the head's group: walk its weights over the concatenated shards, replace the two head tensors.
            byte[] buffer = paths.SelectMany(p => File.ReadAllBytes(Path.Combine(src, p))).ToArray();
            using var output = new MemoryStream();
            long offset = 0;
            foreach (var wNode in weights)
            {
                var w = wNode!.AsObject();
                string name = w["name"]!.GetValue<string>();
                long n = w["shape"]!.AsArray().Aggregate(1L, (a, d) => a * d!.GetValue<int>());
                if (name == "conv_preds/kernel")
                {
                    Append(output, kernel);
                    w["shape"] = new JsonArray(1, 1, Features, manifestKernelClasses ?? kernelClasses);
                }
                else if (name == "conv_preds/bias")
                {
                    Append(output, bias);
                    w["shape"] = new JsonArray(nb);
                }
                else output.Write(buffer, (int)offset, (int)(n * 4));
                offset += n * 4;
            }
            string shard = paths[0];
            File.WriteAllBytes(Path.Combine(dir, shard), output.ToArray());
            group["paths"] = new JsonArray(shard);
        }
        // The topology: conv_preds' filters and the final reshape follow the new head.
        foreach (var layer in Layers(json["modelTopology"]!))
        {
            string? name = layer["config"]?["name"]?.GetValue<string>();
            if (name == "conv_preds") layer["config"]!["filters"] = kernelClasses;
            if (layer["class_name"]?.GetValue<string>() == "Reshape" && layer["config"]?["target_shape"] is JsonArray ts && ts.Count == 1 && ts[0]!.GetValue<int>() == 1000)
                layer["config"]!["target_shape"] = new JsonArray(kernelClasses);
        }
        string modelJson = Path.Combine(dir, "model.json");
        File.WriteAllText(modelJson, json.ToJsonString());
        if (labels != null) File.WriteAllLines(Path.Combine(dir, "labels.txt"), labels);
        return modelJson;
    }

    private static IEnumerable<JsonObject> Layers(JsonNode node)
    {
        if (node is JsonObject o)
        {
            if (o.ContainsKey("class_name") && o.ContainsKey("config")) yield return o;
            foreach (var kv in o.ToList())
                if (kv.Value != null)
                    foreach (var x in Layers(kv.Value)) yield return x;
        }
        else if (node is JsonArray a)
        {
            foreach (var item in a.ToList())
                if (item != null)
                    foreach (var x in Layers(item)) yield return x;
        }
    }

    private static void Append(Stream s, float[] values)
    {
        Span<byte> b = stackalloc byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(b, v);
            s.Write(b);
        }
    }
}

/// <summary>SplitMix64: the seeded generator of the test models' custom heads.</summary>
internal sealed class SplitMix64(ulong state)
{
    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits.</summary>
    public float NextFloat() => (Next() >> 40) * (1f / (1 << 24));
}

/// <summary>Generates a classifier from canonical weights with the real generator, compiles it in memory and loads it.</summary>
internal static class InMemoryClassifier
{
    /// <summary>Runs the generator over <c>[MobileNet(variant, Weights = stem)] public partial class className</c>.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Generate(string className, string variant, string stem, byte[] weights) =>
        GeneratorHarness.Run(
            $"namespace CustomApp; [MobileNetGen.MobileNet(\"{variant}\", Weights = \"{stem}\")] public partial class {className} {{ }}",
            InMemoryAdditionalText.Weights(stem, weights));

    /// <summary>Generates, compiles (Release) and loads the classifier type; fails the test on any error diagnostic.</summary>
    public static Type Load(string className, string variant, string stem, byte[] weights)
    {
        var (result, output) = Generate(className, variant, stem, weights);
        var generatorErrors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (generatorErrors.Count > 0) throw new InvalidOperationException("generator: " + string.Join("; ", generatorErrors));
        var compilation = ((CSharpCompilation)output)
            .WithAssemblyName("CustomApp" + Guid.NewGuid().ToString("N"))
            .WithOptions(((CSharpCompilation)output).Options.WithOptimizationLevel(OptimizationLevel.Release));
        using var pe = new MemoryStream();
        // The weights travel as a manifest resource, as the MSBuild step embeds them.
        var resource = new ResourceDescription(MobileNetGen.Model.WeightsDescription.ResourceName(stem), () => new MemoryStream(weights), isPublic: true);
        var emit = compilation.Emit(pe, manifestResources: new[] { resource });
        if (!emit.Success)
            throw new InvalidOperationException("compile: " + string.Join("; ", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        pe.Position = 0;
        // A collectible context of its own; MobileNetGen.Runtime and ImageSharp resolve to the test host's copies.
        var alc = new AssemblyLoadContext("custom-" + className, isCollectible: true);
        Assembly asm = alc.LoadFromStream(pe);
        return asm.GetType("CustomApp." + className, throwOnError: true)!;
    }

    public static MobileNetClassifier Create(Type type, MobileNetOptions? options = null) =>
        (MobileNetClassifier)Activator.CreateInstance(type, options)!;
}
