using System.Runtime.InteropServices;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Generation;

/// <summary>
/// Continues a prompt token by token with a KV cache (the prompt is run once, then one position per step), streaming
/// each token as soon as it is chosen.
/// </summary>
public static class TextGenerator
{
    /// <param name="hooks">
    /// Hook functions applied in every forward call (e.g. <see cref="Interventions.InterventionRunner.CreateHooks"/>): the
    /// prompt call sees all its positions, each later call one position (<see cref="HookContext.PositionOffset"/>).
    /// </param>
    public static IEnumerable<GeneratedToken> Generate(LoadedModel model, IReadOnlyList<int> prompt,
        SamplingOptions options, CancellationToken cancellation = default,
        IReadOnlyList<(string HookName, HookFunction Function)>? hooks = null)
    {
        foreach (var (name, _) in hooks ?? [])
            if (!model.HookNames.Contains(name)) throw new UnknownHookException($"Hook '{name}' does not exist in this model.", []);
        model.CheckSequence(prompt);
        options.Validated();
        int room = model.Config.MaxPositions - prompt.Count;
        if (room <= 0)
            throw new ArgumentException($"The prompt fills the model's whole context of {model.Config.MaxPositions} tokens; nothing can be generated.");
        return Stream(model, prompt, options, Math.Min(options.MaxNewTokens, room), cancellation, hooks ?? []);
    }

    private static IEnumerable<GeneratedToken> Stream(LoadedModel model, IReadOnlyList<int> prompt,
        SamplingOptions options, int maxNewTokens, CancellationToken cancellation,
        IReadOnlyList<(string HookName, HookFunction Function)> hookFunctions)
    {
        using var hooks = hookFunctions.Count == 0 ? null : new ForwardHooks();
        foreach (var (name, function) in hookFunctions) hooks!.Add(name, function);
        var sampler = new TokenSampler(options);
        int? eos = options.StopAtEos ? model.Tokenizer?.EosId : null;
        using var cache = new KvCache(model.Model, 1, prompt.Count + maxNewTokens);
        var next = prompt.Select(id => (long)id).ToArray();
        for (int step = 0; step < maxNewTokens; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            int id;
            double probability;
            using (NewDisposeScope())
            using (no_grad())
            {
                var logits = model.Model.Forward(tensor(next, [1, next.Length]), hooks, cache, lastPositionOnly: true);
                // Sample straight from the last row's memory: no copy of the vocabulary's logits per step.
                using var last = logits[0, -1].cpu().contiguous();
                (id, probability) = sampler.Next(MemoryMarshal.Cast<byte, float>(last.bytes));
            }
            yield return new GeneratedToken(id, cache.Length, probability, model.Tokenizer?.Decode([id]));
            if (id == eos) yield break;
            next = [id];
        }
    }
}
