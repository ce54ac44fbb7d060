using System.Text.RegularExpressions;
using GrokLens.Dumps;
using GrokLens.Engine;
using static TorchSharp.torch;

namespace GrokLens.Analysis.Experts;

/// <summary>
/// A whole expert analysis as a GrokLens dump (docs/dump-format.md, kind "reductions"), so it can be downloaded, kept and
/// reopened without the model: the corpus's prompts are the runs (ids "SUBSET.N"), and each subset's tally is stored as
/// reduction tensors named "experts/SUBSET/…" (see docs/experts.md for the list), from which every analysis computed
/// from tallies (load, co-activation, vocabulary, steering scores, the observational half of the audit, the cosines of
/// the top-expert analysis) is recomputed exactly. Subset names are kept when they are made of letters, digits, '_' and
/// '-'; other characters become '_'.
/// </summary>
public static partial class ExpertAnalysisDump
{
    public const string Prefix = "experts/";

    /// <summary>Writes the dump as a zip to a stream (e.g. a download).</summary>
    public static DumpManifest WriteZip(Stream destination, IModelEngine model, ExpertCorpus corpus, ExpertTallies tallies) =>
        DumpZip.Write(destination, sink => Build(sink, model, corpus, tallies));

    /// <summary>Writes a .zip dump file atomically.</summary>
    public static DumpManifest WriteZipFile(string path, IModelEngine model, ExpertCorpus corpus, ExpertTallies tallies)
    {
        DumpManifest? manifest = null;
        Checkpoints.SafetensorsWriter.WriteAtomically(Path.GetFullPath(path), stream => manifest = WriteZip(stream, model, corpus, tallies));
        return manifest!;
    }

    private static DumpManifest Build(IDumpSink sink, IModelEngine model, ExpertCorpus corpus, ExpertTallies tallies)
    {
        if (tallies.Subsets.Count != corpus.Subsets.Count || tallies.Subsets.Zip(corpus.Subsets).Any(p => p.First.Subset != p.Second.Name))
            throw new ArgumentException("The tallies are not those of this corpus's subsets.");
        var names = SafeNames(corpus.Subsets.Select(s => s.Name).ToList());
        using var builder = new DumpBuilder(sink, model.Config, DumpDescriptions.Model(model), DumpDescriptions.Tokenizer(model.Tokenizer),
            new DumpBuildOptions { Kind = DumpFormat.ReductionsKind });
        for (int s = 0; s < corpus.Subsets.Count; s++)
            for (int p = 0; p < corpus.Subsets[s].Prompts.Count; p++)
            {
                var ids = corpus.Subsets[s].Prompts[p];
                builder.Add(new DumpRunContent($"{names[s]}.{p}", null, ids, DumpDescriptions.Pieces(model.Tokenizer, ids), [], []));
            }
        var tensors = new List<(string, Tensor, string)>();
        using var state = new DumpReductionState(Summary(tallies.Total), tensors); // Frees the tensors, however far the list got.
        for (int s = 0; s < names.Count; s++) tensors.AddRange(Tensors(names[s], tallies.Subsets[s].Tally));
        return builder.Finish(state);
    }

    /// <summary>The tallies of a dump written by <see cref="WriteZip"/>, subsets in the order of its runs.</summary>
    public static ExpertTallies Read(DumpReader reader)
    {
        var manifest = reader.Manifest;
        var config = reader.Config;
        var stored = manifest.Reductions?.Tensors.Select(t => t.Name).Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToHashSet()
                     ?? [];
        var names = manifest.Runs.Select(r => r.Id.LastIndexOf('.') is int dot and > 0 ? r.Id[..dot] : "").Distinct().ToList();
        if (names.Count == 0 || names.Any(n => !stored.Contains($"{Prefix}{n}/summary")))
            throw new ArgumentException($"{reader.Location} is not an expert analysis dump (no {Prefix}SUBSET/summary reductions).");
        var subsets = names.Select(name => (name, ReadTally(reader, config.NumLayers, config.NumExperts, name, stored))).ToList();
        var total = new ExpertTally(config.NumLayers, config.NumExperts, OptionsOf(subsets[0].Item2), () => new TopExpertCosines(config.NumLayers, null));
        foreach (var (_, tally) in subsets) total.Add(tally);
        return new ExpertTallies(subsets, total);
    }

