using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Web.Compare;
using GrokLens.Web.Views;
using static TorchSharp.torch;

namespace GrokLens.Web.Services;

/// <summary>
/// What the Compare page asks of the model: validate an experiment, compare the baseline with the modified run
/// (<see cref="RunComparison"/>), compare two dumps' runs without the model, and run activation-patching sweeps. All model
/// work queues on the <see cref="ModelHost"/>.
/// </summary>
public sealed class CompareService(ModelHost host, DumpService dumps)
{
    /// <summary>Per draft, the reason it cannot run (null when it can), checked against the loaded model.</summary>
    public IReadOnlyList<string?> Validate(IReadOnlyList<InterventionDraft> drafts)
    {
        var config = host.Config;
        return drafts.Select(d =>
        {
            try
            {
                if (d.Kind == InterventionKind.Steering && (string.IsNullOrWhiteSpace(d.PromptA) || string.IsNullOrWhiteSpace(d.PromptB)))
                    throw new InterventionException("type both prompts the steering vector is built from.");
                var intervention = d.Build(config?.HiddenSize ?? 1);
                if (config is not null) intervention.Validate(config);
                return null;
            }
            catch (InterventionException e)
            {
                return e.Message;
            }
        }).ToList();
    }

    /// <summary>
    /// The enabled interventions, steering vectors computed from their prompts. Refuses a half-valid experiment,
    /// naming every draft that cannot run.
    /// </summary>
    public Task<IReadOnlyList<Intervention>> ResolveAsync(IReadOnlyList<InterventionDraft> drafts, CancellationToken cancellation = default) =>
        host.UseAsync(model => Resolve(model, drafts), cancellation);

    /// <summary>
    /// The experiment as it would be saved: every draft (switched-off ones too) must be valid; steering vectors are
    /// computed from their prompts.
    /// </summary>
    public Task<Experiment> PrepareAsync(string prompt, string? sourcePrompt, string? target, string? otherTarget,
        IReadOnlyList<InterventionDraft> drafts, CancellationToken cancellation = default) =>
        host.UseAsync(model =>
        {
            var all = drafts.Select(d => (Draft: d, Enabled: d.Enabled)).ToList();
            foreach (var d in drafts) d.Enabled = true;
            try
            {
                Resolve(model, drafts);
            }
            finally
            {
                foreach (var (d, enabled) in all) d.Enabled = enabled;
            }
            return new Experiment(prompt, sourcePrompt, target, otherTarget, drafts.Select(d => d.Build()).ToList());
        }, cancellation);

    public Task<CompareView> CompareAsync(CompareRequest request, CancellationToken cancellation = default) =>
        host.UseAsync(model =>
        {
            var tokens = Encode(model, request.Prompt, "prompt");
            var interventions = Resolve(model, request.Drafts);
            int? target = Token(model, request.Target, "target"), other = Token(model, request.OtherTarget, "second target");
            if (other is not null && target is null) throw new PromptException("A second target needs a first target token.");
            cancellation.ThrowIfCancellationRequested();

            using var source = SourceRun(model, tokens, request, interventions);
            var options = new ComparisonOptions
            {
                Target = target, OtherTarget = other, NearTieThreshold = request.NearTieThreshold,
                // Patches replace whole-prompt activations; a generation step sees one new position, so they cannot follow it.
                GenerateTokens = source is null ? request.GenerateTokens : 0, Sampling = new SamplingOptions { Seed = request.Seed, Temperature = 1.0 },
            };
            var result = RunComparison.Compare(model, tokens, interventions, options, source?.Cache);
            var sourceTokens = source?.TokenIds;

            // The views' arrays: the target's logit-lens value per stage, and attention differences per head.
            var capture = LogitLens.RequiredHooks(model.Config.NumLayers)
                .Concat(Enumerable.Range(0, model.Config.NumLayers)
                    .SelectMany(l => new[] { HookPoints.Layer(l, HookPoints.Pattern), HookPoints.Layer(l, HookPoints.TopKIndices) })).ToList();
            using var runA = model.Run(tokens, new RunOptions { Capture = capture });
            using var runB = InterventionRunner.Run(model, tokens, interventions, new RunOptions { Capture = capture }, source?.Cache);
            var stages = new[] { "embed" }.Concat(Enumerable.Range(0, model.Config.NumLayers).Select(l => $"layer {l}")).ToArray();
            string Text(GeneratedToken[]? generated) => generated is null ? "" : model.Tokenizer?.Decode(generated.Select(g => g.Id)) ?? "";
            return new CompareView(result, Labels(model, tokens),
                target is int t ? (other is int o ? $"logit({Label(model, t)}) − logit({Label(model, o)})" : $"logit({Label(model, t)})") : null,
                stages,
                target is int ta ? TargetLens(model, runA.Cache, ta, other) : null,
                target is int tb ? TargetLens(model, runB.Cache, tb, other) : null,
                AttentionDifference(model.Config.NumLayers, runA.Cache, runB.Cache),
                FirstExperts(model.Config.NumLayers, runA.Cache),
                Text(result.Generation?.A), Text(result.Generation?.B),
                [.. interventions.Select(i => i.Describe())])
            {
                // Patches read a source run: the dump holds it too (third), so the modified run can be understood from the file.
                Runs = [new DumpDownloadRun("baseline", tokens, request.Prompt, []),
                    new DumpDownloadRun("modified", tokens, request.Prompt, interventions, sourceTokens),
                    .. sourceTokens is null ? Array.Empty<DumpDownloadRun>() : [new DumpDownloadRun("source", sourceTokens, request.SourcePrompt, [])]],
            };
        }, cancellation);

