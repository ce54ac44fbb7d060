using System.IO.Compression;
using System.Text.Json;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Web.Services;
using GrokLens.Web.Views;
using Microsoft.Extensions.Options;

namespace GrokLens.Web.Tests.Services;

[Collection(ModelCollection.Name)]
public sealed class DumpServiceTests(ModelFixture fixture) : IDisposable
{
    private readonly string dumpsFolder = Directory.CreateTempSubdirectory("groklens-dumps-test-").FullName;

    private DumpService Service(long maxUploadBytes = 200L << 20) => fixture.DumpService(dumpsFolder, maxUploadBytes);

    private DumpDownloadRequest Request => new([new DumpDownloadRun("run0", fixture.TokenIds, ModelFixture.Prompt, [])], fixture.Model.Model, "test-session", DateTimeOffset.MaxValue);

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }

    /// <summary>Every array of the view model, NaN (blanked scores) included, so two results compare as text.</summary>
    private static string Json<T>(T result) =>
        JsonSerializer.Serialize(result, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });

    [Fact]
    public async Task DumpOfARunOpensIntoExactlyTheViewModelOfThatRun()
    {
        // One run: the live view model and the dump come from the same tensors, so they must match bit for bit.
        var (live, zip) = await fixture.Model.RunAsync(model =>
        {
            using var run = model.Run(fixture.TokenIds, RunOptions.CaptureOnly("*"));
            var stream = new MemoryStream();
            DumpWriter.WriteZip(stream, model, [DumpWriter.FromRun(model, run, prompt: ModelFixture.Prompt)]);
            return (ExploreResultBuilder.Build(model, run, fixture.TokenIds.Count), stream.ToArray());
        });

        using var dump = await Service().OpenUploadAsync(new MemoryStream(zip), zip.Length, "run.zip");

        Assert.Equal(fixture.TokenIds, dump.Run.TokenIds);
        Assert.Equal(ModelFixture.Prompt, dump.Run.Prompt);
        Assert.Empty(dump.Result.Unavailable);
        Assert.Equal(Json(live), Json(dump.Result));
    }

    [Fact]
    public async Task DownloadedDumpShowsTheSessionsRun()
    {
        var service = Service();
        var zip = ReadAll(await service.WriteZipAsync(Request, DumpService.ParsePatterns("all")));

        using var dump = await service.OpenUploadAsync(new MemoryStream(zip), zip.Length, "run.zip");

        // The download runs the sequence again (through the model host): same labels and choices, values to float noise.
        Assert.Empty(dump.Result.Unavailable);
        Assert.Equal(fixture.Result.Labels, dump.Result.Labels);
        Assert.Equal(Json(fixture.Result.ChosenExperts), Json(dump.Result.ChosenExperts));
        Assert.Equal(Json(fixture.Result.Lens.Select(s => s.Select(p => p[0].Id))), Json(dump.Result.Lens.Select(s => s.Select(p => p[0].Id))));
        AssertClose(fixture.Result.Pattern.SelectMany(l => l.SelectMany(h => h.SelectMany(r => r))), dump.Result.Pattern.SelectMany(l => l.SelectMany(h => h.SelectMany(r => r))));
        AssertClose(fixture.Result.ResidualNorm.SelectMany(r => r), dump.Result.ResidualNorm.SelectMany(r => r));
        // The histogram reads the dump: the values the dump holds for that hook.
        var hook = HookPoints.Layer(1, HookPoints.ResidPost);
        AssertClose(await fixture.Service.HookValuesAsync(fixture.Model, fixture.TokenIds, hook), dump.HookValues(hook));
    }

    private static void AssertClose(IEnumerable<float> expected, IEnumerable<float> actual)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= 1e-4 * (1 + Math.Abs(e[i])), $"value {i}: {e[i]} vs {a[i]}");
    }

    [Fact]
    public async Task ViewsWithoutTheirHooksSayWhichHooksAreMissing()
    {
        var service = Service();
        var zip = ReadAll(await service.WriteZipAsync(Request, DumpService.ParsePatterns("blocks.*.attn.*")));

        using var dump = await service.OpenUploadAsync(new MemoryStream(zip), zip.Length, "attention.zip");

        Assert.False(dump.Result.Unavailable.ContainsKey(ExploreResultBuilder.AttentionView));
        Assert.Equal(fixture.Result.Pattern.Length, dump.Result.Pattern.Length);
        Assert.Contains(HookPoints.Layer(0, HookPoints.RouterProbs), dump.Result.Unavailable[ExploreResultBuilder.RouterView]);
        Assert.Contains(HookPoints.Embed, dump.Result.Unavailable[ExploreResultBuilder.LensView]);
        Assert.Contains(HookPoints.Layer(0, HookPoints.ExpertPost), dump.Result.Unavailable[ExploreResultBuilder.ActivationsView]);
    }

    [Fact]
    public async Task UnknownHookPatternIsRefusedWithTheClosestNames()
    {
        var error = Assert.Throws<UnknownHookException>(() =>
            DumpService.ResolveHooks(fixture.Model.Model, DumpService.ParsePatterns("blocks.*.attn.hook_patern")));
        Assert.Contains("blocks.*.attn.hook_patern", error.Message);
    }

    [Fact]
    public async Task HostileZipIsRefusedWithAClearMessage()
    {
        var hostile = new MemoryStream();
        using (var archive = new ZipArchive(hostile, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(archive.CreateEntry("../evil.safetensors").Open());
            writer.Write("x");
        }
        var bytes = hostile.ToArray();

        var error = await Assert.ThrowsAsync<DumpFormatException>(() => Service().OpenUploadAsync(new MemoryStream(bytes), bytes.Length, "evil.zip"));
        Assert.Contains("'../evil.safetensors'", error.Message);
        Assert.Contains("evil.zip", error.Message);

        var garbage = "not a zip at all"u8.ToArray();
        var notZip = await Assert.ThrowsAsync<DumpFormatException>(() => Service().OpenUploadAsync(new MemoryStream(garbage), garbage.Length, "junk.zip"));
        Assert.Contains("not a zip", notZip.Message);
    }

    [Theory]
    [InlineData("blocks.0.attn.hook_pattern", "has shape")]
    [InlineData("blocks.1.moe.hook_topk_indices", "outside 0…7")]
    public async Task DumpWhoseHooksDoNotFitItsConfigIsRefused(string hook, string problem)
    {
        // A well-formed file whose tensors contradict the manifest's config: refused before any view indexes it.
        var zip = await fixture.Model.RunAsync(model =>
        {
            using var run = model.Run(fixture.TokenIds, RunOptions.CaptureOnly(hook));
            using var bad = hook.EndsWith("indices") ? run.Cache[hook].add(100) : run.Cache[hook].narrow(2, 0, 2);
            var stream = new MemoryStream();
            DumpWriter.WriteZip(stream, model, [new DumpRunContent("run0", null, fixture.TokenIds, null, [], [(hook, bad)])]);
            return stream.ToArray();
        });

        var error = await Assert.ThrowsAsync<DumpFormatException>(() => Service().OpenUploadAsync(new MemoryStream(zip), zip.Length, "bad.zip"));
        Assert.Contains(hook, error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public async Task UploadOverTheSizeLimitIsRefusedBeforeReading()
    {
        var zip = ReadAll(await Service().WriteZipAsync(Request, ["blocks.0.attn.hook_pattern"]));
        var small = Service(maxUploadBytes: zip.Length - 1);

        var declared = await Assert.ThrowsAsync<DumpFormatException>(() => small.OpenUploadAsync(new MemoryStream(zip), zip.Length, "big.zip"));
        Assert.Contains("over the upload limit", declared.Message);
        Assert.Contains(nameof(WorkbenchOptions.MaxDumpUploadBytes), declared.Message);
        // A client that under-declares the size is stopped while streaming.
        var streamed = await Assert.ThrowsAsync<DumpFormatException>(() => small.OpenUploadAsync(new MemoryStream(zip), 10, "big.zip"));
        Assert.Contains("over the upload limit", streamed.Message);
    }

    [Fact]
    public async Task DumpsFolderOpensListedDumpsAndRefusesPaths()
    {
        var service = Service();
        var zip = ReadAll(await service.WriteZipAsync(Request, ["blocks.0.attn.hook_pattern"]));
        File.WriteAllBytes(Path.Combine(dumpsFolder, "saved.zip"), zip);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(dumpsFolder)!, "outside.zip"), zip);

        Assert.Equal(["saved.zip"], service.Catalog.List());
        using (var dump = await service.OpenFromFolderAsync("saved.zip"))
            Assert.Equal(fixture.TokenIds, dump.Run.TokenIds);
        foreach (var name in new[] { "../outside.zip", "..", "/etc/passwd", "sub/../saved.zip", "missing.zip", "" })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => service.OpenFromFolderAsync(name));
            Assert.Contains("the dumps folder", error.Message);
            Assert.DoesNotContain(service.Catalog.DumpsFolder, error.Message); // no server paths in messages
        }
    }

    public void Dispose()
    {
        Directory.Delete(dumpsFolder, recursive: true);
        File.Delete(Path.Combine(Path.GetDirectoryName(dumpsFolder)!, "outside.zip"));
    }
}
