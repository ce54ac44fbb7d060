namespace GrokLens.Checkpoints;

/// <summary>
/// A checkpoint file or folder is not what it claims to be. The message names the file (and tensor, when one
/// is involved) and says in plain words what is wrong, so a user can act on it without a debugger.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string message) : base(message) { }

    public CheckpointFormatException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Builds the message "{source}: tensor '{name}': {problem}" (the tensor part only when given).</summary>
    public CheckpointFormatException(string source, string? tensorName, string problem, Exception? innerException = null)
        : base(Format(source, tensorName, problem), innerException) { }

    private static string Format(string source, string? tensorName, string problem) =>
        tensorName is null ? $"{source}: {problem}" : $"{source}: tensor '{tensorName}': {problem}";
}
