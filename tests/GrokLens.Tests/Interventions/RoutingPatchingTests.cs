using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Interventions;
using static GrokLens.Tests.Hooks.HookCaptureTests;

namespace GrokLens.Tests.Interventions;

/// <summary>Routing patching and expert-output patching checked against hand computations from plain runs.</summary>
public class RoutingPatchingTests
{
    private static readonly int[] Source = [5, 17, 3, 88, 42, 9, 61, 23];
    private static readonly int[] Target = [70, 2, 33, 14, 42, 91, 8, 50];

    private static RunResult SourceRun(LoadedModel model, IEnumerable<Intervention> interventions) =>
        model.Run(Source, new RunOptions { Capture = InterventionRunner.SourceHooks(model.Config, interventions) });

    [Fact]
    public void PatchedRoutingRunsTheSourcesExpertsOnThisRunsInput()
    {
        using var model = TestModels.RandomLoaded();
        Intervention[] patch = [new PatchRouting([1])];
        using var source = SourceRun(model, patch);
        using var plain = model.Run(Target, RunOptions.CaptureOnly("blocks.1.ln2.hook_normalized"));
        using var run = InterventionRunner.Run(model, Target, patch, RunOptions.CaptureOnly("blocks.1.*"), source.Cache);

        var indices = run.Cache["blocks.1.moe.hook_topk_indices"];
        Assert.Equal(source.Cache["blocks.1.moe.hook_topk_indices"].data<long>().ToArray(), indices.data<long>().ToArray());
        AssertClose(run.Cache["blocks.1.moe.hook_topk_weights"], source.Cache["blocks.1.moe.hook_topk_weights"]);
        // The experts' input is this run's own pre-MoE residual, not the source's.
        var input = run.Cache["blocks.1.ln2.hook_normalized"];
        AssertClose(input, plain.Cache["blocks.1.ln2.hook_normalized"]);

        // Expert pre-activations by hand, in float64: x_t · W_gate[e]ᵀ for the source's expert e of each slot.
        var gate = model.Model.layers[1].matrices!.expertGate.detach().to_type(ScalarType.Float64);
        var x = input.to_type(ScalarType.Float64);
        var pre = run.Cache["blocks.1.moe.hook_expert_pre"];
        for (int t = 0; t < Target.Length; t++)
            for (int slot = 0; slot < 2; slot++)
            {
                var expected = gate[indices[t, slot].item<long>()].matmul(x[t]);
                AssertClose(pre[t, slot], expected.to_type(ScalarType.Float32));
            }
    }

    [Fact]
    public void IndicesOnlyAtOnePositionTakeThisRunsGatesForThoseExperts()
    {
        using var model = TestModels.RandomLoaded();
        Intervention[] patch = [new PatchRouting([0], RoutingPart.Indices, [3])];
        using var source = SourceRun(model, patch);
        using var plain = model.Run(Target, RunOptions.CaptureOnly("blocks.0.moe.*"));
        using var run = InterventionRunner.Run(model, Target, patch, RunOptions.CaptureOnly("blocks.0.moe.*"), source.Cache);

        var expected = plain.Cache["blocks.0.moe.hook_topk_indices"].clone();
        expected[3] = source.Cache["blocks.0.moe.hook_topk_indices"][3];
        var indices = run.Cache["blocks.0.moe.hook_topk_indices"];
        Assert.Equal(expected.data<long>().ToArray(), indices.data<long>().ToArray());
        AssertClose(run.Cache["blocks.0.moe.hook_topk_weights"], plain.Cache["blocks.0.moe.hook_router_probs"].gather(-1, indices));
    }

