using GrokLens.Checkpoints.Gguf;
using GrokLens.Loading.Naming;
using GrokLens.Model;
using GrokLens.Tools;

namespace GrokLens.Tests.Checkpoints.Gguf;

/// <summary>Writes a model's own weights as a GGUF v3 file of arch grok: matrices in a chosen type, vectors and the router F32.</summary>
internal static class GgufTestWriter
{
    public static void Write(GrokModel model, string path, GgmlType matrixType, int alignment = GgufFile.DefaultAlignment)
    {
        var writer = SyntheticGguf.AddGrokMetadata(new GgufWriter(alignment), model.Config);
        foreach (var w in model.Weights)
        {
            var values = w.Parameter.detach().contiguous().cpu().data<float>().ToArray();
            var type = w.Id.IsMatrix ? matrixType : GgmlType.F32;
            var data = Encode(values, type);
            writer.AddTensor(TensorNameTables.Gguf.PreferredName(w.Id), w.Parameter.shape, type, stream => stream.Write(data));
        }
        writer.WriteTo(path);
    }

    public static byte[] Encode(float[] values, GgmlType type)
    {
        switch (type)
        {
            case GgmlType.F32:
                return values.SelectMany(BitConverter.GetBytes).ToArray();
            case GgmlType.F16:
                return values.SelectMany(v => BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)v))).ToArray();
            case GgmlType.BF16:
                return values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray();
            default:
                var output = new byte[values.Length / 32 * 34];
                Q8_0.Quantize(values, output);
                return output;
        }
    }
}
