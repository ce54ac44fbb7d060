using GrokLens.Engine;
using GrokLens.Interventions;
using static GrokLens.Tests.Hooks.HookCaptureTests;

namespace GrokLens.Tests.Interventions;

/// <summary>Each intervention checked against an independent computation from a plain run's activations.</summary>
public class InterventionTests
{
    private static readonly int[] Tokens = [5, 17, 3, 88, 42, 9, 61, 23];

    [Fact]
    public void ZeroAblatingAHeadEqualsTheAttentionOutputWithoutItsContribution()
    {
        using var model = TestModels.RandomLoaded();
        using var plain = model.Run(Tokens, RunOptions.CaptureOnly("blocks.1.attn.hook_result", "blocks.1.hook_attn_out"));
        using var ablated = InterventionRunner.Run(model, Tokens, [new AblateHeads([1], [0, 2])],
            RunOptions.CaptureOnly("blocks.1.hook_attn_out"));
        var result = plain.Cache["blocks.1.attn.hook_result"];
        var expected = plain.Cache["blocks.1.hook_attn_out"] - result[.., 0] - result[.., 2];
        AssertClose(ablated.Cache["blocks.1.hook_attn_out"], expected);
    }

    [Fact]
    public void MeanAblationOnSomePositionsReplacesOnlyThoseWithTheMean()
    {
        using var model = TestModels.RandomLoaded();
        using var plain = model.Run(Tokens, RunOptions.CaptureOnly("blocks.0.attn.hook_z"));
        using var ablated = InterventionRunner.Run(model, Tokens, [new AblateHeads([0], [1], AblationMode.Mean, [2, 5])],
            RunOptions.CaptureOnly("blocks.0.attn.hook_z"));
        var z = plain.Cache["blocks.0.attn.hook_z"];
        var expected = z.clone();
        var mean = z[.., 1].mean([0]);
        expected[2, 1] = mean;
        expected[5, 1] = mean;
        AssertClose(ablated.Cache["blocks.0.attn.hook_z"], expected);
    }

    [Fact]
    public void BanningAnExpertHandsItsSlotToTheNextBest()
    {
        using var model = TestModels.RandomLoaded();
        string[] hooks = ["blocks.0.moe.hook_router_probs", "blocks.0.moe.hook_topk_indices", "blocks.0.moe.hook_topk_weights"];
        using var plain = model.Run(Tokens, RunOptions.CaptureOnly(hooks));
        int banned = (int)plain.Cache["blocks.0.moe.hook_topk_indices"][3, 0].item<long>(); // token 3's first choice
        using var run = InterventionRunner.Run(model, Tokens, [new BanExpert(0, banned)], RunOptions.CaptureOnly(hooks));

        var probabilities = plain.Cache["blocks.0.moe.hook_router_probs"];
        var indices = run.Cache["blocks.0.moe.hook_topk_indices"];
        for (int t = 0; t < Tokens.Length; t++)
        {
            var ranked = probabilities[t].data<float>().ToArray().Select((p, e) => (p, e))
                .Where(x => x.e != banned).OrderByDescending(x => x.p).Take(2).Select(x => (long)x.e);
            Assert.Equal(ranked, indices[t].data<long>().ToArray());
        }
        AssertClose(run.Cache["blocks.0.moe.hook_topk_weights"], probabilities.gather(-1, indices));
    }

    [Fact]
    public void ForcingAnExpertChangesExactlyTheTargetedTokens()
    {
        using var model = TestModels.RandomLoaded();
        string[] hooks = ["blocks.1.moe.hook_router_probs", "blocks.1.moe.hook_topk_indices", "blocks.1.moe.hook_topk_weights"];
        using var plain = model.Run(Tokens, RunOptions.CaptureOnly(hooks));
        var before = plain.Cache["blocks.1.moe.hook_topk_indices"];
        int expert = (int)(before[4, 0].item<long>() + 1) % 8;
        if (before[4, 1].item<long>() == expert) expert = (expert + 1) % 8;
        using var run = InterventionRunner.Run(model, Tokens, [new ForceExpert(1, expert, [4], Slot: 1)], RunOptions.CaptureOnly(hooks));
        var after = run.Cache["blocks.1.moe.hook_topk_indices"];
        for (int t = 0; t < Tokens.Length; t++)
        {
            if (t == 4) Assert.Equal([before[4, 0].item<long>(), expert], after[4].data<long>().ToArray());
            else Assert.Equal(before[t].data<long>().ToArray(), after[t].data<long>().ToArray());
        }
        AssertClose(run.Cache["blocks.1.moe.hook_topk_weights"], plain.Cache["blocks.1.moe.hook_router_probs"].gather(-1, after));
    }

