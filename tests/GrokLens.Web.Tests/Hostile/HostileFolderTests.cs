using GrokLens.Web.Compare;
using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Hostile;

/// <summary>
/// Links inside the models, dumps and experiments folders that lead out of them are refused (never read or written),
/// and concurrent saves of one experiment name all succeed.
/// </summary>
public sealed class HostileFolderTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("groklens-hostile-folders-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(root, name)).FullName;

    /// <summary>A file outside every served folder, with content a link could leak.</summary>
    private string Secret()
    {
        var path = Path.Combine(Folder("elsewhere"), "secret.json");
        File.WriteAllText(path, """{"prompt": "secret", "interventions": []}""");
        return path;
    }

    [Fact]
    public void AnExperimentLinkedOutsideTheFolderIsNeitherListedNorReadNorWritten()
    {
        var experiments = Folder("experiments");
        var secret = Secret();
        File.CreateSymbolicLink(Path.Combine(experiments, "leak.json"), secret);
        File.CreateSymbolicLink(Path.Combine(experiments, "passwd.json"), "/etc/passwd");
        var store = new ExperimentStore(experiments);

        Assert.Empty(store.List());
        var read = Assert.Throws<ArgumentException>(() => store.Load("leak"));
        Assert.Equal("The experiment 'leak' is refused: its file is a link to a place outside the experiments folder.", read.Message);
        Assert.Throws<ArgumentException>(() => store.Load("passwd"));
        Assert.Throws<ArgumentException>(() => store.Save("leak", new Experiment("x", null, null, null, [])));
        Assert.Contains("secret", File.ReadAllText(secret)); // untouched

        // A link that stays inside the folder is fine.
        store.Save("real", new Experiment("inside", null, null, null, []));
        File.CreateSymbolicLink(Path.Combine(experiments, "alias.json"), Path.Combine(experiments, "real.json"));
        Assert.Equal("inside", store.Load("alias").Prompt);
    }

    [Fact]
    public void AModelFolderWithAWeightFileLinkedOutsideIsRefused()
    {
        var models = Folder("models");
        var model = Directory.CreateDirectory(Path.Combine(models, "sneaky")).FullName;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName)))
            File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        File.Delete(Path.Combine(model, "config.json"));
        File.CreateSymbolicLink(Path.Combine(model, "config.json"), Secret());
        Directory.CreateSymbolicLink(Path.Combine(models, "linked"), Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName));
        var catalog = new ModelCatalog(models);

        Assert.Equal(["sneaky"], catalog.List()); // the linked folder is left out; the sneaky one is refused when picked
        var error = Assert.Throws<ArgumentException>(() => catalog.Resolve("sneaky"));
        Assert.StartsWith("Model 'sneaky' is refused: 'sneaky/config.json' is a link to a place outside the models folder", error.Message);
        Assert.DoesNotContain(root, error.Message); // no server paths
        Assert.Throws<ArgumentException>(() => catalog.Resolve("linked"));
    }

    [Fact]
    public void ADumpLinkedOutsideTheFolderIsRefused()
    {
        var dumps = Folder("dumps");
        var outside = Path.Combine(Folder("elsewhere-dumps"), "d.zip");
        File.WriteAllBytes(outside, [0x50, 0x4B, 5, 6]);
        File.CreateSymbolicLink(Path.Combine(dumps, "d.zip"), outside);
        var catalog = new DumpCatalog(dumps);
        Assert.Empty(catalog.List());
        var error = Assert.Throws<ArgumentException>(() => catalog.Resolve("d.zip"));
        Assert.Equal("Dump 'd.zip' is refused: 'd.zip' is a link to a place outside the dumps folder, and GrokLens opens dumps only from inside it.",
            error.Message);
    }

    [Fact]
    public async Task ConcurrentSavesOfOneNameAllSucceedAndLeaveOneWholeFile()
    {
        var experiments = Folder("experiments");
        var store = new ExperimentStore(experiments);
        var saves = Enumerable.Range(0, 16).Select(i => Task.Run(() => store.Save("same", new Experiment($"prompt {i}", null, null, null, []))));
        await Task.WhenAll(saves); // a fixed temporary name made all but one fail with FileNotFoundException
        Assert.Matches(@"^prompt \d+$", store.Load("same").Prompt);
        Assert.Equal(["same.json"], Directory.GetFiles(experiments).Select(Path.GetFileName));
    }
}
