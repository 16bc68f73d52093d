using MobileNetGen.Tests.Reference.Tflite;
using MobileNetGen.Cli.Evaluation;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MobileNetGen.Model;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// A golden file (tests/MobileNetGen.Tests/Quantized/Golden/{entry}.tsv): the TFLite reference transcription's top-5 on
/// every photo of shared/images/imagenet-sample-dev, computed once (<see cref="RegenerateAll"/>, run by tests/MobileNetGen.GoldenTool) and
/// checked against the live reference by <see cref="QuantizedGoldenTests"/>. The generated integer classifiers will be
/// checked against these files.
/// </summary>
/// <remarks>
/// Format: UTF-8, '\n' line ends. Header lines <c># key\tvalue</c>; then a column line
/// <c>file\tslim_index\ttop5\ttop5_logits</c>; then one row per photo in ground_truth.tsv order: the file name, its
/// TF-slim label 1..1000, the five best output indices (comma-separated; output k = slim index k, 0 = background) and
/// their uint8 logits. Ranking: larger uint8 logit first, ties by lower index.
/// </remarks>
public sealed class QuantizedGolden
{
    public const string Columns = "file\tslim_index\ttop5\ttop5_logits";

    public sealed record Row(string File, int SlimIndex, int[] Top5, byte[] Top5Logits)
    {
        public bool Top1Correct => Top5[0] == SlimIndex;
        public bool Top5Correct => Array.IndexOf(Top5, SlimIndex) >= 0;
    }

    public QuantizedGolden(IReadOnlyDictionary<string, string> header, IReadOnlyList<Row> rows)
    {
        Header = header;
        Rows = rows;
    }

    public IReadOnlyDictionary<string, string> Header { get; }
    public IReadOnlyList<Row> Rows { get; }
    public int Top1Correct => Rows.Count(r => r.Top1Correct);
    public int Top5Correct => Rows.Count(r => r.Top5Correct);

    /// <summary>The golden file's path in the source tree.</summary>
    public static string PathOf(string entry) => Path.Combine(Reference.RepoPaths.Root, "tests", "MobileNetGen.Tests", "Quantized", "Golden", entry + ".tsv");

