using System.Diagnostics;
using GrokLens.Analysis;
using GrokLens.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GrokLens.Training;

/// <summary>
/// Trains a <see cref="GrokModel"/> (the inference code path; sizes are the caller's) on a token stream:
/// random windows of T+1 tokens (seeded <see cref="WindowSampler"/>), batch B; loss = next-token cross-entropy +
/// <see cref="TrainingOptions.LoadBalancingWeight"/> × <see cref="LoadBalancingLoss"/>; AdamW with linear warm-up and
/// cosine or warmup–stable–decay schedule (<see cref="LearningRateSchedule"/>); gradient clipping; validation every N
/// steps; checkpoints (weights + AdamW state + step + sampler state) every M steps; resume from the latest checkpoint;
/// a CSV log; optionally the router's choices on fixed windows at chosen steps (<see cref="RoutingHistory"/>).
/// </summary>
public sealed class Trainer
{
    private readonly GrokModel model;
    private readonly TrainingOptions options;

    public Trainer(GrokModel model, TrainingOptions options)
    {
        this.model = model ?? throw new ArgumentNullException(nameof(model));
        this.options = (options ?? throw new ArgumentNullException(nameof(options))).Validated();
        if (options.SequenceLength > model.Config.MaxPositions)
            throw new ArgumentException($"SequenceLength {options.SequenceLength} exceeds the model's context of {model.Config.MaxPositions}.");
    }

