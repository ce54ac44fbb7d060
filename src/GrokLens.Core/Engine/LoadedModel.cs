using GrokLens.Dumps;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Loading.Placement;
using GrokLens.Model;
using GrokLens.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Engine;

/// <summary>
/// A model ready to run: weights, config, tokenizer (if any) and where it came from. The entry point for running a
/// sequence with captures and hooks: the in-process <see cref="IModelEngine"/>. One forward pass at a time per model:
/// callers serialise access.
/// </summary>
public sealed class LoadedModel : IModelEngine
{
    private readonly IReadOnlyList<string> hookNames;

    public LoadedModel(string name, GrokModel model, ITokenizer? tokenizer, string source, string format)
    {
        Name = name;
        Model = model;
        Tokenizer = tokenizer;
        Source = source;
        Format = format;
        CheckpointFormat = format;
        int layers = model.Config.NumLayers;
        DeviceMap = (layers == 1 ? "0" : $"0-{layers - 1}") + ":" + model.Device;
        WeightBytesByDevice = WeightMemory.ByDevice(model);
        hookNames = HookPoints.All(model.Config).Select(h => h.Name).ToList();
    }

    public string Name { get; }
    public GrokModel Model { get; }
    public GrokConfig Config => Model.Config;
    public ITokenizer? Tokenizer { get; }

    /// <summary>File or folder the weights came from ("random" or "meta" for generated ones).</summary>
    public string Source { get; }

    /// <summary>
    /// The weight files the loader read, when it recorded them; otherwise <see cref="Checkpoints.CheckpointFiles.Find"/>
    /// on <see cref="Source"/> finds them (null for generated weights either way).
    /// </summary>
    public IReadOnlyList<string>? WeightFilePaths { get; init; }

    /// <summary>One line for display: checkpoint format, device map and how layer weights are held.</summary>
    public string Format { get; }

    /// <summary>How the checkpoint is stored, e.g. "safetensors (1 file, BF16, …)", "gguf v3 (F32+Q8_0)", "xAI raw release (…)".</summary>
    public string CheckpointFormat { get; init; }

    /// <summary>How weights are held: "none (float32)", "int8 weight-only (Q8_0, …)", …</summary>
    public string Quantisation { get; init; } = "none (float32)";

    /// <summary>Resident float32, int8 kept int8, or streamed layer by layer from disk.</summary>
    public WeightResidency Residency { get; init; } = WeightResidency.Resident;

    /// <summary>Layers → devices, e.g. "0-31:cuda:0,32-63:cpu" (the embedding and final norm live with layer 0).</summary>
    public string DeviceMap { get; init; }

    /// <summary>Bytes held by weights per device (see <see cref="WeightMemory.ByDevice"/>).</summary>
    public IReadOnlyDictionary<string, long> WeightBytesByDevice { get; init; }

    public IReadOnlyList<string> HookNames => hookNames;

    /// <summary>Resolves capture patterns to hook names, with a clear error listing close matches for a miss.</summary>
    public IReadOnlyList<string> ResolveHooks(IEnumerable<string> patterns) => HookPatterns.Resolve(patterns, hookNames);

