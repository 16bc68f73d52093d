using MobileNetGen.Model;
using MobileNetGen.Runtime;

namespace MobileNetGen.Variants;

/// <summary>One generated classifier in this assembly.</summary>
/// <param name="Name">Entry name, e.g. <c>mobilenet_v1_0.25_224</c> or <c>mobilenet_v1_0.25_224_tflite2018</c>.</param>
/// <param name="Variant">α_resolution, e.g. <c>0.25_224</c>.</param>
public sealed record VariantEntry(string Name, string Variant, MobileNetModelInfo Info, Func<MobileNetOptions?, MobileNetClassifier> Create);

/// <summary>All MobileNet v1 classifiers generated into this assembly: the 16 variants plus the extra 2018 TFLite entry.</summary>
public static partial class VariantCatalog
{
    /// <summary>The default variant: genuine float weights, smallest accurate-enough choice.</summary>
    public const string DefaultVariant = "0.25_224";

    /// <summary>The 16 variants in the seed table's order, then extra entries.</summary>
    public static IReadOnlyList<VariantEntry> Entries => s_entries;

    /// <summary>Finds an entry by variant (<c>0.5_128</c>, <c>mobilenet_v1_0.50_128</c>) or by entry name. Null when unknown.</summary>
    public static VariantEntry? Find(string nameOrVariant)
    {
        foreach (var e in s_entries)
            if (string.Equals(e.Name, nameOrVariant, StringComparison.OrdinalIgnoreCase)) return e;
        if (VariantName.TryParse(nameOrVariant, out var v))
            foreach (var e in s_entries)
                if (e.Name == v.FileStem) return e;
        return null;
    }

    /// <summary>Creates a classifier, or throws <see cref="ArgumentException"/> naming the known variants.</summary>
    public static MobileNetClassifier Create(string nameOrVariant, MobileNetOptions? options = null)
    {
        var e = Find(nameOrVariant) ?? throw new ArgumentException(
            $"unknown variant '{nameOrVariant}'. Known: {string.Join(", ", s_entries.Select(x => x.Name == "mobilenet_v1_" + x.Variant ? x.Variant : x.Name))}");
        return e.Create(options);
    }
}
