using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MobileNetGen.Model;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// A golden file (tests/MobileNetGen.Tests/Quantized/Golden/{entry}.tsv): the TFLite reference transcription's top-5 on
/// every photo of shared/images/imagenet-sample-dev, computed once (<see cref="QuantizedGoldenTests.Regenerate"/>) and
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
}
