using System.Globalization;

namespace GrokLens.Training;

/// <summary>
/// The CSV log <c>training-log.csv</c>: one row per step with
/// <c>step,train_loss,load_balancing_loss,val_loss,lr,tokens_per_s,elapsed_s</c> (val_loss empty when not evaluated).
/// On resume, rows after the checkpoint's step are dropped so the log matches the weights.
/// </summary>
public sealed class TrainingLog
{
    public const string FileName = "training-log.csv";
    public const string Header = "step,train_loss,load_balancing_loss,val_loss,lr,tokens_per_s,elapsed_s";

    public TrainingLog(string outputFolder, int resumeStep)
    {
        Path = System.IO.Path.Combine(outputFolder, FileName);
        Directory.CreateDirectory(outputFolder);
        var kept = new List<string> { Header };
        if (resumeStep > 0 && File.Exists(Path))
            kept.AddRange(File.ReadLines(Path).Skip(1).Where(line =>
                int.TryParse(line.Split(',')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int step) && step <= resumeStep));
        File.WriteAllLines(Path, kept);
    }

    public string Path { get; }

    public void Append(TrainingProgress p, double elapsedSeconds)
    {
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        File.AppendAllText(Path, string.Join(',',
            p.Step.ToString(CultureInfo.InvariantCulture), F(p.TrainLoss), F(p.LoadBalancingLoss),
            p.ValidationLoss is double v ? F(v) : "", F(p.LearningRate), p.TokensPerSecond.ToString("F1", CultureInfo.InvariantCulture),
            elapsedSeconds.ToString("F3", CultureInfo.InvariantCulture)) + "\n");
    }

    /// <summary>Reads a log back as (step, train loss, val loss or NaN) rows, e.g. for a plot.</summary>
    public static IReadOnlyList<(int Step, double TrainLoss, double ValidationLoss)> Read(string path) =>
        File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var c = l.Split(',');
            return (int.Parse(c[0], CultureInfo.InvariantCulture), double.Parse(c[1], CultureInfo.InvariantCulture),
                c[3].Length == 0 ? double.NaN : double.Parse(c[3], CultureInfo.InvariantCulture));
        }).ToList();
}
