using GrokLens.Checkpoints;

namespace GrokLens.Tests.Checkpoints;

public class SafetensorsFixtureTests
{
    [Fact]
    public void ReadsGrok1MiniModelWeights()
    {
        using var checkpoint = SafetensorsCheckpoint.Open(TempFolder.Fixture("model.safetensors"));
        Assert.Equal(68, checkpoint.Names.Count);
        Assert.Equal("pt", checkpoint.Metadata["format"]);
        var info = checkpoint.Info("transformer.in_out_embed.weight");
        Assert.Equal(SafetensorsDType.F32, info.DType);
        Assert.Equal(new long[] { 512, 64 }, info.Shape);
        Assert.Equal(512 * 64, info.ElementCount);

        using var embed = checkpoint.LoadFloat32("transformer.in_out_embed.weight");
        Assert.Equal(new long[] { 512, 64 }, embed.shape);
        // Values read with Python's struct module from the same bytes.
        Assert.Equal(-0.06422538310289383f, embed[0, 0].item<float>());
        Assert.Equal(0.024017244577407837f, embed[0, 1].item<float>());
        Assert.Equal(-0.055854108184576035f, embed[511, 63].item<float>());
    }

    [Fact]
    public void ReadsReferenceActivationsWithIntegerIndices()
    {
        using var file = SafetensorsFile.Open(TempFolder.Fixture("reference.safetensors"));
        var info = file.Info("blocks.0.moe.hook_topk_indices");
        Assert.Equal(SafetensorsDType.I32, info.DType);
        Assert.Equal(new long[] { 24, 2 }, info.Shape);

        using var indices = file.Load("blocks.0.moe.hook_topk_indices");
        Assert.Equal(ScalarType.Int32, indices.dtype);
        var values = indices.data<int>().ToArray();
        Assert.Equal(new[] { 4, 3, 0, 3 }, values[..4]);
        Assert.Equal(198, values.Sum());
        Assert.StartsWith("243,263,387", file.Metadata["token_ids"]);
    }
}
