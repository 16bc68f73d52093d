using System.Globalization;
using System.Security.Cryptography;
using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>A kernel in the canonical HWIO layout: float values, or Google's quint8 values with their MIN_FIRST range.</summary>
internal sealed class KernelData
{
    private KernelData(float[]? floats, byte[]? quantized, float min, float max)
    {
        Floats = floats; Quantized = quantized; Min = min; Max = max;
    }

    public float[]? Floats { get; }
    public byte[]? Quantized { get; }
    public float Min { get; }
    public float Max { get; }
    public bool IsQuantized => Quantized != null;

    public static KernelData Float(float[] values) => new(values, null, 0, 0);

    public static KernelData Quint8(byte[] values, float min, float max, string where)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max)
            throw new ImportException($"{where}: quantization range [{min}, {max}] is not a finite range");
        return new KernelData(null, values, min, max);
    }
}

/// <summary>
/// The labels decision of an import: <c>ImageNet</c> heads (1000/1001 classes with no labels or Google's list) keep
/// <c>labels = imagenet</c> and store no list; every other head is custom and must have exactly one label per class.
/// </summary>
internal sealed record LabelsInfo(bool ImageNet, string[]? Labels, string? From)
{
    public bool Custom => !ImageNet;
}

/// <summary>Shared steps of the three importers: width/variant resolution, BatchNorm folding, the canonical file and its metadata.</summary>
internal static class ImportCommon
{
    /// <summary>Largest source file (or TF.js shard set) the importers read: MobileNet v1 1.0 in float is ~17 MB.</summary>
    public const long MaxSourceBytes = 1L << 30;

    public const double BatchNormEpsilon = MobileNetV1Architecture.BatchNormEpsilon;

    public static byte[] ReadFileBounded(string path, string what)
    {
        FileInfo info;
        try { info = new FileInfo(path); }
        catch (Exception e) when (e is ArgumentException or PathTooLongException or NotSupportedException)
        { throw new ImportException($"{what} '{path}': invalid path ({e.Message})", e); }
        if (!info.Exists) throw new ImportException($"{what} '{path}' does not exist");
        if (info.Length > MaxSourceBytes) throw new ImportException($"{what} '{path}' is {info.Length} bytes, larger than the {MaxSourceBytes}-byte limit");
        try { return File.ReadAllBytes(path); }
        catch (IOException e) { throw new ImportException($"{what} '{path}' cannot be read: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new ImportException($"{what} '{path}' cannot be read: {e.Message}", e); }
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>The width multiplier whose stem width and feature width match the model's tensors.</summary>
    public static double AlphaFromWidths(int stemChannels, int featureChannels, string where)
    {
        foreach (double a in VariantName.Alphas)
            if (MobileNetV1Architecture.Depth(MobileNetV1Architecture.StemWidth, a) == stemChannels &&
                MobileNetV1Architecture.Depth(MobileNetV1Architecture.BlockWidths[^1], a) == featureChannels)
                return a;
        throw new ImportException($"{where}: first convolution has {stemChannels} output channels and the last block {featureChannels}; " +
                                  "that is not MobileNet v1 at width 1.0, 0.75, 0.50 or 0.25");
    }

    /// <summary>
    /// Combines what the model says (α always, resolution when it carries one, float or uint8-quantized) with the
    /// <c>--variant</c> option. A quantized model takes <c>--variant 0.25_224</c> or <c>0.25_224_quant</c> and gives the
    /// <c>_quant</c> variant; a float model refuses a <c>_quant</c> variant.
    /// </summary>
    public static VariantName ResolveVariant(double modelAlpha, int? modelResolution, ImportOptions options, string where, bool modelQuantized = false)
    {
        if (options.Variant is VariantName v)
        {
            if (v.Alpha != modelAlpha)
                throw new ImportException($"{where}: --variant {v} contradicts the model, whose tensor shapes give width {new VariantName(modelAlpha, v.Resolution).AlphaText}");
            if (modelResolution is int r && r != v.Resolution)
                throw new ImportException($"{where}: --variant {v} contradicts the model, whose input is {r}x{r}");
            if (v.Quantized && !modelQuantized)
                throw new ImportException($"{where}: --variant {v} names the uint8-quantized network, but the model is a float one (use --variant {v.AsFloat})");
            return modelQuantized ? v.AsQuantized : v;
        }
        if (modelResolution is not int res)
            throw new ImportException($"{where}: the model does not state its input resolution; pass --variant (e.g. {new VariantName(modelAlpha, 224, modelQuantized)})");
        if (Array.IndexOf(VariantName.Resolutions, res) < 0)
            throw new ImportException($"{where}: input resolution {res} is not one of the published MobileNet v1 resolutions (224, 192, 160, 128)");
        return new VariantName(modelAlpha, res, modelQuantized);
    }

    /// <summary>Largest labels file read (a label per line).</summary>
    private const long MaxLabelsBytes = 16L << 20;

    /// <summary>
    /// Decides ImageNet vs custom head and picks the labels: <see cref="ImportOptions.LabelsPath"/> /
    /// <see cref="ImportOptions.Labels"/>, else what the model carries. A custom head without labels, or a label count that
    /// differs from <paramref name="numClasses"/>, is an <see cref="ImportException"/>.
    /// </summary>
    public static LabelsInfo ResolveLabels(int numClasses, string[]? carried, string? carriedFrom, ImportOptions options, string where)
    {
        string[]? labels = carried;
        string? from = carriedFrom;
        if (options.LabelsPath != null)
        {
            labels = ReadLabelsFile(options.LabelsPath);
            from = Path.GetFileName(options.LabelsPath);
        }
        else if (options.Labels != null)
        {
            labels = options.Labels.ToArray();
            from = "the import options";
        }
        bool imagenetCount = numClasses is 1000 or 1001;
        if (labels == null)
        {
            if (imagenetCount) return new LabelsInfo(true, null, null);
            throw new ImportException($"{where}: the classifier head has {numClasses} classes (a custom head, not ImageNet's 1000/1001) and the model carries no labels; " +
                                      "pass --labels FILE (one label per line, in output order)");
        }
        if (labels.Length != numClasses)
            throw new ImportException($"{where}: {from} holds {labels.Length} labels but the model's classifier head has {numClasses} classes; " +
                                      "give exactly one label per class, in output order");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i].Length == 0) throw new ImportException($"{where}: label {i} in {from} is empty");
        if (imagenetCount && CanonicalWeights.IsImageNetLabelList(labels)) return new LabelsInfo(true, null, null);
        return new LabelsInfo(false, labels, from);
    }

    /// <summary>A labels file: UTF-8 (BOM allowed), one label per line, trimmed; trailing blank lines ignored.</summary>
    public static string[] ReadLabelsFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new ImportException($"labels file '{path}' does not exist");
        if (info.Length > MaxLabelsBytes) throw new ImportException($"labels file '{path}' is {info.Length} bytes, larger than the {MaxLabelsBytes}-byte limit");
        return ParseLabels(ReadFileBounded(path, "labels file"));
    }

