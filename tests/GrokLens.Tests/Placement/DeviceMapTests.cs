using GrokLens.Loading.Placement;
using GrokLens.Model;

namespace GrokLens.Tests.Placement;

public class DeviceMapTests
{
    [Fact]
    public void ParsesRangesAndPrintsThemBack()
    {
        var map = DeviceMap.Parse("0-31:cuda:0, 32-62:cpu,63:cuda", 64);
        Assert.Equal("cuda:0", map.DeviceOf(0));
        Assert.Equal("cuda:0", map.DeviceOf(31));
        Assert.Equal("cpu", map.DeviceOf(32));
        Assert.Equal("cuda:0", map.DeviceOf(63));
        Assert.Equal("0-31:cuda:0,32-62:cpu,63:cuda:0", map.ToString());
        Assert.Equal("cuda:0", map.DeviceOfWeight(WeightId.Global(WeightKind.Embedding)));
        Assert.Equal("cpu", map.DeviceOfWeight(new WeightId(WeightKind.Router, 40)));
    }

    [Theory]
    [InlineData("0-1:cpu", "layers 2, 3 have no device")]
    [InlineData("0-2:cpu,2-3:cpu", "layer 2 is placed twice")]
    [InlineData("0-4:cpu", "layer 4 does not exist")]
    [InlineData("0-3:tpu", "Unknown device 'tpu'")]
    [InlineData("3-0:cpu", "runs backwards")]
    [InlineData("cpu", "is not LAYERS:DEVICE")]
    public void BadMapsAreRefusedWithTheReason(string text, string reason)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => DeviceMap.Parse(text, 4));
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void AutoFillsGpusInOrderThenTheCpu()
    {
        // 10 layers of 10 bytes, 5 bytes of embedding on the first device; GPUs hold 35 and 20 bytes.
        var map = DeviceMap.Auto(10, 10, 5, [("cuda:0", 35), ("cuda:1", 20), ("cpu", 1000)]);
        Assert.Equal("0-2:cuda:0,3-4:cuda:1,5-9:cpu", map.ToString());
    }

    [Fact]
    public void AutoSaysWhenTheModelFitsNowhere()
    {
        var ex = Assert.Throws<InsufficientMemoryException>(() => DeviceMap.Auto(10, 10, 5, [("cuda:0", 35), ("cpu", 30)]));
        Assert.Contains("only 6 of 10 layers fit", ex.Message);
        Assert.Contains("--stream-layers", ex.Message);
    }
}
