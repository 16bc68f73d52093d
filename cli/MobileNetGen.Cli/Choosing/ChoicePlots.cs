using System.Globalization;
using MobileNetGen.Measurement;
using ScottPlot;

namespace MobileNetGen.Cli.Choosing;

/// <summary>
/// The PNG charts of <c>choose</c> (ScottPlot 5): measured latency vs published top-1 with the Pareto front and the budget,
/// and measured latency vs MACs. Latency axes are logarithmic (the 16 variants span more than a decade).
/// </summary>
public static class ChoicePlots
{
    public const int Width = 1000;
    public const int Height = 700;

    public const string SyntheticLegend = "α = 1.0 (synthetic weights: speed only; top-1 published)";

    private static readonly Color Genuine = new(31, 119, 180);
    private static readonly Color SyntheticColor = new(255, 127, 14);
    private static readonly Color FrontColor = new(44, 160, 44);
    private static readonly Color BudgetColor = new(214, 39, 40);

    /// <summary>Latency (x, ms, log scale) vs published top-1 (y, %). Rows without a published top-1 are left out.</summary>
    public static void SaveLatencyVsTop1(string path, IReadOnlyList<ChoiceRow> rows, double budgetMs, ChoiceRow? recommended, string subtitle)
    {
        var known = rows.Where(r => r.PublishedTop1 != null && r.MedianMs > 0).ToList();
        if (known.Count == 0) throw new ArgumentException("no variant with a published top-1 to plot", nameof(rows));
        var plt = new Plot();

        var front = VariantChooser.ParetoFront(known);
        if (front.Count > 0)
        {
            var line = plt.Add.ScatterLine(front.Select(r => Math.Log10(r.MedianMs)).ToArray(), front.Select(r => r.PublishedTop1!.Value).ToArray(), FrontColor);
            line.LineWidth = 2;
            line.MarkerShape = MarkerShape.OpenCircle;
            line.MarkerSize = 18;
            line.MarkerLineWidth = 2;
            line.LegendText = "Pareto front (no other variant both faster and more accurate)";
        }

        AddPoints(plt, known.Where(r => !r.Synthetic).ToList(), MarkerShape.FilledCircle, Genuine, "genuine weights (published top-1)", r => r.PublishedTop1!.Value);
        AddPoints(plt, known.Where(r => r.Synthetic).ToList(), MarkerShape.FilledTriangleUp, SyntheticColor, SyntheticLegend, r => r.PublishedTop1!.Value);

        if (recommended is { PublishedTop1: double rt } && recommended.MedianMs > 0)
        {
            var m = plt.Add.Marker(Math.Log10(recommended.MedianMs), rt, MarkerShape.OpenSquare, 26, BudgetColor);
            m.MarkerLineWidth = 2.5f;
            m.LegendText = "recommended: " + recommended.Variant;
        }

        foreach (var r in known)
        {
            var t = plt.Add.Text(r.Variant, Math.Log10(r.MedianMs), r.PublishedTop1!.Value);
            t.LabelFontSize = 12;
            t.Alignment = Alignment.LowerLeft;
            t.OffsetX = 7;
            t.OffsetY = -5;
        }

        double xmin = Math.Min(known.Min(r => r.MedianMs), budgetMs) / 1.3;
        double xmax = Math.Max(known.Max(r => r.MedianMs), budgetMs) * 1.6;
        var budget = plt.Add.VerticalLine(Math.Log10(budgetMs), 2, BudgetColor, LinePattern.Dashed);
        budget.LegendText = string.Create(CultureInfo.InvariantCulture, $"latency budget {budgetMs:0.###} ms");
        budget.Text = string.Create(CultureInfo.InvariantCulture, $"{budgetMs:0.###} ms");

        LogTicks(plt.Axes.Bottom, xmin, xmax);
        double ymin = known.Min(r => r.PublishedTop1!.Value), ymax = known.Max(r => r.PublishedTop1!.Value);
        plt.Axes.SetLimits(Math.Log10(xmin), Math.Log10(xmax), ymin - 3, ymax + 3);
        plt.Title("MobileNet v1: measured latency vs published ImageNet top-1\n" + subtitle, 14);
        plt.XLabel("median latency per inference, ms (log scale, measured here)");
        plt.YLabel("published top-1, % (TF-slim table)");
        plt.ShowLegend(Alignment.LowerRight);
        Save(plt, path);
    }

