namespace GrokLens.Files;

/// <summary>
/// A temporary folder that shows whether its owner still lives: the owner holds an exclusive lock on the folder's
/// <see cref="LockFileName"/> (an advisory lock the operating system drops when the process ends, however it ends).
/// <see cref="StaleTemporaries.Sweep"/> deletes folders whose lock nobody holds, so a killed process's leftovers are
/// removed the next time any GrokLens process looks. Dispose to delete the folder.
/// </summary>
public sealed class OwnedTemporaryFolder : IDisposable
{
    public const string LockFileName = ".groklens-owner";

    private FileStream? ownerLock;

    private OwnedTemporaryFolder(string path, FileStream ownerLock)
    {
        Path = path;
        this.ownerLock = ownerLock;
    }

    public string Path { get; }

    /// <summary>Creates <paramref name="parent"/>/<paramref name="name"/> and takes its lock.</summary>
    public static OwnedTemporaryFolder Create(string parent, string name)
    {
        var path = System.IO.Path.Combine(parent, name);
        Directory.CreateDirectory(path);
        try
        {
            return new OwnedTemporaryFolder(path, TakeLock(System.IO.Path.Combine(path, LockFileName), FileMode.CreateNew));
        }
        catch
        {
            DeleteQuietly(path);
            throw;
        }
    }

    /// <summary>
    /// Removes the lock file and lets go of the folder, which stays (e.g. to be renamed into place). A folder without a
    /// lock file is left alone by sweeps for <see cref="StaleTemporaries.UnlockedGrace"/>.
    /// </summary>
    public void Release()
    {
        if (ownerLock is null) return;
        File.Delete(System.IO.Path.Combine(Path, LockFileName)); // unlinked while still locked, so no sweep sees it unlocked
        ownerLock.Dispose();
        ownerLock = null;
    }

    public void Dispose()
    {
        if (ownerLock is null) return;
        ownerLock.Dispose();
        ownerLock = null;
        DeleteQuietly(Path);
    }

    /// <summary>An exclusive (FileShare.None) handle: on Unix .NET takes flock(LOCK_EX), which fails while another holds it.</summary>
    internal static FileStream TakeLock(string path, FileMode mode) =>
        new(path, mode, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);

    public static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is harmless; the next sweep takes it.
        }
    }
}
