using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Services;

public sealed class ModelCatalogTests
{
    private readonly ModelCatalog catalog = new(TestRepository.ModelsFolder);

    [Fact]
    public void ListsOnlyModelFoldersOfTheModelsFolder()
    {
        TestRepository.RequireModel();
        var names = catalog.List();

        Assert.Contains(TestRepository.ModelName, names);
        Assert.DoesNotContain("grok1-tokenizer", names);   // a folder without config.json is no model
        Assert.Equal(Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName), catalog.Resolve(TestRepository.ModelName));
    }

    [Theory]
    [InlineData("../tests/fixtures/grok1-mini")]
    [InlineData("..")]
    [InlineData("/etc")]
    [InlineData("grok-tiny/../grok-tiny")]
    [InlineData("grok1-tokenizer")]
    [InlineData("")]
    public void RefusesAnythingButAListedFolderName(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => catalog.Resolve(name));
        Assert.Contains("the models folder", error.Message);
        Assert.DoesNotContain(TestRepository.ModelsFolder, error.Message); // no server paths in messages
    }

    [Fact]
    public async Task ListsAndLoadsEveryCheckpointFormatTheLoaderReads()
    {
        var root = Path.Combine(Path.GetTempPath(), $"groklens-models-{Guid.NewGuid():N}");
        try
        {
            var fixture = Path.Combine(TestRepository.Root, "tests", "fixtures", "grok1-mini");
            Directory.CreateDirectory(Path.Combine(root, "as-safetensors"));
            foreach (var file in new[] { "config.json", "model.safetensors" })
                File.Copy(Path.Combine(fixture, file), Path.Combine(root, "as-safetensors", file));
            Directory.CreateDirectory(Path.Combine(root, "as-gguf"));
            File.Copy(Path.Combine(fixture, "model.gguf"), Path.Combine(root, "as-gguf", "model.gguf"));
            Directory.CreateDirectory(Path.Combine(root, "as-xai-raw", "ckpt-0"));
            Directory.CreateDirectory(Path.Combine(root, "empty"));
            Directory.CreateDirectory(Path.Combine(root, "notes"));
            File.WriteAllText(Path.Combine(root, "notes", "README.md"), "not a model");

            var models = new ModelCatalog(root);
            Assert.Equal(["as-gguf", "as-safetensors", "as-xai-raw"], models.List());

            // Each is loaded (and its memory estimated before loading) through the registry the workbench uses.
            using var registry = ModelFixture.NewRegistry(root);
            using (var gguf = await registry.AcquireAsync("as-gguf"))
                Assert.StartsWith("gguf", gguf.Model.Info.CheckpointFormat);
            using (var safetensors = await registry.AcquireAsync("as-safetensors"))
                Assert.StartsWith("safetensors", safetensors.Model.Info.CheckpointFormat);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
