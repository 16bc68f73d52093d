using System.Text;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Imaging;

namespace MobileNetGen.Fuzzing;

/// <summary>
/// The fuzz targets: one entry per parser, each fed raw bytes. A target either accepts the input or throws its parser's
/// documented exception type (<see cref="ExpectedException"/>); any other exception — or a hang, a crash of the process,
/// an out-of-memory — is a finding. Compiled into both the AFL harness (tests/MobileNetGen.Fuzz) and the test suite
/// (tests/MobileNetGen.Tests/Fuzz/FuzzSmokeTests.cs), so there is one definition of what each target does.
/// </summary>
public static class FuzzTargets
{
    public const string GraphDef = "graphdef";
    public const string Tflite = "tflite";
    public const string Tfjs = "tfjs";
    public const string Weights = "weights";
    public const string Image = "image";
    /// <summary>The uint8-quantized TFLite path (QuantizedTfliteImporter): quantized seeds for the same TFLite import entry point.</summary>
    public const string TfliteQuant = "tflite-quant";
    /// <summary>Reading a uint8 canonical file as the generator will: container, architecture, QuantizationOf, ValidateQuantized.</summary>
    public const string WeightsQuant = "weights-quant";

    /// <summary>The uint8 SSD detector path (SsdTfliteImporter): a .tflite with TFLite_Detection_PostProcess through the TFLite entry point.</summary>
    public const string TfliteSsd = "tflite-ssd";
    /// <summary>Reading a canonical detector file as the generator will: the header only (DetectorOf, ValidateDetector, LabelsOf).</summary>
    public const string WeightsSsd = "weights-ssd";

    public static readonly string[] Names = { GraphDef, Tflite, Tfjs, Weights, Image, TfliteQuant, WeightsQuant, TfliteSsd, WeightsSsd };

    /// <summary>
    /// Separates the parts of a <see cref="Tfjs"/> input: <c>model.json</c>, then the bytes of the one shard file
    /// <c>shard.bin</c>, then (optional) <c>labels.txt</c>.
    /// </summary>
    public static readonly byte[] TfjsSeparator = Encoding.ASCII.GetBytes("\n#%SHARD%#\n");

    /// <summary>Name of the shard file the <see cref="Tfjs"/> target writes beside model.json.</summary>
    public const string TfjsShardName = "shard.bin";

    /// <summary>
    /// The pixel budget (<see cref="ImageLoader.MaxPixels"/>) the AFL harness sets for the image target: lower than the
    /// 50-megapixel default so that an input whose header claims a large-but-allowed size costs milliseconds, not seconds;
    /// the refusal path is the same. The target itself leaves the process-wide setting alone (the test suite keeps the default).
    /// </summary>
    public const long ImageMaxPixels = 1L << 22;

    /// <summary>The exception type each target documents for bad input.</summary>
    public static Type ExpectedException(string target) => target switch
    {
        GraphDef or Tflite or Tfjs or TfliteQuant or TfliteSsd => typeof(ImportException),
        Weights or WeightsQuant or WeightsSsd => typeof(WeightsFormatException),
        Image => typeof(ImageLoadException),
        _ => throw new ArgumentException($"unknown fuzz target '{target}' (known: {string.Join(", ", Names)})", nameof(target)),
    };

    /// <summary>
    /// Runs <paramref name="target"/> over <paramref name="data"/>. Returns normally when the input was accepted or refused
    /// with the documented exception (<paramref name="rejection"/> is then that exception); lets every other exception escape.
    /// Importer targets write their input under <paramref name="workDir"/> (the importers' public API takes paths).
    /// </summary>
    public static void Run(string target, byte[] data, string workDir, out Exception? rejection)
    {
        Type expected = ExpectedException(target);
        rejection = null;
        try
        {
            switch (target)
            {
                case GraphDef: Import(WriteFile(workDir, "g.pb", data)); break;
                case Tflite: Import(WriteFile(workDir, "t.tflite", data)); break;
                case TfliteQuant: ImportQuantized(WriteFile(workDir, "q.tflite", data)); break;
                case Tfjs: Import(WriteTfjs(workDir, data)); break;
                case Weights: ReadCanonicalWeights(data); break;
                case WeightsQuant: ReadQuantizedWeights(data); break;
                case TfliteSsd: ImportDetector(workDir, data); break;
                case WeightsSsd: ReadDetectorWeights(data); break;
                case Image: LoadImage(data); break;
            }
        }
        catch (Exception e) when (expected.IsInstanceOfType(e))
        {
            rejection = e;
        }
    }

