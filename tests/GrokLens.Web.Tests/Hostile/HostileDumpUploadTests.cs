using System.IO.Compression;
using System.Text.Json.Nodes;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Services;
using GrokLens.Web.Views;
using Plotly.Blazor.Traces;

namespace GrokLens.Web.Tests.Hostile;

/// <summary>Hostile dump uploads: a clear error or views that cope, with bounded memory.</summary>
[Collection(ModelCollection.Name)]
public sealed class HostileDumpUploadTests(ModelFixture fixture)
{
    private DumpService Service => fixture.DumpService();

    /// <summary>A zip of the fixture's prompt with every hook, each run's tensors changed by <paramref name="spoil"/> first.</summary>
    private Task<byte[]> DumpAsync(Action<ActivationCache>? spoil = null) => fixture.Model.RunAsync(model =>
    {
        using var run = model.Run(fixture.TokenIds, RunOptions.CaptureOnly("*"));
        spoil?.Invoke(run.Cache);
        var stream = new MemoryStream();
        DumpWriter.WriteZip(stream, model, [DumpWriter.FromRun(model, run, prompt: ModelFixture.Prompt)]);
        return stream.ToArray();
    });

    /// <summary>The zip with its manifest changed (data files untouched, so their checksums still hold).</summary>
    private static byte[] WithManifest(byte[] zip, Action<JsonObject> change)
    {
        var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(zip)))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                using var read = entry.Open();
                using var write = target.CreateEntry(entry.FullName, CompressionLevel.Fastest).Open();
                if (entry.FullName != DumpFormat.ManifestFileName)
                {
                    read.CopyTo(write);
                    continue;
                }
                var manifest = JsonNode.Parse(read)!.AsObject();
                change(manifest);
                write.Write(System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString()));
            }
        return output.ToArray();
    }

    [Fact]
    public async Task ADumpClaimingAMillionLayersIsRefusedBeforeAnythingIsBuilt()
    {
        // Hook lists for every claimed layer took the server to 2–3 GB; the config check now stops it at the manifest.
        var zip = WithManifest(await DumpAsync(), m => m["model"]!["config"]!["num_hidden_layers"] = 1_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DumpFormatException>(() => DumpReader.OpenZip(new MemoryStream(zip), location: "million.zip").Dispose());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith("million.zip: the model config in the manifest is invalid:", error.Message);
        Assert.Contains("num_hidden_layers 1000000", error.Message);
        Assert.True(allocated < 32L << 20, $"refusing allocated {allocated / 1048576.0:0} MB");
        var upload = await Assert.ThrowsAsync<DumpFormatException>(() => Service.OpenUploadAsync(new MemoryStream(zip), zip.Length, "million.zip"));
        Assert.Equal(error.Message, upload.Message);
    }

    [Fact]
    public async Task ADumpClaimingMoreLayersThanItHoldsSaysWhatIsMissingFromTheHooksPresent()
    {
        const int claimed = 1024; // the most layers a config may have
        var zip = WithManifest(await DumpAsync(), m => m["model"]!["config"]!["num_hidden_layers"] = claimed);
        int layers = await fixture.Model.RunAsync(model => model.Config.NumLayers);

        // What the upload does, on this thread so its allocations can be counted: read, check, build the views' arrays.
        long before = GC.GetAllocatedBytesForCurrentThread();
        ExploreResult result;
        using (var reader = DumpReader.OpenZip(new MemoryStream(zip), location: "claimed.zip"))
        {
            using var cache = OpenedDump.LoadCache(reader, reader.Runs[0], "claimed.zip");
            result = ExploreResultBuilder.Build(new ExploreSource(reader.Config, "m", reader.Runs[0].TokenIds, id => $"#{id}", cache,
                cache[HookPoints.Logits], Lens: null), reader.Runs[0].TokenIds.Count);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 32L << 20, $"opening allocated {allocated / 1048576.0:0} MB");
        Assert.Empty(result.Stages); // no view has all its layers: nothing is built per claimed layer
        var attention = result.Unavailable[ExploreResultBuilder.AttentionView];
        // The attention view needs the pattern of every layer (its scores only for the score modes).
        Assert.StartsWith($"The Attention view needs hooks blocks.{layers}.attn.hook_pattern, blocks.{layers + 1}.attn.hook_pattern", attention);
        Assert.Contains($"(and {claimed - layers - 6:N0} more)", attention);

        // The same through the service, as an upload; and compared with itself on the Compare page.
        using var dump = await Service.OpenUploadAsync(new MemoryStream(zip), zip.Length, "claimed.zip");
        Assert.Equal(4, dump.Result.Unavailable.Count);
        var side = new GrokLens.Web.Compare.DumpSide(dump, dump.Run);
        var compared = await fixture.CompareService().CompareDumpsAsync(side, side);
        Assert.Empty(compared.LensStages);
        Assert.Equal(GrokLens.Analysis.RunComparison.MaxListedMissing + 1,
            compared.Result.MissingHooks[GrokLens.Analysis.RunComparison.ResidualPart].Length);
        Assert.Contains("(and many more)", compared.Missing(GrokLens.Analysis.RunComparison.ResidualPart, "residual view"));
    }

    [Fact]
    public async Task AnUploadedManifestOverItsLimitIsRefusedByName()
    {
        var zip = WithManifest(await DumpAsync(), m => m["runs"]![0]!["prompt"] = new string('x', (int)DumpService.MaxUploadManifestBytes));
        var error = await Assert.ThrowsAsync<DumpFormatException>(() => Service.OpenUploadAsync(new MemoryStream(zip), zip.Length, "big.zip"));
        Assert.Equal($"big.zip: manifest.json is over the {DumpService.MaxUploadManifestBytes}-byte limit", error.Message);
    }

    [Fact]
    public async Task NonFiniteValuesAreCountedPerViewAndDrawnAsGaps()
    {
        var zip = await DumpAsync(cache =>
        {
            cache[HookPoints.Layer(0, HookPoints.Pattern)][0, 1, 0] = float.NaN;
            cache[HookPoints.Layer(0, HookPoints.Pattern)][1, 2, 1] = float.PositiveInfinity;
            cache[HookPoints.Layer(1, HookPoints.RouterProbs)][3, 0] = float.NaN;
            cache[HookPoints.Layer(1, HookPoints.ExpertPost)][2, 0, 5] = float.NegativeInfinity;
        });
        using var dump = await Service.OpenUploadAsync(new MemoryStream(zip), zip.Length, "nan.zip");
        var counts = dump.Result.NonFinite;
        Assert.Equal(2, counts[ExploreResultBuilder.AttentionView]);
        Assert.Equal(1, counts[ExploreResultBuilder.RouterView]);
        Assert.Equal(1, counts[ExploreResultBuilder.ActivationsView]);
        Assert.Equal(0, counts[ExploreResultBuilder.LensView]);

        // The figures that ended the circuit before: plotly.js JSON with null where the values are not finite.
        var pattern = dump.Result.Pattern[0][0];
        var json = PlotJson.Traces([
            PlotFactory.Heatmap(dump.Result.Labels, dump.Result.Labels, pattern, "p", PlotFactory.Sequential, 0, 1),
            new Bar { Y = dump.Result.RouterProbs[1][3].Select(p => (object)Math.Round(p, 4)).ToList() },
        ]);
        Assert.Contains("\"y\":[null,", json);
        Assert.True(float.IsNaN(TypedArray.Float32(pattern).Values()[1 * pattern[0].Length + 0]));
    }
}
