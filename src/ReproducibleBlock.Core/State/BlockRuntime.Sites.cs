using System;
using System.IO.Hashing;
using System.Text;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.State;

/// <summary>
/// The parts of a woven constructor: every value it stores in a member (<c>features = Sequential(...)</c>), registers
/// under a constant name, or builds with a call (<c>MakeLayer(...)</c>, <c>Linear(...)</c>, <c>new Block(...)</c>) is
/// drawn in a block of its own, keyed by the member's name, or by the callee's name and how many calls of that name
/// came before it in the same constructor call. So what one part of a model draws while it is built does not depend
/// on what the others draw: a conv added to <c>features</c> leaves every weight of <c>classifier</c> as it was, and a
/// block added in one <c>MakeLayer</c> call leaves the blocks of the others as they were.
/// </summary>
internal sealed partial class BlockRuntime
{
    /// <summary>Domain separation of site seeds: "RB.site\0" as a little-endian integer.</summary>
    internal const long SiteDomain = 0x00657469732E4252;

    /// <summary>The block seed of a site named <paramref name="name"/>: XXH64 of its UTF-8 bytes, with the member or call prefix.</summary>
    internal static long SiteSeed(string name, SiteKind kind)
    {
        Span<byte> buffer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(name.Length) + 1];
        buffer[0] = kind == SiteKind.Member ? (byte)'m' : (byte)'c';
        int length = Encoding.UTF8.GetBytes(name, buffer[1..]) + 1;
        return unchecked((long)XxHash64.HashToUInt64(buffer[..length], SiteDomain));
    }

    /// <summary>The segment seed of a random module's stream at <paramref name="path"/> under its woven module.</summary>
    internal static long PathSeed(string path) => SiteSeed("path:" + path, SiteKind.Member);

    /// <summary>Enters the site <paramref name="name"/> of the woven constructor being run; see the class remarks.</summary>
    /// <remarks>
    /// A site of a passive call (a constructor run on a thread that does not own the generators), and every site under
    /// <see cref="BlockDerivation.ResetAndAdvance"/> (whose block seeds count draws), does nothing. A site that an
    /// exception left open is closed by the next site of its constructor, or by the constructor's exit.
    /// </remarks>
    public void EnterSite(string name, SiteKind kind)
    {
        lock (_gate)
        {
            if (_stack.ThisThread.PassiveDepth > 0 || _seeding is not { Derivation.Kind: BlockDerivation.Keyed } seeding)
                return;
            // A site of this constructor that an exception left open: parts do not nest, but calls inside a member's value.
            while (_stack.Depth > 0 && _stack.Top.Site is SiteKind top && (top == SiteKind.Call || kind == SiteKind.Member))
                Exit<TraceChecked>(_stack.Top.Owner!);
            long seed = SiteSeed(name, kind);
            Sources sources = Sources();
            BlockFrame parent = _stack.Top;
            long ordinal = parent.InstanceOrdinal(seed);
            ulong key = KeyDerivation.Child(parent.Key, seed, ordinal);
            BlockFrame frame = _stack.Next();
            TraceWriter? tracer = _trace.Tracer;
            Fingerprint before = tracer is null ? default : _trace.Read(sources, state: null);
            seeding.Derivation.Enter(sources, key, seed);
            _writes++;
            parent.CountInstance(seed);
            var scope = new BlockScope(this, seed, restoreOnExit: false);
            frame.Open(scope, seed, ordinal, key, restoreOnExit: false);
            frame.Site = kind;
            frame.ClosedByEnclosingExit = true;
            _stack.Push(scope);
            if (tracer is not null)
                _trace.Enter(tracer, frame, parent, Segment(seed, ordinal), name, kind == SiteKind.Member ? "member" : "site", before, sources, sources.Cpu.HasKnownLayout);
        }
    }

    /// <summary>Leaves the innermost site of the constructor being run (nothing when there is none: a passive call, ResetAndAdvance).</summary>
    public void ExitSite()
    {
        lock (_gate)
        {
            if (_stack.ThisThread.PassiveDepth > 0 || _stack.Depth == 0 || _stack.Top.Site is null)
                return;
            Exit<TraceChecked>(_stack.Top.Owner!);
        }
    }
}

/// <summary>What a site of a woven constructor is named by.</summary>
internal enum SiteKind
{
    /// <summary>A call, named by its callee (a constructor by its type).</summary>
    Call,

    /// <summary>A value stored in a member, or registered under a constant name, named by that name.</summary>
    Member,
}
