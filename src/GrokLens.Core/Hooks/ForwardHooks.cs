using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Hooks;

/// <summary>
/// The hooks of one forward pass: which hook points to capture and which hook functions to call. A hook point that is
/// neither captured nor hooked costs one set lookup. Captured tensors are detached, moved to the CPU and owned by this
/// object until <see cref="TakeCaptured"/> hands them over.
/// </summary>
public sealed class ForwardHooks : IDisposable
{
    private readonly HashSet<string> capture;
    private readonly Dictionary<string, List<HookFunction>> functions = new();
    private readonly List<KeyValuePair<string, Tensor>> captured = new();

    public ForwardHooks(IEnumerable<string>? captureNames = null)
    {
        capture = new HashSet<string>(captureNames ?? []);
    }

    /// <summary>Absolute position of the first token of the current forward call.</summary>
    public int PositionOffset { get; internal set; }

    public IReadOnlyCollection<string> CaptureNames => capture;

    public ForwardHooks Capture(string hookName)
    {
        capture.Add(hookName);
        return this;
    }

    /// <summary>Adds a hook function; several on one hook point run in the order added.</summary>
    public ForwardHooks Add(string hookName, HookFunction function)
    {
        if (!functions.TryGetValue(hookName, out var list)) functions[hookName] = list = new List<HookFunction>();
        list.Add(function);
        return this;
    }

    public IReadOnlyCollection<string> HookedNames => functions.Keys;

    /// <summary>Nothing is captured and no function is hooked.</summary>
    public bool IsEmpty => capture.Count == 0 && functions.Count == 0;

    /// <summary>True when somebody captures or hooks this point (optional activations are computed only then).</summary>
    public bool IsActive(string name) => capture.Contains(name) || functions.ContainsKey(name);

    /// <summary>Runs the hook functions of <paramref name="name"/>, then captures the (possibly replaced) activation.</summary>
    public Tensor Apply(string name, int? layer, Tensor activation)
    {
        if (functions.TryGetValue(name, out var list))
        {
            var context = new HookContext(name, layer, PositionOffset);
            foreach (var function in list)
            {
                var replacement = function(activation, context);
                if (replacement is null) continue;
                // Routing hooks may change the number of experts per token (the last dimension); nothing else may.
                bool lastMayChange = name.EndsWith(HookPoints.TopKIndices, StringComparison.Ordinal)
                                     || name.EndsWith(HookPoints.TopKWeights, StringComparison.Ordinal);
                bool shapeOk = lastMayChange
                    ? replacement.shape.SkipLast(1).SequenceEqual(activation.shape.SkipLast(1))
                    : replacement.shape.SequenceEqual(activation.shape);
                if (!shapeOk)
                    throw new InvalidOperationException(
                        $"Hook function on '{name}' returned shape [{string.Join(", ", replacement.shape)}], " +
                        $"expected [{string.Join(", ", activation.shape)}].");
                activation = replacement.to(activation.device);
            }
        }
        if (capture.Contains(name))
        {
            var copy = activation.detach().cpu();
            // The forward pass never writes activations in place, so sharing storage with the live tensor is safe
            // and saves a copy of every captured activation.
            copy.DetachFromDisposeScope();
            captured.Add(new(name, copy));
        }
        return activation;
    }

    /// <summary>Hands the captured tensors (in capture order) to the caller, who then owns them.</summary>
    public List<KeyValuePair<string, Tensor>> TakeCaptured()
    {
        var result = new List<KeyValuePair<string, Tensor>>(captured);
        captured.Clear();
        return result;
    }

    public void Dispose()
    {
        foreach (var pair in captured) pair.Value.Dispose();
        captured.Clear();
    }
}

/// <summary>Null-tolerant hook call used by the model code.</summary>
internal static class HookExtensions
{
    public static Tensor Hook(this ForwardHooks? hooks, string name, int? layer, Tensor activation) =>
        hooks is null ? activation : hooks.Apply(name, layer, activation);

    public static bool Wants(this ForwardHooks? hooks, string name) => hooks is not null && hooks.IsActive(name);
}
