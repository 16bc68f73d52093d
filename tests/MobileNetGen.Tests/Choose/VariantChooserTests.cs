using MobileNetGen.Measurement;
using Xunit;

namespace MobileNetGen.Tests.Choose;

/// <summary><see cref="VariantChooser"/> on fixed inputs: no measurement involved.</summary>
public class VariantChooserTests
{
    private static readonly ChoiceRow[] Rows =
    {
        new("1.0_224", 40.0, 16_900_000, 70.7, Synthetic: true),
        new("0.75_160", 10.0, 2_920_000, 65.2),
        new("0.50_160", 5.0, 1_610_000, 59.9),
        new("0.50_128", 3.5, 1_610_000, 56.2),
        new("0.25_224", 3.0, 1_870_000, 50.6),
        new("0.25_128", 1.0, 1_870_000, 41.3),
    };

    [Fact]
    public void Budget_met_picks_the_highest_published_top1_within_budget()
    {
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 6));
        Assert.True(r.Fits);
        Assert.Equal("0.50_160", r.Chosen!.Variant);
        Assert.Null(r.Closest);
        Assert.Null(r.ConstraintFailed);
        Assert.Equal("published top-1", r.RankedBy);
        Assert.Contains("highest published top-1", r.Reason);
        Assert.Equal(4, r.Eligible.Count);
    }

    [Fact]
    public void Budget_equal_to_the_median_counts_as_met()
    {
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 3.0));
        Assert.Equal("0.25_224", r.Chosen!.Variant);
    }

    [Fact]
    public void None_met_says_so_and_names_the_fastest_as_closest_when_latency_binds()
    {
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 0.5));
        Assert.False(r.Fits);
        Assert.Null(r.Chosen);
        Assert.Equal("0.25_128", r.Closest!.Variant);
        Assert.Equal(new[] { VariantChooser.Latency }, r.ConstraintsFailed);
        Assert.Equal("latency", r.ConstraintFailed);
        Assert.StartsWith("no variant meets", r.Reason);
        Assert.Contains("0.25_128", r.Reason);
        Assert.Same(r.Closest, r.Target);
    }

    [Fact]
    public void None_met_with_latency_binding_names_the_fastest_that_meets_the_other_constraints()
    {
        // min-top1 55 leaves 1.0_224, 0.75_160, 0.50_160, 0.50_128: the fastest of them is 0.50_128.
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 2, MinTop1: 55));
        Assert.False(r.Fits);
        Assert.Equal("0.50_128", r.Closest!.Variant);
        Assert.Equal("latency", r.ConstraintFailed);
    }

    [Fact]
    public void None_met_with_min_top1_binding_names_the_most_accurate_within_budget()
    {
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 6, MinTop1: 75));
        Assert.False(r.Fits);
        Assert.Equal("0.50_160", r.Closest!.Variant);
        Assert.Equal("min-top1", r.ConstraintFailed);
    }

    [Fact]
    public void Ties_on_published_top1_go_to_the_faster_variant()
    {
        var rows = new[]
        {
            new ChoiceRow("slow", 4.0, 1_000_000, 60.0),
            new ChoiceRow("fast", 2.0, 1_000_000, 60.0),
            new ChoiceRow("worse", 1.0, 1_000_000, 50.0),
        };
        var r = VariantChooser.Choose(rows, new ChoiceConstraints(BudgetMs: 5));
        Assert.Equal("fast", r.Chosen!.Variant);
        Assert.Contains("faster wins", r.Reason);
        // Order of the input does not matter.
        Assert.Equal("fast", VariantChooser.Choose(rows.Reverse().ToArray(), new ChoiceConstraints(5)).Chosen!.Variant);
    }

    [Fact]
    public void Size_limit_excludes_larger_variants()
    {
        // Within 12 ms 0.75_160 (2.92 MB) would win; a 2 MB limit leaves 0.50_160.
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 12, MaxSizeBytes: 2_000_000));
        Assert.True(r.Fits);
        Assert.Equal("0.50_160", r.Chosen!.Variant);
        Assert.DoesNotContain(r.Eligible, x => x.Variant == "0.75_160");
    }

    [Fact]
    public void Size_limit_below_every_variant_names_the_smallest_and_the_size_constraint()
    {
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 100, MaxSizeBytes: 1_000_000));
        Assert.False(r.Fits);
        Assert.Equal("0.50_128", r.Closest!.Variant); // the smallest (1.61 MB, tied with 0.50_160): the faster of the two
        Assert.Equal("max-size", r.ConstraintFailed);
    }

    [Fact]
    public void Min_top1_excludes_less_accurate_variants()
    {
        // Within 6 ms: 0.50_160 (59.9) wins; with min-top1 50 it still does; min-top1 can only remove candidates.
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 3.5, MinTop1: 55));
        Assert.True(r.Fits);
        Assert.Equal("0.50_128", r.Chosen!.Variant);
        Assert.DoesNotContain(r.Eligible, x => x.PublishedTop1 < 55);
    }

    [Fact]
    public void A_synthetic_pick_is_flagged_in_the_reason()
    {
        var r = VariantChooser.Choose(Rows, new ChoiceConstraints(BudgetMs: 100));
        Assert.Equal("1.0_224", r.Chosen!.Variant);
        Assert.Contains("SYNTHETIC", r.Reason);
        Assert.Equal("[MobileNet(\"1.0_224\", Synthetic = true)] public partial class MyClassifier { }", VariantChooser.AppLine("1.0_224", synthetic: true));
        Assert.Equal("[MobileNet(\"0.50_160\")] public partial class MyClassifier { }", VariantChooser.AppLine("0.50_160", synthetic: false));
    }

    [Fact]
    public void Pareto_front_keeps_only_undominated_variants()
    {
        var rows = Rows.Append(new ChoiceRow("dominated", 12.0, 1, 60.0)).ToArray();
        var front = VariantChooser.ParetoFront(rows).Select(r => r.Variant).ToArray();
        Assert.Equal(new[] { "0.25_128", "0.25_224", "0.50_128", "0.50_160", "0.75_160", "1.0_224" }, front);
    }
}
