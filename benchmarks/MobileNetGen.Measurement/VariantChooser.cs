using MobileNetGen.Model;
using System.Globalization;

namespace MobileNetGen.Measurement;

/// <summary>One candidate variant: what was measured and what is known about it.</summary>
/// <param name="Variant">α_resolution, e.g. <c>0.50_160</c>.</param>
/// <param name="MedianMs">Measured median latency of one inference.</param>
/// <param name="SizeBytes">Bytes the variant adds to a binary (embedded weights).</param>
/// <param name="PublishedTop1">Published ImageNet top-1, percent; null when unknown (never ranked above a known one).</param>
/// <param name="Synthetic">The build's weights are synthetic stand-ins (the published accuracy is the real checkpoint's).</param>
public sealed record ChoiceRow(string Variant, double MedianMs, long SizeBytes, double? PublishedTop1, bool Synthetic = false)
{
    public long Macs { get; init; }
}

/// <summary>The constraints: latency budget, optional size limit (bytes) and optional minimum published top-1 (percent).</summary>
public sealed record ChoiceConstraints(double BudgetMs, long? MaxSizeBytes = null, double? MinTop1 = null);

/// <summary>
/// The outcome. <see cref="Chosen"/> is the recommendation when <see cref="Fits"/>; otherwise null, and
/// <see cref="Closest"/> names the nearest miss with <see cref="ConstraintsFailed"/> (what it fails).
/// </summary>
public sealed record ChoiceResult(
    ChoiceRow? Chosen,
    bool Fits,
    string Reason,
    ChoiceRow? Closest,
    IReadOnlyList<string> ConstraintsFailed,
    IReadOnlyList<ChoiceRow> Eligible)
{
    /// <summary>The ranking criterion, stated in every output.</summary>
    public string RankedBy => VariantChooser.RankedBy;

    /// <summary><see cref="Chosen"/>, or <see cref="Closest"/> when nothing fits.</summary>
    public ChoiceRow? Target => Chosen ?? Closest;

    /// <summary>The failed constraints joined with ", " (null when the recommendation fits).</summary>
    public string? ConstraintFailed => ConstraintsFailed.Count == 0 ? null : string.Join(", ", ConstraintsFailed);
}

/// <summary>
/// Picks a MobileNet v1 variant: the most accurate <b>by published top-1</b> among the variants that meet every
/// constraint (measured median latency ≤ budget, size ≤ limit, published top-1 ≥ minimum); ties go to the faster one
/// (then the smaller one, then the name). When none fits, names the closest: the fastest that meets the other constraints
/// when latency is the binding one; the most accurate within latency and size when min-top1 is; the smallest within
/// latency and accuracy when size is; otherwise the variant failing the fewest constraints by the least. Pure: no I/O.
/// </summary>
public static class VariantChooser
{
    public const string RankedBy = "published top-1";
    public const string Latency = "latency";
    public const string MaxSize = "max-size";
    public const string MinTop1 = "min-top1";

    public static ChoiceResult Choose(IReadOnlyList<ChoiceRow> rows, ChoiceConstraints constraints)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(constraints);
        if (!(constraints.BudgetMs > 0)) throw new ArgumentOutOfRangeException(nameof(constraints), "the latency budget must be positive");
        var inv = CultureInfo.InvariantCulture;

        var eligible = rows.Where(r => Failed(r, constraints).Count == 0).ToList();
        if (eligible.Count > 0)
        {
            var best = eligible.OrderBy(r => r, AccuracyFirst).First();
            int tied = eligible.Count(r => r.PublishedTop1 == best.PublishedTop1);
            string reason = string.Create(inv,
                $"{best.Variant} has the highest published top-1 ({Top1Text(best)}) of the {eligible.Count} variant{(eligible.Count == 1 ? "" : "s")} " +
                $"meeting {Describe(constraints)}; measured {best.MedianMs:0.00} ms") +
                (tied > 1 ? $" (tied on top-1 with {tied - 1} other{(tied == 2 ? "" : "s")}: the faster wins)" : "") +
                (best.Synthetic ? "; this build's weights for it are SYNTHETIC: the published accuracy needs Google's checkpoint imported" : "");
            return new ChoiceResult(best, true, reason, null, Array.Empty<string>(), eligible);
        }

        if (rows.Count == 0)
            return new ChoiceResult(null, false, "no variants to choose from", null, Array.Empty<string>(), eligible);

        ChoiceRow closest;
        var withoutLatency = rows.Where(r => !Failed(r, constraints).Any(f => f != Latency)).ToList();
        var withoutTop1 = rows.Where(r => !Failed(r, constraints).Any(f => f != MinTop1)).ToList();
        var withoutSize = rows.Where(r => !Failed(r, constraints).Any(f => f != MaxSize)).ToList();
        if (withoutLatency.Count > 0)
            closest = withoutLatency.OrderBy(r => r.MedianMs).ThenByDescending(r => r.PublishedTop1 ?? double.NegativeInfinity).First();
        else if (withoutTop1.Count > 0)
            closest = withoutTop1.OrderBy(r => r, AccuracyFirst).First();
        else if (withoutSize.Count > 0)
            closest = withoutSize.OrderBy(r => r.SizeBytes).ThenBy(r => r.MedianMs).First();
        else
            closest = rows.OrderBy(r => Failed(r, constraints).Count).ThenBy(r => Excess(r, constraints)).ThenBy(r => r.MedianMs).First();