    private static DumpReductions Summary(ExpertTally total)
    {
        var routing = total.Routing;
        return new DumpReductions
        {
            Hooks = [],
            Tokens = total.Tokens,
            Tensors = [],
            Routing = Enumerable.Range(0, routing.Layers).Select(layer => new DumpRoutingStatistics
            {
                Layer = layer,
                ExpertCounts = routing.TopK[layer],
                ExpertShares = ExpertLoadResult.Shares(routing.TopK[layer]),
                SameFirstExpertRate = null,
                TopKOverlapRate = null,
                RatePairs = 0,
            }).ToList(),
        };
    }

    private static IEnumerable<(string, Tensor, string)> Tensors(string subset, ExpertTally tally)
    {
        string Name(string field) => $"{Prefix}{subset}/{field}";
        var routing = tally.Routing;
        int layers = routing.Layers, experts = routing.Experts;
        yield return (Name("summary"), tensor(new double[] { tally.Tokens, tally.Prompts, tally.Loss.Nats, tally.Loss.Tokens }),
            "tokens, prompts, next-token loss in nats (summed), predicted tokens [4]");
        yield return (Name("topk"), Matrix(routing.TopK), "top-k assignments per expert [L, E]");
        yield return (Name("top1"), Matrix(routing.Top1), "first choices per expert [L, E]");
        yield return (Name("gate_sum"), Matrix(routing.GateSum), "gate weights summed per expert [L, E]");
        yield return (Name("together"), tensor(routing.Together.SelectMany(m => m.SelectMany(r => r)).ToArray(), [layers, experts, experts]),
            "tokens that chose both experts a and b [L, E, E] (diagonal: chose a)");
        var choices = Enumerable.Range(0, layers).SelectMany(l => routing.Choices(l).OrderBy(c => c.Key).Select(c => new long[] { l, c.Key, c.Value })).ToList();
        yield return (Name("choices"), tensor(choices.SelectMany(c => c).ToArray(), [choices.Count, 3]),
            "ordered top-k choices: layer, key Σ(expertᵣ+1)(E+1)ʳ, tokens [M, 3]");
        foreach (var (field, counts) in new[] { ("by_input", tally.ByInput), ("by_predicted", tally.ByPredicted) })
        {
            if (counts is null) continue;
            var rows = Enumerable.Range(0, layers).SelectMany(l => counts.Tokens(l).Select(t => new long[] { l, t.TokenId }.Concat(t.TopK).Concat(t.Top1).ToArray())).ToList();
            yield return (Name(field), tensor(rows.SelectMany(r => r).ToArray(), [rows.Count, 2 + 2 * experts]),
                $"per layer and token id ({field[3..]}): layer, token, top-k counts [E], first-choice counts [E]");
            var occurrences = counts.Tokens(0).Select(t => new long[] { t.TokenId, t.Occurrences }).ToList();
            yield return (Name(field + "_occurrences"), tensor(occurrences.SelectMany(r => r).ToArray(), [occurrences.Count, 2]),
                "token id, occurrences [N, 2]");
        }
        if (tally.Norms is { } norms)
        {
            yield return (Name("norm_sum"), Matrix(norms.NormSum), "Σ ‖expert output‖ over the tokens that chose it [L, E]");
            yield return (Name("norm_count"), Matrix(norms.Count), "tokens that chose the expert [L, E]");
        }
        if (tally.Cosines is { } cosines)
            yield return (Name("cosines"), tensor(Enumerable.Range(0, layers)
                    .SelectMany(l => new double[] { cosines.CosineSum[l], cosines.ResidualCosineSum[l], cosines.Tokens[l] }).ToArray(), [layers, 3]),
                "per layer: Σ cosine, Σ residual cosine, tokens [L, 3]");
    }

