using Microsoft.Extensions.Options;
using GrokLens.Web.Services;

namespace GrokLens.Web.Models;

/// <summary>
/// The model one browser session works with (scoped to its Blazor circuit, shared by its pages): the name it chose and
/// the model object last leased for it. Other sessions choose their own; loading one never switches another's.
/// </summary>
public sealed class SessionModel(ModelRegistry registry, IOptions<WorkbenchOptions> options)
{
    private IWorkbenchModel? last;

    public ModelRegistry Registry { get; } = registry;

    /// <summary>The session's model, by catalogue name (the configured default until the session loads another).</summary>
    public string Name { get; private set; } = options.Value.DefaultModel;

    /// <summary>The session's model when resident, else the object last leased for it (its facts stay true), else null.</summary>
    public IWorkbenchModel? Model => Registry.Peek(Name) ?? (last?.Name == Name ? last : null);

    public event Action? Changed;

    /// <summary>A lease on the session's model, loading it again if it was unloaded to make room.</summary>
    public async Task<ModelLease> AcquireAsync(IProgress<ModelWait>? wait = null, CancellationToken cancellation = default)
    {
        var lease = await Registry.AcquireAsync(Name, wait, cancellation);
        last = lease.Model;
        return lease;
    }

    /// <summary>Makes <paramref name="name"/> this session's model once it is loaded; a failed load leaves the session on its model.</summary>
    public async Task SwitchAsync(string name, IProgress<ModelWait>? wait = null, CancellationToken cancellation = default)
    {
        using (var lease = await Registry.AcquireAsync(name, wait, cancellation))
        {
            Name = name;
            last = lease.Model;
        }
        Changed?.Invoke();
    }
}
