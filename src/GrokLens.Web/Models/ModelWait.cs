namespace GrokLens.Web.Models;

/// <summary>What a piece of model work is waiting for: its turn in the queue, a model being loaded, or memory.</summary>
public enum ModelWaitKind
{
    /// <summary>The work has its turn and runs now.</summary>
    Running,
    /// <summary>Other work runs first; <see cref="ModelWait.Ahead"/> items are before this one.</summary>
    Queued,
    /// <summary>The model is being loaded (<see cref="ModelWait.Fraction"/> done).</summary>
    Loading,
    /// <summary>The model waits for memory: other models in use fill the budget until their work ends.</summary>
    WaitingForMemory,
}

/// <summary>A report to the session whose work waits, so it can show its place in the queue or the load's progress.</summary>
public sealed record ModelWait(string Model, ModelWaitKind Kind, int Ahead = 0, double Fraction = 0, IReadOnlyList<string>? InUse = null)
{
    /// <summary>One line for the page's status (null while running: the page shows what it is doing).</summary>
    public string? Describe() => Kind switch
    {
        ModelWaitKind.Queued => $"waiting for {Model}: {Ahead} ahead in the queue",
        ModelWaitKind.Loading => $"loading {Model} … {Fraction:0%}",
        ModelWaitKind.WaitingForMemory =>
            $"waiting for memory to load {Model}: {string.Join(", ", InUse ?? [])} {((InUse?.Count ?? 0) == 1 ? "is" : "are")} in use",
        _ => null,
    };
}
