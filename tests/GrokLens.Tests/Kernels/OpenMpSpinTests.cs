using GrokLens.Kernels;

namespace GrokLens.Tests.Kernels;

public class OpenMpSpinTests
{
    [Fact]
    public void TheCLibrarysEnvironmentCarriesAShortSpinUnlessTheUserChoseOne()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? chosen = Environment.GetEnvironmentVariable(OpenMpSpin.Variable);
        bool waitPolicy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null;
        // The module initializer has run: this assembly's code is running.
        Assert.Equal(chosen ?? (waitPolicy ? null : OpenMpSpin.DefaultRounds), OpenMpSpin.Current());
    }
}