    /// <summary>Encodes text with the model's tokenizer (no BOS, as xAI's runner).</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        if (Tokenizer is null)
            throw new InvalidOperationException($"Model '{Name}' has no tokenizer; pass token ids instead of text.");
        return Tokenizer.Encode(text);
    }

    /// <summary>Runs one sequence and returns its logits and the requested activations (batch dimension removed).</summary>
    public RunResult Run(IReadOnlyList<int> tokenIds, RunOptions? options = null)
    {
        options ??= new RunOptions();
        CheckSequence(tokenIds);
        var captureNames = ResolveHooks(options.Capture);
        foreach (var (hookName, _) in options.Hooks)
            if (!hookNames.Contains(hookName))
                throw new UnknownHookException($"Hook '{hookName}' does not exist in this model." +
                    Suggest(hookName), HookPatterns.ClosestNames(hookName, hookNames, 5));
        var interventionHooks = InterventionRunner.CreateHooks(Config, options.Interventions, options.Source);
        (IReadOnlyList<string> Hooks, IReadOnlyList<string> Capture)? reduce = options.Reduce is null ? null : ReductionHooks(options.Reduce);

        using var hooks = new ForwardHooks(reduce is null ? captureNames : captureNames.Union(reduce.Value.Capture));
        foreach (var (hookName, function) in options.Hooks.Concat(interventionHooks)) hooks.Add(hookName, function);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var tokens = tensor(tokenIds.Select(id => (long)id).ToArray(), [1, tokenIds.Count]);
        var logits = Model.Forward(tokens, hooks).squeeze(0).cpu().DetachFromDisposeScope();
        var captured = hooks.TakeCaptured()
            .Select(pair => new KeyValuePair<string, Tensor>(pair.Key, DropBatch(pair.Value)))
            .ToList();
        var cache = new ActivationCache(captured, tokenIds.ToArray(), 0);
        if (reduce is null) return new RunResult(tokenIds.ToArray(), logits, cache);
        using (cache)
        {
            var part = ActivationReducer.Part(Config, reduce.Value.Hooks, cache, 0, Config.NumLayers - 1);
            var kept = captureNames.Select(name => new KeyValuePair<string, Tensor>(name, cache[name].alias().DetachFromDisposeScope())).ToList();
            return new RunResult(tokenIds.ToArray(), logits, new ActivationCache(kept, tokenIds.ToArray(), 0), part);
        }
    }

    /// <summary>The hooks to reduce and what a run must capture for them (every layer's top-k choices too).</summary>
    public (IReadOnlyList<string> Hooks, IReadOnlyList<string> Capture) ReductionHooks(IReadOnlyList<string> patterns)
    {
        var reduced = ResolveHooks(patterns);
        using var reducer = new ActivationReducer(Config, reduced); // Checks that every hook can be reduced.
        return (reduced, reducer.CaptureHooks);
    }

    /// <summary>Runs the prompts one after the other.</summary>
    public IEnumerable<RunResult> RunMany(IEnumerable<IReadOnlyList<int>> prompts, RunOptions options, CancellationToken cancellation = default)
    {
        foreach (var prompt in prompts)
        {
            cancellation.ThrowIfCancellationRequested();
            yield return Run(prompt, options);
        }
    }

    public IEnumerable<GeneratedToken> Generate(IReadOnlyList<int> prompt, SamplingOptions options, GenerationRequest? request = null,
        CancellationToken cancellation = default) =>
        TextGenerator.Generate(this, prompt, options, cancellation,
            InterventionRunner.CreateHooks(Config, request?.Interventions ?? [], request?.Source));

    public Tensor ReadOut(Tensor residual)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = Model.Logits(Model.finalNorm.Forward(residual.to(Model.Device)));
        return logits.cpu().MoveToOuterDisposeScope();
    }

    public IReadOnlyList<LayerPlacement> Placement =>
        [new LayerPlacement(0, Config.NumLayers - 1, $"this process ({DeviceMap})", Format)];

    public (string? Fingerprint, IReadOnlyList<DumpWeightFile> Files) WeightFiles() => DumpDescriptions.Fingerprint(this);

    /// <summary>Checks a sequence before any work: not empty, within the context, ids inside the vocabulary.</summary>
    public void CheckSequence(IReadOnlyList<int> tokenIds)
    {
        if (tokenIds.Count == 0) throw new ArgumentException("The prompt is empty: give at least one token.");
        if (tokenIds.Count > Config.MaxPositions)
            throw new ArgumentException(
                $"The prompt has {tokenIds.Count} tokens; model '{Name}' takes at most {Config.MaxPositions}.");
        foreach (int id in tokenIds)
            if (id < 0 || id >= Config.VocabSize)
                throw new ArgumentException($"Token id {id} is outside the vocabulary 0…{Config.VocabSize - 1}.");
    }

    private string Suggest(string name)
    {
        var close = HookPatterns.ClosestNames(name, hookNames, 5);
        return close.Count == 0 ? "" : $" Did you mean: {string.Join(", ", close)}?";
    }

    private static Tensor DropBatch(Tensor batched)
    {
        var single = batched.squeeze(0).cpu(); // A device map may leave activations on a GPU; captures live in CPU memory.
        single.DetachFromDisposeScope();
        batched.Dispose();
        return single;
    }

    public void Dispose()
    {
        Model.Dispose(); // Also frees the int8 or streamed layer matrices it holds.
    }
}