    private static ExpertTally ReadTally(DumpReader reader, int layers, int experts, string subset, IReadOnlySet<string> stored)
    {
        string Name(string field) => $"{Prefix}{subset}/{field}";
        bool Has(string field) => stored.Contains(Name(field));
        long[] Longs(string field) { using var t = reader.LoadReduction(Name(field)); return t.to_type(ScalarType.Int64).data<long>().ToArray(); }
        double[] Doubles(string field) { using var t = reader.LoadReduction(Name(field)); return t.to_type(ScalarType.Float64).data<double>().ToArray(); }

        var options = new ExpertPassOptions { Vocabulary = Has("by_input"), OutputNorms = Has("norm_sum"), TopExpertCosines = Has("cosines") };
        var tally = new ExpertTally(layers, experts, options, () => new TopExpertCosines(layers, null));
        var summary = Doubles("summary");
        tally.Prompts = (int)summary[1];
        tally.Loss = new LossTally(summary[2], (long)summary[3]);
        var routing = tally.Routing;
        Fill(routing.TopK, Longs("topk"));
        Fill(routing.Top1, Longs("top1"));
        Fill(routing.GateSum, Doubles("gate_sum"));
        var together = Longs("together");
        for (int l = 0; l < layers; l++) Fill(routing.Together[l], together.AsSpan(l * experts * experts, experts * experts).ToArray());
        var choices = Longs("choices");
        for (int l = 0; l < layers; l++)
        {
            var rows = Enumerable.Range(0, choices.Length / 3).Where(i => choices[3 * i] == l).Select(i => (choices[3 * i + 1], choices[3 * i + 2]));
            routing.Restore((long)summary[0], l, rows);
        }
        foreach (var (field, counts) in new[] { ("by_input", tally.ByInput), ("by_predicted", tally.ByPredicted) })
        {
            if (counts is null) continue;
            var rows = Longs(field);
            int width = 2 + 2 * experts;
            for (int i = 0; i < rows.Length / width; i++)
            {
                var row = rows.AsSpan(i * width, width);
                counts.Restore((int)row[0], (int)row[1], row.Slice(2, experts).ToArray(), row.Slice(2 + experts, experts).ToArray());
            }
            var occurrences = Longs(field + "_occurrences");
            for (int i = 0; i < occurrences.Length / 2; i++) counts.RestoreOccurrences((int)occurrences[2 * i], occurrences[2 * i + 1]);
        }
        if (tally.Norms is { } norms)
        {
            Fill(norms.NormSum, Doubles("norm_sum"));
            Fill(norms.Count, Longs("norm_count"));
        }
        if (tally.Cosines is { } cosines)
        {
            var values = Doubles("cosines");
            for (int l = 0; l < layers; l++)
            {
                cosines.CosineSum[l] = values[3 * l];
                cosines.ResidualCosineSum[l] = values[3 * l + 1];
                cosines.Tokens[l] = (long)values[3 * l + 2];
            }
        }
        return tally;
    }

    private static ExpertPassOptions OptionsOf(ExpertTally tally) =>
        new() { Vocabulary = tally.ByInput is not null, OutputNorms = tally.Norms is not null, TopExpertCosines = tally.Cosines is not null };

    private static Tensor Matrix(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    private static Tensor Matrix(double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    private static void Fill<T>(T[][] rows, T[] flat)
    {
        int columns = rows[0].Length;
        if (flat.Length != rows.Length * columns) throw new ArgumentException($"A stored table has {flat.Length} values, expected {rows.Length} × {columns}.");
        for (int r = 0; r < rows.Length; r++) Array.Copy(flat, r * columns, rows[r], 0, columns);
    }

    /// <summary>Subset names usable in run ids and tensor names: letters, digits, '_' and '-' (others become '_'), unique.</summary>
    private static List<string> SafeNames(IReadOnlyList<string> names)
    {
        var safe = new List<string>();
        foreach (var name in names)
        {
            var candidate = Unsafe().Replace(name, "_");
            if (candidate.Length > 48) candidate = candidate[..48];
            var unique = candidate;
            for (int i = 2; safe.Contains(unique); i++) unique = $"{candidate}_{i}";
            safe.Add(unique);
        }
        return safe;
    }

    [GeneratedRegex("[^A-Za-z0-9_-]")]
    private static partial Regex Unsafe();
}
