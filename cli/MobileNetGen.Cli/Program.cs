using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text;
using MobileNetGen.Cli.Commands;

namespace MobileNetGen.Cli;

/// <summary>Entry point of <c>mobilenetgen</c>: wires the commands; each command lives in <c>Commands/</c>.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        bool interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
        return Run(args, new CliContext(Console.Out, Console.Error, interactive));
    }

    /// <summary>Runs the tool in-process with captured output (no colour, no progress bars). Returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, new CliContext(stdout, stderr, interactive: false));

    public static int Run(string[] args, CliContext ctx)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = BuildRootCommand(ctx);
        if (args.Length == 0)
        {
            // No command: the help text, as a usage error.
            root.Parse(new[] { "--help" }).Invoke(new InvocationConfiguration { Output = ctx.Out, Error = ctx.Error });
            ctx.Out.Flush();
            return ExitCodes.Usage;
        }
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // Errors only, on stderr, as every other error is written (stdout stays clean for --json consumers); a hint
            // replaces the full help text.
            foreach (var error in result.Errors) ctx.WriteError(error.Message);
            string command = result.CommandResult.Command is RootCommand ? "" : " " + result.CommandResult.Command.Name;
            ctx.Error.WriteLine($"Run 'mobilenetgen{command} --help' for usage.");
            ctx.Error.Flush();
            return ExitCodes.Usage;
        }
        int code = result.Invoke(new InvocationConfiguration { Output = ctx.Out, Error = ctx.Error });
        ctx.Out.Flush();
        ctx.Error.Flush();
        return code;
    }

    public static RootCommand BuildRootCommand(CliContext ctx) =>
        new("mobilenetgen: MobileNet v1 image classification and SSD object detection with source-generated C# networks.")
        {
            ClassifyCommand.Create(ctx),
            DetectCommand.Create(ctx),
            EvalCommand.Create(ctx),
            VariantsCommand.Create(ctx),
            ImportCommand.Create(ctx),
            BenchCommand.Create(ctx),
            ChooseCommand.Create(ctx),
            ProfileCommand.Create(ctx),
        };
}
