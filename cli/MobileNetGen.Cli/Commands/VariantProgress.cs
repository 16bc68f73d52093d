using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// Works through a list of variants with progress on stderr: a progress bar advancing once per timed run when the
/// terminal is interactive, one line per finished variant otherwise. <c>bench</c>, <c>choose</c> and <c>profile</c> measure through it.
/// </summary>
public static class VariantProgress
{
    /// <summary>
    /// Runs <paramref name="work"/> for each entry in order and returns the results. <paramref name="work"/> gets the
    /// entry and a callback to call after each of its <paramref name="stepsPerEntry"/> steps (timed runs).
    /// </summary>
    /// <param name="verb">What is being done, for the bar and the lines ("bench", "measuring").</param>
    public static List<T> ForEach<T>(CliContext ctx, string verb, IReadOnlyList<VariantEntry> entries, int stepsPerEntry, Func<VariantEntry, Action?, T> work)
    {
        var results = new List<T>(entries.Count);
        if (ctx.Interactive)
        {
            ctx.ErrorConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(pc =>
                {
                    var task = pc.AddTask(verb, maxValue: Math.Max(1, entries.Count * stepsPerEntry));
                    foreach (var e in entries)
                    {
                        task.Description = Markup.Escape($"{verb} {e.ShortName}");
                        results.Add(work(e, () => task.Increment(1)));
                    }
                });
        }
        else
        {
            for (int i = 0; i < entries.Count; i++)
            {
                results.Add(work(entries[i], null));
                ctx.Error.WriteLine($"{verb}: {entries[i].ShortName} done ({i + 1}/{entries.Count})");
            }
        }
        return results;
    }
}
