using System.Text;

namespace MobileNetGen.Runtime.Labels;

/// <summary>The 1001 TF-slim ImageNet labels (index 0 = "background", 1..1000 the ILSVRC-2012 classes).</summary>
public static class ImageNetLabels
{
    private const string ResourceName = "MobileNetGen.Runtime.imagenet_labels_1001.txt";

    /// <summary>Number of labels: 1001.</summary>
    public const int Count = 1001;

    private static readonly string[] Labels = Load();

    /// <summary>All 1001 labels, indexed by TF-slim class index. Loaded once from the embedded resource; do not modify.</summary>
    public static string[] All => Labels;

    /// <summary>The label of a TF-slim class index (0..1000).</summary>
    public static string Get(int slimIndex)
    {
        if ((uint)slimIndex >= (uint)Labels.Length)
            throw new ArgumentOutOfRangeException(nameof(slimIndex), slimIndex, $"TF-slim ImageNet index must be in 0..{Labels.Length - 1}");
        return Labels[slimIndex];
    }

    private static string[] Load() => LabelFile.LoadEmbedded(ResourceName, Count);
}

/// <summary>Reads custom label files.</summary>
public static class LabelFile
{
    /// <summary>
    /// Reads a label file: one label per line (UTF-8, BOM allowed, LF or CRLF), surrounding whitespace trimmed,
    /// trailing empty lines ignored. The TF-slim <c>N:label</c> form is accepted too: when every line starts with
    /// its own 0-based index and a colon, the prefixes are removed.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file holds no label.</exception>
    public static string[] Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Label file '{path}' not found", path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader, path);
    }

    /// <summary>Reads a label list embedded in this assembly and checks its length.</summary>
    internal static string[] LoadEmbedded(string resourceName, int expectedCount)
    {
        using Stream? stream = typeof(LabelFile).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"Embedded resource '{resourceName}' is missing from {typeof(LabelFile).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        string[] labels = Parse(reader, resourceName);
        if (labels.Length != expectedCount)
            throw new InvalidOperationException($"Embedded resource '{resourceName}' has {labels.Length} labels, expected {expectedCount}");
        return labels;
    }

    internal static string[] Parse(TextReader reader, string source)
    {
        var lines = new List<string>();
        string? line;
        while ((line = reader.ReadLine()) is not null) lines.Add(line.Trim());
        int count = lines.Count;
        while (count > 0 && lines[count - 1].Length == 0) count--;
        if (count == 0) throw new InvalidDataException($"Label file '{source}' contains no labels");

        var labels = lines.GetRange(0, count).ToArray();
        if (HasIndexPrefixes(labels))
        {
            for (int i = 0; i < labels.Length; i++)
            {
                string label = labels[i];
                labels[i] = label[(label.IndexOf(':') + 1)..].Trim();
            }
        }
        return labels;
    }

    private static bool HasIndexPrefixes(string[] labels)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i];
            int colon = label.IndexOf(':');
            if (colon <= 0) return false;
            ReadOnlySpan<char> prefix = label.AsSpan(0, colon);
            foreach (char c in prefix)
                if (c is < '0' or > '9') return false;
            if (!int.TryParse(prefix, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n != i)
                return false;
        }
        return true;
    }
}