    /// <summary>
    /// For the image target: inner exceptions of an <see cref="ImageLoadException"/> that point at a decoder bug rather than
    /// bad data (the loader still reports them cleanly; the fuzz harness logs them as notes).
    /// </summary>
    public static bool IsSuspiciousInner(Exception? rejection) => rejection?.InnerException is
        NullReferenceException or IndexOutOfRangeException or AccessViolationException or InvalidCastException
        or DivideByZeroException or ArgumentOutOfRangeException or OverflowException;

    private static void Import(string path) => MobileNetImporter.Import(path, new ImportOptions());

    /// <summary>
    /// The uint8 TFLite import; an accepted model must also be a valid uint8 canonical file that survives a write/read round
    /// trip (anything else would be an importer bug, and escapes as a non-ImportException).
    /// </summary>
    private static void ImportQuantized(string path)
    {
        var file = MobileNetImporter.Import(path, new ImportOptions());
        if (!CanonicalWeights.IsQuantized(file)) return; // a float model reached through the same entry point
        var back = SafeTensorsFile.Read(file.Write());
        var problems = CanonicalWeights.ValidateQuantized(back, CanonicalWeights.ArchitectureOf(back));
        if (problems.Count > 0) throw new InvalidOperationException("the importer accepted a model whose canonical file is invalid: " + string.Join("; ", problems));
        CanonicalWeights.QuantizationOf(back);
    }

    /// <summary>
    /// A uint8 canonical file as the generator will read it: the container, the architecture, the typed quantization,
    /// every problem (ValidateQuantized; a non-empty list is a refusal), then each layer's multiplier and activation range
    /// (QuantizationMath) and its weights and biases.
    /// </summary>
    public static void ReadQuantizedWeights(byte[] data)
    {
        var file = SafeTensorsFile.Read(data);
        var arch = CanonicalWeights.ArchitectureOf(file);
        var problems = CanonicalWeights.ValidateQuantized(file, arch);
        if (problems.Count > 0) throw new WeightsFormatException(string.Join("; ", problems));
        var net = CanonicalWeights.QuantizationOf(file);
        foreach (var c in net.Convolutions)
        {
            var (_, shift) = QuantizationMath.QuantizeMultiplier(QuantizationMath.GetQuantizedConvolutionMultiplier(c.Input.Scale, c.Weight.Scale, c.Output.Scale));
            QuantizationMath.MultiplyByQuantizedMultiplier(12345, 1 << 30, shift);
            QuantizationMath.CalculateActivationRangeUint8(c.Activation, c.Output.Scale, c.Output.ZeroPoint);
            _ = file.Find(c.Name + ".weight")!.Data.Length;
            file.Find(c.Name + ".bias")!.ToInt32s();
        }
        QuantizationMath.CalculateActivationRangeUint8(net.Pool.Activation, net.Pool.Output.Scale, net.Pool.Output.ZeroPoint);
        CanonicalWeights.LabelsOf(file, arch);
    }

    /// <summary>
    /// The SSD import (labels from a labelmap.txt beside the model, as Google ships its detector); an accepted detector must write
    /// and read back as a canonical file whose header alone validates, and give the runtime's post-processing options
    /// (anything else would be an importer bug, and escapes as a non-ImportException).
    /// </summary>
    private static void ImportDetector(string workDir, byte[] data)
    {
        string dir = Path.Combine(workDir, "ssd");
        Directory.CreateDirectory(dir);
        File.WriteAllLines(Path.Combine(dir, "labelmap.txt"), FuzzSeeds.SsdLabels);
        var file = MobileNetImporter.Import(WriteFile(dir, "detect.tflite", data), new ImportOptions());
        if (!DetectorWeights.IsDetector(file)) return; // a classifier reached through the same entry point
        var header = SafeTensorsFile.Read(file.Write()).Header();
        var problems = DetectorWeights.ValidateDetector(header);
        if (problems.Count > 0) throw new InvalidOperationException("the importer accepted a detector whose canonical file is invalid: " + string.Join("; ", problems));
        var net = DetectorWeights.DetectorOf(header);
        MobileNetGen.Runtime.Detection.DetectionPostprocessOptions.From(net.Postprocess);
    }