    [Fact]
    public void AblatingAnExpertRemovesOnlyItsGatedOutput()
    {
        using var model = TestModels.RandomLoaded();
        string[] hooks = ["blocks.0.moe.hook_topk_indices", "blocks.0.moe.hook_topk_weights", "blocks.0.moe.hook_expert_out", "blocks.0.hook_moe_out"];
        using var plain = model.Run(Tokens, RunOptions.CaptureOnly(hooks));
        var indices = plain.Cache["blocks.0.moe.hook_topk_indices"];
        int expert = (int)indices[0, 0].item<long>();
        using var run = InterventionRunner.Run(model, Tokens, [new AblateExpert(0, expert)], RunOptions.CaptureOnly(hooks));
        var keep = indices.ne(expert).to(ScalarType.Float32).unsqueeze(-1);
        var expected = (plain.Cache["blocks.0.moe.hook_expert_out"] * plain.Cache["blocks.0.moe.hook_topk_weights"].unsqueeze(-1) * keep).sum(1);
        AssertClose(run.Cache["blocks.0.hook_moe_out"], expected);
    }

    [Fact]
    public void TopKAndRenormalisationChangeTheGates()
    {
        using var model = TestModels.RandomLoaded();
        using var three = InterventionRunner.Run(model, Tokens, [new SetTopK(3, [1])],
            RunOptions.CaptureOnly("blocks.1.moe.*"));
        var probabilities = three.Cache["blocks.1.moe.hook_router_probs"];
        var (values, ids) = probabilities.topk(3);
        Assert.Equal(ids.data<long>().ToArray(), three.Cache["blocks.1.moe.hook_topk_indices"].data<long>().ToArray());
        AssertClose(three.Cache["blocks.1.moe.hook_topk_weights"], values);
        Assert.Equal([Tokens.Length, 3L, model.Config.HiddenSize], three.Cache["blocks.1.moe.hook_expert_out"].shape);

        using var renormalised = InterventionRunner.Run(model, Tokens, [new RenormaliseGates()], RunOptions.CaptureOnly("blocks.*.moe.hook_topk_weights"));
        AssertClose(renormalised.Cache["blocks.0.moe.hook_topk_weights"].sum(-1), ones(Tokens.Length));
    }

    [Fact]
    public void SteeringAddsTheMeanDifferenceVector()
    {
        using var model = TestModels.RandomLoaded();
        var vector = SteeringVectors.MeanDifference(model, "blocks.0.hook_resid_post", [[1, 2, 3], [4, 5]], [[6, 7, 8, 9]]);
        using var a = model.Run([1, 2, 3], RunOptions.CaptureOnly("blocks.0.hook_resid_post"));
        using var b = model.Run([4, 5], RunOptions.CaptureOnly("blocks.0.hook_resid_post"));
        using var c = model.Run([6, 7, 8, 9], RunOptions.CaptureOnly("blocks.0.hook_resid_post"));
        var expectedVector = cat([a.Cache["blocks.0.hook_resid_post"], b.Cache["blocks.0.hook_resid_post"]]).mean([0]) - c.Cache["blocks.0.hook_resid_post"].mean([0]);
        AssertClose(tensor(vector), expectedVector);

        using var plain = model.Run(Tokens, RunOptions.CaptureOnly("blocks.0.hook_resid_post"));
        using var steered = InterventionRunner.Run(model, Tokens, [new AddToActivation("blocks.0.hook_resid_post", vector, 2.0, [1, 6])],
            RunOptions.CaptureOnly("blocks.0.hook_resid_post"));
        var expected = plain.Cache["blocks.0.hook_resid_post"].clone();
        expected[1] += 2.0 * tensor(vector);
        expected[6] += 2.0 * tensor(vector);
        AssertClose(steered.Cache["blocks.0.hook_resid_post"], expected);
    }

