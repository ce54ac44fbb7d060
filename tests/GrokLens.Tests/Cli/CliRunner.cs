using GrokLens.Cli;

namespace GrokLens.Tests.Cli;

/// <summary>Runs the groklens CLI in-process and captures what it prints.</summary>
internal sealed record CliOutput(int ExitCode, string Out, string Error)
{
    public static CliOutput Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return new CliOutput(code, stdout.ToString(), stderr.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}