    /// <summary>
    /// Runs (or resumes) training up to <see cref="TrainingOptions.Steps"/>. Token ids must be in [0, vocab).
    /// Cancelling stops after the current step and writes a checkpoint first.
    /// </summary>
    public TrainingResult Train(IReadOnlyList<int> trainIds, IReadOnlyList<int> validationIds,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(trainIds);
        ArgumentNullException.ThrowIfNull(validationIds);
        int vocab = model.Config.VocabSize;
        if (trainIds.Any(id => id < 0 || id >= vocab) || validationIds.Any(id => id < 0 || id >= vocab))
            throw new ArgumentException($"Token ids must lie in [0, {vocab}).");

        Directory.CreateDirectory(options.OutputFolder);
        var parameters = model.parameters().ToList();
        using var optimizer = optim.AdamW(parameters, options.PeakLearningRate, options.Beta1, options.Beta2, 1e-8, options.WeightDecay);

        int startStep = 0;
        ulong samplerState = (ulong)options.Seed;
        string? lastCheckpoint = null;
        if (options.Resume && TrainingCheckpoint.FindLatest(options.OutputFolder) is { } checkpoint)
        {
            checkpoint.Restore(model, optimizer);
            startStep = checkpoint.Step;
            samplerState = checkpoint.SamplerState;
            lastCheckpoint = checkpoint.Folder;
        }
        var log = new TrainingLog(options.OutputFolder, startStep);
        var plan = options.RoutingRecord;
        RoutingHistory? history = null;
        if (plan is not null)
        {
            history = RoutingHistory.CreateOrOpen(plan.Folder, model.Config.NumLayers, model.Config.NumExperts, model.Config.TopK,
                plan.Windows, plan.Description);
            history.TruncateAfter(startStep);
            if (startStep == 0 && plan.Steps.Contains(0)) history.Append(RoutingRecord.Capture(model, plan.Windows, 0), 0);
        }
        var sampler = new WindowSampler(trainIds, options.SequenceLength, samplerState);
        var balance = new LoadBalancingLoss(model.Config);
        model.train();

        var session = Stopwatch.StartNew();
        double stepSecondsSmoothed = 0, tokensTotal = 0, stepSecondsTotal = 0;
        double lastTrainLoss = double.NaN;
        double? lastValidation = null;
        int step = startStep;
        long tokensPerStep = (long)options.BatchSize * options.SequenceLength;
        try
        {
            while (step < options.Steps && !cancellation.IsCancellationRequested)
            {
                step++;
                double lr = LearningRateSchedule.At(step, options.Steps, options.PeakLearningRate, options.WarmupSteps,
                    options.FinalLearningRateFraction, options.Schedule, options.DecayFraction);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;

                var timer = Stopwatch.StartNew();
                double trainLoss, balanceLoss;
                using (NewDisposeScope())
                {
                    var batch = tensor(sampler.NextBatch(options.BatchSize), [options.BatchSize, options.SequenceLength + 1]);
                    var inputs = batch.narrow(1, 0, options.SequenceLength);
                    var targets = batch.narrow(1, 1, options.SequenceLength);
                    var logits = model.Forward(inputs, balance.Hooks);
                    var crossEntropy = cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1));
                    var auxiliary = balance.Compute();
                    var loss = options.LoadBalancingWeight > 0 ? crossEntropy + auxiliary * options.LoadBalancingWeight : crossEntropy;
                    optimizer.zero_grad();
                    loss.backward();
                    nn.utils.clip_grad_norm_(parameters, options.GradientClipNorm);
                    optimizer.step();
                    trainLoss = crossEntropy.item<float>();
                    balanceLoss = auxiliary.item<float>();
                }
                double seconds = timer.Elapsed.TotalSeconds;
                stepSecondsTotal += seconds;
                tokensTotal += tokensPerStep;
                stepSecondsSmoothed = step == startStep + 1 ? seconds : 0.9 * stepSecondsSmoothed + 0.1 * seconds;
                lastTrainLoss = trainLoss;

                double? validation = null;
                bool last = step == options.Steps || cancellation.IsCancellationRequested;
                if (validationIds.Count > 1 && ((options.EvaluateEvery > 0 && step % options.EvaluateEvery == 0) || last))
                {
                    validation = Evaluator.ValidationLoss(model, validationIds, options.SequenceLength, options.BatchSize, options.ValidationTokens);
                    model.train();
                    lastValidation = validation;
                }
                bool recordRouting = plan is not null && (plan.Steps.Contains(step) || step == options.Steps);
                if (recordRouting)
                {
                    history!.Append(RoutingRecord.Capture(model, plan!.Windows, step), step * tokensPerStep);
                    model.train();
                }
                string? saved = null;
                if ((options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0) || last || recordRouting)
                {
                    saved = TrainingCheckpoint.Write(options.OutputFolder, step, model, optimizer, sampler.State, options).Folder;
                    lastCheckpoint = saved;
                    PruneCheckpoints();
                }
                var eta = TimeSpan.FromSeconds(stepSecondsSmoothed * (options.Steps - step) *
                                               (1 + (options.EvaluateEvery > 0 ? 0.05 : 0)));
                var report = new TrainingProgress(step, options.Steps, trainLoss, balanceLoss, validation, lr,
                    tokensPerStep / stepSecondsSmoothed, session.Elapsed, eta, saved);
                log.Append(report, session.Elapsed.TotalSeconds);
                progress?.Report(report);
                if (saved is null && cancellation.IsCancellationRequested)
                {
                    // Cancelled from the progress callback: keep this step's state.
                    lastCheckpoint = TrainingCheckpoint.Write(options.OutputFolder, step, model, optimizer, sampler.State, options).Folder;
                    PruneCheckpoints();
                }
            }
        }
        finally
        {
            balance.Hooks.Dispose();
            model.eval();
        }
        return new TrainingResult(startStep, step, lastTrainLoss, lastValidation, lastCheckpoint, log.Path,
            stepSecondsTotal > 0 ? tokensTotal / stepSecondsTotal : 0);
    }

    /// <summary>Deletes all but the last <see cref="TrainingOptions.KeepCheckpoints"/>, keeping those of routing-record steps.</summary>
    private void PruneCheckpoints()
    {
        var all = TrainingCheckpoint.List(options.OutputFolder);
        var recorded = options.RoutingRecord?.Steps ?? [];
        foreach (var old in all.Take(Math.Max(0, all.Count - options.KeepCheckpoints)).Where(c => !recorded.Contains(c.Step)))
            Directory.Delete(old.Folder, recursive: true);
    }
}
