using GrokLens.Engine;
using GrokLens.Model;
using GrokLens.Tokenization;
using GrokLens.Web.Services;

namespace GrokLens.Web.Experts;

/// <summary>
/// The server's loaded model (<see cref="ModelHost"/>) as an analysis sees it: work queues on the host, and work refuses
/// to run once another session has switched the model, so an analysis never mixes two models' numbers.
/// </summary>
public sealed class HostExpertsModel : IExpertsModel
{
    private readonly ModelHost host;
    private readonly LoadedModel model;

    private HostExpertsModel(ModelHost host, LoadedModel model)
    {
        this.host = host;
        this.model = model;
    }

    public static async Task<HostExpertsModel> CurrentAsync(ModelHost host, CancellationToken cancellation = default) =>
        new(host, await host.UseAsync(m => m, cancellation));

    public string Name => model.Name;
    public GrokConfig Config => model.Config;
    public ITokenizer? Tokenizer => model.Tokenizer;

    public Task<T> RunAsync<T>(Func<LoadedModel, T> work, CancellationToken cancellation) =>
        host.UseAsync(current => ReferenceEquals(current, model)
            ? work(current)
            : throw new InvalidOperationException($"The workbench's model changed to '{current.Name}' while this analysis ran on '{model.Name}': run it again."),
            cancellation);
}
