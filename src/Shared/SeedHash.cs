using System.Security.Cryptography;
using System.Text;

namespace ReproducibleBlock;

/// <summary>
/// The name-derived block seed, shared by the weaver (names rendered from Cecil) and the analyzer (names rendered from
/// Roslyn symbols): one hash, so that "Pin the seed" writes exactly the seed the weaver would derive.
/// </summary>
internal static class SeedHash
{
    /// <summary>The first 8 bytes of SHA-256 of the UTF-8 name, little-endian, with the sign bit cleared.</summary>
    /// <remarks>Stable across processes, machines and .NET versions, unlike string.GetHashCode.</remarks>
    public static long Derive(string name)
    {
        using var sha = SHA256.Create();
        byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(name));
        long value = 0;
        for (int i = 7; i >= 0; i--)
            value = (value << 8) | hash[i];
        return value & long.MaxValue;
    }
}
