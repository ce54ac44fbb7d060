using System.IO.MemoryMappedFiles;

namespace GrokLens.Checkpoints;

/// <summary>
/// A whole file mapped read-only into memory, exposed as a pointer and a length. Reading a range touches only those
/// pages, so a 300 GB checkpoint costs no memory until its tensors are read.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _start;

    private MappedFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* start)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        _start = start;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>First byte of the file; throws once disposed.</summary>
    public byte* Start
    {
        get
        {
            ObjectDisposedException.ThrowIf(_start == null && Length > 0, this);
            return _start;
        }
    }

    public static MappedFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var length = stream.Length;
        if (length == 0)
        {
            stream.Dispose();
            return new MappedFile(path, 0, null, null, null); // An empty file cannot be mapped; callers reject it by length.
        }
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedFile(path, length, map, view, pointer + view.PointerOffset);
        }
        catch
        {
            view?.Dispose();
            if (map is not null) map.Dispose();
            else stream.Dispose();
            throw;
        }
    }

    /// <summary>The bytes [offset, offset+count) as a span; the range must lie inside the file (callers validate first).</summary>
    public ReadOnlySpan<byte> Span(long offset, int count)
    {
        if (offset < 0 || count < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range {offset}+{count} is outside the {Length}-byte file.");
        return new ReadOnlySpan<byte>(Start + offset, count);
    }

    public void Dispose()
    {
        if (_start == null) return;
        _start = null;
        _view!.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map!.Dispose();
    }
}