    public static string[] ParseLabels(byte[] bytes)
    {
        string text = new System.Text.UTF8Encoding(false).GetString(bytes).TrimStart('\uFEFF');
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').Select(l => l.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines.ToArray();
    }

    /// <summary>Note text for a custom head (replaces the ImageNet wording of the importers' notes).</summary>
    public static string CustomHeadNote(string format, int numClasses, LabelsInfo labels) =>
        $"{format}; custom classifier head: {numClasses} classes, no background class, labels from {labels.From}. " +
        "Backbone layout MobileNet v1 (TF-slim); the weights are the source model's.";

    /// <summary>Inference-form BatchNorm in double: scale = γ/√(σ²+ε), bias = β − μ·scale.</summary>
    public static (float[] Scale, float[] Bias) FoldBatchNorm(float[] gamma, float[] beta, float[] mean, float[] variance, string where)
    {
        int n = gamma.Length;
        if (beta.Length != n || mean.Length != n || variance.Length != n)
            throw new ImportException($"{where}: BatchNorm vectors have different lengths ({gamma.Length}, {beta.Length}, {mean.Length}, {variance.Length})");
        var scale = new float[n];
        var bias = new float[n];
        for (int i = 0; i < n; i++)
        {
            if (variance[i] < 0) throw new ImportException($"{where}: moving variance [{i}] = {variance[i]} is negative");
            double s = gamma[i] / Math.Sqrt(variance[i] + BatchNormEpsilon);
            scale[i] = (float)s;
            bias[i] = (float)(beta[i] - mean[i] * s);
        }
        return (scale, bias);
    }

    public static float[] Ones(int n)
    {
        var a = new float[n];
        Array.Fill(a, 1f);
        return a;
    }

    /// <summary>The part of the path below a <c>shared/models</c> ancestor (with '/' separators), else the file name.</summary>
    public static string DefaultSourceLabel(string path)
    {
        string full = Path.GetFullPath(path);
        var dir = new DirectoryInfo(Path.GetDirectoryName(full) ?? full);
        for (var d = dir; d != null; d = d.Parent)
        {
            if (d.Name == "models" && d.Parent?.Name == "shared")
                return Path.GetRelativePath(d.FullName, full).Replace(Path.DirectorySeparatorChar, '/');
        }
        return Path.GetFileName(full);
    }

    /// <summary>The release a source label implies: its first folder (slim-2017-* → slim-2017), else <paramref name="fallback"/>.</summary>
    public static string DefaultRelease(string sourceLabel, string fallback)
    {
        int slash = sourceLabel.IndexOf('/');
        string first = slash > 0 ? sourceLabel[..slash] : "";
        if (first.StartsWith("slim-2017", StringComparison.Ordinal)) return "slim-2017";
        if (first is "keras-tfjs" or "tflite-2018" or "tflite-quant-2018") return first;
        return fallback;
    }