    /// <summary>
    /// A hash of what determines the network's outputs — the <c>quantization</c> metadata and every tensor (name, dtype,
    /// shape, bytes) — and nothing else, so that a reworded note does not invalidate a golden file that took half an hour.
    /// </summary>
    public static string NetworkSha256(SafeTensorsFile file)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes("quantization\0" + (file.GetMetadata(CanonicalWeights.Keys.Quantization) ?? "") + "\0"));
        foreach (var t in file.Tensors)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{t.Name}\0{t.DType}\0{t.ShapeText}\0"));
            sha.AppendData(t.Data);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    public string Write()
    {
        var sb = new StringBuilder();
        foreach (var kv in Header) sb.Append("# ").Append(kv.Key).Append('\t').Append(kv.Value).Append('\n');
        sb.Append(Columns).Append('\n');
        foreach (var r in Rows)
            sb.Append(r.File).Append('\t').Append(r.SlimIndex.ToString(CultureInfo.InvariantCulture)).Append('\t')
              .Append(string.Join(",", r.Top5.Select(i => i.ToString(CultureInfo.InvariantCulture)))).Append('\t')
              .Append(string.Join(",", r.Top5Logits.Select(v => v.ToString(CultureInfo.InvariantCulture)))).Append('\n');
        return sb.ToString();
    }

    public static QuantizedGolden Read(string path)
    {
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        var rows = new List<Row>();
        bool columns = false;
        int lineNo = 0;
        foreach (string raw in File.ReadAllText(path, Encoding.UTF8).Split('\n'))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                int tab = line.IndexOf('\t');
                if (tab < 0) throw new FormatException($"{path}:{lineNo}: header line without a tab");
                header[line.Substring(2, tab - 2)] = line.Substring(tab + 1);
                continue;
            }
            if (!columns)
            {
                if (line != Columns) throw new FormatException($"{path}:{lineNo}: expected the column line '{Columns}'");
                columns = true;
                continue;
            }
            string[] f = line.Split('\t');
            if (f.Length != 4) throw new FormatException($"{path}:{lineNo}: {f.Length} fields");
            int[] top5 = f[2].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            byte[] logits = f[3].Split(',').Select(s => byte.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            if (top5.Length != 5 || logits.Length != 5) throw new FormatException($"{path}:{lineNo}: top5 needs five indices and five logits");
            rows.Add(new Row(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), top5, logits));
        }
        if (!columns) throw new FormatException($"{path}: no column line");
        return new QuantizedGolden(header, rows);
    }

    /// <summary>How to rewrite the golden files (a tool, not a test: ~30 minutes of the scalar reference on 2 cores).</summary>
    public const string RegenerateCommand = "dotnet run -c Release --project tests/MobileNetGen.GoldenTool -- [ENTRY,ENTRY…] [--threads N]";

    /// <summary>Writes the golden files: every photo of shared/images/imagenet-sample-dev through the scalar reference, for
    /// <paramref name="only"/> (null: every uint8 entry) on <paramref name="threads"/> threads; progress to <paramref name="log"/>.</summary>
    public static void RegenerateAll(IReadOnlyCollection<string>? only, int threads, TextWriter log)
    {
        string sampleDir = QuantizedEntries.Images("imagenet-sample-dev");
        var truth = GroundTruth.LoadFromDirectory(sampleDir);
        foreach (var e in QuantizedEntries.All)
        {
            if (only != null && !only.Contains(e.Name)) continue;
            var sw = Stopwatch.StartNew();
            var weights = QuantizedEntries.Weights(e.Name);
            var net = new ReferenceQuantizedMobileNet(weights);
            var rows = new QuantizedGolden.Row[truth.Count];
            Parallel.For(0, truth.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var gt = truth[i];
                var r = net.Forward(QuantizedEntries.QuantizedInput(net, Path.Combine(sampleDir, gt.File)));
                int[] top5 = ReferenceQuantizedMobileNet.TopK(r.Logits, 5);
                rows[i] = new QuantizedGolden.Row(gt.File, gt.SlimIndex, top5, top5.Select(k => r.Logits[k]).ToArray());
            });
            int top1 = rows.Count(r => r.Top1Correct), top5c = rows.Count(r => r.Top5Correct);
            var header = new Dictionary<string, string>
            {
                ["about"] = "TFLite reference-kernel transcription (tests/MobileNetGen.Tests/Reference/Tflite) on shared/images/imagenet-sample-dev",
                ["entry"] = e.Name,
                ["network_sha256"] = QuantizedGolden.NetworkSha256(weights),
                ["preprocessing"] = "TF-slim eval: central crop 87.5 % + TF1 bilinear resize (runtime Preprocessor), then TFLite QUANTIZE with the input's scale and zero point " +
                                    $"({net.InputScale.ToString("R", CultureInfo.InvariantCulture)}, {net.InputZeroPoint})",
                ["ranking"] = "uint8 logits, larger first, ties by lower output index; output k = TF-slim index k (0 = background)",
                ["images"] = rows.Length.ToString(CultureInfo.InvariantCulture),
                ["top1_correct"] = top1.ToString(CultureInfo.InvariantCulture),
                ["top5_correct"] = top5c.ToString(CultureInfo.InvariantCulture),
                ["top1_percent"] = (100.0 * top1 / rows.Length).ToString("F1", CultureInfo.InvariantCulture),
                ["top5_percent"] = (100.0 * top5c / rows.Length).ToString("F1", CultureInfo.InvariantCulture),
                ["published_imagenet_val_top1_top5"] = $"{e.PublishedTop1.ToString("F1", CultureInfo.InvariantCulture)} / {e.PublishedTop5.ToString("F1", CultureInfo.InvariantCulture)}",
            };
            var golden = new QuantizedGolden(header, rows);
            string path = QuantizedGolden.PathOf(e.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, golden.Write());
            log.WriteLine($"{e.Name}: top-1 {top1}/{rows.Length}, top-5 {top5c}/{rows.Length}, {sw.Elapsed.TotalMinutes:F1} min → {path}");
        }
    }
}
