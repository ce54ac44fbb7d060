using GrokLens.Analysis.Experts;
using GrokLens.Engine;
using GrokLens.Hooks;

namespace GrokLens.Tests.Analysis.Experts;

public class CausalAuditTests
{
    [Fact]
    public void ObservationalNumbersLossChangesAndRankCorrelationsMatchAnIndependentComputation()
    {
        using var model = TestModels.RandomLoaded();
        var corpus = ExpertLoadTests.Corpus();
        var prompts = ExpertLoadTests.SetA.Concat(ExpertLoadTests.SetB).ToList();
        var audit = CausalAudit.Run(model, corpus, new CausalAuditOptions { Layers = [1] });

        // Plain loss, and per expert the loss with its router probability pushed below all others (a hook of our own).
        var (nats, predicted) = prompts.Select(p => { using var r = model.Run(p); return Float64Router.Loss(r.Logits, p); })
            .Aggregate((a, b) => (a.Nats + b.Nats, a.Tokens + b.Tokens));
        Assert.Equal(nats / predicted, audit.BaselineLoss, 9);
        long tokens = prompts.Sum(p => p.Length);
        Assert.Equal(8, audit.Experts.Count);
        foreach (var row in audit.Experts)
        {
            Assert.Equal(1, row.Layer);
            int expert = row.Expert;
            HookFunction ban = (p, _) => p.index_fill(-1, tensor(new long[] { expert }), -1.0);
            var banned = prompts.Select(p =>
            {
                using var r = model.Run(p, new RunOptions { Hooks = [("blocks.1.moe.hook_router_probs", ban)] });
                return Float64Router.Loss(r.Logits, p);
            }).Aggregate((a, b) => (a.Nats + b.Nats, a.Tokens + b.Tokens));
            Assert.Equal(banned.Item1 / banned.Item2 - nats / predicted, row.LossChange, 9);

            // Use rate, gate mass and mean output norm from the float64 router and captured expert outputs.
            long chosen = 0;
            double gates = 0, norms = 0;
            foreach (var prompt in prompts)
            {
                var choices = Float64Router.Choices(model, prompt)[1];
                using var run = model.Run(prompt, RunOptions.CaptureOnly("blocks.1.moe.hook_expert_out"));
                var outputs = run.Cache["blocks.1.moe.hook_expert_out"];
                for (int t = 0; t < prompt.Length; t++)
                {
                    int slot = Array.IndexOf(choices[t].Experts, expert);
                    if (slot < 0) continue;
                    chosen++;
                    gates += choices[t].Gates[slot];
                    norms += Math.Sqrt(Float64Router.Rows(outputs[t])[slot].Sum(v => v * v));
                }
            }
            Assert.Equal((double)chosen / tokens, row.UseRate, 12);
            Assert.Equal(gates / tokens, row.GateMass, 6);
            if (chosen == 0) Assert.Null(row.OutputNorm);
            else Assert.Equal(norms / chosen, row.OutputNorm!.Value, 5);
        }
        var withNorm = audit.Experts.Where(r => r.OutputNorm is not null).ToList();
        Assert.Equal(Spearman(audit.Experts.Select(r => r.UseRate).ToList(), audit.Experts.Select(r => r.LossChange).ToList()), audit.Overall.UseRate, 12);
        Assert.Equal(Spearman(withNorm.Select(r => r.OutputNorm!.Value).ToList(), withNorm.Select(r => r.LossChange).ToList()), audit.Overall.OutputNorm, 12);
        Assert.Equal(audit.Overall, audit.PerLayer.Single().Correlations);
        Assert.Equal(["layer", "expert", "use_rate", "gate_mass", "output_norm", "banned_loss", "loss_change"], audit.Tables()[0].Columns);
    }

    [Fact]
    public void SpearmanGivesTiesTheirMeanRank()
    {
        Assert.Equal([2.5, 1, 2.5, 4], RankCorrelation.Ranks([3.0, 1, 3, 7]));
        Assert.Equal(1.0, RankCorrelation.Spearman([1.0, 2, 3, 4], [10.0, 20, 25, 100]), 12);
        Assert.Equal(-1.0, RankCorrelation.Spearman([1.0, 2, 3], [3.0, 2, 1]), 12);
        Assert.True(double.IsNaN(RankCorrelation.Spearman([1.0, 1, 1], [1.0, 2, 3])));
        double[] x = [0.3, 0.1, 0.1, 0.9, 0.5], y = [2.0, 1, 3, 5, 4];
        Assert.Equal(Spearman(x, y), RankCorrelation.Spearman(x, y), 12);
    }

    /// <summary>ρ from ranks counted pairwise (rank = 1 + #smaller + #equal others / 2) and 1 − 6Σd²/(n(n²−1)) corrected for ties via Pearson.</summary>
    private static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        double[] Rank(IReadOnlyList<double> v) => v.Select(a => 1 + v.Count(b => b < a) + (v.Count(b => b == a) - 1) / 2.0).ToArray();
        var rx = Rank(x);
        var ry = Rank(y);
        double mx = rx.Average(), my = ry.Average();
        double cov = rx.Zip(ry, (a, b) => (a - mx) * (b - my)).Sum();
        return cov / Math.Sqrt(rx.Sum(a => (a - mx) * (a - mx)) * ry.Sum(b => (b - my) * (b - my)));
    }
}
