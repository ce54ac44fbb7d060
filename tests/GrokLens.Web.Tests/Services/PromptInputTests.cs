using GrokLens.Web.Models;
using GrokLens.Web.Services;

namespace GrokLens.Web.Tests.Services;

/// <summary>Prompts for a model without a tokenizer (tests/fixtures/grok1-mini) are token ids; text models read text.</summary>
[Collection(ModelCollection.Name)]
public sealed class PromptInputTests(ModelFixture fixture) : IAsyncLifetime
{
    private ModelRegistry fixtures = null!;
    private ModelLease mini = null!;

    public async Task InitializeAsync()
    {
        fixtures = ModelFixture.NewRegistry(Path.Combine(TestRepository.Root, "tests", "fixtures"));
        mini = await fixtures.AcquireAsync("grok1-mini");
    }

    [Fact]
    public async Task AModelWithoutATokenizerTakesTokenIdsAndRunsThem()
    {
        Assert.Null(mini.Model.Tokenizer);
        Assert.StartsWith("Token ids (model grok1-mini has no tokenizer)", PromptInput.Label(mini.Model));
        Assert.Equal("Prompt", PromptInput.Label(fixture.Model.Model));
        Assert.Equal([243, 263, 387, 486, 20, 76], PromptInput.Encode(mini.Model, "243, 263 387;486\n#20 #76"));

        // The views are built for it, labelled by id.
        var result = await fixture.Service.AnalyseAsync(mini, [243, 263, 387], 3);
        Assert.Equal(["#243", "#263", "#387"], result.Tokens.Select(t => t.Display));
        Assert.Equal(2, result.Layers);
    }

    [Theory]
    [InlineData("", "The prompt is empty: type some token ids first.")]
    [InlineData("12, seven", "Model 'grok1-mini' has no tokenizer: type the prompt as token ids such as 12, 7, 99 ('seven' is not one).")]
    [InlineData("12, 512", "Token id 512 in the prompt is outside the vocabulary 0…511.")]
    [InlineData("-1", "Model 'grok1-mini' has no tokenizer: type the prompt as token ids such as 12, 7, 99 ('-1' is not one).")]
    public void BadTokenIdsAreRefusedWithTheReason(string prompt, string message) =>
        Assert.Equal(message, Assert.Throws<PromptException>(() => PromptInput.Encode(mini.Model, prompt)).Message);

    [Fact]
    public void TargetsOfAModelWithoutATokenizerAreIds()
    {
        Assert.Equal(7, PromptInput.Token(mini.Model, "#7", "target"));
        Assert.Contains("type the target as #id (0…511)", Assert.Throws<PromptException>(() => PromptInput.Token(mini.Model, "cat", "target")).Message);
        var tooLong = Assert.Throws<PromptException>(() => PromptInput.Encode(mini.Model, string.Join(",", Enumerable.Repeat(1, 257))));
        Assert.Equal("The prompt is 257 tokens long; model 'grok1-mini' takes at most 256 tokens.", tooLong.Message);
    }

    public Task DisposeAsync()
    {
        mini.Dispose();
        fixtures.Dispose();
        return Task.CompletedTask;
    }
}
