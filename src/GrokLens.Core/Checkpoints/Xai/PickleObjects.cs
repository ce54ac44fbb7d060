namespace GrokLens.Checkpoints.Xai;

/// <summary>A global a pickle names (module + attribute). Only a fixed allow-list is ever accepted; nothing is imported.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A call the pickle asks for (REDUCE or NEWOBJ), recorded instead of executed, plus the state BUILD gave it.</summary>
internal sealed class PickleCall(PickleGlobal callable, object?[] arguments)
{
    public PickleGlobal Callable { get; } = callable;
    public object?[] Arguments { get; } = arguments;
    public object? State { get; set; }
}

/// <summary>A bytes payload left in the memory-mapped file: only its position is kept.</summary>
internal sealed record PickleBytes(long Offset, long Length);

/// <summary>The MARK sentinel on the pickle stack.</summary>
internal sealed class PickleMark
{
    public static readonly PickleMark Instance = new();
}