    /// <summary>Assembles, labels and validates the canonical file; throws <see cref="ImportException"/> on any problem.</summary>
    public static SafeTensorsFile Build(
        MobileNetV1Architecture arch, VariantName variant, IReadOnlyDictionary<string, (KernelData Kernel, float[]? Scale, float[] Bias)> layers,
        ImportOptions options, string sourcePath, string sourceFormat, string sourceSha256, string defaultRelease, string note, LabelsInfo? labelsInfo = null)
    {
        var tensors = new List<Tensor>();
        bool anyQuantized = false;
        try
        {
            foreach (var l in arch.Layers)
            {
                if (l.Kind == LayerKind.GlobalAveragePool) continue;
                if (!layers.TryGetValue(l.Name, out var w)) throw new ImportException($"layer {l.Name} ({l.SlimName}) was not found in the source");
                if (w.Kernel.Quantized is byte[] q)
                {
                    anyQuantized = true;
                    tensors.Add(Tensor.FromBytes(CanonicalWeights.Kernel(l), l.KernelShape, q));
                    tensors.Add(Tensor.FromFloats(CanonicalWeights.KernelMin(l), new[] { 1 }, new[] { w.Kernel.Min }));
                    tensors.Add(Tensor.FromFloats(CanonicalWeights.KernelMax(l), new[] { 1 }, new[] { w.Kernel.Max }));
                }
                else
                {
                    tensors.Add(Tensor.FromFloats(CanonicalWeights.Kernel(l), l.KernelShape, w.Kernel.Floats!));
                }
                if (l.HasBatchNorm)
                {
                    if (w.Scale == null) throw new ImportException($"layer {l.Name}: BatchNorm scale is missing");
                    tensors.Add(Tensor.FromFloats(CanonicalWeights.Scale(l), new[] { l.OutC }, w.Scale));
                }
                tensors.Add(Tensor.FromFloats(CanonicalWeights.Bias(l), new[] { l.OutC }, w.Bias));
            }
        }
        catch (WeightsFormatException e) { throw new ImportException("the source's tensors do not fit the architecture: " + e.Message, e); }

        string label = options.SourceLabel ?? DefaultSourceLabel(sourcePath);
        string release = options.Release ?? DefaultRelease(label, defaultRelease);
        labelsInfo ??= ResolveLabels(arch.NumClasses, null, null, options, Path.GetFileName(sourcePath));
        bool imagenet = labelsInfo.ImageNet;
        string name = options.Name ?? (!imagenet ? variant.FileStem + "_custom" : release == "tflite-2018" ? variant.FileStem + "_tflite2018" : variant.FileStem);
        var meta = new Dictionary<string, string>
        {
            [CanonicalWeights.Keys.Format] = CanonicalWeights.FormatVersion,
            [CanonicalWeights.Keys.Architecture] = "mobilenet_v1",
            [CanonicalWeights.Keys.Name] = name,
            [CanonicalWeights.Keys.Variant] = variant.ToString(),
            [CanonicalWeights.Keys.Alpha] = variant.AlphaText,
            [CanonicalWeights.Keys.Resolution] = variant.Resolution.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.NumClasses] = arch.NumClasses.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.BackgroundClass] = imagenet && arch.NumClasses == 1001 ? "true" : "false",
            [CanonicalWeights.Keys.Weights] = anyQuantized ? CanonicalWeights.Genuine8Bit : CanonicalWeights.GenuineFloat,
            [CanonicalWeights.Keys.Source] = label,
            [CanonicalWeights.Keys.SourceFormat] = sourceFormat,
            [CanonicalWeights.Keys.SourceSha256] = sourceSha256,
            [CanonicalWeights.Keys.Release] = release,
            [CanonicalWeights.Keys.Labels] = imagenet ? CanonicalWeights.ImageNetLabels : CanonicalWeights.CustomLabels,
            [CanonicalWeights.Keys.Note] = note.Replace('\n', ' ').Replace('\r', ' '),
        };
        if (labelsInfo.Labels != null) meta[CanonicalWeights.Keys.LabelsJson] = CanonicalWeights.LabelsToJson(labelsInfo.Labels);
        var file = new SafeTensorsFile(meta, tensors);
        List<string> problems;
        try { problems = CanonicalWeights.Validate(file, CanonicalWeights.ArchitectureOf(file)); }
        catch (WeightsFormatException e) { throw new ImportException("the imported weights are not valid: " + e.Message, e); }
        if (problems.Count > 0)
            throw new ImportException("the imported weights are not valid: " + string.Join("; ", problems));
        return file;
    }

    /// <summary>HWIO kernel from TFLite's OHWI (and [1,H,W,C] depthwise, which has the same memory order as [H,W,C,1]).</summary>
    public static T[] OhwiToHwio<T>(T[] src, int o, int h, int w, int i)
    {
        var dst = new T[src.Length];
        for (int oo = 0; oo < o; oo++)
            for (int hh = 0; hh < h; hh++)
                for (int ww = 0; ww < w; ww++)
                    for (int ii = 0; ii < i; ii++)
                        dst[((hh * w + ww) * i + ii) * o + oo] = src[((oo * h + hh) * w + ww) * i + ii];
        return dst;
    }

    public static float[] FloatsFromBytes(ReadOnlySpan<byte> bytes)
    {
        var f = new float[bytes.Length / 4];
        for (int i = 0; i < f.Length; i++) f[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
        return f;
    }
}
