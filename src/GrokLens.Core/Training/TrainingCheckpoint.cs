using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GrokLens.Loading;
using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Training;

/// <summary>
/// A training checkpoint folder <c>checkpoints/step-NNNNNN/</c>: a loadable model folder (config.json +
/// model.safetensors via <see cref="CheckpointWriter"/>), <c>optimizer.bin</c> (TorchSharp's AdamW state dict: step
/// counts and both moment tensors per parameter) and <c>training-state.json</c> (step, sampler state, seed).
/// </summary>
public sealed record TrainingCheckpoint(string Folder, int Step, ulong SamplerState, long Seed)
{
    public const string StateFileName = "training-state.json";
    public const string OptimizerFileName = "optimizer.bin";
    public const string CheckpointsFolderName = "checkpoints";

    /// <summary>The checkpoint with the highest step under <paramref name="outputFolder"/>, or null.</summary>
    public static TrainingCheckpoint? FindLatest(string outputFolder)
    {
        var root = Path.Combine(outputFolder, CheckpointsFolderName);
        if (!Directory.Exists(root)) return null;
        return Directory.EnumerateDirectories(root, "step-*")
            .Where(d => File.Exists(Path.Combine(d, StateFileName)))
            .Select(Read)
            .OrderByDescending(c => c.Step)
            .FirstOrDefault();
    }

    /// <summary>All complete checkpoints under <paramref name="outputFolder"/>, oldest first.</summary>
    public static IReadOnlyList<TrainingCheckpoint> List(string outputFolder)
    {
        var root = Path.Combine(outputFolder, CheckpointsFolderName);
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateDirectories(root, "step-*")
            .Where(d => File.Exists(Path.Combine(d, StateFileName)))
            .Select(Read).OrderBy(c => c.Step).ToList();
    }

    public static TrainingCheckpoint Read(string folder)
    {
        string path = Path.Combine(folder, StateFileName);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("not a JSON object");
            int step = root["step"]?.GetValue<int>() ?? throw new FormatException("\"step\" is missing");
            string sampler = root["sampler_state"]?.GetValue<string>() ?? throw new FormatException("\"sampler_state\" is missing");
            long seed = root["seed"]?.GetValue<long>() ?? throw new FormatException("\"seed\" is missing");
            return new TrainingCheckpoint(folder, step, ulong.Parse(sampler, CultureInfo.InvariantCulture), seed);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            throw new InvalidDataException($"'{path}' is not a valid training state: {e.Message}", e);
        }
    }

    /// <summary>Writes a checkpoint atomically (into a temporary folder renamed at the end).</summary>
    public static TrainingCheckpoint Write(string outputFolder, int step, GrokModel model, TorchSharp.Modules.OptimizerHelper optimizer,
        ulong samplerState, TrainingOptions options)
    {
        var root = Path.Combine(outputFolder, CheckpointsFolderName);
        var folder = Path.Combine(root, $"step-{step:D6}");
        var temporary = folder + ".partial";
        if (Directory.Exists(temporary)) Directory.Delete(temporary, true);
        Directory.CreateDirectory(temporary);
        CheckpointWriter.Save(model, temporary, new SaveOptions { DType = options.CheckpointDType, Overwrite = true },
            new Dictionary<string, string> { ["groklens_training_step"] = step.ToString(CultureInfo.InvariantCulture) });
        optimizer.save_state_dict(Path.Combine(temporary, OptimizerFileName));
        foreach (var file in options.FilesToCopyIntoCheckpoints)
            File.Copy(file, Path.Combine(temporary, Path.GetFileName(file)), overwrite: true);
        var state = new JsonObject
        {
            ["step"] = step,
            ["total_steps"] = options.Steps,
            ["sampler_state"] = samplerState.ToString(CultureInfo.InvariantCulture),
            ["seed"] = options.Seed,
            ["batch_size"] = options.BatchSize,
            ["sequence_length"] = options.SequenceLength,
            ["peak_learning_rate"] = options.PeakLearningRate,
            ["load_balancing_weight"] = options.LoadBalancingWeight,
            ["saved_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        File.WriteAllText(Path.Combine(temporary, StateFileName), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (Directory.Exists(folder)) Directory.Delete(folder, true);
        Directory.Move(temporary, folder);
        return new TrainingCheckpoint(folder, step, samplerState, options.Seed);
    }

    /// <summary>Copies this checkpoint's weights into <paramref name="model"/> and loads the optimizer state.</summary>
    public void Restore(GrokModel model, TorchSharp.Modules.OptimizerHelper optimizer)
    {
        using (var loaded = ModelLoader.Load(Folder, new LoadOptions { Tokenizer = null }))
        {
            if (loaded.Config != model.Config)
                throw new InvalidDataException($"Checkpoint '{Folder}' has a different model config than the model being trained.");
            using var _ = no_grad();
            var source = loaded.Model.Weights.ToDictionary(w => w.Id, w => w.Parameter);
            foreach (var (id, parameter) in model.Weights)
                parameter.copy_(source[id]);
        }
        var optimizerPath = Path.Combine(Folder, OptimizerFileName);
        if (!File.Exists(optimizerPath)) throw new FileNotFoundException($"Checkpoint '{Folder}' lacks {OptimizerFileName}.", optimizerPath);
        optimizer.load_state_dict(optimizerPath);
    }
}
