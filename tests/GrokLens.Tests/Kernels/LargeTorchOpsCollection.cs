namespace GrokLens.Tests.Kernels;

/// <summary>
/// Tests whose torch operations on tens of millions of elements run libtorch's OpenMP parallel regions (a bfloat16
/// conversion of every int8 × scale product, transposes of xAI expert matrices) run alone: the test host crashed
/// inside libtorch about one run in eight when two such operations ran on two test threads at once (a crash report
/// showed ScaleRuleTests' bfloat16 conversion and XaiCheckpoint's transpose in native code together).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LargeTorchOpsCollection
{
    public const string Name = "large torch operations";
}
