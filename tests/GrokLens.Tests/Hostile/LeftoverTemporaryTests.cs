using System.Diagnostics;
using System.IO.Compression;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Files;
using GrokLens.Tests.Dumps;

namespace GrokLens.Tests.Hostile;

/// <summary>
/// Temporaries a killed process leaves (capture's ".out.&lt;guid&gt;.tmp" folders, zip extractions, atomic-write files)
/// are removed the next time GrokLens writes or extracts there; those of a live process, which holds their lock, stay.
/// </summary>
public class LeftoverTemporaryTests : IDisposable
{
    private readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>A leftover as a killed owner leaves it: the lock file exists but nobody holds it; old enough to sweep.</summary>
    private string KilledOwnersFolder(string name)
    {
        var path = Directory.CreateDirectory(Path.Combine(folder.Path, name)).FullName;
        File.WriteAllText(Path.Combine(path, OwnedTemporaryFolder.LockFileName), "");
        File.WriteAllBytes(Path.Combine(path, "data-00001.safetensors"), new byte[1024]);
        Directory.SetLastWriteTimeUtc(path, DateTime.UtcNow - StaleTemporaries.MinimumAge * 2);
        return path;
    }

    [Fact]
    public void ACaptureRemovesTheTemporaryFolderAKilledCaptureLeftBesideItsOutput()
    {
        var stale = KilledOwnersFolder($".out.{Guid.NewGuid():N}.tmp");
        using var live = OwnedTemporaryFolder.Create(folder.Path, $".out.{Guid.NewGuid():N}.tmp"); // another capture, still running
        Directory.SetLastWriteTimeUtc(live.Path, DateTime.UtcNow - StaleTemporaries.MinimumAge * 2);
        var unrelated = KilledOwnersFolder($".other.{Guid.NewGuid():N}.tmp");

        using var model = TestModels.RandomLoaded();
        using var run = model.Run([1, 2, 3], RunOptions.CaptureOnly("logits"));
        DumpWriter.WriteFolder(Path.Combine(folder.Path, "out"), model, [DumpWriter.FromRun(model, run)]);

        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(live.Path));
        Assert.True(Directory.Exists(unrelated)); // another output's temporaries are its own business
        Assert.Equal(["out"], Directory.GetDirectories(folder.Path).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')));
    }

    [Fact]
    public void OpeningAZipRemovesExtractionsAKilledReaderLeftAndLeavesNoneOfItsOwn()
    {
        var stale = KilledOwnersFolder(DumpFormat.ExtractionPrefix + Guid.NewGuid().ToString("N"));
        var zip = new MemoryStream();
        using (var model = TestModels.RandomLoaded())
        using (var run = model.Run([1, 2], RunOptions.CaptureOnly("logits")))
            DumpWriter.WriteZip(zip, model, [DumpWriter.FromRun(model, run)]);
        zip.Position = 0;
        using var reader = DumpReader.OpenZip(zip, new DumpReadOptions { TemporaryRoot = folder.Path });
        Assert.False(Directory.Exists(stale));
        // On Linux the extraction is deleted as soon as the dump is open (its files stay mapped): a crash leaves nothing.
        Assert.Empty(Directory.GetDirectories(folder.Path, DumpFormat.ExtractionPrefix + "*"));
        using var cache = reader.LoadCache(reader.Runs[0]);
        Assert.Equal([2, TestModels.SmallConfig().VocabSize], cache["logits"].shape);
    }

    [Fact]
    public void AnAtomicWriteRemovesTheTemporaryFileAKilledWriterLeft()
    {
        var target = Path.Combine(folder.Path, "capture.safetensors");
        var stale = Path.Combine(folder.Path, $".capture.safetensors.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(stale, new byte[4096]);
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - StaleTemporaries.MinimumAge * 2);
        GrokLens.Checkpoints.SafetensorsWriter.WriteAtomically(target, stream => stream.Write("x"u8));
        Assert.False(File.Exists(stale));
        Assert.Equal("x", File.ReadAllText(target));
    }

    [Fact]
    public void AFolderIsSweptOnlyOnceTheProcessHoldingItsLockIsGone()
    {
        // The lock is the operating system's: another process holds it (Python's flock is the same lock .NET takes).
        var leftover = KilledOwnersFolder($".out.{Guid.NewGuid():N}.tmp");
        var lockFile = Path.Combine(leftover, OwnedTemporaryFolder.LockFileName);
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var info = new ProcessStartInfo(python)
        {
            ArgumentList = { "-c", "import fcntl, sys; f = open(sys.argv[1], 'r+'); fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()", lockFile },
            RedirectStandardInput = true, RedirectStandardOutput = true,
        };
        using (var owner = Process.Start(info)!)
        {
            Assert.Equal("locked", owner.StandardOutput.ReadLine());
            Assert.Equal(0, StaleTemporaries.Sweep(folder.Path, ".out.*.tmp"));
            Assert.True(Directory.Exists(leftover));
            owner.Kill(); // killed, not closed: the operating system drops the lock
            owner.WaitForExit();
        }
        Assert.Equal(1, StaleTemporaries.Sweep(folder.Path, ".out.*.tmp"));
        Assert.False(Directory.Exists(leftover));
    }

    [Fact]
    public void ATemporaryFolderWithoutALockFileIsLeftAloneForAnHour()
    {
        var young = Directory.CreateDirectory(Path.Combine(folder.Path, ".out.young.tmp")).FullName;
        var old = Directory.CreateDirectory(Path.Combine(folder.Path, ".out.old.tmp")).FullName;
        Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow - StaleTemporaries.UnlockedGrace * 2);
        Assert.Equal(1, StaleTemporaries.Sweep(folder.Path, ".out.*.tmp"));
        Assert.True(Directory.Exists(young));
        Assert.False(Directory.Exists(old));
    }
}
