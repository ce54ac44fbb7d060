using System.Text.Json;
using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;

namespace GrokLens.Tests.Analysis;

/// <summary>The run comparison checked against the two runs' own outputs, computed independently in the test.</summary>
public class RunComparisonTests
{
    private static readonly int[] Tokens = [5, 17, 3, 88, 42, 9, 61, 23];

    [Fact]
    public void BanningAnExpertIsReportedAgainstAHandComparisonOfBothRuns()
    {
        using var model = TestModels.RandomLoaded();
        using var probe = model.Run(Tokens, RunOptions.CaptureOnly("blocks.0.moe.hook_topk_indices"));
        int banned = (int)probe.Cache["blocks.0.moe.hook_topk_indices"][2, 0].item<long>();
        Intervention[] ban = [new BanExpert(0, banned)];
        var result = RunComparison.Compare(model, Tokens, ban, new ComparisonOptions { Target = 11, OtherTarget = 40, TopTokens = 3 });

        string[] hooks = ["blocks.*.moe.hook_topk_indices", "blocks.*.attn.hook_pattern", "blocks.*.hook_resid_post", "hook_embed"];
        using var a = model.Run(Tokens, RunOptions.CaptureOnly(hooks));
        using var b = InterventionRunner.Run(model, Tokens, ban, RunOptions.CaptureOnly(hooks));
        int last = Tokens.Length - 1;
        var pa = a.Logits[last].to_type(ScalarType.Float64).softmax(-1).data<double>().ToArray();
        var pb = b.Logits[last].to_type(ScalarType.Float64).softmax(-1).data<double>().ToArray();

        Assert.Equal(Tokens.Length, result.AlignedPositions.Length);
        Assert.Equal(pa.Zip(pb, (p, q) => p * Math.Log(p / q)).Sum(), result.NextToken!.KlAToB, 9);
        Assert.Equal(pb.Zip(pa, (p, q) => p * Math.Log(p / q)).Sum(), result.NextToken!.KlBToA, 9);
        Assert.Equal(result.NextToken!.KlAToB, result.KlPerPosition![last], 12);
        Assert.Equal(Enumerable.Range(0, pa.Length).OrderByDescending(i => pa[i]).Take(3), result.NextToken!.TopA.Select(s => s.TokenId));
        Assert.Equal(pb[result.NextToken!.TopA[0].TokenId], result.NextToken!.TopA[0].ProbabilityB, 6);
        var target = result.Target!;
        Assert.Equal(a.Logits[last, 11].item<float>() - a.Logits[last, 40].item<float>(), target.LogitDifferenceA!.Value, 4);
        Assert.Equal(b.Logits[last, 11].item<float>() - b.Logits[last, 40].item<float>(), target.LogitDifferenceB!.Value, 4);
        Assert.Equal(pb[11], target.ProbabilityB, 6);

        // The embedding does not change; layer 0's residual changes exactly where the banned expert had been chosen.
        Assert.All(result.Residual!.Norm[0], n => Assert.Equal(0, n));
        var before = a.Cache["blocks.0.moe.hook_topk_indices"];
        for (int t = 0; t < Tokens.Length; t++)
        {
            bool used = before[t].eq(banned).any().item<bool>();
            Assert.Equal(used, result.Residual!.Relative[1][t] > 1e-5); // others differ only by float rounding of the regrouped expert matmuls
            var expected = (b.Cache["blocks.0.hook_resid_post"][t] - a.Cache["blocks.0.hook_resid_post"][t]).norm().item<float>();
            Assert.Equal(expected, result.Residual!.Norm[1][t], 3);
        }

        // Routing diff: counted by hand per layer, and every change listed.
        for (int layer = 0; layer < 2; layer++)
        {
            var ia = a.Cache[$"blocks.{layer}.moe.hook_topk_indices"];
            var ib = b.Cache[$"blocks.{layer}.moe.hook_topk_indices"];
            int first = Enumerable.Range(0, Tokens.Length).Count(t => ia[t, 0].item<long>() != ib[t, 0].item<long>());
            int set = Enumerable.Range(0, Tokens.Length).Count(t => !ia[t].data<long>().ToArray().Order().SequenceEqual(ib[t].data<long>().ToArray().Order()));
            Assert.Equal(first, result.Routing!.FirstChoiceChangedPerLayer[layer]);
            Assert.Equal(set, result.Routing!.SetChangedPerLayer[layer]);
        }
        Assert.True(result.Routing!.SetChangedPerLayer[0] > 0);
        Assert.All(result.Routing!.Changes.Where(c => c.Layer == 0), c => Assert.Contains(banned, c.ExpertsA));

        // Layer 0's attention runs before its MoE: unchanged; layer 1's pattern is compared head by head.
        Assert.All(result.Attention!.MaxAbs[0], m => Assert.Equal(0, m));
        var patternChange = (b.Cache["blocks.1.attn.hook_pattern"] - a.Cache["blocks.1.attn.hook_pattern"]).abs();
        for (int h = 0; h < 4; h++)
            Assert.Equal(patternChange[h].max().item<float>(), result.Attention.MaxAbs[1][h], 5);
        Assert.Equal([ban[0].Describe()], result.InterventionsB);
    }

    [Fact]
    public void PromptsOfDifferentLengthsAreComparedAtTheirLastPositions()
    {
        using var model = TestModels.RandomLoaded();
        var result = RunComparison.Compare(model, new ComparedRun(Tokens), new ComparedRun(Tokens[..5]));
        Assert.Equal([new PositionPair(7, 4)], result.AlignedPositions);
        Assert.Null(result.Attention);
        Assert.Single(result.KlPerPosition!);
        Assert.Equal(3, result.Residual!.Norm.Length); // embed, layer 0, layer 1
        Assert.All(result.Residual!.Norm, stage => Assert.Single(stage));
        Assert.True(result.NextToken!.KlAToB > 0);
    }

