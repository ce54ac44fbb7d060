using System.Text;
using GrokLens.Checkpoints.Gguf;
using GrokLens.Loading.Naming;
using GrokLens.Model;

namespace GrokLens.Tests.Checkpoints.Gguf;

/// <summary>Writes a model as a GGUF v3 file of arch grok (tests only): matrices in a chosen type, vectors and the router F32.</summary>
internal static class GgufTestWriter
{
    public static void Write(GrokModel model, string path, GgmlType matrixType, int alignment = GgufFile.DefaultAlignment)
    {
        var c = model.Config;
        var metadata = new List<(string Key, object Value)>
        {
            ("general.architecture", "grok"),
            ("general.alignment", (uint)alignment),
            ("grok.context_length", (uint)c.MaxPositions),
            ("grok.embedding_length", (uint)c.HiddenSize),
            ("grok.block_count", (uint)c.NumLayers),
            ("grok.feed_forward_length", (uint)(c.ResidualMoe ? c.DenseSize : c.ExpertSize)),
            ("grok.expert_feed_forward_length", (uint)c.ExpertSize),
            ("grok.attention.head_count", (uint)c.NumHeads),
            ("grok.attention.head_count_kv", (uint)c.NumKvHeads),
            ("grok.attention.key_length", (uint)c.HeadDim),
            ("grok.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps),
            ("grok.rope.freq_base", (float)c.RopeTheta),
            ("grok.expert_count", (uint)c.NumExperts),
            ("grok.expert_used_count", (uint)c.TopK),
            ("grok.embedding_scale", (float)c.EmbeddingMultiplier),
            ("grok.logit_scale", (float)c.OutputMultiplier),
            ("grok.attention.output_scale", (float)c.AttnOutputMultiplier),
            ("grok.attn_logit_softcapping", (float)c.AttnLogitSoftcap),
            ("grok.router_logit_softcapping", (float)(c.ResidualMoe ? c.RouterLogitSoftcap : 30)), // as llama.cpp writes Grok-1
            ("grok.final_logit_softcapping", (float)c.FinalLogitSoftcap),
            ("grok.attention.temperature_length", (uint)c.AttnTemperatureLen),
        };
        var tensors = model.Weights.Select(w =>
        {
            var values = w.Parameter.detach().contiguous().cpu().data<float>().ToArray();
            var type = w.Id.IsMatrix ? matrixType : GgmlType.F32;
            return (Name: TensorNameTables.Gguf.PreferredName(w.Id), Dims: w.Parameter.shape.Reverse().ToArray(), Type: type, Data: Encode(values, type));
        }).ToList();

        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(GgufFile.Magic);
        writer.Write(3u);
        writer.Write((ulong)tensors.Count);
        writer.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(writer, key);
            switch (value)
            {
                case string text: writer.Write(8u); WriteString(writer, text); break;
                case uint number: writer.Write(4u); writer.Write(number); break;
                case float number: writer.Write(6u); writer.Write(number); break;
            }
        }
        long offset = 0;
        var offsets = new List<long>();
        foreach (var tensor in tensors)
        {
            offsets.Add(offset);
            WriteString(writer, tensor.Name);
            writer.Write((uint)tensor.Dims.Length);
            foreach (var dim in tensor.Dims) writer.Write((ulong)dim);
            writer.Write((uint)tensor.Type);
            writer.Write((ulong)offset);
            offset = Align(offset + tensor.Data.Length, alignment);
        }
        Pad(writer, alignment);
        long dataStart = stream.Position;
        for (int i = 0; i < tensors.Count; i++)
        {
            stream.Position = dataStart + offsets[i];
            writer.Write(tensors[i].Data);
        }
        Pad(writer, alignment);
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

    private static void WriteString(BinaryWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static long Align(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static void Pad(BinaryWriter writer, int alignment)
    {
        while (writer.BaseStream.Position % alignment != 0) writer.Write((byte)0);
    }
}
