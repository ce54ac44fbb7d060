using System.IO.Compression;
using GrokLens.Checkpoints;

namespace GrokLens.Dumps;

/// <summary>Where a <see cref="DumpBuilder"/> puts its files: a folder (files replaced atomically) or a zip stream.</summary>
public interface IDumpSink
{
    /// <summary>True if a file can be written again (the manifest after every commit); false for a zip being streamed.</summary>
    bool CanRewrite { get; }

    /// <summary>Writes one whole file; it becomes visible only complete.</summary>
    void Write(string fileName, Action<Stream> write);

    /// <summary>Removes a file that an earlier commit wrote and a later one replaced.</summary>
    void Delete(string fileName);
}

/// <summary>Files in a folder, each written to a temporary name and renamed.</summary>
public sealed class FolderDumpSink(string folder) : IDumpSink
{
    public string Folder { get; } = Path.GetFullPath(folder);

    public bool CanRewrite => true;

    public void Write(string fileName, Action<Stream> write) =>
        SafetensorsWriter.WriteAtomically(Path.Combine(Folder, fileName), write);

    public void Delete(string fileName) => File.Delete(Path.Combine(Folder, fileName));
}

/// <summary>Entries of a zip archive written to a stream (stored, not compressed: activations hardly compress).</summary>
public sealed class ZipDumpSink(ZipArchive archive) : IDumpSink
{
    public bool CanRewrite => false;

    public void Write(string fileName, Action<Stream> write)
    {
        var entry = archive.CreateEntry(fileName, CompressionLevel.NoCompression);
        using var stream = entry.Open();
        write(stream);
    }

    public void Delete(string fileName) =>
        throw new InvalidOperationException($"A zip being streamed cannot delete '{fileName}'.");
}
