// MSBuild inline task (RoslynCodeTaskFactory): marks one symbol-version requirement of ELF64 shared
// libraries weak (VER_FLG_WEAK), so the dynamic loader accepts a library whose C++ runtime is older.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class MarkElfVersionNeedWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            try
            {
                var bytes = File.ReadAllBytes(path);
                var result = Weaken(bytes, VersionName);
                if (result == PatchResult.Patched)
                {
                    // Write a new file and rename it over the old one: the output copy may be a hard link
                    // into the NuGet cache, which must never change.
                    var temp = path + ".weak-tmp";
                    File.WriteAllBytes(temp, bytes);
                    File.Delete(path);
                    File.Move(temp, path);
                    Log.LogMessage(MessageImportance.High, $"Marked {VersionName} weak in {path}");
                }
                else
                {
                    Log.LogMessage(MessageImportance.Low, $"{path}: {result}");
                }
            }
            catch (Exception e)
            {
                Log.LogError($"Could not patch {path}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private enum PatchResult { Patched, AlreadyWeak, VersionNotNeeded }

    private static PatchResult Weaken(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only little-endian ELF64 is supported");

        ulong sectionTable = BitConverter.ToUInt64(elf, 0x28);
        int sectionSize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < sectionCount; i++)
        {
            int header = checked((int)sectionTable + i * sectionSize);
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed) continue;

            int verneed = checked((int)BitConverter.ToUInt64(elf, header + 24));
            int stringSection = (int)BitConverter.ToUInt32(elf, header + 40);
            int entries = (int)BitConverter.ToUInt32(elf, header + 44);
            int strings = checked((int)BitConverter.ToUInt64(elf, (int)sectionTable + stringSection * sectionSize + 24));

            int need = verneed;
            for (int n = 0; n < entries; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int name = strings + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (ReadCString(elf, name) == versionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlagWeak) != 0) return PatchResult.AlreadyWeak;
                        BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, aux + 4);
                        return PatchResult.Patched;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return PatchResult.VersionNotNeeded;
    }

    private static string ReadCString(byte[] bytes, int start)
    {
        int end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }
}
