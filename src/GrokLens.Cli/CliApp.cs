using System.CommandLine;
using System.CommandLine.Help;
using GrokLens.Cli.Commands;

namespace GrokLens.Cli;

/// <summary>
/// The <c>groklens</c> command line. <see cref="Run"/> is the whole program, callable in-process with captured
/// writers: usage errors exit with 2, expected failures (bad model folder, unknown hook, bad prompt…) with 1 and one
/// line on stderr, anything unexpected with 3 ("internal error: …"), never a stack trace.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int UsageError = 2;
    public const int InternalError = 3;
    public const int Interrupted = 130;

    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var io = new CliIO(stdout ?? Console.Out, stderr ?? Console.Error);
        try
        {
            var root = BuildRootCommand(io);
            var parse = root.Parse(args);
            // Help (which clears parse errors) and --version run even when required options are missing.
            if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
            {
                var command = string.Join(' ', CommandPath(parse.CommandResult.Command));
                foreach (var error in parse.Errors)
                    io.Error.WriteLine($"error: {CliErrors.OneLine(error.Message)} (see '{command} --help')");
                return UsageError;
            }
            return parse.Invoke(new InvocationConfiguration
            {
                Output = io.Out,
                Error = io.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // generate handles Ctrl-C itself.
            });
        }
        catch (Exception e)
        {
            return CliErrors.Report(e, io.Error);
        }
        finally
        {
            io.Out.Flush();
            io.Error.Flush();
        }
    }

    public static RootCommand BuildRootCommand(CliIO io)
    {
        var root = new RootCommand($"GrokLens {GrokLensInfo.Version}: inspect Grok-1 Mixture-of-Experts models.")
        {
            CaptureCommand.Create(io),
            BatchCommand.Create(io),
            GenerateCommand.Create(io),
            InfoCommand.Create(io),
            HooksCommand.Create(io),
            BenchCommand.Create(io),
            TrainCommand.Create(io),
            EvalCommand.Create(io),
            CompareCommand.Create(io),
            SynthesizeCommand.Create(io),
            ExpertsCommand.Create(io),
            SiloCommand.Create(io),
            ClusterCommand.Create(io),
        };
        return root;
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is not null; symbol = symbol.Parents.FirstOrDefault())
            names.Insert(0, symbol is RootCommand ? "groklens" : symbol.Name);
        return names;
    }
}

/// <summary>Where a command writes: normal output and diagnostics.</summary>
public sealed record CliIO(TextWriter Out, TextWriter Error);
