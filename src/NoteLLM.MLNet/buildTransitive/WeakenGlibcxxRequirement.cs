// MSBuild inline task (compiled by RoslynCodeTaskFactory): marks one GLIBCXX version requirement of
// libLibTorchSharp.so as weak when the host's libstdc++ does not provide it. See NoteLLM.MLNet.targets.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class NoteLLMWeakenGlibcxxRequirement : Task
{
    [Required] public string[] Directories { get; set; }
    [Required] public string Version { get; set; }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (HostProvides(Version)) return true;
        foreach (string dir in Directories)
        {
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) continue;
            foreach (string sub in new[] { "runtimes/linux-x64/native", "cpu", "cuda", "." })
            {
                string path = Path.Combine(dir, sub, "libLibTorchSharp.so");
                if (!File.Exists(path)) continue;
                try
                {
                    if (Weaken(path, Version))
                        Log.LogMessage(MessageImportance.High, "NoteLLM.MLNet: host libstdc++ lacks " + Version + "; marked it weak in " + path);
                }
                catch (Exception e)
                {
                    Log.LogWarning("NoteLLM.MLNet: could not patch " + path + ": " + e.Message + ". TorchSharp may fail to load on this host.");
                }
            }
        }
        return !Log.HasLoggedErrors;
    }

    // True when a libstdc++.so.6 on the usual library paths declares the version string.
    static bool HostProvides(string version)
    {
        string[] candidates = {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" };
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (string c in candidates)
        {
            if (!File.Exists(c)) continue;
            return IndexOf(File.ReadAllBytes(c), needle) >= 0;
        }
        return true; // no libstdc++ found where we look: do not touch anything
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i <= hay.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    // Walks the ELF64 little-endian .gnu.version_r section; returns true when a flag was changed.
    static bool Weaken(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1) return false;
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            long vn = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < count; a++)
                {
                    uint name = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, strtab + name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) != 0) return false;
                        flags |= VerFlgWeak;
                        BitConverter.GetBytes(flags).CopyTo(elf, (int)aux + 4);
                        ReplaceWith(path, elf);
                        return true;
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return false;
    }

    // Writes the patched library beside the original and renames it over it. Never writes into the existing file:
    // when the build hard-links copy-local files (CreateHardLinksForCopyLocalIfPossible) that file is the NuGet
    // cache's own copy, and the rename also means no reader ever sees a half-written library.
    static void ReplaceWith(string path, byte[] contents)
    {
        string patched = path + ".notellm-patched";
        File.WriteAllBytes(patched, contents);
        File.Replace(patched, path, null);
    }

    static string ReadCString(byte[] b, long at)
    {
        int end = (int)at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
    }
}