    [Fact]
    public void GenerationUsesTheSameSeedAndTheModifiedRunsHooks()
    {
        using var model = TestModels.RandomLoaded();
        var sampling = new SamplingOptions { Temperature = 0.8, Seed = 3, StopAtEos = false };
        var options = new ComparisonOptions { GenerateTokens = 6, Sampling = sampling };
        var same = RunComparison.Compare(model, new ComparedRun(Tokens), new ComparedRun(Tokens), options).Generation!;
        Assert.Equal(-1, same.FirstDifference);
        Assert.Equal(same.A.Select(t => t.Id), same.B.Select(t => t.Id));
        Assert.Equal(TextGenerator.Generate(model, Tokens, sampling with { MaxNewTokens = 6 }).Select(t => t.Id), same.A.Select(t => t.Id));

        // Greedy: the modified run's first token is the argmax of its own intervened logits.
        Intervention[] scale = [new ScaleActivation("blocks.1.hook_resid_post", -3.0)];
        var greedy = RunComparison.Compare(model, Tokens, scale, new ComparisonOptions { GenerateTokens = 3, Sampling = SamplingOptions.Greedy(1) with { StopAtEos = false } });
        using var run = InterventionRunner.Run(model, Tokens, scale);
        Assert.Equal(run.Logits[^1].argmax().item<long>(), greedy.Generation!.B[0].Id);
        Assert.Equal(3, greedy.Generation.B.Length);
    }

    [Fact]
    public void TheResultSerialisesToJsonAndBadTargetsAreExplained()
    {
        using var model = TestModels.RandomLoaded();
        var result = RunComparison.Compare(model, Tokens, [new AblateHeads([0], [1])], new ComparisonOptions { Target = 3 });
        var json = JsonSerializer.Serialize(result);
        Assert.Contains("\"KlAToB\"", json);
        Assert.Contains("zero-ablate head 1", json);
        Assert.Contains("vocabulary", Assert.Throws<ArgumentException>(() =>
            RunComparison.Compare(model, Tokens, [], new ComparisonOptions { Target = 97 })).Message);
    }

    [Fact]
    public void CapturedRunsGiveTheLiveResultAndMissingHooksAreNamed()
    {
        using var model = TestModels.RandomLoaded();
        Intervention[] ban = [new BanExpert(1, 2)];
        var live = RunComparison.Compare(model, Tokens, ban, new ComparisonOptions { Target = 11 });

        // The hooks the live comparison captures (capturing others, e.g. per-expert tensors, regroups float sums).
        string[] hooks = ["hook_embed", "blocks.*.hook_resid_post", "blocks.*.moe.hook_router_probs", "blocks.*.moe.hook_topk_indices", "blocks.*.attn.hook_pattern"];
        using var a = model.Run(Tokens, RunOptions.CaptureOnly(hooks));
        using var b = InterventionRunner.Run(model, Tokens, ban, RunOptions.CaptureOnly(hooks));
        var captured = RunComparison.Compare(model.Config, new CapturedRun(Tokens, a.Cache, a.Logits),
            new CapturedRun(Tokens, b.Cache, b.Logits, [ban[0].Describe()]), new ComparisonOptions { Target = 11 });
        Assert.Empty(captured.MissingHooks);
        Assert.Equal(JsonSerializer.Serialize(live), JsonSerializer.Serialize(captured));

        // Only the routing hooks and no logits: routing is compared, the rest is null and names what it lacks.
        using var routingA = new ActivationCache([new("blocks.0.moe.hook_topk_indices", a.Cache["blocks.0.moe.hook_topk_indices"].clone()),
            new("blocks.1.moe.hook_topk_indices", a.Cache["blocks.1.moe.hook_topk_indices"].clone())], Tokens, 0);
        using var routingB = new ActivationCache([new("blocks.0.moe.hook_topk_indices", b.Cache["blocks.0.moe.hook_topk_indices"].clone()),
            new("blocks.1.moe.hook_topk_indices", b.Cache["blocks.1.moe.hook_topk_indices"].clone())], Tokens, 0);
        var partial = RunComparison.Compare(model.Config, new CapturedRun(Tokens, routingA), new CapturedRun(Tokens, routingB));
        Assert.Equal(live.Routing!.Changes.Select(c => (c.Layer, c.PositionA, c.ExpertsB[0])), partial.Routing!.Changes.Select(c => (c.Layer, c.PositionA, c.ExpertsB[0])));
        Assert.Empty(partial.Routing.NearTiesA);
        Assert.Null(partial.NextToken);
        Assert.Null(partial.KlPerPosition);
        Assert.Null(partial.Residual);
        Assert.Null(partial.Attention);
        Assert.Equal(["logits"], partial.MissingHooks[RunComparison.NextTokenPart]);
        Assert.Contains("hook_embed", partial.MissingHooks[RunComparison.ResidualPart]);
        Assert.Equal(["blocks.0.moe.hook_router_probs", "blocks.1.moe.hook_router_probs"], partial.MissingHooks[RunComparison.NearTiesPart]);
        Assert.Equal(["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"], partial.MissingHooks[RunComparison.AttentionPart]);
        Assert.Contains("generating needs the model", Assert.Throws<ArgumentException>(() => RunComparison.Compare(model.Config,
            new CapturedRun(Tokens, routingA), new CapturedRun(Tokens, routingB), new ComparisonOptions { GenerateTokens = 1 })).Message);
    }
}
