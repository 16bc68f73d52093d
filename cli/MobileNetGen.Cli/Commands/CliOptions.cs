using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using MobileNetGen.Model;

namespace MobileNetGen.Cli.Commands;

/// <summary>
/// The options several commands share, each with its validator: a value out of range is a parse error with one clear
/// line (<c>--threads must be a whole number from 1 to 64, got 65</c>) and exit code 1, before any command runs.
/// </summary>
internal static class CliOptions
{
    /// <summary><c>--threads</c>: threads per inference, 1 to <see cref="KernelContract.MaxThreads"/>.</summary>
    public static Option<int> Threads(string description) =>
        Int("--threads", description, "n", defaultValue: 1, min: 1, max: KernelContract.MaxThreads);

    /// <summary><c>--iterations</c>: timed runs, at least 1.</summary>
    public static Option<int> Iterations(int defaultValue, string description) =>
        Int("--iterations", description, "n", defaultValue, min: 1, max: int.MaxValue);

    /// <summary><c>--warmup</c>: untimed runs, at least 0.</summary>
    public static Option<int> Warmup(int defaultValue, string description) =>
        Int("--warmup", description, "n", defaultValue, min: 0, max: int.MaxValue);

    /// <summary>An integer option with a default and an inclusive range.</summary>
    public static Option<int> Int(string name, string description, string helpName, int defaultValue, int min, int max, params string[] aliases)
    {
        var option = new Option<int>(name, aliases) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r => CheckRange(r, name, r.GetValueOrDefault<int>(), min, max));
        return option;
    }

    /// <summary>An optional integer option that, when given, must be at least <paramref name="min"/>.</summary>
    public static Option<int?> OptionalInt(string name, string description, string helpName, int min, params string[] aliases)
    {
        var option = new Option<int?>(name, aliases) { Description = description, HelpName = helpName };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int v) CheckRange(r, name, v, min, int.MaxValue);
        });
        return option;
    }

    /// <summary>A number that must be positive and finite (a budget, a size).</summary>
    public static void MustBePositive(Option<double> option) =>
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0) || double.IsInfinity(v)) r.AddError($"{option.Name} must be a positive number, got {v.ToString(CultureInfo.InvariantCulture)}");
        });

    public static void MustBePositive(Option<double?> option) =>
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is double v && (!(v > 0) || double.IsInfinity(v)))
                r.AddError($"{option.Name} must be a positive number, got {v.ToString(CultureInfo.InvariantCulture)}");
        });

    /// <summary>A path option whose value must end with <paramref name="extension"/> (e.g. <c>.png</c>).</summary>
    public static Option<string?> OutputFile(string name, string description, string extension)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "file" + extension };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is string p && !p.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
                r.AddError($"{name} writes a {extension.TrimStart('.').ToUpperInvariant()} file: '{p}' does not end with {extension}");
        });
        return option;
    }

    private static void CheckRange(OptionResult r, string name, int value, int min, int max)
    {
        if (value >= min && value <= max) return;
        r.AddError(max == int.MaxValue
            ? $"{name} must be a whole number of at least {min}, got {value}"
            : $"{name} must be a whole number from {min} to {max}, got {value}");
    }
}
