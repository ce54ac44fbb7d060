namespace GrokLens.Training;

/// <summary>Reported after every optimizer step.</summary>
/// <param name="Step">Completed steps (1-based).</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="TrainLoss">Next-token cross-entropy of this step's batch, nats/token (without the auxiliary loss).</param>
/// <param name="LoadBalancingLoss">E·Σ f·P averaged over layers (1.0 = perfectly balanced).</param>
/// <param name="ValidationLoss">Validation cross-entropy in nats/token when evaluated at this step, else null.</param>
/// <param name="LearningRate">Learning rate used for this step.</param>
/// <param name="TokensPerSecond">Training throughput (predicted tokens per second of step time, smoothed).</param>
/// <param name="Elapsed">Wall time of this session (since start or resume).</param>
/// <param name="Eta">Estimated time left.</param>
/// <param name="CheckpointFolder">The checkpoint written at this step, else null.</param>
public sealed record TrainingProgress(
    int Step, int TotalSteps, double TrainLoss, double LoadBalancingLoss, double? ValidationLoss,
    double LearningRate, double TokensPerSecond, TimeSpan Elapsed, TimeSpan Eta, string? CheckpointFolder);

/// <summary>What <see cref="Trainer.Train"/> returns.</summary>
/// <param name="StartStep">0 for a fresh run, else the checkpoint step it resumed from.</param>
/// <param name="FinalStep">Last completed step.</param>
/// <param name="LastTrainLoss">Train loss of the last step.</param>
/// <param name="LastValidationLoss">Latest validation loss, or null if never evaluated.</param>
/// <param name="LastCheckpointFolder">Folder of the latest checkpoint (a loadable model folder).</param>
/// <param name="LogPath">The CSV log.</param>
/// <param name="TokensPerSecond">Mean training throughput of this session.</param>
public sealed record TrainingResult(
    int StartStep, int FinalStep, double LastTrainLoss, double? LastValidationLoss, string? LastCheckpointFolder,
    string LogPath, double TokensPerSecond);
