namespace GrokLens.Files;

/// <summary>
/// Finds and deletes temporaries that a killed process left behind. A temporary file is stale when nobody holds it
/// open exclusively (its writer always does: FileShare.None); a temporary folder (<see cref="OwnedTemporaryFolder"/>)
/// when nobody holds its lock file, or, lacking one, once it is older than <see cref="UnlockedGrace"/>. Nothing younger
/// than <see cref="MinimumAge"/> is touched: between creating a file and locking it there is a moment without the lock.
/// </summary>
public static class StaleTemporaries
{
    /// <summary>How long a temporary folder without a lock file is left alone (it may be just being created or renamed).</summary>
    public static readonly TimeSpan UnlockedGrace = TimeSpan.FromHours(1);

    public static readonly TimeSpan MinimumAge = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A new temporary file in <paramref name="parent"/>, held exclusively (so sweeps see it is alive) and deleted when
    /// closed; one a killed process left is removed by the next <see cref="Sweep"/> of its pattern.
    /// </summary>
    public static FileStream CreateFile(string parent, string name) =>
        new(Path.Combine(parent, name), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);

    /// <summary>Deletes the stale entries of <paramref name="parent"/> matching <paramref name="pattern"/>; returns how many.</summary>
    public static int Sweep(string parent, string pattern)
    {
        if (!Directory.Exists(parent)) return 0;
        int removed = 0;
        try
        {
            foreach (var file in Directory.EnumerateFiles(parent, pattern))
                if (Age(File.GetLastWriteTimeUtc(file)) > MinimumAge && IsUnheld(file) && TryDelete(() => File.Delete(file))) removed++;
            foreach (var folder in Directory.EnumerateDirectories(parent, pattern))
                if (IsStaleFolder(folder) && TryDelete(() => Directory.Delete(folder, recursive: true))) removed++;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder we may not list is not ours to clean.
        }
        return removed;
    }

    private static bool IsStaleFolder(string folder)
    {
        var age = Age(Directory.GetLastWriteTimeUtc(folder));
        var lockFile = Path.Combine(folder, OwnedTemporaryFolder.LockFileName);
        return File.Exists(lockFile) ? age > MinimumAge && IsUnheld(lockFile) : age > UnlockedGrace;
    }

    private static TimeSpan Age(DateTime utc) => DateTime.UtcNow - utc;

    /// <summary>True when this process can take the file's exclusive lock, i.e. no live process holds it.</summary>
    private static bool IsUnheld(string file)
    {
        try
        {
            using var probe = OwnedTemporaryFolder.TakeLock(file, FileMode.Open);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // held by its owner (or gone meanwhile)
        }
    }

    private static bool TryDelete(Action delete)
    {
        try
        {
            delete();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