    /// <summary>
    /// Compares run A with run B of opened dumps without running the model: every view whose hooks both runs hold
    /// (<see cref="RunComparison.Compare(GrokLens.Model.GrokConfig, CapturedRun, CapturedRun, ComparisonOptions?, Func{int, string?}?)"/>);
    /// logits missing from a dump are read from its last residual when its model is the loaded one.
    /// Runs of different models or lengths are refused (<see cref="DumpSide.CheckComparable"/>).
    /// </summary>
    public async Task<CompareView> CompareDumpsAsync(DumpSide a, DumpSide b, double nearTieThreshold = 0.05, CancellationToken cancellation = default)
    {
        DumpSide.CheckComparable(a, b);
        var text = await dumps.TokenTextAsync(a.Dump.Manifest, a.Run, cancellation);
        var config = a.Dump.Config;
        using var cacheA = await Task.Run(() => a.Dump.LoadCache(a.Run), cancellation);
        using var cacheB = await Task.Run(() => b.Dump.LoadCache(b.Run), cancellation);
        // Without a logits hook, the dump's own model (when loaded) reads them from the last layer's residual.
        using var derivedA = cacheA.Contains(HookPoints.Logits) ? null : await dumps.LogitsFromResidualAsync(a.Dump.Manifest, config, cacheA, cancellation);
        using var derivedB = cacheB.Contains(HookPoints.Logits) ? null : await dumps.LogitsFromResidualAsync(b.Dump.Manifest, config, cacheB, cancellation);
        return await Task.Run(() =>
        {
            CapturedRun Side(DumpSide side, ActivationCache cache, Tensor? derived) => new(side.Run.TokenIds, cache,
                cache.TryGet(HookPoints.Logits, out var logits) ? logits : derived, Descriptions(side.Run));
            var result = RunComparison.Compare(config, Side(a, cacheA, derivedA), Side(b, cacheB, derivedB),
                new ComparisonOptions { NearTieThreshold = nearTieThreshold }, text);
            int layers = config.NumLayers;
            return new CompareView(result, TokenLabels.Disambiguate(a.Run.TokenIds.Select(text).ToArray()), null,
                result.Residual is null ? [] : ["embed", .. Enumerable.Range(0, layers).Select(l => $"layer {l}")], null, null,
                result.Attention is null ? null : AttentionDifference(layers, cacheA, cacheB),
                result.Routing is null ? null : FirstExperts(layers, cacheA),
                "", "", Descriptions(b.Run))
            {
                NameA = "A", NameB = "B", Source = $"A = dump {a.Label} · B = dump {b.Label} (read from the dumps; the model was not run)",
            };
        }, cancellation);
    }

    private static string[] Descriptions(GrokLens.Dumps.DumpRun run) =>
        [.. GrokLens.Dumps.DumpReader.Interventions(run).Where(i => i.Enabled).Select(i => i.Describe())];

    /// <summary>
    /// An activation-patching sweep of clean into corrupted, tracking the logit difference of two target tokens (or the
    /// probability of one), reporting progress and stopping on cancellation.
    /// </summary>
    public Task<SweepView> SweepAsync(string clean, string corrupted, SweepKind kind, string target, string? otherTarget,
        IProgress<PatchingProgress>? progress = null, CancellationToken cancellation = default) =>
        host.UseAsync(model =>
        {
            var cleanIds = Encode(model, clean, "clean prompt");
            var corruptedIds = Encode(model, corrupted, "corrupted prompt");
            if (cleanIds.Count != corruptedIds.Count)
                throw new PromptException($"The clean prompt has {cleanIds.Count} tokens and the corrupted one {corruptedIds.Count}: " +
                                          "patching needs the same number of tokens.");
            int token = Token(model, target, "target") ?? throw new PromptException("Type the target token of the metric.");
            var metric = Token(model, otherTarget, "second target") is int other
                ? PatchingMetric.LogitDifference(token, other) : PatchingMetric.Probability(token);
            var heatmap = kind == SweepKind.Positions
                ? ActivationPatching.ResidualStream(model, cleanIds, corruptedIds, metric, progress, cancellation)
                : ActivationPatching.Heads(model, cleanIds, corruptedIds, metric, progress, cancellation);
            var cleanLabels = Labels(model, cleanIds);
            var columns = kind == SweepKind.Positions
                ? cleanLabels.Select((l, i) => $"{i}:{l}").ToArray()
                : Enumerable.Range(0, model.Config.NumHeads).Select(h => $"head {h}").ToArray();
            return new SweepView(heatmap, columns, cleanLabels, Labels(model, corruptedIds));
        }, cancellation);

