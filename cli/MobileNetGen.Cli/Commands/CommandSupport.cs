using System.CommandLine;
using System.Runtime.Intrinsics;
using System.Text;
using MobileNetGen.Cli.Evaluation;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Variants;
using Spectre.Console;

namespace MobileNetGen.Cli.Commands;

/// <summary>Process exit codes of <c>mobilenetgen</c>.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Bad command line: unknown command or option, unknown variant, value out of range.</summary>
    public const int Usage = 1;
    /// <summary>Bad input: missing or unreadable image, malformed ground truth, import failure.</summary>
    public const int InputError = 2;
}

/// <summary>Where a command writes: plain text writers (tests capture them) and Spectre consoles over them.</summary>
public sealed class CliContext
{
    private IAnsiConsole? _out, _err;

    /// <param name="stdout">Results (tables, JSON).</param>
    /// <param name="stderr">Errors, warnings, progress.</param>
    /// <param name="interactive">True when both are the process's terminal: enables colour and progress bars.</param>
    public CliContext(TextWriter stdout, TextWriter stderr, bool interactive)
    {
        Out = stdout ?? throw new ArgumentNullException(nameof(stdout));
        Error = stderr ?? throw new ArgumentNullException(nameof(stderr));
        Interactive = interactive;
    }

    public TextWriter Out { get; }
    public TextWriter Error { get; }
    public bool Interactive { get; }

    /// <summary>Spectre console over <see cref="Out"/>.</summary>
    public IAnsiConsole OutConsole => _out ??= CreateConsole(Out);

    /// <summary>Spectre console over <see cref="Error"/> (progress bars).</summary>
    public IAnsiConsole ErrorConsole => _err ??= CreateConsole(Error);

    private IAnsiConsole CreateConsole(TextWriter writer)
    {
        var settings = new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) };
        if (!Interactive)
        {
            settings.Ansi = AnsiSupport.No;
            settings.ColorSystem = ColorSystemSupport.NoColors;
            settings.Interactive = InteractionSupport.No;
        }
        var console = AnsiConsole.Create(settings);
        if (!Interactive) console.Profile.Width = 120;
        return console;
    }

    /// <summary>Writes <c>error: message</c> as one line to <see cref="Error"/>.</summary>
    public void WriteError(string message) => Error.WriteLine("error: " + Messages.OneLine(message));

    public void WriteWarning(string message) => Error.WriteLine("warning: " + Messages.OneLine(message));
}

/// <summary>Resolves variant names for the commands.</summary>
public static class VariantLookup
{
    /// <summary>The names users type: α_resolution for the 16 variants, the entry name for extra entries.</summary>
    public static IEnumerable<string> KnownNames => VariantCatalog.Entries.Select(e => e.ShortName);

    public static string UnknownVariantMessage(string name) =>
        $"unknown variant '{name}'. Known variants: {string.Join(", ", KnownNames)} " +
        "(α may be written 0.5 or 0.50; a 'mobilenet_v1_' prefix is accepted)";

    /// <summary>Finds an entry, or writes the error (listing the known variants) and returns null.</summary>
    public static VariantEntry? Resolve(CliContext ctx, string? name)
    {
        var entry = string.IsNullOrWhiteSpace(name) ? null : VariantCatalog.Find(name.Trim());
        if (entry == null) ctx.WriteError(UnknownVariantMessage(name ?? ""));
        return entry;
    }

    /// <summary>Spectre markup of the weights label (<see cref="MobileNetModelInfo.WeightsLabel"/>): SYNTHETIC in bold red.
    /// Every table and header shows the weights kind through this; JSON carries <see cref="MobileNetModelInfo.WeightsKindName"/>.</summary>
    public static string WeightsMarkup(MobileNetModelInfo info) => info.Weights == WeightsKind.Synthetic
        ? "[bold red]" + Markup.Escape(info.WeightsLabel) + "[/]"
        : Markup.Escape(info.WeightsLabel);

    public static string IsaLine(SimdPath path) =>
        $"isa: {path} (Vector512 accelerated: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}, " +
        $"Vector128: {Vector128.IsHardwareAccelerated}, AdvSimd: {System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported})";
}

/// <summary>Message helpers.</summary>
public static class Messages
{
    /// <summary>Collapses line breaks and control characters so that a message stays on one line.</summary>
    public static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text)
        {
            if (char.IsControl(c) || c == '\u2028' || c == '\u2029')
            {
                if (!space && sb.Length > 0) sb.Append(' ');
                space = true;
                continue;
            }
            sb.Append(c);
            space = c == ' ';
        }
        return sb.ToString().Trim();
    }

    /// <summary>
    /// The reason part of an <see cref="ImageLoadException"/> (its message is <c>Cannot load image 'path'[ (FORMAT)]: reason</c>),
    /// so that the CLI can print <c>error: path: reason</c> without repeating the path.
    /// </summary>
    public static string ImageLoadReason(ImageLoadException e, string path)
    {
        string m = e.Message;
        string prefix = $"Cannot load image '{path}'";
        if (m.StartsWith(prefix, StringComparison.Ordinal))
        {
            string rest = m.Substring(prefix.Length);
            string? format = null;
            if (rest.StartsWith(" (", StringComparison.Ordinal))
            {
                int close = rest.IndexOf("):", StringComparison.Ordinal);
                if (close > 0) { format = rest.Substring(2, close - 2); rest = rest.Substring(close + 1); }
            }
            rest = rest.TrimStart(':', ' ');
            if (rest.Length > 0) m = format != null ? $"{rest} ({format})" : rest;
        }
        return OneLine(m);
    }

    /// <summary>One-line description of an expected exception for <c>error: ...</c>.</summary>
    public static string Describe(Exception e) => e switch
    {
        FileNotFoundException f when f.FileName != null => $"{f.FileName}: file not found",
        DirectoryNotFoundException d => d.Message,
        _ => OneLine(e.Message),
    };
}

/// <summary>Runs a command body, turning expected failures into <c>error: ...</c> and an exit code (never a stack trace).</summary>
public static class CommandGuard
{
    public static bool IsExpected(Exception e) =>
        e is ImageLoadException or ImportException or WeightsFormatException or GroundTruthException or ArgumentException
          or IOException or UnauthorizedAccessException or FormatException or OperationCanceledException;

    public static int Run(CliContext ctx, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (OperationCanceledException)
        {
            ctx.WriteError("cancelled");
            return ExitCodes.InputError;
        }
        catch (Exception e) when (IsExpected(e))
        {
            ctx.WriteError(Messages.Describe(e));
            return ExitCodes.InputError;
        }
    }
}

/// <summary>The <c>--resize</c> option shared by classify and eval.</summary>
internal static class ResizeOption
{
    public static Option<string> Create() => new("--resize")
    {
        Description = "How images are scaled to the input size: 'tf' (TF-slim's TF1 bilinear, the default) or 'antialiased' (Pillow-like, smoother on large photos; what the shared reference accuracies used).",
        HelpName = "tf|antialiased",
        DefaultValueFactory = _ => "tf",
    };

    public static MobileNetGen.Runtime.Imaging.ResizeMethod? Parse(CliContext ctx, string? text)
    {
        switch ((text ?? "tf").ToLowerInvariant())
        {
            case "tf": return MobileNetGen.Runtime.Imaging.ResizeMethod.TensorFlowBilinear;
            case "antialiased": return MobileNetGen.Runtime.Imaging.ResizeMethod.Antialiased;
            default:
                ctx.WriteError($"--resize must be 'tf' or 'antialiased', got '{text}'");
                return null;
        }
    }
}