    /// <summary>
    /// A canonical detector file as the generator will read it: the container, then the header only — ValidateDetector (a
    /// non-empty list is a refusal), DetectorOf, the labels, each layer's multiplier and activation range (QuantizationMath) —
    /// and the runtime's options from it; then the tensors' data as a runtime would read them.
    /// </summary>
    public static void ReadDetectorWeights(byte[] data)
    {
        var file = SafeTensorsFile.Read(data);
        var header = file.Header();
        var problems = DetectorWeights.ValidateDetector(header);
        if (problems.Count > 0) throw new WeightsFormatException(string.Join("; ", problems));
        var net = DetectorWeights.DetectorOf(header);
        DetectorWeights.LabelsOf(header, net);
        foreach (var l in net.Layers)
        {
            var q = l.Quantization;
            QuantizationMath.QuantizeMultiplier(QuantizationMath.GetQuantizedConvolutionMultiplier(q.Input.Scale, q.Weight.Scale, q.Output.Scale));
            QuantizationMath.CalculateActivationRangeUint8(q.Activation, q.Output.Scale, q.Output.ZeroPoint);
            if (file.Find(l.WeightTensor)!.Data.LongLength != l.KernelShape.Aggregate(1L, (a, d) => a * d)) throw new InvalidOperationException($"{l.Name}: kernel length");
            file.Find(l.BiasTensor)!.ToInt32s();
        }
        if (file.Find(net.Anchors.Tensor)!.Data.Length != 4 * net.Anchors.Count) throw new InvalidOperationException("anchors length");
        MobileNetGen.Runtime.Detection.DetectionPostprocessOptions.From(net.Postprocess);
    }

    private static string WriteFile(string dir, string name, byte[] data)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    private static string WriteTfjs(string workDir, byte[] data)
    {
        string dir = Path.Combine(workDir, "tfjs");
        Directory.CreateDirectory(dir);
        var parts = SplitTfjs(data);
        File.WriteAllBytes(Path.Combine(dir, "model.json"), parts[0]);
        string shard = Path.Combine(dir, TfjsShardName), labels = Path.Combine(dir, "labels.txt");
        if (parts.Count > 1) File.WriteAllBytes(shard, parts[1]); else File.Delete(shard);
        if (parts.Count > 2) File.WriteAllBytes(labels, parts[2]); else File.Delete(labels);
        return Path.Combine(dir, "model.json");
    }

    /// <summary>The parts of a <see cref="Tfjs"/> input: model.json, then (when present) the shard and labels.txt.</summary>
    public static IReadOnlyList<byte[]> SplitTfjs(byte[] data) => Split(data, TfjsSeparator, 3);

    /// <summary>Joins the parts of a <see cref="Tfjs"/> input (the inverse of <see cref="SplitTfjs"/>).</summary>
    public static byte[] JoinTfjs(byte[] modelJson, byte[]? shard, byte[]? labels = null)
    {
        var ms = new MemoryStream();
        ms.Write(modelJson);
        if (shard != null) { ms.Write(TfjsSeparator); ms.Write(shard); }
        if (labels != null) { ms.Write(TfjsSeparator); ms.Write(labels); }
        return ms.ToArray();
    }

    private static List<byte[]> Split(byte[] data, byte[] separator, int maxParts)
    {
        var parts = new List<byte[]>();
        int start = 0;
        while (parts.Count < maxParts - 1)
        {
            int i = data.AsSpan(start).IndexOf(separator);
            if (i < 0) break;
            parts.Add(data.AsSpan(start, i).ToArray());
            start += i + separator.Length;
        }
        parts.Add(data.AsSpan(start).ToArray());
        return parts;
    }

    /// <summary>
    /// The source generator's weights path (MobileNetGenerator.Planner): parse the safetensors container, read the
    /// architecture from its metadata, validate every tensor against it, read the labels, then read every layer's values
    /// as the packing step does. Valid files come back normally; invalid ones raise <see cref="WeightsFormatException"/>
    /// (the generator turns both the exception and a non-empty Validate list into MNG diagnostics; anything else would be
    /// its internal-error diagnostic). Unlike the planner, the target does not require α and resolution to be a published
    /// variant, so that the fuzzer reaches validation for any architecture the metadata may describe.
    /// </summary>
    public static void ReadCanonicalWeights(byte[] data)
    {
        var file = SafeTensorsFile.Read(data);
        var arch = CanonicalWeights.ArchitectureOf(file);
        var problems = CanonicalWeights.Validate(file, arch);
        if (problems.Count > 0) throw new WeightsFormatException(string.Join("; ", problems));
        CanonicalWeights.LabelsOf(file, arch);
        foreach (var l in arch.Layers)
        {
            if (l.Kind == LayerKind.GlobalAveragePool) continue;
            var kernel = file.Find(CanonicalWeights.Kernel(l))!;
            if (kernel.DType == TensorDType.U8)
            {
                float min = file.Find(CanonicalWeights.KernelMin(l))!.ToFloats()[0];
                float max = file.Find(CanonicalWeights.KernelMax(l))!.ToFloats()[0];
                CanonicalWeights.QuantizationParameters(min, max, out _, out _);
            }
            CanonicalWeights.KernelValues(file, l);
            if (l.HasBatchNorm) file.Find(CanonicalWeights.Scale(l))!.ToFloats();
            file.Find(CanonicalWeights.Bias(l))!.ToFloats();
        }
    }

