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
        Assert.Contains(TestRepository.ModelsFolder, error.Message);
    }
}
