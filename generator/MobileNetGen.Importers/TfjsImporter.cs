using System.Globalization;
using System.Text.Json;
using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>
/// TensorFlow.js layers model (Keras MobileNet converted by tfjs-converter): <c>model.json</c> whose <c>weightsManifest</c>
/// lists groups; each group's <c>paths</c> (shards) concatenate into one little-endian buffer holding the group's
/// <c>weights</c> in order. Keras names: <c>conv1/kernel</c> + <c>conv1_bn/*</c>, <c>conv_dw_N/depthwise_kernel</c> +
/// <c>conv_dw_N_bn/*</c>, <c>conv_pw_N/kernel</c> + <c>conv_pw_N_bn/*</c>, <c>conv_preds/{kernel,bias}</c>; kernels are
/// already HWIO; BatchNorm (γ, β, moving mean/variance, ε = 0.001) is folded in double here. 1000 classes, no background.
/// </summary>
internal static class TfjsImporter
{
    private const long MaxModelJsonBytes = 64L << 20;

    private sealed record WeightRef(string Name, int[] Shape, byte[] Buffer, long Offset);

    public static SafeTensorsFile Import(string modelJsonPath, ImportOptions options)
    {
        string where = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(modelJsonPath)) ?? "") + "/" + Path.GetFileName(modelJsonPath);
        var info = new FileInfo(modelJsonPath);
        if (info.Exists && info.Length > MaxModelJsonBytes) throw new ImportException($"{where}: {info.Length} bytes is too large for a model.json");
        byte[] jsonBytes = ImportCommon.ReadFileBounded(modelJsonPath, "TF.js model.json");
        if (jsonBytes.Length == 0) throw new ImportException($"{where}: the file is empty (not a TF.js model.json)");
        // JsonDocument checks structure only: strings are transcoded when read, where invalid UTF-8 (or an escaped lone
        // surrogate) would surface as InvalidOperationException. Refuse invalid UTF-8 up front, the rest below.
        if (!System.Text.Unicode.Utf8.IsValid(jsonBytes)) throw new ImportException($"{where}: not valid JSON: the text is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(jsonBytes, new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException e) { throw new ImportException($"{where}: not valid JSON: {e.Message}", e); }
        catch (ArgumentException e) { throw new ImportException($"{where}: not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ImportException($"{where}: the JSON root is not an object (not a TF.js model.json)");
            string dir = Path.GetDirectoryName(Path.GetFullPath(modelJsonPath))!;
            Dictionary<string, WeightRef> weights;
            int shardCount;
            long shardBytes;
            int? resolution;
            // Every JSON read (property lookups unescape names too) is inside this block, and nothing else in it throws
            // InvalidOperationException: System.Text.Json's is caught without looking at TargetSite, which NativeAOT may not keep.
            try
            {
                if (!root.TryGetProperty("weightsManifest", out var manifest) || manifest.ValueKind != JsonValueKind.Array)
                    throw new ImportException($"{where}: no 'weightsManifest' array (not a TF.js layers model)");
                (weights, shardCount, shardBytes) = ReadManifest(manifest, dir, where);
                resolution = root.TryGetProperty("modelTopology", out var topo) ? InputResolution(topo, where) : null;
            }
            catch (InvalidOperationException e)
            {
                throw new ImportException($"{where}: not valid JSON text: {e.Message}", e);
            }
            return Build(weights, resolution, options, modelJsonPath, jsonBytes, shardCount, shardBytes, where);
        }
    }

    private static (Dictionary<string, WeightRef> Weights, int Shards, long Bytes) ReadManifest(JsonElement manifest, string dir, string where)
    {
        var weights = new Dictionary<string, WeightRef>(StringComparer.Ordinal);
        int shards = 0;
        long total = 0;
        int g = 0;
        foreach (var group in manifest.EnumerateArray())
        {
            g++;
            if (group.ValueKind != JsonValueKind.Object || !group.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Array
                || !group.TryGetProperty("weights", out var list) || list.ValueKind != JsonValueKind.Array)
                throw new ImportException($"{where}: weightsManifest group {g} needs 'paths' and 'weights' arrays");
            // Concatenate the group's shards.
            var parts = new List<byte[]>();
            long groupBytes = 0;
            foreach (var p in paths.EnumerateArray())
            {
                if (p.ValueKind != JsonValueKind.String) throw new ImportException($"{where}: group {g}: a shard path is not a string");
                string rel = p.GetString()!;
                if (rel.Length == 0 || Path.IsPathRooted(rel) || rel.Split('/', '\\').Any(s => s == ".." || s.Length == 0))
                    throw new ImportException($"{where}: group {g}: shard path '{rel}' must be a relative path inside the model folder");
                string full = Path.Combine(dir, rel);
                if (!File.Exists(full)) throw new ImportException($"{where}: group {g}: shard '{rel}' is missing");
                long len = new FileInfo(full).Length;
                if (total + len > ImportCommon.MaxSourceBytes) throw new ImportException($"{where}: the shards exceed {ImportCommon.MaxSourceBytes} bytes");
                var bytes = ImportCommon.ReadFileBounded(full, "TF.js shard");
                parts.Add(bytes);
                groupBytes += bytes.Length;
                total += bytes.Length;
                shards++;
            }
            byte[] buffer = parts.Count == 1 ? parts[0] : Concat(parts, groupBytes);
            long offset = 0;
            foreach (var w in list.EnumerateArray())
            {
                if (w.ValueKind != JsonValueKind.Object) throw new ImportException($"{where}: group {g}: a weights entry is not an object");
                string name = w.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString()! : throw new ImportException($"{where}: group {g}: a weight has no name");
                string dtype = w.TryGetProperty("dtype", out var dt) && dt.ValueKind == JsonValueKind.String ? dt.GetString()! : "float32";
                if (w.TryGetProperty("quantization", out _)) throw new ImportException($"{where}: weight '{name}' is quantized by tfjs-converter; only float32 TF.js models are supported");
                int elemSize = dtype switch { "float32" => 4, "int32" => 4, "bool" => 1, _ => throw new ImportException($"{where}: weight '{name}' has dtype {dtype}; only float32 is supported") };
                if (!w.TryGetProperty("shape", out var shp) || shp.ValueKind != JsonValueKind.Array || shp.GetArrayLength() > 8)
                    throw new ImportException($"{where}: weight '{name}' has no valid shape");
                var shape = new int[shp.GetArrayLength()];
                long n = 1;
                int i = 0;
                foreach (var d in shp.EnumerateArray())
                {
                    if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int v) || v < 0) throw new ImportException($"{where}: weight '{name}': shape entry {i} is not a non-negative integer");
                    shape[i++] = v;
                    n *= v;
                    if (n > buffer.LongLength) throw new ImportException($"{where}: weight '{name}' [{string.Join(",", shape.Take(i))}...] is larger than its shards (truncated?)");
                }
                long size = n * elemSize;
                if (offset + size > buffer.LongLength)
                    throw new ImportException($"{where}: weight '{name}' needs bytes {offset}..{offset + size} but group {g}'s shards hold {buffer.LongLength} (truncated shard?)");
                if (dtype == "float32" && !weights.TryAdd(name, new WeightRef(name, shape, buffer, offset)))
                    throw new ImportException($"{where}: weight '{name}' appears twice in the manifest");
                offset += size;
            }
            if (offset != buffer.LongLength)
                throw new ImportException($"{where}: group {g}'s shards hold {buffer.LongLength} bytes but its weights use {offset}");
        }
        if (g == 0) throw new ImportException($"{where}: weightsManifest is empty");
        return (weights, shards, total);
    }

    private static byte[] Concat(List<byte[]> parts, long total)
    {
        var all = new byte[total];
        long p = 0;
        foreach (var b in parts) { Buffer.BlockCopy(b, 0, all, (int)p, b.Length); p += b.Length; }
        return all;
    }

    /// <summary>The square input size of the first <c>batch_input_shape</c> [null,H,W,3] in the topology, if stated.</summary>
    private static int? InputResolution(JsonElement topo, string where)
    {
        var stack = new Stack<JsonElement>();
        stack.Push(topo);
        int visited = 0;
        while (stack.Count > 0 && visited++ < 1_000_000)
        {
            var e = stack.Pop();
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                {
                    if ((p.Name == "batch_input_shape" || p.Name == "batchInputShape") && p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() == 4)
                    {
                        var dims = p.Value.EnumerateArray().ToArray();
                        if (dims[1].ValueKind == JsonValueKind.Number && dims[2].ValueKind == JsonValueKind.Number
                            && dims[1].TryGetInt32(out int h) && dims[2].TryGetInt32(out int w))
                        {
                            if (h != w) throw new ImportException($"{where}: input shape is {h}x{w}; MobileNet v1 inputs are square");
                            return h;
                        }
                        return null;
                    }
                    if (p.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array) stack.Push(p.Value);
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                // Keep document order: push in reverse.
                var items = e.EnumerateArray().Where(x => x.ValueKind is JsonValueKind.Object or JsonValueKind.Array).Reverse().ToList();
                foreach (var x in items) stack.Push(x);
            }
        }
        return null;
    }

    private static SafeTensorsFile Build(Dictionary<string, WeightRef> weights, int? resolution, ImportOptions options,
        string path, byte[] jsonBytes, int shardCount, long shardBytes, string where)
    {
        WeightRef Get(string name) => weights.TryGetValue(name, out var w) ? w : throw new ImportException($"{where}: weight '{name}' is missing from the manifest (not a Keras MobileNet v1?)");
        var stem = Get("conv1/kernel");
        var preds = Get("conv_preds/kernel");
        if (stem.Shape.Length != 4 || preds.Shape.Length != 4) throw new ImportException($"{where}: conv1/kernel and conv_preds/kernel must be rank 4");
        double alpha = ImportCommon.AlphaFromWidths(stem.Shape[3], preds.Shape[2], where);
        int numClasses = preds.Shape[3];
        if (numClasses < 1 || numClasses > 100000) throw new ImportException($"{where}: {numClasses} classes is out of range");
        var variant = ImportCommon.ResolveVariant(alpha, resolution, options, where);
        var arch = new MobileNetV1Architecture(variant, numClasses);

        float[] Read(string name, int[] expected)
        {
            var w = Get(name);
            if (!w.Shape.SequenceEqual(expected))
                throw new ImportException($"{where}: '{name}' has shape [{string.Join(",", w.Shape)}], the architecture needs [{string.Join(",", expected)}]");
            long n = 1;
            foreach (int d in expected) n *= d;
            return ImportCommon.FloatsFromBytes(w.Buffer.AsSpan((int)w.Offset, (int)(n * 4)));
        }

        var layers = new Dictionary<string, (KernelData, float[]?, float[])>();
        foreach (var l in arch.Layers)
        {
            string? kernelName = null, bn = null;
            if (l.Kind == LayerKind.Conv3x3) { kernelName = "conv1/kernel"; bn = "conv1_bn"; }
            else if (l.Kind == LayerKind.Depthwise3x3) { string b = BlockOf(l); kernelName = $"conv_dw_{b}/depthwise_kernel"; bn = $"conv_dw_{b}_bn"; }
            else if (l.Kind == LayerKind.Pointwise) { string b = BlockOf(l); kernelName = $"conv_pw_{b}/kernel"; bn = $"conv_pw_{b}_bn"; }
            else if (l.Kind == LayerKind.Logits)
            {
                layers[l.Name] = (KernelData.Float(Read("conv_preds/kernel", l.KernelShape)), null, Read("conv_preds/bias", new[] { l.OutC }));
                continue;
            }
            if (kernelName == null) continue;
            var c = new[] { l.OutC };
            var (scale, bias) = ImportCommon.FoldBatchNorm(Read(bn + "/gamma", c), Read(bn + "/beta", c), Read(bn + "/moving_mean", c), Read(bn + "/moving_variance", c), $"{where}: {bn}");
            layers[l.Name] = (KernelData.Float(Read(kernelName, l.KernelShape)), scale, bias);
        }
        // Labels the model carries: labels.txt beside model.json (the --labels option overrides it).
        string labelsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "labels.txt");
        string[]? carried = File.Exists(labelsPath) ? ImportCommon.ReadLabelsFile(labelsPath) : null;
        var labels = ImportCommon.ResolveLabels(numClasses, carried, carried != null ? "labels.txt" : null, options, where);
        string format = $"Keras MobileNet v1 (TF.js layers): model.json + {shardCount} weight shards ({shardBytes} bytes, listed in its weightsManifest; " +
                        "source_sha256 is model.json's); float32 HWIO kernels, BatchNorm folded by the importer in double (eps 0.001)";
        string note = labels.Custom
            ? ImportCommon.CustomHeadNote(format, numClasses, labels)
            : format + $"; {numClasses} classes without background (Keras index k = slim index k+1). Google MobileNet v1 weights, Apache-2.0.";
        return ImportCommon.Build(arch, variant, layers, options, path, "tfjs-layers", ImportCommon.Sha256Hex(jsonBytes), "unknown", note, labels);
    }

    private static string BlockOf(LayerSpec l) => l.Name.Substring("block".Length, l.Name.IndexOf('.') - "block".Length);
}
