namespace GrokLens.Web.Models;

/// <summary>Reports on the reporting thread (<see cref="Progress{T}"/> would post to a captured context, or the thread pool).</summary>
public sealed class ActionProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
