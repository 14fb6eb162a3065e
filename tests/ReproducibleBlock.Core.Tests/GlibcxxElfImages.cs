using System;
using System.Buffers.Binary;
using System.Text;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Small, well-formed ELF files that the libstdc++ build step must refuse: a 32-bit one (ELFCLASS32, i386) and a
/// big-endian 64-bit one (ELFDATA2MSB, s390x). Built from the ELF specification, so every machine has them.
/// Each is a shared object (ET_DYN) with no program headers and two sections: the null one and .shstrtab.
/// </summary>
internal static class GlibcxxElfImages
{
    private const ushort EtDyn = 3, Em386 = 3, EmS390 = 22;
    private const uint ShtStrtab = 3;
    private static readonly byte[] SectionNames = Encoding.ASCII.GetBytes("\0.shstrtab\0");

    /// <summary>ELF32, little-endian, EM_386; with <paramref name="sections"/> false, only the 52-byte header.</summary>
    public static byte[] Elf32LittleEndian(bool sections = true)
    {
        const int HeaderSize = 52, SectionHeaderSize = 40, NamesAt = HeaderSize, TableAt = 64;
        byte[] image = new byte[sections ? TableAt + 2 * SectionHeaderSize : HeaderSize];
        var w = new Writer(image, bigEndian: false);
        Ident(image, elfClass: 1, data: 1);
        w.U16(16, EtDyn);
        w.U16(18, Em386);
        w.U32(20, 1);                    // e_version
        w.U32(24, 0);                    // e_entry
        w.U32(28, 0);                    // e_phoff
        w.U32(32, sections ? TableAt : 0u); // e_shoff
        w.U32(36, 0);                    // e_flags
        w.U16(40, HeaderSize);           // e_ehsize
        w.U16(42, 32);                   // e_phentsize
        w.U16(44, 0);                    // e_phnum
        w.U16(46, SectionHeaderSize);    // e_shentsize
        w.U16(48, sections ? (ushort)2 : (ushort)0); // e_shnum
        w.U16(50, sections ? (ushort)1 : (ushort)0); // e_shstrndx
        if (sections)
        {
            SectionNames.CopyTo(image, NamesAt);
            int s = TableAt + SectionHeaderSize; // section 1; section 0 stays all zero
            w.U32(s + 0, 1);                     // sh_name: ".shstrtab"
            w.U32(s + 4, ShtStrtab);
            w.U32(s + 16, NamesAt);              // sh_offset
            w.U32(s + 20, (uint)SectionNames.Length);
            w.U32(s + 32, 1);                    // sh_addralign
        }
        return image;
    }

    /// <summary>ELF64, big-endian, EM_S390.</summary>
    public static byte[] Elf64BigEndian()
    {
        const int HeaderSize = 64, SectionHeaderSize = 64, NamesAt = HeaderSize, TableAt = 80;
        byte[] image = new byte[TableAt + 2 * SectionHeaderSize];
        var w = new Writer(image, bigEndian: true);
        Ident(image, elfClass: 2, data: 2);
        w.U16(16, EtDyn);
        w.U16(18, EmS390);
        w.U32(20, 1);                    // e_version
        w.U64(24, 0);                    // e_entry
        w.U64(32, 0);                    // e_phoff
        w.U64(40, TableAt);              // e_shoff
        w.U32(48, 0);                    // e_flags
        w.U16(52, HeaderSize);           // e_ehsize
        w.U16(54, 56);                   // e_phentsize
        w.U16(56, 0);                    // e_phnum
        w.U16(58, SectionHeaderSize);    // e_shentsize
        w.U16(60, 2);                    // e_shnum
        w.U16(62, 1);                    // e_shstrndx
        SectionNames.CopyTo(image, NamesAt);
        int s = TableAt + SectionHeaderSize;
        w.U32(s + 0, 1);                 // sh_name: ".shstrtab"
        w.U32(s + 4, ShtStrtab);
        w.U64(s + 24, NamesAt);          // sh_offset
        w.U64(s + 32, (ulong)SectionNames.Length);
        w.U64(s + 48, 1);                // sh_addralign
        return image;
    }

    private static void Ident(byte[] image, byte elfClass, byte data)
    {
        image[0] = 0x7f;
        image[1] = (byte)'E';
        image[2] = (byte)'L';
        image[3] = (byte)'F';
        image[4] = elfClass; // EI_CLASS
        image[5] = data;     // EI_DATA
        image[6] = 1;        // EI_VERSION: EV_CURRENT
        image[7] = 0;        // EI_OSABI: System V
    }

    private readonly struct Writer(byte[] image, bool bigEndian)
    {
        public void U16(int at, ushort value)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(image.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at), value);
        }

        public void U32(int at, uint value)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(image.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at), value);
        }

        public void U64(int at, ulong value)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(image.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(at), value);
        }
    }
}
