namespace GrokLens.Web.Tests.Services;

/// <summary>The model panel's facts about grok-tiny: format, quantisation, device map and weight memory.</summary>
[Collection(ModelCollection.Name)]
public sealed class ModelInfoTests(ModelFixture fixture)
{
    [Fact]
    public void ThePanelShowsFormatQuantisationDeviceMapAndMemory()
    {
        var info = fixture.Model.Model.Info;
        Assert.StartsWith("safetensors (1 file, BF16", info.CheckpointFormat);
        Assert.Equal("none (float32)", info.Quantisation);
        Assert.Equal("resident", info.Residency);
        Assert.Equal($"0-{info.Layers - 1}:cpu", info.DeviceMap);
        // BF16 on disk, upcast to float32 in memory: 4 bytes per parameter, all on the CPU.
        var bytes = Assert.Single(info.WeightBytesByDevice);
        Assert.Equal("cpu", bytes.Key);
        Assert.Equal(4 * info.Parameters, bytes.Value);
        Assert.Equal($"cpu {GrokLens.Formatting.ByteSize.Format(4 * info.Parameters)}", info.WeightMemory);
    }
}