    [Fact]
    public void GatesOnlyKeepThisRunsExperts()
    {
        using var model = TestModels.RandomLoaded();
        Intervention[] patch = [new PatchRouting(null, RoutingPart.Gates)];
        using var source = SourceRun(model, patch);
        using var run = InterventionRunner.Run(model, Target, patch, RunOptions.CaptureOnly("blocks.0.moe.*", "blocks.0.hook_moe_out"), source.Cache);
        using var plain = model.Run(Target, RunOptions.CaptureOnly("blocks.0.moe.hook_topk_indices"));

        Assert.Equal(plain.Cache["blocks.0.moe.hook_topk_indices"].data<long>().ToArray(),
            run.Cache["blocks.0.moe.hook_topk_indices"].data<long>().ToArray());
        var gates = source.Cache["blocks.0.moe.hook_topk_weights"];
        AssertClose(run.Cache["blocks.0.moe.hook_topk_weights"], gates);
        AssertClose(run.Cache["blocks.0.hook_moe_out"], (run.Cache["blocks.0.moe.hook_expert_out"] * gates.unsqueeze(-1)).sum(1));
    }

    [Fact]
    public void PatchedExpertOutputsKeepThisRunsRouting()
    {
        using var model = TestModels.RandomLoaded();
        Intervention[] patch = [new PatchExpertOutputs([1], [2, 5])];
        using var source = SourceRun(model, patch);
        string[] hooks = ["blocks.1.moe.hook_topk_indices", "blocks.1.moe.hook_topk_weights", "blocks.1.moe.hook_expert_out", "blocks.1.hook_moe_out"];
        using var plain = model.Run(Target, RunOptions.CaptureOnly(hooks));
        using var run = InterventionRunner.Run(model, Target, patch, RunOptions.CaptureOnly(hooks), source.Cache);

        Assert.Equal(plain.Cache[hooks[0]].data<long>().ToArray(), run.Cache[hooks[0]].data<long>().ToArray());
        var outputs = plain.Cache[hooks[2]].clone();
        outputs[2] = source.Cache[hooks[2]][2];
        outputs[5] = source.Cache[hooks[2]][5];
        AssertClose(run.Cache[hooks[3]], (outputs * plain.Cache[hooks[1]].unsqueeze(-1)).sum(1));

        // Whole-MoE patching replaces the gate-weighted sum itself.
        Intervention[] whole = [new PatchExpertOutputs([1], WholeMoeOutput: true)];
        using var wholeSource = SourceRun(model, whole);
        using var wholeRun = InterventionRunner.Run(model, Target, whole, RunOptions.CaptureOnly(hooks[3]), wholeSource.Cache);
        AssertClose(wholeRun.Cache[hooks[3]], wholeSource.Cache[hooks[3]]);
    }

    [Fact]
    public void MissingSourceOrDifferentLengthIsExplained()
    {
        using var model = TestModels.RandomLoaded();
        Assert.Contains("needs a source run", Assert.Throws<InterventionException>(() =>
            InterventionRunner.Run(model, Target, [new PatchRouting()])).Message);
        Intervention[] patch = [new PatchRouting([0])];
        using var source = SourceRun(model, patch);
        Assert.Contains("same number of tokens", Assert.Throws<InterventionException>(() =>
            InterventionRunner.Run(model, Target[..5], patch, source: source.Cache)).Message);
    }

    [Fact]
    public void NearTiesAreThePositionsWhoseKthAndNextProbabilitiesAreClose()
    {
        using var model = TestModels.RandomLoaded();
        using var run = model.Run(Source, RunOptions.CaptureOnly("blocks.*.moe.hook_router_probs"));
        Assert.Equal(2 * Source.Length, NearTies.Find(run.Cache, 2, threshold: 1.0).Count);
        Assert.Empty(NearTies.Find(run.Cache, 2, threshold: 0));

        const double threshold = 0.03;
        var ties = NearTies.Find(run.Cache, 2, threshold);
        for (int layer = 0; layer < 2; layer++)
            for (int t = 0; t < Source.Length; t++)
            {
                var sorted = run.Cache[$"blocks.{layer}.moe.hook_router_probs"][t].data<float>().ToArray()
                    .Select((p, e) => (p: (double)p, e)).OrderByDescending(x => x.p).ToArray();
                var tie = ties.SingleOrDefault(x => x.Layer == layer && x.Position == t);
                Assert.Equal(sorted[1].p - sorted[2].p < threshold, tie is not null);
                if (tie is null) continue;
                Assert.Equal((sorted[1].e, sorted[2].e), (tie.ChosenExpert, tie.NextExpert));
                Assert.Equal(sorted[1].p - sorted[2].p, tie.Gap, 6);
            }
    }
}
