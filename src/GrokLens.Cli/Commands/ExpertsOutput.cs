using System.CommandLine;
using System.Text.Json;
using GrokLens.Analysis.Experts;
using GrokLens.Engine;

namespace GrokLens.Cli.Commands;

/// <summary>A subset as the output lists it.</summary>
internal sealed record ExpertsSubsetInfo(string Name, int Prompts, long Tokens)
{
    public static IReadOnlyList<ExpertsSubsetInfo>? Of(ExpertCorpus? corpus) =>
        corpus?.Subsets.Select(s => new ExpertsSubsetInfo(s.Name, s.Prompts.Count, s.Tokens)).ToList();

    public static IReadOnlyList<ExpertsSubsetInfo> Of(ExpertTallies tallies) =>
        tallies.Subsets.Select(s => new ExpertsSubsetInfo(s.Subset, s.Tally.Prompts, s.Tally.Tokens)).ToList();
}

/// <summary>What every <c>groklens experts</c> JSON output holds: the analysis, model, corpus and the result.</summary>
internal sealed record ExpertsDocument(string Analysis, string Model, IReadOnlyList<ExpertsSubsetInfo>? Corpus, object Result);

/// <summary>Writes an analysis as JSON or CSV, to standard output or to --out.</summary>
internal static class ExpertsOutput
{
    public static void Write(CliIO io, ParseResult parse, ExpertsOptions options, string analysis, IModelEngine model, ExpertCorpus? corpus,
        object result, IReadOnlyList<ResultTable> tables) =>
        Write(io, parse, options, analysis, model.Name, ExpertsSubsetInfo.Of(corpus), result, tables);

    /// <param name="model">The model's name, or what the analysis read instead.</param>
    public static void Write(CliIO io, ParseResult parse, ExpertsOptions options, string analysis, string model, IReadOnlyList<ExpertsSubsetInfo>? corpus,
        object result, IReadOnlyList<ResultTable> tables)
    {
        string? output = parse.GetValue(options.Out);
        if (parse.GetValue(options.Format) == "csv")
        {
            if (output is null)
            {
                var name = parse.GetValue(options.Table);
                var table = name is null ? tables[0] : tables.FirstOrDefault(t => t.Name == name)
                    ?? throw new UsageException($"no table '{name}'; this analysis has {string.Join(", ", tables.Select(t => t.Name))}.");
                table.WriteCsv(io.Out);
                return;
            }
            Directory.CreateDirectory(output);
            foreach (var table in tables) WriteAtomically(Path.Combine(output, table.Name + ".csv"), table.WriteCsv);
            io.Error.WriteLine($"{tables.Count} tables in {Path.GetFullPath(output)}: {string.Join(", ", tables.Select(t => t.Name + ".csv"))}");
            return;
        }
        var document = new ExpertsDocument(analysis, model, corpus, result);
        var json = JsonSerializer.Serialize(document, ExpertJson.Options);
        if (output is null) io.Out.WriteLine(json);
        else
        {
            WriteAtomically(output, writer => writer.WriteLine(json));
            io.Error.WriteLine($"{analysis} written to {Path.GetFullPath(output)}");
        }
    }

    /// <summary>Writes under a temporary name, then renames: an interrupted write never leaves half a file.</summary>
    private static void WriteAtomically(string path, Action<TextWriter> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary)) write(writer);
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>
/// Runs an analysis with a progress line on stderr ("[####----] 12/100 runs · stage · tokens/s · ETA") and Ctrl-C as
/// cancellation (exit code 130).
/// </summary>
internal static class ExpertsRun
{
    public static T WithProgress<T>(CliIO io, Func<IProgress<ExpertProgress>, CancellationToken, T> analysis)
    {
        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // Stop after the current run; the analysis throws OperationCanceledException.
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var line = new ProgressLine<ExpertProgress>(io.Error, Render, p => p.Done >= p.Total);
        try
        {
            return analysis(line, cancellation.Token);
        }
        finally
        {
            line.End();
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string Render(ExpertProgress p)
    {
        double seconds = p.Elapsed.TotalSeconds;
        string rate = seconds > 0 ? $"{Format.Number(p.Tokens / seconds, "0")} tokens/s" : "– tokens/s";
        return $"{ProgressLine<ExpertProgress>.Bar(p.Done, p.Total)} {p.Done}/{p.Total} runs · {p.Stage} · {rate} · " +
               $"ETA {ProgressLine<ExpertProgress>.Eta(p.Elapsed, p.Done, p.Total)}    ";
    }
}
