using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GrokLens.Kernels;

/// <summary>
/// libtorch's OpenMP runtime (GNU libgomp, shipped in TorchSharp's libtorch package) keeps its worker threads spinning
/// after every parallel torch operation, by default for 300,000 rounds (GOMP_SPINCOUNT): milliseconds. Between torch
/// operations GrokLens's C# kernels share work with their own helper threads (<see cref="SharedChunkRunner"/>), and on a
/// machine with as many cores as torch threads the spinning workers held the cores those helpers needed: the experts'
/// prefill ran on one core (docs/int8-kernels.md, "Small-model prefill"). A spin of 10,000 rounds keeps torch's
/// back-to-back operations fast and frees the cores soon after. libgomp reads its environment once, when libtorch is
/// loaded, so this is set when this assembly is first used (before any model code calls torch); a value the user set
/// (GOMP_SPINCOUNT, or OMP_WAIT_POLICY) is left alone, and it is only a default for this process's own libgomp.
/// </summary>
public static partial class OpenMpSpin
{
    public const string Variable = "GOMP_SPINCOUNT";
    public const string DefaultRounds = "10000";

#pragma warning disable CA2255 // A module initializer is the one place that runs before any of this library's code loads libtorch.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Shorten()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null
            || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null)
            return;
        // .NET's Environment.SetEnvironmentVariable changes only its own copy; libgomp reads the C library's.
        setenv(Variable, DefaultRounds, 0);
    }

    /// <summary>The C library's value (what libgomp reads), or null.</summary>
    public static string? Current() => OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(getenv(Variable)) : null;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint getenv(string name);
}
