using GrokLens.Hooks;

namespace GrokLens.Engine;

/// <summary>What to capture and which hook functions to run during one forward pass.</summary>
public sealed record RunOptions
{
    /// <summary>Hook names or glob patterns (e.g. <c>blocks.*.attn.hook_pattern</c>, <c>*</c> for everything).</summary>
    public IReadOnlyList<string> Capture { get; init; } = [];

    /// <summary>Hook functions by exact hook name; they may replace the activation.</summary>
    public IReadOnlyList<(string HookName, HookFunction Function)> Hooks { get; init; } = [];

    public static RunOptions CaptureOnly(params string[] patterns) => new() { Capture = patterns };
}