    private static void LoadImage(byte[] data)
    {
        // Both public in-memory entry points: the span overload, and a non-seekable stream (buffered by the loader).
        if (data.Length > 0 && (data[^1] & 1) == 1)
        {
            using var img = ImageLoader.LoadRgb24(new NonSeekableStream(data));
            _ = img.Width;
        }
        else
        {
            using var img = ImageLoader.LoadRgb24(data.AsSpan());
            _ = img.Width;
        }
    }

    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data, writable: false);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 4099));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// Coverage-free byte mutations (deterministic for a seed): bit flips, interesting values, byte runs inserted or
/// deleted, truncation, splices of another input. Used by the smoke test and by the harness's <c>mutate</c> mode.
/// </summary>
public sealed class Mutator(int seed)
{
    private readonly Random _rng = new(seed);
    private static readonly int[] Interesting = { 0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, unchecked((int)0x80000000), -1, 16, 32, 64, 100, 1000, 1024, 4096, 65535, 65536 };

    public byte[] Mutate(byte[] input, byte[]? other = null)
    {
        var data = new List<byte>(input);
        int rounds = 1 + _rng.Next(_rng.Next(2) == 0 ? 2 : 8);
        for (int r = 0; r < rounds; r++)
        {
            int op = _rng.Next(9);
            int n = data.Count;
            switch (op)
            {
                case 0 when n > 0: // flip a bit
                    { int i = _rng.Next(n); data[i] ^= (byte)(1 << _rng.Next(8)); break; }
                case 1 when n > 0: // random byte
                    { data[_rng.Next(n)] = (byte)_rng.Next(256); break; }
                case 2 when n >= 4: // interesting 8/16/32-bit value, either endianness
                    {
                        int v = Interesting[_rng.Next(Interesting.Length)];
                        int width = 1 << _rng.Next(3);
                        int i = _rng.Next(n - width + 1);
                        bool big = _rng.Next(2) == 0;
                        for (int k = 0; k < width; k++)
                            data[i + k] = (byte)(v >> (8 * (big ? width - 1 - k : k)));
                        break;
                    }
                case 3 when n > 1: // truncate
                    { int keep = _rng.Next(n); data.RemoveRange(keep, n - keep); break; }
                case 4 when n > 1: // delete a run
                    { int i = _rng.Next(n); data.RemoveRange(i, Math.Min(n - i, 1 + _rng.Next(Math.Min(64, n)))); break; }
                case 5: // insert random bytes
                    {
                        int len = 1 + _rng.Next(32);
                        var ins = new byte[len];
                        _rng.NextBytes(ins);
                        data.InsertRange(_rng.Next(n + 1), ins);
                        break;
                    }
                case 6 when n > 1: // duplicate a run
                    {
                        int i = _rng.Next(n), len = 1 + _rng.Next(Math.Min(256, n - i));
                        data.InsertRange(_rng.Next(n + 1), data.GetRange(i, len));
                        break;
                    }
                case 7 when other is { Length: > 0 } && n > 0: // splice another input
                    {
                        int cut = _rng.Next(n), from = _rng.Next(other.Length);
                        data.RemoveRange(cut, n - cut);
                        data.AddRange(other.AsSpan(from, Math.Min(other.Length - from, 4096)).ToArray());
                        break;
                    }
                case 8 when n > 0: // overwrite a run with one value
                    {
                        int i = _rng.Next(n), len = Math.Min(n - i, 1 + _rng.Next(16));
                        byte b = _rng.Next(2) == 0 ? (byte)0xFF : (byte)0;
                        for (int k = 0; k < len; k++) data[i + k] = b;
                        break;
                    }
            }
        }
        return data.ToArray();
    }
}
