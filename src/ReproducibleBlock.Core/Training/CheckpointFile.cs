using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using System.Text;

namespace ReproducibleBlock;

/// <summary>
/// The byte format of a <see cref="TrainingRun"/> checkpoint: one file holding every part (the manifest, the model,
/// the optimizers, the generators, the samplers, the user's state), so that no crash can leave one step's model beside
/// another step's generators. All integers little-endian.
/// </summary>
/// <remarks>
/// <code>
/// header  : "RBLKCKPT" | u16 version (1) | u32 section count
/// section : u16 name length | UTF-8 name | u64 length | bytes
/// trailer : u64 XXH64 (seed 0) of everything before
/// </code>
/// The manifest section is UTF-8 text, one <c>key=value</c> per line.
/// </remarks>
internal static class CheckpointFile
{
    private static ReadOnlySpan<byte> Magic => "RBLKCKPT"u8;
    private const ushort Version = 1;
    public const string ManifestSection = "manifest";

    public static byte[] Write(IReadOnlyList<(string Name, byte[] Bytes)> sections)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), Version);
        output.Advance(2);
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), (uint)sections.Count);
        output.Advance(4);
        foreach ((string name, byte[] bytes) in sections)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(name);
            BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), checked((ushort)utf8.Length));
            output.Advance(2);
            output.Write(utf8);
            BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), (ulong)bytes.Length);
            output.Advance(8);
            output.Write(bytes);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), XxHash64.HashToUInt64(output.WrittenSpan));
        output.Advance(8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads every section, checking the whole file first.</summary>
    /// <param name="bytes">The file's bytes.</param>
    /// <param name="file">Names the file in messages.</param>
    /// <exception cref="FormatException">The bytes are not a whole, intact checkpoint of a known version.</exception>
    public static Dictionary<string, byte[]> Read(ReadOnlySpan<byte> bytes, string file)
    {
        if (bytes.Length < 8 + 2 + 4 + 8 || !bytes[..8].SequenceEqual(Magic))
            throw new FormatException($"{file} is not a ReproducibleBlock checkpoint (it does not start with 'RBLKCKPT').");
        int end = bytes.Length - 8;
        if (XxHash64.HashToUInt64(bytes[..end]) != BinaryPrimitives.ReadUInt64LittleEndian(bytes[end..]))
            throw new FormatException($"{file}: the checkpoint's checksum does not match its contents; the file was damaged or cut short.");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
        if (version != Version)
            throw new FormatException($"{file} is a checkpoint of format version {version}; this version of ReproducibleBlock reads version {Version}.");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes[10..]);
        ReadOnlySpan<byte> rest = bytes[14..end];
        var sections = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (uint i = 0; i < count; i++)
        {
            if (rest.Length < 2)
                throw new FormatException($"{file}: the checkpoint ends in the middle of a section.");
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(rest);
            if (rest.Length < 2 + nameLength + 8)
                throw new FormatException($"{file}: the checkpoint ends in the middle of a section.");
            string name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(rest.Slice(2, nameLength));
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(rest[(2 + nameLength)..]);
            rest = rest[(2 + nameLength + 8)..];
            if (length > (ulong)rest.Length)
                throw new FormatException($"{file}: section '{name}' announces {length} bytes, more than the checkpoint holds.");
            if (!sections.TryAdd(name, rest[..(int)length].ToArray()))
                throw new FormatException($"{file}: the checkpoint holds section '{name}' twice.");
            rest = rest[(int)length..];
        }
        if (!rest.IsEmpty)
            throw new FormatException($"{file}: the checkpoint has {rest.Length} unexpected bytes after its last section.");
        if (!sections.ContainsKey(ManifestSection))
            throw new FormatException($"{file}: the checkpoint has no manifest.");
        return sections;
    }

    public static byte[] Manifest(IEnumerable<(string Key, string Value)> entries) =>
        Encoding.UTF8.GetBytes(string.Concat(entries.Select(e => $"{e.Key}={e.Value.Replace('\n', ' ')}\n")));

    public static Dictionary<string, string> Manifest(byte[] bytes, string file)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !entries.TryAdd(line[..equals], line[(equals + 1)..]))
                throw new FormatException($"{file}: the checkpoint's manifest has a malformed or repeated line.");
        }
        return entries;
    }
}
