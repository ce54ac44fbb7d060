using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GrokLens.Engine;
using GrokLens.Generation;

namespace GrokLens.Cli.Commands;

/// <summary><c>groklens generate</c>: continues a prompt, streaming each token to stdout as it is chosen.</summary>
public static class GenerateCommand
{
    public static Command Create(CliIO io)
    {
        var model = CommonOptions.Model();
        var prompt = CommonOptions.Prompt();
        var tokenIds = CommonOptions.TokenIds();
        var maxTokens = new Option<int>("--max-tokens", "-n")
        {
            Description = "How many tokens to generate at most (stops early at end-of-sequence).",
            DefaultValueFactory = _ => 32,
        };
        var temperature = new Option<double>("--temperature")
        {
            Description = "Sampling temperature; 0 is greedy.",
            DefaultValueFactory = _ => 1.0,
        };
        var topK = new Option<int>("--top-k") { Description = "Keep only the k most likely tokens; 0 keeps all." };
        var topP = new Option<double>("--top-p")
        {
            Description = "Nucleus sampling: keep the most likely tokens up to this probability; 1 keeps all.",
            DefaultValueFactory = _ => 1.0,
        };
        var seed = new Option<int>("--seed") { Description = "Random seed: same seed, same tokens." };
        var device = CommonOptions.Device();
        var weights = CommonOptions.Weights();
        var cluster = CommonOptions.Cluster();

        var command = new Command("generate", "Continue a prompt, streaming tokens as they are produced.")
        {
            model, prompt, tokenIds, maxTokens, temperature, topK, topP, seed, device, weights, cluster,
        };
        command.SetAction(parse =>
        {
            var sampling = new SamplingOptions
            {
                MaxNewTokens = parse.GetValue(maxTokens),
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                Seed = parse.GetValue(seed),
            };
            return Run(io, parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(tokenIds), sampling,
                parse.GetValue(device)!, parse.GetValue(weights)!, parse.GetValue(cluster));
        });
        return command;
    }

    private static int Run(CliIO io, string modelPath, string? prompt, string? tokenIds, SamplingOptions sampling,
        string device, string weights, string? cluster)
    {
        CommonOptions.RequireOnePrompt(prompt, tokenIds);
        sampling.Validated();
        using var handle = EngineHandle.Open(modelPath, cluster, device, weights);
        var loaded = handle.Engine;
        var ids = CommonOptions.PromptTokens(loaded, prompt, tokenIds);

        using var cancellation = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // Let the loop stop between tokens and report, instead of killing the process.
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var writer = new TokenWriter(io.Out, loaded, ids);
        var clock = Stopwatch.StartNew();
        double firstTokenSeconds = 0;
        int count = 0;
        bool interrupted = false;
        try
        {
            foreach (var token in loaded.Generate(ids, sampling, cancellation: cancellation.Token))
            {
                if (count++ == 0) firstTokenSeconds = clock.Elapsed.TotalSeconds;
                writer.Add(token.Id);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            interrupted = true;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        writer.Finish();
        double seconds = clock.Elapsed.TotalSeconds;
        // Tokens after the first are pure KV-cached decoding steps; the first includes the prompt pass.
        string decodeRate = count > 1
            ? $", {Format.Number((count - 1) / (seconds - firstTokenSeconds), "0.0")} tokens/s after the first"
            : "";
        io.Error.WriteLine($"{(interrupted ? "interrupted: " : "")}{count} token{(count == 1 ? "" : "s")} in " +
                           $"{Format.Number(seconds, "0.00")} s ({Format.Number(count / Math.Max(seconds, 1e-9), "0.0")} tokens/s; " +
                           $"prompt of {ids.Count} + first token {Format.Number(firstTokenSeconds * 1000, "0")} ms{decodeRate})");
        return interrupted ? CliApp.Interrupted : CliApp.Ok;
    }

    /// <summary>
    /// Writes tokens as they come: decoded text when the model has a tokenizer (decoding prompt + generated so that
    /// word-leading spaces come out right, holding back incomplete UTF-8), else the ids separated by spaces.
    /// </summary>
    private sealed class TokenWriter(TextWriter output, IModelEngine model, IReadOnlyList<int> prompt)
    {
        private readonly List<int> all = [.. prompt];
        private readonly string promptText = model.Tokenizer?.Decode(prompt) ?? "";
        private int generated;
        private int printed;

        public void Add(int id)
        {
            all.Add(id);
            if (model.Tokenizer is null)
            {
                output.Write((generated++ == 0 ? "" : " ") + id.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                generated++;
                WriteText(final: false);
            }
            output.Flush();
        }

        public void Finish()
        {
            if (model.Tokenizer is not null) WriteText(final: true);
            if (generated > 0) output.WriteLine();
            output.Flush();
        }

        private void WriteText(bool final)
        {
            var text = model.Tokenizer!.Decode(all);
            var tail = text.StartsWith(promptText, StringComparison.Ordinal)
                ? text[promptText.Length..]
                : model.Tokenizer.Decode(all.Skip(prompt.Count));
            int ready = tail.Length;
            if (!final)
                while (ready > 0 && tail[ready - 1] == '\uFFFD') ready--; // A multi-byte character still arriving.
            if (ready > printed)
            {
                output.Write(tail[printed..ready]);
                printed = ready;
            }
        }
    }
}
