using GrokLens.Checkpoints;

namespace GrokLens.Cli;

/// <summary>A wrong combination of options, found after System.CommandLine accepted the command line.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>An expected failure with a message meant for the user (exit code 1).</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>Turns exceptions into one line on stderr and an exit code.</summary>
public static class CliErrors
{
    public static int Report(Exception e, TextWriter stderr)
    {
        var (code, message) = e switch
        {
            UsageException => (CliApp.UsageError, e.Message),
            OperationCanceledException => (CliApp.Interrupted, "interrupted"),
            _ when IsExpected(e) => (CliApp.Failure, UserMessage(e)),
            _ => (CliApp.InternalError, $"internal error: {e.GetType().Name}: {e.Message}"),
        };
        stderr.WriteLine(code == CliApp.InternalError ? message : "error: " + OneLine(message));
        return code;
    }

    /// <summary>Failures caused by the user's input or files, not by a bug.</summary>
    public static bool IsExpected(Exception e) => e is CliException
        or CheckpointFormatException
        or InvalidDataException
        or FileNotFoundException
        or DirectoryNotFoundException
        or ArgumentException // Includes UnknownHookException and ArgumentOutOfRangeException.
        or FormatException
        or InsufficientMemoryException // --device auto: the model fits on no device.
        or IOException
        or UnauthorizedAccessException
        or NotSupportedException // C# hook functions on a cluster model.
        or GrokLens.Cluster.ShardLostException
        or GrokLens.Cluster.UnknownModelException
        or GrokLens.Cluster.ClusterUnavailableException
        or GrokLens.Cluster.Placement.ShardPlacementException;

    /// <summary>The message without .NET's " (Parameter 'x')" and "Actual value was …" decorations.</summary>
    private static string UserMessage(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentException { ParamName: { Length: > 0 } name })
        {
            int cut = message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut];
        }
        return message;
    }

    public static string OneLine(string message) =>
        string.Join(' ', message.Replace(":\n", ": ").Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