    /// <summary>Latency (y, ms) vs MACs (x, millions), both logarithmic, with the line of constant (best measured) throughput.</summary>
    public static void SaveLatencyVsMacs(string path, IReadOnlyList<ChoiceRow> rows, string subtitle)
    {
        var pts = rows.Where(r => r.Macs > 0 && r.MedianMs > 0).ToList();
        if (pts.Count == 0) throw new ArgumentException("no variant with MACs and a latency to plot", nameof(rows));
        var plt = new Plot();
        double MM(ChoiceRow r) => r.Macs / 1e6;

        // Latency proportional to MACs at the best measured throughput: points above it run below peak efficiency.
        var best = pts.MaxBy(r => r.Macs / r.MedianMs)!;
        double msPerMMac = best.MedianMs / MM(best);
        double xmin = pts.Min(MM) / 1.4, xmax = pts.Max(MM) * 1.6;
        var reference = plt.Add.ScatterLine(
            new[] { Math.Log10(xmin), Math.Log10(xmax) },
            new[] { Math.Log10(xmin * msPerMMac), Math.Log10(xmax * msPerMMac) }, Colors.Gray);
        reference.LinePattern = LinePattern.Dashed;
        reference.LineWidth = 1.5f;
        reference.LegendText = string.Create(CultureInfo.InvariantCulture,
            $"latency ∝ MACs at the best measured rate ({2 * best.Macs / (best.MedianMs / 1e3) / 1e9:0.0} GFLOP/s, {best.Variant})");

        AddPoints(plt, pts.Where(r => !r.Synthetic).ToList(), MarkerShape.FilledCircle, Genuine, "genuine weights", r => Math.Log10(r.MedianMs), MM);
        AddPoints(plt, pts.Where(r => r.Synthetic).ToList(), MarkerShape.FilledTriangleUp, SyntheticColor, "α = 1.0 (synthetic weights: speed only)", r => Math.Log10(r.MedianMs), MM);
        foreach (var r in pts)
        {
            var t = plt.Add.Text(r.Variant, Math.Log10(MM(r)), Math.Log10(r.MedianMs));
            t.LabelFontSize = 12;
            t.Alignment = Alignment.UpperLeft;
            t.OffsetX = 7;
            t.OffsetY = 4;
        }

        double ymin = Math.Min(pts.Min(r => r.MedianMs), xmin * msPerMMac) / 1.3;
        double ymax = pts.Max(r => r.MedianMs) * 1.6;
        LogTicks(plt.Axes.Bottom, xmin, xmax);
        LogTicks(plt.Axes.Left, ymin, ymax);
        plt.Axes.SetLimits(Math.Log10(xmin), Math.Log10(xmax), Math.Log10(ymin), Math.Log10(ymax));
        plt.Title("MobileNet v1: measured latency vs multiply-accumulates\n" + subtitle, 14);
        plt.XLabel("MACs, millions (log scale, computed from the architecture)");
        plt.YLabel("median latency per inference, ms (log scale)");
        plt.ShowLegend(Alignment.UpperLeft);
        Save(plt, path);
    }

    private static void AddPoints(Plot plt, List<ChoiceRow> rows, MarkerShape shape, Color color, string legend, Func<ChoiceRow, double> y, Func<ChoiceRow, double>? x = null)
    {
        if (rows.Count == 0) return;
        x ??= r => r.MedianMs;
        var xs = rows.Select(r => Math.Log10(x(r))).ToArray();
        var ys = rows.Select(y).ToArray();
        var s = plt.Add.ScatterPoints(xs, ys, color);
        s.MarkerShape = shape;
        s.MarkerSize = 11;
        s.LegendText = legend;
    }

    /// <summary>Ticks of a log10-transformed axis: majors at 1, 2, 5 × 10ᵏ labelled with the value, minors at the other integers.</summary>
    private static void LogTicks(IAxis axis, double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int k = (int)Math.Floor(Math.Log10(min)) - 1; k <= (int)Math.Ceiling(Math.Log10(max)); k++)
        {
            for (int m = 1; m <= 9; m++)
            {
                double v = m * Math.Pow(10, k);
                if (v < min || v > max) continue;
                if (m is 1 or 2 or 5) ticks.AddMajor(Math.Log10(v), v.ToString("0.###", CultureInfo.InvariantCulture));
                else ticks.AddMinor(Math.Log10(v));
            }
        }
        axis.TickGenerator = ticks;
    }

    private static void Save(Plot plt, string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        plt.SavePng(path, Width, Height);
    }
}