    private static IReadOnlyList<Intervention> Resolve(LoadedModel model, IReadOnlyList<InterventionDraft> drafts)
    {
        var errors = drafts.Select((d, i) => (d, i)).Where(x => x.d.Enabled)
            .Select(x => (x.i, Error: ValidateOne(model, x.d))).Where(x => x.Error is not null).ToList();
        if (errors.Count > 0)
            throw new InterventionException("The experiment does not run until every switched-on intervention is valid: " +
                                            string.Join("; ", errors.Select(e => $"#{e.i + 1}: {e.Error}")));
        return drafts.Where(d => d.Enabled).Select(d =>
        {
            if (d.Kind == InterventionKind.Steering && d.Vector is null)
                d.Vector = SteeringVectors.MeanDifference(model, d.Hook.Trim(), [Encode(model, d.PromptA, "steering prompt A")],
                    [Encode(model, d.PromptB, "steering prompt B")]);
            return d.Build();
        }).ToList();
    }

    private static string? ValidateOne(LoadedModel model, InterventionDraft draft)
    {
        try
        {
            draft.Build(model.Config.HiddenSize).Validate(model.Config);
            return null;
        }
        catch (InterventionException e)
        {
            return e.Message;
        }
    }

    private static RunResult? SourceRun(LoadedModel model, IReadOnlyList<int> tokens, CompareRequest request, IReadOnlyList<Intervention> interventions)
    {
        var hooks = InterventionRunner.SourceHooks(model.Config, interventions);
        if (hooks.Count == 0) return null;
        if (string.IsNullOrWhiteSpace(request.SourcePrompt))
            throw new PromptException("Patching interventions read a source run: type the source (clean) prompt.");
        var source = Encode(model, request.SourcePrompt, "source prompt");
        if (source.Count != tokens.Count)
            throw new PromptException($"The source prompt has {source.Count} tokens and the prompt {tokens.Count}: patching needs the same number.");
        return model.Run(source, new RunOptions { Capture = hooks });
    }

    private static IReadOnlyList<int> Encode(LoadedModel model, string text, string what)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new PromptException($"The {what} is empty: type some text first.");
        var ids = model.Encode(text);
        if (ids.Count > model.Config.MaxPositions)
            throw new PromptException($"The {what} is {ids.Count} tokens long; model '{model.Name}' takes at most {model.Config.MaxPositions} tokens.");
        return ids;
    }

    /// <summary>A token typed as text that encodes to exactly one token (" mat"), or as "#id".</summary>
    private static int? Token(LoadedModel model, string? text, string what)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (text.StartsWith('#') && int.TryParse(text[1..], out int id))
            return id >= 0 && id < model.Config.VocabSize ? id
                : throw new PromptException($"The {what} #{id} is outside the vocabulary 0…{model.Config.VocabSize - 1}.");
        var ids = model.Encode(text);
        return ids.Count == 1 ? ids[0]
            : throw new PromptException($"The {what} “{text}” is {ids.Count} tokens; type text that is one token (e.g. \" mat\") or #id.");
    }

    private static string Label(LoadedModel model, int id) => model.Tokenizer?.DisplayPiece(id) ?? $"#{id}";

    private static string[] Labels(LoadedModel model, IReadOnlyList<int> ids) => TokenLabels.Disambiguate(ids.Select(id => Label(model, id)).ToArray());

    /// <summary>The target's logit (or logit difference) at the last position read through the final norm and unembedding at every stage.</summary>
    private static double[] TargetLens(LoadedModel model, ActivationCache cache, int target, int? other)
    {
        using var scope = NewDisposeScope();
        return LogitLens.RequiredHooks(model.Config.NumLayers).Select(hook =>
        {
            var logits = LogitLens.Logits(model, cache[hook][-1].unsqueeze(0)).to_type(ScalarType.Float64)[0];
            double value = logits[target].item<double>();
            return other is int o ? value - logits[o].item<double>() : value;
        }).ToArray();
    }

    /// <summary>The baseline's first-choice expert per [layer][position].</summary>
    private static int[][] FirstExperts(int layers, ActivationCache cache) =>
        Enumerable.Range(0, layers).Select(layer =>
        {
            var indices = cache[HookPoints.Layer(layer, HookPoints.TopKIndices)]; // [T, k]
            using var first = indices.select(1, 0);
            return first.data<long>().Select(e => (int)e).ToArray();
        }).ToArray();

    private static float[][][][] AttentionDifference(int layers, ActivationCache a, ActivationCache b) =>
        Enumerable.Range(0, layers).Select(layer =>
        {
            using var scope = NewDisposeScope();
            var hook = HookPoints.Layer(layer, HookPoints.Pattern);
            var difference = (b[hook].to_type(ScalarType.Float32) - a[hook].to_type(ScalarType.Float32)); // [H, T, T]
            long heads = difference.shape[0], length = difference.shape[1];
            var values = difference.data<float>().ToArray();
            return Enumerable.Range(0, (int)heads).Select(h => Enumerable.Range(0, (int)length)
                .Select(q => values.AsSpan((int)((h * length + q) * length), (int)length).ToArray()).ToArray()).ToArray();
        }).ToArray();
}
