using System.IO.Compression;
using GrokLens.Files;

namespace GrokLens.Dumps;

/// <summary>
/// Zipped dumps: writing a dump into a zip stream, and extracting one safely. Extraction accepts only flat entry
/// names (manifest.json and *.safetensors data files: a name with a path such as "../x" is refused), counts the bytes
/// actually inflated against the size limit (never trusting the sizes a zip declares) and refuses duplicates.
/// </summary>
internal static class DumpZip
{
    /// <summary>
    /// Extracts into a fresh folder owned by the caller (dispose it to delete it). Extraction folders that a killed
    /// process left behind in the same place are removed first.
    /// </summary>
    public static OwnedTemporaryFolder Extract(Stream zip, string location, DumpReadOptions options)
    {
        StaleTemporaries.Sweep(options.TemporaryRoot, DumpFormat.ExtractionPrefix + "*");
        var extraction = OwnedTemporaryFolder.Create(options.TemporaryRoot, DumpFormat.ExtractionPrefix + Guid.NewGuid().ToString("N"));
        var folder = extraction.Path;
        try
        {
            using var seekable = Seekable(zip, folder, location, options.MaxZipBytes);
            ZipArchive archive;
            try
            {
                archive = new ZipArchive(seekable, ZipArchiveMode.Read, leaveOpen: true);
            }
            catch (InvalidDataException e)
            {
                throw new DumpFormatException(location, $"not a zip file ({e.Message})", e);
            }
            using (archive)
            {
                long total = 0;
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var entry in archive.Entries)
                {
                    var name = entry.FullName;
                    if (name != DumpFormat.ManifestFileName && !DumpFormat.IsSafeFileName(name))
                        throw new DumpFormatException(location,
                            $"zip entry '{name}' is not part of a dump (only manifest.json and plain *.safetensors names; paths such as '../x' are refused)");
                    if (!names.Add(name)) throw new DumpFormatException(location, $"zip entry '{name}' appears twice");
                    total = CopyEntry(entry, Path.Combine(folder, name), total, options.MaxZipBytes, location);
                }
            }
            return extraction;
        }
        catch (Exception e) when (e is not DumpFormatException)
        {
            extraction.Dispose();
            throw e is InvalidDataException ? new DumpFormatException(location, $"the zip is corrupt ({e.Message})", e) : e;
        }
        catch
        {
            extraction.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="write"/>'s dump as a zip to <paramref name="destination"/> (which may be non-seekable).</summary>
    public static DumpManifest Write(Stream destination, Func<IDumpSink, DumpManifest> write)
    {
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        return write(new ZipDumpSink(archive));
    }

    private static Stream Seekable(Stream zip, string folder, string location, long maxBytes)
    {
        if (zip.CanSeek)
        {
            if (zip.Length - zip.Position > maxBytes)
                throw new DumpFormatException(location, $"the zip is {zip.Length - zip.Position} bytes, over the {maxBytes}-byte limit");
            return new NonClosingStream(zip);
        }
        // An upload stream cannot seek; spool it to disk under the same limit.
        var spool = new FileStream(Path.Combine(folder, ".upload.zip"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            1 << 20, FileOptions.DeleteOnClose);
        var buffer = new byte[1 << 20];
        long copied = 0;
        int read;
        while ((read = zip.Read(buffer)) > 0)
        {
            copied += read;
            if (copied > maxBytes)
            {
                spool.Dispose();
                throw new DumpFormatException(location, $"the zip is over the {maxBytes}-byte limit");
            }
            spool.Write(buffer, 0, read);
        }
        spool.Position = 0;
        return spool;
    }

    private static long CopyEntry(ZipArchiveEntry entry, string path, long total, long maxBytes, string location)
    {
        using var input = entry.Open();
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var buffer = new byte[1 << 20];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            total += read;
            if (total > maxBytes)
                throw new DumpFormatException(location, $"the zip inflates to more than the {maxBytes}-byte limit");
            output.Write(buffer, 0, read);
        }
        return total;
    }

    /// <summary>Lets the archive be disposed without closing the caller's stream.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
