using GrokLens.Generation;
using GrokLens.Web.Models;
using GrokLens.Web.Services;
using Microsoft.Extensions.DependencyInjection;

namespace GrokLens.Web.Tests.Browser;

/// <summary>
/// Eight browser sessions share the server: four on grok-tiny with text prompts, four on grok1-mini (no tokenizer) with
/// token-id prompts, and one of them loads a third model (grok-tiny-twin) while the others' runs wait in the queue.
/// Every session's run and generation must equal what the same work gives alone, and no generation may be lost.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class MultiSessionBrowserTests(BrowserFixture fixture)
{
    private const int MaxTokens = 8;

    /// <summary>One session's model, prompt (text, or token ids for grok1-mini) and seed.</summary>
    private sealed record SessionPlan(string Model, string Prompt, int Seed);

    /// <summary>What the session must show: its tokens (prompt, then generated) and the router's experts per (layer, token).</summary>
    private sealed record Baseline(int[] PromptIds, int[] Generated, Dictionary<(int Layer, int Token), string> PromptExperts,
        Dictionary<(int Layer, int Token), string> AllExperts);

    private static readonly SessionPlan[] Plans =
    [
        new(TestRepository.ModelName, "The cat sat on the mat, and the dog sat on the log.", 1),
        new(TestRepository.ModelName, "Once upon a time a little river ran through a green valley.", 2),
        new(TestRepository.ModelName, "The children came to the bank every morning to watch the fish.", 3),
        new(TestRepository.ModelName, "A mill stood by the old stone bridge, and its wheel turned all day.", 4),
        new(BrowserFixture.MiniModel, "5, 17, 300, 42, 9, 100, 7", 5),
        new(BrowserFixture.MiniModel, "243, 263, 387, 486, 20, 76", 6),
        new(BrowserFixture.MiniModel, "1 2 3 4 5 6 7 8 9 10 11 12", 7),
        new(BrowserFixture.MiniModel, "#511 #0 #256 #128 #64", 8),
    ];

    /// <summary>The session's work done alone through the services: run, generation with its seed, run over both.</summary>
    private async Task<Baseline> SoloAsync(SessionPlan plan)
    {
        var explore = fixture.Services.GetRequiredService<ExploreService>();
        using var model = await fixture.Services.GetRequiredService<ModelRegistry>().AcquireAsync(plan.Model);
        var ids = explore.Tokenize(model.Model, plan.Prompt);
        var run = await explore.AnalyseAsync(model, ids, ids.Count);
        var generated = new List<int>();
        await foreach (var token in explore.GenerateAsync(model, ids, Sampling(plan))) generated.Add(token.Id);
        var all = await explore.AnalyseAsync(model, [.. ids, .. generated], ids.Count);
        static Dictionary<(int, int), string> Experts(GrokLens.Web.Views.ExploreResult result) =>
            Enumerable.Range(0, result.Layers).SelectMany(l => Enumerable.Range(0, result.Length)
                .Select(t => (Key: (l, t), Value: string.Join(",", result.ChosenExperts[l][t])))).ToDictionary(x => x.Key, x => x.Value);
        return new Baseline([.. ids], [.. generated], Experts(run), Experts(all));
    }

    private static SamplingOptions Sampling(SessionPlan plan) => new() { MaxNewTokens = MaxTokens, Temperature = 0.8, TopP = 0.95, Seed = plan.Seed };

    private static async Task<Dictionary<(int Layer, int Token), string>> ShownExpertsAsync(WorkbenchPage session) =>
        (await session.Page.Locator("[data-view='router-grid'] td[data-layer]").EvaluateAllAsync<string[][]>(
            "cells => cells.map(c => [c.dataset.layer, c.dataset.token, c.dataset.experts])"))
        .ToDictionary(c => (int.Parse(c[0]), int.Parse(c[1])), c => c[2]);

    [Fact]
    public async Task EightSessionsOnTwoModelsGetTheirSoloResultsWhileOneLoadsAThirdModel()
    {
        var baselines = new List<Baseline>();
        foreach (var plan in Plans) baselines.Add(await SoloAsync(plan));

        var sessions = new List<WorkbenchPage>();
        try
        {
            for (int i = 0; i < Plans.Length; i++)
            {
                var session = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
                sessions.Add(session);
                if (Plans[i].Model != TestRepository.ModelName) await session.LoadModelAsync(Plans[i].Model);
                Assert.Contains(Plans[i].Model == BrowserFixture.MiniModel ? "Token ids" : "Prompt",
                    await session.Page.Locator("label[for='prompt'], #prompt label, .mud-input-label").First.InnerTextAsync());
                await session.SetPromptAsync(Plans[i].Prompt);
                await session.SetNumberAsync("max-tokens", $"{MaxTokens}");
                await session.SetNumberAsync("seed", $"{Plans[i].Seed}");
            }

            // grok-tiny is busy with a held turn and the server computes one model at a time (ComputeSlots 1 in this
            // fixture): every Run queues, and each session shows its own place.
            using var tiny = await fixture.Services.GetRequiredService<ModelRegistry>().AcquireAsync(TestRepository.ModelName);
            await using (var turns = new HeldTurns(tiny))
            {
                await turns.HoldAsync();
                // One after the other, so each place is known: the held turn runs, session i is i-th in line.
                for (int i = 1; i < sessions.Count; i++)
                {
                    await sessions[i].Page.ClickAsync("#run-button");
                    await sessions[i].Page.Locator($"#queue-place[data-ahead='{i}']").WaitForAsync();
                }

                // Meanwhile session 0 loads a third model (the twin: grok-tiny's weights in another folder) and queues a run on it.
                await sessions[0].LoadModelAsync(BrowserFixture.TwinModel);
                await sessions[0].Page.ClickAsync("#run-button");
                await sessions[0].Page.Locator($"#queue-place[data-ahead='{sessions.Count}']").WaitForAsync();
                await sessions[0].Page.WaitUntilAsync("() => document.querySelectorAll('#resident-models tr[data-model]').length == 3");

                // Nobody's place moved, and nothing ran.
                for (int i = 1; i < sessions.Count; i++)
                    Assert.Equal($"{i}", await sessions[i].Page.Locator("#queue-place").GetAttributeAsync("data-ahead"));
                foreach (var session in sessions) Assert.Equal(0, await session.Page.Locator("[data-view='router-grid']").CountAsync());
                var last = sessions[^1];
                await last.Page.Locator("#workbench .view-card").First.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "queue-eight-sessions.png") });
                await sessions[0].ScreenshotCardAsync("model-panel", Path.Combine(fixture.ScreenshotFolder, "model-panel-three-resident.png"));
            }
            await Task.WhenAll(sessions.Select(s => s.WaitForViewsAsync(1)));

            // Every run equals its solo baseline (session 0 ran on the twin, whose weights are grok-tiny's).
            for (int i = 0; i < sessions.Count; i++)
            {
                Assert.Equal(baselines[i].PromptIds, await sessions[i].TokenIdsAsync());
                Assert.Equal(baselines[i].PromptExperts, await ShownExpertsAsync(sessions[i]));
            }
            Assert.Equal(BrowserFixture.TwinModel, await sessions[0].TextOfAsync("#model-name"));

            // All eight generate at once: their steps interleave token by token in the queue, and each gets its own tokens.
            await Task.WhenAll(sessions.Select(s => s.Page.ClickAsync("#generate-button")));
            await Task.WhenAll(sessions.Select(s => s.WaitForViewsAsync(2)));
            for (int i = 0; i < sessions.Count; i++)
            {
                var expected = baselines[i];
                int[] shown = await sessions[i].TokenIdsAsync();
                Assert.Equal(expected.PromptIds.Concat(expected.Generated), shown);
                Assert.Equal(expected.AllExperts, await ShownExpertsAsync(sessions[i]));
                Assert.Equal($"{expected.PromptIds.Length} prompt + {expected.Generated.Length} generated tokens", await sessions[i].TextOfAsync("#status"));
                Assert.Equal(0, await sessions[i].Page.Locator(".mud-snackbar.mud-alert-filled-error").CountAsync());
            }
        }
        finally
        {
            foreach (var session in sessions) await session.Page.Context.CloseAsync();
        }
    }
}
