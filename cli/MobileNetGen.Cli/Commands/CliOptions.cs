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

    /// <summary>The <c>--simd</c> values: <see cref="MobileNetGen.Runtime.SimdPath"/>'s names in lower case.</summary>
    public static readonly string[] SimdNames = { "auto", "vector512", "vector256", "vector128", "scalar" };

    /// <summary><c>--simd</c>: the kernels' SIMD path (<see cref="MobileNetGen.Runtime.MobileNetOptions.Simd"/>), default
    /// <c>auto</c> (the widest accelerated one). Every path gives the same results.</summary>
    public static Option<string> Simd()
    {
        var option = new Option<string>("--simd")
        {
            Description = "SIMD path of the kernels: auto (default: the widest accelerated), vector512, vector256, vector128 or scalar; all give identical results.",
            HelpName = string.Join("|", SimdNames),
            DefaultValueFactory = _ => "auto",
        };
        option.Validators.Add(r =>
        {
            string? v = r.GetValueOrDefault<string>();
            if (ParseSimd(v) == null) r.AddError(SimdMessage(v));
        });
        return option;
    }

    /// <summary>A <c>--simd</c> value (any case), or null when it names no path.</summary>
    public static MobileNetGen.Runtime.SimdPath? ParseSimd(string? text) => (text ?? "").Trim().ToLowerInvariant() switch
    {
        "auto" => MobileNetGen.Runtime.SimdPath.Auto,
        "vector512" => MobileNetGen.Runtime.SimdPath.Vector512,
        "vector256" => MobileNetGen.Runtime.SimdPath.Vector256,
        "vector128" => MobileNetGen.Runtime.SimdPath.Vector128,
        "scalar" => MobileNetGen.Runtime.SimdPath.Scalar,
        _ => null,
    };

    public static string SimdMessage(string? text) => $"--simd must be one of {string.Join(", ", SimdNames)}, got '{text}'";

    /// <summary>An unknown option would otherwise land in an IMAGE list and be reported as a missing file.</summary>
    public static void RejectOptionLikeImages(Argument<string[]> images) =>
        images.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (token.Value.Length > 1 && token.Value[0] == '-' && !File.Exists(token.Value) && !Directory.Exists(token.Value))
                    result.AddError($"Unrecognized command or argument '{token.Value}'.");
        });

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
        option.Validators.Add(r =>
        {
            if (TryGetValue(r, out int v)) CheckRange(r, name, v, min, max);
        });
        return option;
    }

    /// <summary>An optional integer option that, when given, must be at least <paramref name="min"/>.</summary>
    public static Option<int?> OptionalInt(string name, string description, string helpName, int min, params string[] aliases)
    {
        var option = new Option<int?>(name, aliases) { Description = description, HelpName = helpName };
        option.Validators.Add(r =>
        {
            if (TryGetValue(r, out int? value) && value is int v) CheckRange(r, name, v, min, int.MaxValue);
        });
        return option;
    }

    /// <summary>A number that must be positive and finite (a budget, a size).</summary>
    public static void MustBePositive(Option<double> option) =>
        option.Validators.Add(r =>
        {
            if (!TryGetValue(r, out double v)) return;
            if (!(v > 0) || double.IsInfinity(v)) r.AddError($"{option.Name} must be a positive number, got {v.ToString(CultureInfo.InvariantCulture)}");
        });

    public static void MustBePositive(Option<double?> option) =>
        option.Validators.Add(r =>
        {
            if (TryGetValue(r, out double? value) && value is double v && (!(v > 0) || double.IsInfinity(v)))
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

    /// <summary>
    /// The option's value, for a validator; false when the text does not convert (<c>--threads abc</c>): System.CommandLine
    /// then reports its own "Cannot parse argument 'abc' for option ..." error, and <c>GetValueOrDefault</c> would throw.
    /// </summary>
    public static bool TryGetValue<T>(OptionResult r, out T value)
    {
        try
        {
            value = r.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    private static void CheckRange(OptionResult r, string name, int value, int min, int max)
    {
        if (value >= min && value <= max) return;
        r.AddError(max == int.MaxValue
            ? $"{name} must be a whole number of at least {min}, got {value}"
            : $"{name} must be a whole number from {min} to {max}, got {value}");
    }
}
