using GrokLens.Checkpoints.Xai;
using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Tools;

/// <summary>
/// Writes a random Grok-architecture model in xAI's raw release layout (SPEC §4.1–4.3): <c>config.json</c> and
/// <c>ckpt-0/tensor{i:05d}_000</c> pickles in the lexicographic layer order of §4.2, projection matrices as int8
/// JAX [in, out] with bfloat16 scales per output column (8 row blocks for the output projection and the expert down
/// projection when their inputs divide by 8, else 1), everything else float32. Two full-width Grok-1 layers are 9.9 GB.
/// </summary>
public static class SyntheticXaiCheckpoint
{
    public static void Write(string folder, GrokConfig config, long seed, IProgress<long>? bytesWritten = null)
    {
        config.Validated();
        var checkpoint = Path.Combine(folder, XaiCheckpoint.FolderName);
        Directory.CreateDirectory(checkpoint);
        File.WriteAllText(Path.Combine(folder, ModelLoader.ConfigFileName), config.ToJson());
        long d = config.HiddenSize, q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        long e = config.NumExperts, f = config.ExpertSize;
        long written = 0;

        void Save(int index, Action<PickleWriter> write)
        {
            var path = Path.Combine(checkpoint, XaiCheckpoint.FileName(index));
            using (var stream = new FileStream(path + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(new PickleWriter(stream));
                written += stream.Length;
            }
            File.Move(path + ".partial", path, overwrite: true);
            bytesWritten?.Report(written);
        }

        void Floats(int index, long[] shape, float mean, float deviation) => Save(index, p => p.WriteArray(new PickleWriter.NumpyArray("f4", shape,
            s => SyntheticTensors.WriteFloat32(s, shape.Aggregate(1L, (a, b) => a * b), mean, deviation, SyntheticRandom.Stream(seed, index)))));

        // JAX [.., in, out] int8 with scales [.., S, out]: S row blocks of in/S rows.
        void Quantized(int index, long[] shape, bool rowBlocks)
        {
            long inputs = shape[^2], outputs = shape[^1];
            long blocks = rowBlocks && inputs % 8 == 0 ? 8 : 1;
            long[] scaleShape = [.. shape[..^2], blocks, outputs];
            long values = shape.Aggregate(1L, (a, b) => a * b), scales = scaleShape.Aggregate(1L, (a, b) => a * b);
            Save(index, p => p.WriteQuantized(
                new PickleWriter.NumpyArray("i1", shape, s => SyntheticTensors.WriteInt8(s, values, SyntheticRandom.Stream(seed, 2 * index))),
                new PickleWriter.NumpyArray("u2", scaleShape,
                    s => SyntheticTensors.WriteBFloat16Scales(s, scales, SyntheticTensors.MatrixScale(inputs), SyntheticRandom.Stream(seed, 2 * index + 1)))));
        }

        Floats(0, [config.VocabSize, d], 0, 1 / MathF.Sqrt(d));
        Floats(1, [d], 1, 0.1f);
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            int start = XaiCheckpoint.LayerBlockStart(layer, config.NumLayers);
            Quantized(start + 0, [e, d, f], rowBlocks: false); // moe/linear
            Quantized(start + 1, [e, f, d], rowBlocks: true); // moe/linear_1
            Quantized(start + 2, [e, d, f], rowBlocks: false); // moe/linear_v
            Quantized(start + 3, [d, kv], rowBlocks: false); // key
            Quantized(start + 4, [q, d], rowBlocks: true); // linear (output projection)
            Quantized(start + 5, [d, q], rowBlocks: false); // query
            Quantized(start + 6, [d, kv], rowBlocks: false); // value
            for (int norm = 0; norm < 4; norm++) Floats(start + 7 + norm, [d], 1, 0.1f);
            Floats(start + 11, [d, e], 0, 1 / MathF.Sqrt(d)); // router, JAX [in, out]
        }
    }
}
