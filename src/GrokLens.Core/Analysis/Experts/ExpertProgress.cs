namespace GrokLens.Analysis.Experts;

/// <param name="Stage">What is running, e.g. "routing", "ban expert 3 of layer 0".</param>
/// <param name="Done">Runs finished in the whole analysis (all its passes).</param>
/// <param name="Total">Runs the whole analysis makes.</param>
/// <param name="Tokens">Tokens run so far.</param>
/// <param name="Elapsed">Time since the analysis started.</param>
public sealed record ExpertProgress(string Stage, int Done, int Total, long Tokens, TimeSpan Elapsed);

/// <summary>Counts runs over the passes of one analysis and reports them.</summary>
internal sealed class ProgressCounter(IProgress<ExpertProgress>? progress, int totalRuns)
{
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private int done;
    private long tokens;

    public void Start(string stage) => progress?.Report(new ExpertProgress(stage, done, totalRuns, tokens, clock.Elapsed));

    public void RunDone(string stage, int length)
    {
        done++;
        tokens += length;
        progress?.Report(new ExpertProgress(stage, done, totalRuns, tokens, clock.Elapsed));
    }
}