    [Fact]
    public void PatchingEveryPositionFromTheCleanRunReproducesTheCleanLogits()
    {
        using var model = TestModels.RandomLoaded();
        int[] clean = [5, 17, 3, 88, 42], corrupted = [5, 17, 60, 88, 42];
        using var source = model.Run(clean, RunOptions.CaptureOnly("blocks.0.hook_resid_post", "blocks.1.attn.hook_z"));
        using var corruptedRun = model.Run(corrupted);
        using var patched = InterventionRunner.Run(model, corrupted, [new PatchActivation("blocks.0.hook_resid_post")], source: source.Cache);
        AssertClose(patched.Logits, source.Logits);
        Assert.True((corruptedRun.Logits - source.Logits).abs().max().item<float>() > 1e-3);

        // Patching one head at one position changes exactly that slice of z.
        using var onePatch = InterventionRunner.Run(model, corrupted, [new PatchActivation("blocks.1.attn.hook_z", [2], [3])],
            RunOptions.CaptureOnly("blocks.1.attn.hook_z"), source.Cache);
        using var corruptedZ = model.Run(corrupted, RunOptions.CaptureOnly("blocks.1.attn.hook_z"));
        var expected = corruptedZ.Cache["blocks.1.attn.hook_z"].clone();
        expected[2, 3] = source.Cache["blocks.1.attn.hook_z"][2, 3];
        AssertClose(onePatch.Cache["blocks.1.attn.hook_z"], expected);
    }

    [Fact]
    public void InvalidTargetsAreExplainedAndNothingRuns()
    {
        using var model = TestModels.RandomLoaded();
        var error = Assert.Throws<InterventionException>(() =>
            InterventionRunner.Run(model, Tokens, [new RenormaliseGates(), new AblateHeads([9], [0])]));
        Assert.Contains("intervention 2", error.Message);
        Assert.Contains("layer 9 does not exist", error.Message);
        Assert.Contains("0…1", error.Message);
        Assert.Contains("expert 8 does not exist", Assert.Throws<InterventionException>(() =>
            InterventionRunner.Run(model, Tokens, [new BanExpert(0, 8)])).Message);
        Assert.Contains("Did you mean", Assert.Throws<InterventionException>(() =>
            InterventionRunner.Run(model, Tokens, [new ScaleActivation("blocks.0.hook_resid_pots", 2)])).Message);
        // A switched-off intervention is not validated or applied.
        using var run = InterventionRunner.Run(model, Tokens, [new AblateHeads([9], [0]) { Enabled = false }]);
        Assert.Equal(Tokens.Length, run.Logits.shape[0]);
    }

    [Fact]
    public void InterventionsRoundTripThroughJson()
    {
        Intervention[] all =
        [
            new AblateHeads([0, 1], [2], AblationMode.Mean, [3]),
            new AblateExpert(1, 4),
            new BanExpert(0, 2, [1, 2]) { Enabled = false },
            new ForceExpert(1, 7, [0], Slot: 1),
            new SetTopK(3),
            new RenormaliseGates([1]),
            new AddToActivation("blocks.0.hook_resid_post", [0.5f, -1f], 2.5, [4]),
            new ScaleActivation("blocks.1.hook_moe_out", 0),
            new PatchActivation("blocks.1.attn.hook_z", [2], [3]),
        ];
        var json = InterventionJson.Serialize(all);
        Assert.Contains("\"type\": \"ablate_heads\"", json);
        Assert.Contains("\"mode\": \"Mean\"", json);
        var loaded = InterventionJson.Deserialize(json);
        Assert.Equal(json, InterventionJson.Serialize(loaded));
        Assert.Equal(all.Select(i => i.Describe()), loaded.Select(i => i.Describe()));
        Assert.False(loaded[2].Enabled);

        var unknown = Assert.Throws<InterventionException>(() => InterventionJson.Deserialize("[{\"type\": \"explode\"}]"));
        Assert.Contains("\"explode\", which is not an intervention type", unknown.Message);
    }
}
