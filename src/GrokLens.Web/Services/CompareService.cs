using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Model;
using GrokLens.Web.Compare;
using GrokLens.Web.Models;
using GrokLens.Web.Views;
using static TorchSharp.torch;

namespace GrokLens.Web.Services;

/// <summary>
/// What the Compare page asks of a model: validate an experiment, compare the baseline with the modified run
/// (<see cref="RunComparison"/>), compare two dumps' runs without the model, and run activation-patching sweeps. Model work
/// runs on the leased model, queued on the server's <see cref="ComputeQueue"/>.
/// </summary>
public sealed class CompareService(DumpService dumps)
{
    /// <summary>Per draft, the reason it cannot run (null when it can), checked against a model's config (null: parse errors only).</summary>
    public IReadOnlyList<string?> Validate(IReadOnlyList<InterventionDraft> drafts, GrokConfig? config) =>
        drafts.Select(d =>
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

    /// <summary>
    /// Runs the baseline and the modified side once each on the leased model (<see cref="RunComparison"/>), reads the
    /// views' arrays from those same two runs, and generates from both when asked.
    /// </summary>
    public Task<CompareView> CompareAsync(ModelLease lease, CompareRequest request, CancellationToken cancellation = default) =>
        lease.RunAsync(model =>
        {
            var bound = lease.Model;
            var tokens = PromptInput.Encode(bound, request.Prompt);
            var interventions = Resolve(bound, model, request.Drafts);
            int? target = PromptInput.Token(bound, request.Target, "target"), other = PromptInput.Token(bound, request.OtherTarget, "second target");
            if (other is not null && target is null) throw new PromptException("A second target needs a first target token.");
            cancellation.ThrowIfCancellationRequested();

            using var source = SourceRun(bound, model, tokens, request, interventions);
            var options = new ComparisonOptions
            {
                Target = target, OtherTarget = other, NearTieThreshold = request.NearTieThreshold,
                // Patches replace whole-prompt activations; a generation step sees one new position, so they cannot follow it.
                GenerateTokens = source is null ? request.GenerateTokens : 0, Sampling = new SamplingOptions { Seed = request.Seed, Temperature = 1.0 },
            };
            int layers = model.Config.NumLayers;
            // The views' arrays come from the comparison's own two runs: the target's logit-lens value per stage, the
            // attention difference per head and the baseline's first experts.
            double[]? lensA = null, lensB = null;
            float[][][][]? attention = null;
            int[][]? firstExperts = null;
            var result = RunComparison.Compare(model, new ComparedRun(tokens), new ComparedRun(tokens, interventions, source?.Cache), options,
                [.. LogitLens.RequiredHooks(layers), .. Enumerable.Range(0, layers).Select(l => HookPoints.Layer(l, HookPoints.Pattern))],
                (runA, runB) =>
                {
                    if (target is int t)
                    {
                        lensA = TargetLens(model, runA.Cache, t, other);
                        lensB = TargetLens(model, runB.Cache, t, other);
                    }
                    attention = AttentionDifference(layers, runA.Cache, runB.Cache);
                    firstExperts = FirstExperts(layers, runA.Cache);
                });
            var stages = new[] { "embed" }.Concat(Enumerable.Range(0, layers).Select(l => $"layer {l}")).ToArray();
            string Text(GeneratedToken[]? generated) => generated is null ? "" : model.Tokenizer?.Decode(generated.Select(g => g.Id)) ?? "";
            return new CompareView(result, Labels(bound, tokens),
                target is int ta ? (other is int o ? LogitDifference(bound, ta, o) : $"logit({Label(bound, ta)})") : null,
                stages, lensA, lensB, attention, firstExperts,
                Text(result.Generation?.A), Text(result.Generation?.B),
                [.. interventions.Select(i => i.Describe())])
            {
                // Patches read a source run: the dump holds it too (third), so the modified run can be understood from the file.
                Runs = [new DumpDownloadRun("baseline", tokens, request.Prompt, []),
                    new DumpDownloadRun("modified", tokens, request.Prompt, interventions, source?.TokenIds),
                    .. source is null ? Array.Empty<DumpDownloadRun>() : [new DumpDownloadRun("source", source.TokenIds, request.SourcePrompt, [])]],
                Model = bound,
            };
        }, cancellation);

    /// <summary>
    /// Compares run A with run B of opened dumps without running the model: every view whose hooks both runs hold
    /// (<see cref="RunComparison.Compare(GrokLens.Model.GrokConfig, CapturedRun, CapturedRun, ComparisonOptions?, Func{int, string?}?)"/>);
    /// logits missing from a dump are read from its last residual when its model is resident.
    /// Runs of different models or lengths are refused (<see cref="DumpSide.CheckComparable"/>).
    /// </summary>
    public async Task<CompareView> CompareDumpsAsync(DumpSide a, DumpSide b, double nearTieThreshold = WorkbenchOptions.DefaultNearTieThreshold, CancellationToken cancellation = default)
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
    public Task<SweepView> SweepAsync(ModelLease lease, string clean, string corrupted, SweepKind kind, string target, string? otherTarget,
        IProgress<PatchingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var bound = lease.Model;
        var cleanIds = PromptInput.Encode(bound, clean, "clean prompt");
        var corruptedIds = PromptInput.Encode(bound, corrupted, "corrupted prompt");
        if (cleanIds.Count != corruptedIds.Count)
            throw new PromptException($"The clean prompt has {cleanIds.Count} tokens and the corrupted one {corruptedIds.Count}: " +
                                      "patching needs the same number of tokens.");
        int token = PromptInput.Token(bound, target, "target") ?? throw new PromptException("Type the target token of the metric.");
        var metric = PromptInput.Token(bound, otherTarget, "second target") is int other
            ? PatchingMetric.LogitDifference(token, other) : PatchingMetric.Probability(token);
        return lease.RunAsync(model =>
        {
            var heatmap = kind == SweepKind.Positions
                ? ActivationPatching.ResidualStream(model, cleanIds, corruptedIds, metric, progress, cancellation)
                : ActivationPatching.Heads(model, cleanIds, corruptedIds, metric, progress, cancellation);
            var cleanLabels = Labels(bound, cleanIds);
            var columns = kind == SweepKind.Positions
                ? cleanLabels.Select((l, i) => $"{i}:{l}").ToArray()
                : Enumerable.Range(0, model.Config.NumHeads).Select(h => $"head {h}").ToArray();
            var metricText = metric.OtherToken is int o ? LogitDifference(bound, token, o) : $"p({Label(bound, token)})";
            return new SweepView(heatmap, columns, cleanLabels, Labels(bound, corruptedIds), $"{metricText} at the last position");
        }, cancellation);
    }

    /// <summary>
    /// The enabled interventions, steering vectors computed from their prompts on this model (again when they were computed
    /// on another). Refuses a half-valid experiment, naming every switched-on draft that cannot run.
    /// </summary>
    private static IReadOnlyList<Intervention> Resolve(IWorkbenchModel bound, IModelEngine model, IReadOnlyList<InterventionDraft> drafts)
    {
        var errors = drafts.Select((d, i) => (d, i)).Where(x => x.d.Enabled)
            .Select(x => (x.i, Error: ValidateOne(model, x.d))).Where(x => x.Error is not null).ToList();
        if (errors.Count > 0)
            throw new InterventionException("The experiment does not run until every switched-on intervention is valid: " +
                                            string.Join("; ", errors.Select(e => $"#{e.i + 1}: {e.Error}")));
        return drafts.Where(d => d.Enabled).Select(d =>
        {
            if (d.Kind == InterventionKind.Steering && (d.Vector is null || d.VectorModel != bound.Identity))
            {
                d.Vector = SteeringVectors.MeanDifference(model, d.Hook.Trim(), [PromptInput.Encode(bound, d.PromptA, "steering prompt A")],
                    [PromptInput.Encode(bound, d.PromptB, "steering prompt B")]);
                d.VectorModel = bound.Identity;
            }
            return d.Build();
        }).ToList();
    }

    private static string? ValidateOne(IModelEngine model, InterventionDraft draft)
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

    private static RunResult? SourceRun(IWorkbenchModel bound, IModelEngine model, IReadOnlyList<int> tokens, CompareRequest request,
        IReadOnlyList<Intervention> interventions)
    {
        var hooks = InterventionRunner.SourceHooks(model.Config, interventions);
        if (hooks.Count == 0) return null;
        if (string.IsNullOrWhiteSpace(request.SourcePrompt))
            throw new PromptException("Patching interventions read a source run: type the source (clean) prompt.");
        var source = PromptInput.Encode(bound, request.SourcePrompt, "source prompt");
        if (source.Count != tokens.Count)
            throw new PromptException($"The source prompt has {source.Count} tokens and the prompt {tokens.Count}: patching needs the same number.");
        return model.Run(source, new RunOptions { Capture = hooks });
    }

    /// <summary>"logit(▁mat) − logit(▁log)": token text, not ids.</summary>
    private static string LogitDifference(IWorkbenchModel model, int target, int other) => $"logit({Label(model, target)}) − logit({Label(model, other)})";

    private static string Label(IWorkbenchModel model, int id) => model.Tokenizer?.DisplayPiece(id) ?? $"#{id}";

    private static string[] Labels(IWorkbenchModel model, IReadOnlyList<int> ids) => TokenLabels.Disambiguate(ids.Select(id => Label(model, id)).ToArray());

    /// <summary>The target's logit (or logit difference) at the last position read through the final norm and unembedding at every stage.</summary>
    private static double[] TargetLens(IModelEngine model, ActivationCache cache, int target, int? other)
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
