using MobileNetGen.Model;
using MobileNetGen.Runtime;

namespace MobileNetGen.Variants;

/// <summary>One generated classifier in this assembly.</summary>
/// <param name="Name">Entry name, e.g. <c>mobilenet_v1_0.25_224</c> or <c>mobilenet_v1_0.25_224_tflite2018</c>.</param>
/// <param name="Variant">α_resolution, e.g. <c>0.25_224</c>.</param>
public sealed record VariantEntry(string Name, string Variant, MobileNetModelInfo Info, Func<MobileNetOptions?, MobileNetClassifier> Create)
{
    /// <summary>The name users type and tables show: α_resolution for an entry with the variant's default weights
    /// (<c>0.25_224</c>), the entry name for any other (<c>mobilenet_v1_0.25_224_tflite2018</c>, a custom model).</summary>
    public string ShortName => Name == "mobilenet_v1_" + Variant ? Variant : Name;

    /// <summary>α_resolution, followed by the entry name in parentheses when the entry is not the variant's default.</summary>
    public string DisplayName => ShortName == Variant ? Variant : $"{Variant} ({Name})";
}

/// <summary>All MobileNet v1 classifiers generated into this assembly: the 16 variants plus the extra 2018 TFLite entry.</summary>
public static partial class VariantCatalog
{
    /// <summary>The default variant: genuine float weights, smallest accurate-enough choice.</summary>
    public const string DefaultVariant = "0.25_224";

    private static readonly object s_gate = new();
    private static VariantEntry[]? s_all; // null until Register (s_entries lives in another file: no initializer order to rely on)

    private static VariantEntry[] All => Volatile.Read(ref s_all) ?? s_entries;

    /// <summary>The 16 variants in the seed table's order, then extra entries, then entries added with <see cref="Register"/>.</summary>
    public static IReadOnlyList<VariantEntry> Entries => All;

    /// <summary>The 16 variants, in the seed table's order (what <c>bench --variants all</c> and <c>choose</c> measure).</summary>
    public static IReadOnlyList<VariantEntry> Variants => s_variants ??= VariantName.All.Select(v => Find(v.ToString())!).ToArray();

    private static VariantEntry[]? s_variants;

    /// <summary>Google's uint8 networks generated into this assembly (<c>1.0_224_quant</c> …), in the published table's order.</summary>
    public static IReadOnlyList<VariantEntry> Quantized => s_quantized ??= VariantName.PublishedQuantized.Select(v => Find(v.ToString())!).ToArray();

    private static VariantEntry[]? s_quantized;

    /// <summary>The entries generated into this assembly (16 variants, the 2018 TFLite release, the 5 uint8 networks), without registered ones.</summary>
    public static IReadOnlyList<VariantEntry> BuiltIn => s_entries;

    /// <summary>
    /// Adds a classifier compiled into the app (e.g. a custom fine-tuned model:
    /// <c>Register(new("flowers", "0.25_224", Flowers.ModelInfo, o => new Flowers(o)))</c>) so that the catalog, and the
    /// CLI commands hosted in the app, find it by its name. Throws when the name is already taken.
    /// </summary>
    public static void Register(VariantEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!VariantName.TryParse(entry.Variant, out _)) throw new ArgumentException($"'{entry.Variant}' is not a MobileNet v1 variant", nameof(entry));
        lock (s_gate)
        {
            var current = All;
            if (current.Any(e => string.Equals(e.Name, entry.Name, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"an entry named '{entry.Name}' is already registered", nameof(entry));
            Volatile.Write(ref s_all, current.Append(entry).ToArray());
        }
    }

    /// <summary>Finds an entry by variant (<c>0.5_128</c>, <c>mobilenet_v1_0.50_128</c>) or by entry name. Null when unknown.</summary>
    public static VariantEntry? Find(string nameOrVariant)
    {
        var all = All;
        foreach (var e in all)
            if (string.Equals(e.Name, nameOrVariant, StringComparison.OrdinalIgnoreCase)) return e;
        if (VariantName.TryParse(nameOrVariant, out var v))
            foreach (var e in all)
                if (e.Name == v.FileStem) return e;
        return null;
    }

    /// <summary>Creates a classifier, or throws <see cref="ArgumentException"/> naming the known variants.</summary>
    public static MobileNetClassifier Create(string nameOrVariant, MobileNetOptions? options = null)
    {
        var e = Find(nameOrVariant) ?? throw new ArgumentException(
            $"unknown variant '{nameOrVariant}'. Known: {string.Join(", ", Entries.Select(x => x.ShortName))}");
        return e.Create(options);
    }
}
