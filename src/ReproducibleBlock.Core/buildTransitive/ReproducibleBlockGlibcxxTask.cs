#nullable disable
// MSBuild inline task (RoslynCodeTaskFactory, Type="Class"): kept to C# 7.3 and netstandard2.0 APIs
// because the task factory compiles it with the references MSBuild itself provides.
//
// Why it exists: TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13 and records a need for
// GLIBCXX_3.4.32 (libstdc++ 13). Debian 12 and Ubuntu 22.04 ship older libstdc++, so the dynamic
// loader refuses the library even though the only symbol bound to that version is
// std::ios_base_library_init, a marker GCC 13 headers reference and never call. Setting
// VER_FLG_WEAK on that one version-need entry makes glibc accept the library; nothing else changes.
using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class ReproducibleBlockWeakenGlibcxx : Task
{
    /// <summary>Folders to scan (recursively) for libLibTorchSharp.so: the build or publish output.</summary>
    [Required]
    public string[] Directories { get; set; }

    /// <summary>"auto" (patch only when the host's libstdc++ lacks the version), "true" (always), "false".</summary>
    public string Mode { get; set; }

    public override bool Execute() => Execute(Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"));

    /// <summary><see cref="Execute()"/> with the given LD_LIBRARY_PATH in place of the process's (for tests).</summary>
    internal bool Execute(string ldLibraryPath)
    {
        string mode = string.IsNullOrEmpty(Mode) ? "auto" : Mode.Trim().ToLowerInvariant();
        if (mode == "false")
            return true;
        if (mode != "auto" && mode != "true")
        {
            Log.LogError("ReproducibleBlockPatchTorchSharp must be 'auto', 'true' or 'false', not '{0}'.", Mode);
            return false;
        }

        if (mode == "auto")
        {
            string hostLibrary = GlibcxxWeakener.FindHostLibStdCxx(ldLibraryPath);
            if (hostLibrary == null)
            {
                Log.LogMessage(MessageImportance.Low, "ReproducibleBlock: no libstdc++.so.6 found in the standard library folders; libLibTorchSharp.so left as it is.");
                return true;
            }
            bool provides;
            try
            {
                provides = GlibcxxWeakener.DefinesVersion(hostLibrary, GlibcxxWeakener.RequiredVersion);
            }
            catch (Exception e)
            {
                // Whatever is wrong with it (not ELF, truncated, 32-bit, unreadable), it must not fail the build.
                Log.LogWarning("ReproducibleBlock: could not tell whether '{0}', the libstdc++.so.6 found first on LD_LIBRARY_PATH or in the standard library folders, provides {1}: {2} ({3}). The {1} requirement of libLibTorchSharp.so in the output is made weak anyway, which loads with any libstdc++. Set the MSBuild property ReproducibleBlockPatchTorchSharp to true (always patch) or false (never patch) to decide yourself and silence this.", hostLibrary, GlibcxxWeakener.RequiredVersion, e.Message, e.GetType().Name);
                provides = false;
            }
            if (provides)
            {
                Log.LogMessage(MessageImportance.Low, "ReproducibleBlock: {0} provides {1}; libLibTorchSharp.so needs no change.", hostLibrary, GlibcxxWeakener.RequiredVersion);
                return true;
            }
        }

        foreach (string directory in Directories ?? new string[0])
        {
            if (string.IsNullOrEmpty(directory) || !System.IO.Directory.Exists(directory))
                continue;
            foreach (string file in System.IO.Directory.EnumerateFiles(directory, GlibcxxWeakener.LibraryFileName, SearchOption.AllDirectories))
            {
                string result;
                try
                {
                    result = GlibcxxWeakener.PatchFile(file);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
                {
                    Log.LogWarning("ReproducibleBlock: could not make the GLIBCXX_3.4.32 requirement of '{0}' weak: {1} TorchSharp may fail to load on this machine. Set ReproducibleBlockPatchTorchSharp=false to silence this.", file, e.Message);
                    continue;
                }
                Log.LogMessage(result == GlibcxxWeakener.Patched ? MessageImportance.High : MessageImportance.Low, "ReproducibleBlock: {0}: {1}", file, result);
            }
        }
        return true;
    }
}

/// <summary>Reads and patches ELF64 little-endian shared objects (the layout of x86-64 and arm64 Linux).</summary>
public static class GlibcxxWeakener
{
    public const string LibraryFileName = "libLibTorchSharp.so";
    public const string RequiredVersion = "GLIBCXX_3.4.32";
    /// <summary>The only symbol allowed to depend on <see cref="RequiredVersion"/>: a marker, never called.</summary>
    public const string MarkerSymbol = "_ZSt21ios_base_library_initv";

    private const uint SHT_DYNSYM = 11;
    private const uint SHT_GNU_verdef = 0x6ffffffd;
    private const uint SHT_GNU_verneed = 0x6ffffffe;
    private const uint SHT_GNU_versym = 0x6fffffff;
    private const ushort VER_FLG_WEAK = 0x2;

    private static readonly string[] LibraryFolders =
    {
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib64", "/usr/lib64", "/lib", "/usr/lib",
    };

    /// <summary>The libstdc++.so.6 the dynamic loader would pick from LD_LIBRARY_PATH or the standard folders, or null.</summary>
    public static string FindHostLibStdCxx() => FindHostLibStdCxx(Environment.GetEnvironmentVariable("LD_LIBRARY_PATH"));

    /// <summary>The libstdc++.so.6 found first in <paramref name="ldLibraryPath"/> (colon-separated) or the standard folders, or null.</summary>
    public static string FindHostLibStdCxx(string ldLibraryPath)
    {
        var folders = new List<string>();
        if (!string.IsNullOrEmpty(ldLibraryPath))
            folders.AddRange(ldLibraryPath.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
        folders.AddRange(LibraryFolders);
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, "libstdc++.so.6");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>Whether the shared object defines the symbol version <paramref name="version"/> (its .gnu.version_d).</summary>
    public static bool DefinesVersion(string path, string version)
    {
        var elf = new Elf(File.ReadAllBytes(path));
        foreach (Section section in elf.Sections)
        {
            if (section.Type != SHT_GNU_verdef)
                continue;
            Section strings = elf.Sections[(int)section.Link];
            long entry = section.Offset;
            for (uint i = 0; i < section.Info; i++)
            {
                uint aux = elf.U32(entry + 12);
                if (elf.String(strings, elf.U32(entry + aux)) == version)
                    return true;
                uint next = elf.U32(entry + 16);
                if (next == 0)
                    break;
                entry += next;
            }
        }
        return false;
    }

    /// <summary>
    /// Marks the GLIBCXX_3.4.32 version need of <paramref name="path"/> weak, writing a new file over it so a hard
    /// link into the NuGet cache is never modified. The file's timestamp is kept so incremental copies skip it, and
    /// its mode (permissions) is kept. Builds running at the same time may patch the same file: each writes its own
    /// temporary file next to it and renames it over the library in one step, so the library never goes missing.
    /// Returns what was done, in words.
    /// </summary>
    public static string PatchFile(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        string outcome = Patch(bytes);
        if (outcome != Patched)
            return outcome;
        DateTime lastWrite = File.GetLastWriteTimeUtc(path);
        string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)),
            "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".reproducibleblock.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                stream.Write(bytes, 0, bytes.Length);
            UnixFileModes.Copy(path, temporary);
            File.SetLastWriteTimeUtc(temporary, lastWrite);
            // File.Move(temporary, path, overwrite: true) is not in netstandard2.0, which this file is compiled
            // against; File.Replace without a backup is the same rename(2) on Unix: atomic, and it replaces the
            // directory entry, never the contents of a file hard-linked to it.
            File.Replace(temporary, path, null);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        return outcome;
    }

    public const string Patched = "marked the GLIBCXX_3.4.32 requirement weak (only std::ios_base_library_init, never called, needs it)";
    public const string AlreadyWeak = "GLIBCXX_3.4.32 requirement is already weak";
    public const string NotNeeded = "does not require GLIBCXX_3.4.32";

    /// <summary>Patches the image in memory. Throws InvalidDataException when it is not safe to patch.</summary>
    public static string Patch(byte[] image)
    {
        var elf = new Elf(image);
        Section verneed = null, versym = null, dynsym = null;
        foreach (Section section in elf.Sections)
        {
            if (section.Type == SHT_GNU_verneed) verneed = section;
            else if (section.Type == SHT_GNU_versym) versym = section;
            else if (section.Type == SHT_DYNSYM) dynsym = section;
        }
        if (verneed == null)
            return NotNeeded;

        Section strings = elf.Sections[(int)verneed.Link];
        long need = verneed.Offset;
        for (uint i = 0; i < verneed.Info; i++)
        {
            long vernaux = need + elf.U32(need + 8);
            ushort count = elf.U16(need + 2);
            for (int j = 0; j < count; j++)
            {
                if (elf.String(strings, elf.U32(vernaux + 8)) == RequiredVersion)
                {
                    ushort flags = elf.U16(vernaux + 4);
                    if ((flags & VER_FLG_WEAK) != 0)
                        return AlreadyWeak;
                    ushort index = elf.U16(vernaux + 6);
                    CheckOnlyMarkerUses(elf, dynsym, versym, index);
                    elf.WriteU16(vernaux + 4, (ushort)(flags | VER_FLG_WEAK));
                    return Patched;
                }
                uint nextAux = elf.U32(vernaux + 12);
                if (nextAux == 0)
                    break;
                vernaux += nextAux;
            }
            uint next = elf.U32(need + 12);
            if (next == 0)
                break;
            need += next;
        }
        return NotNeeded;
    }

    private static void CheckOnlyMarkerUses(Elf elf, Section dynsym, Section versym, ushort versionIndex)
    {
        if (dynsym == null || versym == null)
            throw new InvalidDataException("the library has no dynamic symbol version table, so the symbols needing " + RequiredVersion + " cannot be checked");
        Section names = elf.Sections[(int)dynsym.Link];
        long symbols = dynsym.Size / 24;
        for (long s = 0; s < symbols; s++)
        {
            ushort version = (ushort)(elf.U16(versym.Offset + 2 * s) & 0x7fff);
            if (version != versionIndex)
                continue;
            string name = elf.String(names, elf.U32(dynsym.Offset + 24 * s));
            if (name != MarkerSymbol)
                throw new InvalidDataException("symbol '" + name + "' needs " + RequiredVersion + "; making that requirement weak would break it at run time");
        }
    }

    private sealed class Section
    {
        public uint Type;
        public long Offset;
        public long Size;
        public uint Link;
        public uint Info;
    }

    private sealed class Elf
    {
        private readonly byte[] _image;
        public readonly List<Section> Sections = new List<Section>();

        public Elf(byte[] image)
        {
            _image = image;
            const string Supported = "; only 64-bit little-endian ELF files (x86-64, arm64 Linux) are handled";
            if (image.Length < 16 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (image[4] == 1)
                throw new InvalidDataException("a 32-bit ELF file (ELFCLASS32)" + Supported);
            if (image[4] != 2)
                throw new InvalidDataException("an ELF file of unknown class " + image[4] + Supported);
            if (image[5] == 2)
                throw new InvalidDataException("a big-endian ELF file (ELFDATA2MSB)" + Supported);
            if (image[5] != 1)
                throw new InvalidDataException("an ELF file of unknown data encoding " + image[5] + Supported);
            if (image.Length < 64)
                throw new InvalidDataException("the 64-bit ELF header is cut short");
            long sectionHeaders = (long)U64(0x28);
            ushort entrySize = U16(0x3a);
            ushort count = U16(0x3c);
            if (entrySize < 64 || sectionHeaders <= 0 || sectionHeaders + (long)entrySize * count > image.Length)
                throw new InvalidDataException("the section header table lies outside the file");
            for (int i = 0; i < count; i++)
            {
                long header = sectionHeaders + (long)entrySize * i;
                var section = new Section
                {
                    Type = U32(header + 4),
                    Offset = (long)U64(header + 24),
                    Size = (long)U64(header + 32),
                    Link = U32(header + 40),
                    Info = U32(header + 44),
                };
                if (section.Type != 8 /* SHT_NOBITS */ && (section.Offset < 0 || section.Offset + section.Size > image.Length))
                    throw new InvalidDataException("section " + i + " lies outside the file");
                if (section.Link >= count)
                    throw new InvalidDataException("section " + i + " links to a section that does not exist");
                Sections.Add(section);
            }
        }

        private void Check(long offset, int length)
        {
            if (offset < 0 || offset + length > _image.Length)
                throw new InvalidDataException("a version or symbol table entry lies outside the file");
        }

        public ushort U16(long o) { Check(o, 2); return (ushort)(_image[o] | _image[o + 1] << 8); }
        public uint U32(long o) { Check(o, 4); return (uint)(_image[o] | _image[o + 1] << 8 | _image[o + 2] << 16 | _image[o + 3] << 24); }
        public ulong U64(long o) => U32(o) | (ulong)U32(o + 4) << 32;
        public void WriteU16(long o, ushort value) { Check(o, 2); _image[o] = (byte)value; _image[o + 1] = (byte)(value >> 8); }

        public string String(Section table, uint offset)
        {
            long start = table.Offset + offset;
            long end = start;
            long limit = table.Offset + table.Size;
            while (end < limit && _image[end] != 0)
                end++;
            if (start >= limit || end >= limit)
                throw new InvalidDataException("a name lies outside its string table");
            return System.Text.Encoding.ASCII.GetString(_image, (int)start, (int)(end - start));
        }
    }
}

/// <summary>
/// File.GetUnixFileMode and File.SetUnixFileMode (.NET 7 and later), reached by reflection because this file is
/// compiled against netstandard2.0. Where they do not exist (Windows, older runtimes) nothing is copied.
/// </summary>
internal static class UnixFileModes
{
    private static readonly System.Reflection.MethodInfo Get = typeof(File).GetMethod("GetUnixFileMode", new[] { typeof(string) });
    private static readonly System.Reflection.MethodInfo Set = Get == null ? null : typeof(File).GetMethod("SetUnixFileMode", new[] { typeof(string), Get.ReturnType });

    public static void Copy(string from, string to)
    {
        if (Get == null || Set == null || Path.DirectorySeparatorChar == '\\')
            return;
        try
        {
            Set.Invoke(null, new[] { to, Get.Invoke(null, new object[] { from }) });
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException != null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