        var failed = Failed(closest, constraints);
        string miss = string.Join("; ", failed.Select(f => f switch
        {
            Latency => string.Create(inv, $"its median {closest.MedianMs:0.00} ms is over the {constraints.BudgetMs:0.###} ms budget"),
            MaxSize => string.Create(inv, $"it adds {closest.SizeBytes / 1e6:0.00} MB, over the {constraints.MaxSizeBytes / 1e6:0.###} MB limit"),
            _ => string.Create(inv, $"its published top-1 {Top1Text(closest)} is below the {constraints.MinTop1:0.0} % minimum"),
        }));
        string which = failed.Count == 1 && failed[0] == Latency ? "the fastest variant meeting the other constraints"
            : failed.Count == 1 && failed[0] == MinTop1 ? "the most accurate variant within the latency and size limits"
            : failed.Count == 1 && failed[0] == MaxSize ? "the smallest variant within the latency and accuracy limits"
            : "the variant missing the fewest constraints by the least";
        string noneReason = $"no variant meets {Describe(constraints)}; closest: {closest.Variant}, {which} ({miss})";
        return new ChoiceResult(null, false, noneReason, closest, failed, eligible);
    }

    /// <summary>
    /// The Pareto front of latency vs published top-1: the variants that no other variant beats on both (at least as
    /// fast and at least as accurate, and strictly better on one). Sorted by latency. Rows without a published top-1 are left out.
    /// </summary>
    public static IReadOnlyList<ChoiceRow> ParetoFront(IReadOnlyList<ChoiceRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var known = rows.Where(r => r.PublishedTop1 != null).ToList();
        return known
            .Where(r => !known.Any(o => !ReferenceEquals(o, r)
                && o.MedianMs <= r.MedianMs && o.PublishedTop1 >= r.PublishedTop1
                && (o.MedianMs < r.MedianMs || o.PublishedTop1 > r.PublishedTop1)))
            .OrderBy(r => r.MedianMs)
            .ToList();
    }

    /// <summary>The constraints a row fails, in the order latency, max-size, min-top1.</summary>
    public static IReadOnlyList<string> Failed(ChoiceRow r, ChoiceConstraints c)
    {
        var failed = new List<string>(3);
        if (!(r.MedianMs <= c.BudgetMs)) failed.Add(Latency);
        if (c.MaxSizeBytes is long max && r.SizeBytes > max) failed.Add(MaxSize);
        if (c.MinTop1 is double min && !(r.PublishedTop1 >= min)) failed.Add(MinTop1);
        return failed;
    }

    /// <summary>Most accurate first (unknown accuracy last), then faster, then smaller, then by name.</summary>
    private static readonly Comparer<ChoiceRow> AccuracyFirst = Comparer<ChoiceRow>.Create((a, b) =>
    {
        int c = (b.PublishedTop1 ?? double.NegativeInfinity).CompareTo(a.PublishedTop1 ?? double.NegativeInfinity);
        if (c != 0) return c;
        c = a.MedianMs.CompareTo(b.MedianMs);
        if (c != 0) return c;
        c = a.SizeBytes.CompareTo(b.SizeBytes);
        return c != 0 ? c : string.CompareOrdinal(a.Variant, b.Variant);
    });

    /// <summary>Sum of relative excesses over the failed constraints (0 when it fits).</summary>
    private static double Excess(ChoiceRow r, ChoiceConstraints c)
    {
        double e = 0;
        if (r.MedianMs > c.BudgetMs) e += (r.MedianMs - c.BudgetMs) / c.BudgetMs;
        if (c.MaxSizeBytes is long max && r.SizeBytes > max) e += (r.SizeBytes - max) / (double)Math.Max(1, max);
        if (c.MinTop1 is double min && !(r.PublishedTop1 >= min)) e += r.PublishedTop1 is double t ? (min - t) / Math.Max(1e-9, min) : 1;
        return e;
    }

    private static string Top1Text(ChoiceRow r) =>
        r.PublishedTop1 is double t ? t.ToString("0.0", CultureInfo.InvariantCulture) + " %" : "unknown";

    /// <summary>"latency ≤ 3 ms, size ≤ 2 MB, published top-1 ≥ 55.0 %".</summary>
    public static string Describe(ChoiceConstraints c)
    {
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string> { string.Create(inv, $"latency ≤ {c.BudgetMs:0.###} ms") };
        if (c.MaxSizeBytes is long max) parts.Add(string.Create(inv, $"size ≤ {max / 1e6:0.###} MB"));
        if (c.MinTop1 is double min) parts.Add(string.Create(inv, $"published top-1 ≥ {min:0.0} %"));
        return string.Join(", ", parts);
    }

    /// <summary>The C# line an app adds to generate <paramref name="variant"/> (<c>Synthetic = true</c> for synthetic weights).</summary>
    public static string AppLine(string variant, bool synthetic, string className = "MyClassifier") =>
        synthetic
            ? $"[MobileNet(\"{variant}\", Synthetic = true)] public partial class {className} {{ }}"
            : $"[MobileNet(\"{variant}\")] public partial class {className} {{ }}";

    /// <summary>The MSBuild item that hands the variant's canonical weights to the generator.</summary>
    public static string WeightsItem(string variant) =>
        $"<MobileNetWeights Include=\"path/to/weights/{(VariantName.TryParse(variant, out var v) ? v.FileStem : "mobilenet_v1_" + variant)}.safetensors\" />";
}
