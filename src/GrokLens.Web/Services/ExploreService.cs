using System.Runtime.CompilerServices;
using System.Threading.Channels;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Interventions;
using GrokLens.Web.Views;

namespace GrokLens.Web.Services;

/// <summary>
/// What the Explore page asks of the model: tokenize, analyse a sequence (optionally with interventions, for the later
/// Compare page), stream a generation, read one hook's values. All model work queues on the <see cref="ModelHost"/>.
/// </summary>
public sealed class ExploreService(ModelHost host)
{
    /// <summary>Encodes a prompt, refusing an empty one and one longer than the context with a clear message.</summary>
    public Task<IReadOnlyList<int>> TokenizeAsync(string prompt, CancellationToken cancellation = default)
    {
        if (string.IsNullOrWhiteSpace(prompt))
            throw new PromptException("The prompt is empty: type some text first.");
        PromptLimits.Check(prompt);
        return host.UseAsync(model =>
        {
            var ids = model.Encode(prompt);
            if (ids.Count > model.Config.MaxPositions)
                throw new PromptException(
                    $"The prompt is {ids.Count} tokens long; model '{model.Name}' takes at most {model.Config.MaxPositions} tokens.");
            return ids;
        }, cancellation);
    }

    /// <summary>Runs the sequence once, capturing what the views need, and builds their arrays.</summary>
    public Task<ExploreResult> AnalyseAsync(IReadOnlyList<int> tokenIds, int generatedFrom,
        IReadOnlyList<Intervention>? interventions = null, CancellationToken cancellation = default) =>
        host.UseAsync(model =>
        {
            cancellation.ThrowIfCancellationRequested();
            var options = new RunOptions { Capture = ExploreResultBuilder.RequiredHooks(model.Config.NumLayers) };
            using var run = interventions is { Count: > 0 }
                ? InterventionRunner.Run(model, tokenIds, interventions, options)
                : model.Run(tokenIds, options);
            return ExploreResultBuilder.Build(model, run, generatedFrom);
        }, cancellation);

    /// <summary>The values of one hook over the sequence (flattened), for the histogram.</summary>
    public Task<float[]> HookValuesAsync(IReadOnlyList<int> tokenIds, string hookName, CancellationToken cancellation = default) =>
        host.UseAsync(model =>
        {
            if (!model.HookNames.Contains(hookName))
                throw new ArgumentException($"Hook '{hookName}' does not exist in model '{model.Name}'.");
            using var run = model.Run(tokenIds, RunOptions.CaptureOnly(hookName));
            using var values = run.Cache[hookName].to_type(TorchSharp.torch.ScalarType.Float32).flatten();
            return values.data<float>().ToArray();
        }, cancellation);

    /// <summary>Hook names of the loaded model, for the histogram's picker.</summary>
    public Task<IReadOnlyList<string>> HookNamesAsync() => host.UseAsync(model => model.HookNames);

    /// <summary>
    /// Streams generated tokens as they are chosen. The model stays reserved for this generation until it ends or
    /// <paramref name="cancellation"/> fires (checked before every token).
    /// </summary>
    public async IAsyncEnumerable<TokenView> GenerateAsync(IReadOnlyList<int> prompt, SamplingOptions sampling,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        sampling.Validated();
        // Also stops the generation when the reader walks away without cancelling (the model lock must come back).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // Capacity 1: generation waits for the reader, so a cancelled reader stops it within a token or two.
        var channel = Channel.CreateBounded<TokenView>(1);
        var work = host.UseAsync(model =>
        {
            try
            {
                foreach (var token in TextGenerator.Generate(model, prompt, sampling, stop.Token))
                {
                    string display = model.Tokenizer?.DisplayPiece(token.Id) ?? $"#{token.Id}";
                    channel.Writer.WriteAsync(new TokenView(token.Position, token.Id, display, display, true), stop.Token)
                        .AsTask().GetAwaiter().GetResult();
                }
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
            return 0;
        }, stop.Token);
        // A generation cancelled while still queued never starts: end the stream with its outcome.
        _ = work.ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException
            ?? (t.IsCanceled ? new OperationCanceledException(cancellation) : null)), TaskScheduler.Default);
        try
        {
            await foreach (var token in channel.Reader.ReadAllAsync(CancellationToken.None))
                yield return token;
        }
        finally
        {
            stop.Cancel();
            try
            {
                await work;
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                // The reader stopped early on its own: nothing to report.
            }
        }
    }
}

/// <summary>A prompt the workbench refuses (empty, too long); the message is meant for the user.</summary>
public sealed class PromptException(string message) : ArgumentException(message);
