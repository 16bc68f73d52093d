using System.Globalization;
using System.Text;

namespace MobileNetGen.Cli.Evaluation;

/// <summary>One labelled image of an evaluation set.</summary>
/// <param name="File">Path of the image relative to the set's folder, as written in the TSV.</param>
/// <param name="SlimIndex">TF-slim ImageNet class index, 1..1000 (0 = background is never a label).</param>
/// <param name="SlimIndex">TF-slim ImageNet index 1..1000; 0 for a label-only row (custom heads: column <c>label</c>).</param>
/// <param name="Label">The TSV's <c>slim_label</c> (or <c>label</c>), or null when the column is absent.</param>
/// <param name="Line">1-based line of the TSV (for messages).</param>
public sealed record GroundTruthEntry(string File, int SlimIndex, string? Label, int Line);

/// <summary>The ground truth file is missing or malformed. The message names the file and, where it applies, the line.</summary>
public sealed class GroundTruthException : Exception
{
    public GroundTruthException(string message) : base(message) { }
    public GroundTruthException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Reads an evaluation set's <c>ground_truth.tsv</c>: UTF-8 (BOM optional), tab-separated, a header row naming the columns
/// (at least <c>file</c> and <c>slim_index_1_1000</c>; <c>wnid</c>, <c>keras_index_0_999</c>, <c>slim_label</c> are
/// optional and may come in any order), then one row per image. Fields are taken verbatim (no quoting), so file names may
/// hold spaces, quotes and non-ASCII characters; they may not hold tabs or line breaks. Blank lines are ignored.
/// </summary>
public static class GroundTruth
{
    public const string FileName = "ground_truth.tsv";
    public const string FileColumn = "file";
    public const string SlimIndexColumn = "slim_index_1_1000";
    public const string SlimLabelColumn = "slim_label";
    /// <summary>For a custom (fine-tuned) head, instead of <see cref="SlimIndexColumn"/>: the expected label, spelled as the model's labels.</summary>
    public const string LabelColumn = "label";

    /// <summary>Refuse absurdly large files (the 500-image set is ~40 KB).</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>Reads <c>DIR/ground_truth.tsv</c>.</summary>
    public static IReadOnlyList<GroundTruthEntry> LoadFromDirectory(string imagesDir)
    {
        ArgumentNullException.ThrowIfNull(imagesDir);
        if (!Directory.Exists(imagesDir)) throw new GroundTruthException($"'{imagesDir}': image folder not found");
        return Load(Path.Combine(imagesDir, FileName));
    }

    /// <summary>Reads a ground truth TSV file.</summary>
    public static IReadOnlyList<GroundTruthEntry> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new GroundTruthException($"'{path}': ground truth file not found (expected a TSV with columns {FileColumn}, {SlimIndexColumn}, ...)");
            if (info.Length > MaxBytes) throw new GroundTruthException($"'{path}': {info.Length} bytes is too large for a ground truth file");
            text = File.ReadAllText(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException e) { throw new GroundTruthException($"'{path}': not valid UTF-8 text", e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new GroundTruthException($"'{path}': {e.Message}", e); }
        return Parse(text, path);
    }

    /// <summary>Parses TSV text; <paramref name="source"/> names it in messages.</summary>
    public static IReadOnlyList<GroundTruthEntry> Parse(string text, string source = FileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && text[0] == '\uFEFF') text = text.Substring(1);
        string[] lines = text.Split('\n');
        int headerLine = -1;
        string[]? header = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string l = lines[i].TrimEnd('\r');
            if (l.Trim().Length == 0) continue;
            headerLine = i;
            header = l.Split('\t');
            break;
        }
        if (header == null) throw new GroundTruthException($"'{source}': empty ground truth file (expected a header row with columns {FileColumn}, {SlimIndexColumn})");

        int fileCol = IndexOf(header, FileColumn), indexCol = IndexOf(header, SlimIndexColumn), labelCol = IndexOf(header, SlimLabelColumn);
        int customCol = IndexOf(header, LabelColumn);
        if (fileCol < 0 || (indexCol < 0 && customCol < 0))
            throw new GroundTruthException(
                $"'{source}' line {headerLine + 1}: the header must name the columns '{FileColumn}' and '{SlimIndexColumn}' (ImageNet models) or '{LabelColumn}' (custom heads), tab-separated; found: {Describe(header)}");
        bool byLabel = indexCol < 0;

        var entries = new List<GroundTruthEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = headerLine + 1; i < lines.Length; i++)
        {
            string l = lines[i].TrimEnd('\r');
            if (l.Trim().Length == 0) continue;
            int lineNo = i + 1;
            string[] f = l.Split('\t');
            if (f.Length != header.Length)
                throw new GroundTruthException($"'{source}' line {lineNo}: {f.Length} tab-separated fields, the header has {header.Length}");
            string file = f[fileCol];
            if (file.Trim().Length == 0) throw new GroundTruthException($"'{source}' line {lineNo}: empty file name");
            if (file.IndexOf('\0') >= 0 || Path.IsPathRooted(file) || file.Replace('\\', '/').Split('/').Any(s => s == ".."))
                throw new GroundTruthException($"'{source}' line {lineNo}: file name '{file}' must be a path inside the image folder (no absolute paths, no '..')");
            if (!seen.Add(file)) throw new GroundTruthException($"'{source}' line {lineNo}: '{file}' is listed twice");
            if (byLabel)
            {
                string label = f[customCol].Trim();
                if (label.Length == 0) throw new GroundTruthException($"'{source}' line {lineNo}: empty {LabelColumn}");
                entries.Add(new GroundTruthEntry(file, 0, label, lineNo));
                continue;
            }
            string idx = f[indexCol].Trim();
            if (!int.TryParse(idx, NumberStyles.None, CultureInfo.InvariantCulture, out int slim) || slim < 1 || slim > 1000)
                throw new GroundTruthException($"'{source}' line {lineNo}: {SlimIndexColumn} '{idx}' is not an integer in 1..1000");
            entries.Add(new GroundTruthEntry(file, slim, labelCol >= 0 ? f[labelCol] : customCol >= 0 ? f[customCol] : null, lineNo));
        }
        if (entries.Count == 0) throw new GroundTruthException($"'{source}': no images listed after the header");
        return entries;
    }

    private static int IndexOf(string[] header, string name)
    {
        for (int i = 0; i < header.Length; i++)
            if (string.Equals(header[i].Trim(), name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    private static string Describe(string[] header)
    {
        string s = string.Join(", ", header.Select(h => "'" + h + "'"));
        return s.Length > 200 ? s.Substring(0, 200) + "..." : s;
    }
}
