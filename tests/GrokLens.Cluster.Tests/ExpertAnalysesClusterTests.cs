using GrokLens.Analysis.Experts;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;

namespace GrokLens.Cluster.Tests;

/// <summary>
/// The expert analyses through the cluster engine equal the in-process ones: there the large reductions (output norms,
/// top-expert cosines) are made by hooks inside the forward pass, here from captures the shards return; the routing counts,
/// losses and generations come from the same activations.
/// </summary>
public sealed class ExpertAnalysesClusterTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClusterModel tiny = fixture.Tiny;
    private readonly LoadedModel local = fixture.LocalTiny;

    private ExpertCorpus Corpus() => new(
    [
        new PromptSubset("animals", [local.Encode("The little fox ran to the river and the bird sang"), local.Encode("A cat sat on the mat")]),
        new PromptSubset("people", [local.Encode("Alice was beginning to get very tired of sitting by her sister")]),
    ]);

    [Fact]
    public void Tallies_through_the_cluster_equal_the_in_process_ones()
    {
        var options = new ExpertPassOptions { Vocabulary = true, OutputNorms = true, TopExpertCosines = true };
        var expected = ExpertPass.Run(local, Corpus(), options);
        var actual = ExpertPass.Run(tiny, Corpus(), options);

        string Json<T>(T value) => ExpertJson.Serialize(value);
        Assert.Equal(Json(ExpertLoadResult.From(expected, 2)), Json(ExpertLoadResult.From(actual, 2)));
        Assert.Equal(Json(CoActivationResult.From("all", expected.Total.Routing, 2)), Json(CoActivationResult.From("all", actual.Total.Routing, 2)));
        var vocabulary = new VocabularyOptions { MinOccurrences = 1 };
        Assert.Equal(Json(VocabularySpecialisationResult.From("all", expected.Total, local.Tokenizer, vocabulary)),
            Json(VocabularySpecialisationResult.From("all", actual.Total, tiny.Tokenizer, vocabulary)));
        Assert.Equal(expected.Total.Loss, actual.Total.Loss);
        for (int layer = 0; layer < 4; layer++)
        {
            for (int e = 0; e < 8; e++)
            {
                Assert.Equal(expected.Total.Norms!.Count[layer][e], actual.Total.Norms!.Count[layer][e]);
                Assert.Equal(expected.Total.Norms.NormSum[layer][e], actual.Total.Norms.NormSum[layer][e], 1e-9 * Math.Max(1, expected.Total.Norms.NormSum[layer][e]));
            }
            Assert.Equal(expected.Total.Cosines!.CosineSum[layer], actual.Total.Cosines!.CosineSum[layer], 1e-9);
            Assert.True(double.IsNaN(actual.Total.Cosines.ResidualCosineSum[layer]), "the cluster engine has no post-MoE norm scales");
            Assert.False(double.IsNaN(expected.Total.Cosines.ResidualCosineSum[layer]));
        }
    }

    [Fact]
    public void The_audit_and_steering_through_the_cluster_equal_the_in_process_ones()
    {
        var audit = new CausalAuditOptions { Layers = [2], Experts = [0, 5] };
        var expected = CausalAudit.Run(local, Corpus(), audit);
        var actual = CausalAudit.Run(tiny, Corpus(), audit);
        Assert.Equal(expected.Experts.Select(r => r.LossChange), actual.Experts.Select(r => r.LossChange));
        Assert.Equal(expected.Experts.Select(r => r.UseRate), actual.Experts.Select(r => r.UseRate));

        RouterBias[] biases = [new RouterBias(1, 3, 50), new RouterBias(3, 0, -5)];
        var sampling = new SamplingOptions { MaxNewTokens = 8, Temperature = 0.8, Seed = 4, StopAtEos = false };
        var prompt = local.Encode("Once upon a time");
        var localSteering = ExpertSteering.Compare(local, prompt, biases, sampling);
        var clusterSteering = ExpertSteering.Compare(tiny, prompt, biases, sampling);
        Assert.Equal(ExpertJson.Serialize(localSteering), ExpertJson.Serialize(clusterSteering));
        Assert.Equal(1.0, clusterSteering.Experts[0].PromptRateAfter);
    }
}
