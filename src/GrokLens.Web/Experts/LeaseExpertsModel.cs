using GrokLens.Engine;
using GrokLens.Model;
using GrokLens.Tokenization;
using GrokLens.Web.Models;

namespace GrokLens.Web.Experts;

/// <summary>A session's leased model as an analysis sees it: each piece of work takes its own turn in the server's compute queue.</summary>
public sealed class LeaseExpertsModel(ModelLease lease) : IExpertsModel
{
    public string Name => lease.Model.Name;
    public GrokConfig Config => lease.Model.Config;
    public ITokenizer? Tokenizer => lease.Model.Tokenizer;

    public Task<T> RunAsync<T>(Func<IModelEngine, T> work, CancellationToken cancellation) => lease.RunAsync(work, cancellation);
}
