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
    public static List<T> ForEach<T>(CliContext ctx, string verb, IReadOnlyList<VariantEntry> entries, int stepsPerEntry, Func<VariantEntry, Action?, T> work) =>
        ForEachItem(ctx, verb, entries.Select(e => e.ShortName).ToList(), stepsPerEntry, (i, onRun) => work(entries[i], onRun));

    /// <summary>As <see cref="ForEach{T}"/> for items that are not catalog entries (the detector's thread counts): <paramref name="work"/>
    /// gets the item's index; <paramref name="names"/> label the bar and the lines.</summary>
    public static List<T> ForEachItem<T>(CliContext ctx, string verb, IReadOnlyList<string> names, int stepsPerEntry, Func<int, Action?, T> work)
    {
        var results = new List<T>(names.Count);
        if (ctx.Interactive)
        {
            ctx.ErrorConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(pc =>
                {
                    var task = pc.AddTask(verb, maxValue: Math.Max(1, names.Count * stepsPerEntry));
                    for (int i = 0; i < names.Count; i++)
                    {
                        task.Description = Markup.Escape($"{verb} {names[i]}");
                        results.Add(work(i, () => task.Increment(1)));
                    }
                });
        }
        else
        {
            for (int i = 0; i < names.Count; i++)
            {
                results.Add(work(i, null));
                ctx.Error.WriteLine($"{verb}: {names[i]} done ({i + 1}/{names.Count})");
            }
        }
        return results;
    }
}
