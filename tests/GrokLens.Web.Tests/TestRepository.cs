using GrokLens.Web.Services;

namespace GrokLens.Web.Tests;

/// <summary>The repository the tests run in, and its embedded default model (required: a missing model fails loudly).</summary>
public static class TestRepository
{
    public const string ModelName = "grok-tiny";

    public static string Root { get; } = RepositoryLocator.FindRoot(AppContext.BaseDirectory);

    public static string ModelsFolder => Path.Combine(Root, "models");

    public static void RequireModel()
    {
        var folder = Path.Combine(ModelsFolder, ModelName);
        if (!File.Exists(Path.Combine(folder, "config.json")) || !File.Exists(Path.Combine(folder, "model.safetensors")))
            throw new InvalidOperationException(
                $"The web tests need the embedded model at {folder} (config.json, model.safetensors, vocab.json); it is missing.");
    }
}
