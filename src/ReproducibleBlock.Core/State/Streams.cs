using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;

namespace ReproducibleBlock.State;

/// <summary>
/// The stream of one owner (a module instance) that a continuing block resumes: its key path and key and, after its
/// first exit, the state its last exit left.
/// </summary>
internal sealed class ContinuingStream
{
    private readonly WeakReference<object> _owner;

    public ContinuingStream(object owner, Segment[] path, ulong key)
    {
        // Tracking resurrection, as the registry's ConditionalWeakTable does: a module with a finalizer stays in that table
        // until the collection after its finalizer ran, and the two must agree on which owners are alive.
        _owner = new WeakReference<object>(owner, trackResurrection: true);
        Path = path;
        Key = key;
    }

    /// <summary>The segments from the root whose keys chain to <see cref="Key"/>; the last is (stream seed, claim).</summary>
    public Segment[] Path { get; }

    public ulong Key { get; set; }

    /// <summary>Null until the first exit: the first entry starts from the state derived from <see cref="Key"/>.</summary>
    public RngState? State { get; set; }

    /// <summary>For a random module of TorchSharp's (see <see cref="ModuleStreams"/>): its path under its woven module; null otherwise.</summary>
    public string? ModulePath { get; init; }

    /// <summary>
    /// The owner's name in the model tree, for traces: the outermost woven module's type, then the path under it
    /// (<c>AlexNet.classifier.2</c>), set when each woven module around it registers; null for an owner outside a tree.
    /// </summary>
    public string? TreeName { get; set; }

    /// <summary>Whether <see cref="State"/> was given by a restore and not drawn from since.</summary>
    public bool RestoredUnused { get; set; }

    /// <summary>How many times the stream was entered (for CUDA continuation seeds where CUDA state cannot be read).</summary>
    public ulong Entries { get; set; }

    /// <summary>The frame that holds the stream open, or null when it is closed; a nested entry continues it.</summary>
    public BlockFrame? OpenFrame { get; set; }

    /// <summary>Whether the owner is still alive.</summary>
    public bool IsLive => _owner.TryGetTarget(out _);

    /// <summary>The owner, while it is alive.</summary>
    public bool TryGetOwner(out object? owner) => _owner.TryGetTarget(out owner);

    /// <summary>The owner's type name, for refusals.</summary>
    public string OwnerName => _owner.TryGetTarget(out object? owner) ? owner.GetType().Name : "collected owner";
}

/// <summary>
/// Every owner's continuing stream, and the one scheme that keys them.
/// </summary>
/// <remarks>
/// <para>
/// A stream is <em>claimed</em> under an anchor, the block open where it starts: the woven constructor's block for a
/// module that registers itself, else the block open at the owner's first entry. The n-th claim under an anchor since
/// SetSeed gets key <c>Child(anchor key, StreamSeed, n)</c>. Claims are counted, not looked up among live owners, so a
/// key never depends on the garbage collector; and as they are never reset by a block's opening, two owners built by
/// two calls of one factory, in two folds, or in two openings of one block get different keys. Keys derive from the
/// root seed and the block seeds and ordinals on the way only (never an assembly's name or MVID).
/// </para>
/// <para>
/// SetSeed starts the claims over and re-derives every live stream's key from its path under the new root, from its
/// start: a model built before a second SetSeed keeps streams of its own. When a new claim lands on the key of an
/// owner still alive from before (the same construction under the same seed again), the new owner takes the key and
/// the older one, if it is ever entered again, claims a new stream there. Owners are held weakly: a module that is
/// collected takes its stream (a 5,056-byte CPU state) with it.
/// </para>
/// </remarks>
internal sealed class StreamRegistry
{
    /// <summary>The block seed of stream segments: "RB.strm" as a little-endian integer.</summary>
    internal const long StreamSeed = 0x6D7274732E4252;

    private ConditionalWeakTable<object, ContinuingStream> _byOwner = new();
    private readonly Dictionary<ulong, ContinuingStream> _byKey = new();
    private readonly Dictionary<ulong, ClaimCount> _claims = new();
    private Dictionary<ulong, RngState> _pending = new();
    private int _prunedAt;

    public ContinuingStream? Find(object owner) => _byOwner.TryGetValue(owner, out ContinuingStream? stream) ? stream : null;

    /// <summary>
    /// The state a claim of <paramref name="key"/> starts from, when a restore left one for the key: waiting for its
    /// owner, or given to an owner from before SetSeed that the claim displaces and that has not drawn from it.
    /// </summary>
    public RngState? StateForClaim(ulong key)
    {
        if (_pending.TryGetValue(key, out RngState? state))
            return state;
        return _byKey.TryGetValue(key, out ContinuingStream? earlier) && earlier.IsLive && earlier.RestoredUnused ? earlier.State : null;
    }

    /// <summary>The key the next claim under <paramref name="anchorKey"/> gets (nothing is committed).</summary>
    public ulong NextKey(ulong anchorKey) => KeyDerivation.Child(anchorKey, StreamSeed, ClaimsUnder(anchorKey));

    private long ClaimsUnder(ulong anchorKey) => _claims.TryGetValue(anchorKey, out ClaimCount claims) ? claims.All : 0;

    /// <summary>The claims made under each anchor since SetSeed, for snapshots (in anchor order, so the bytes are the same).</summary>
    public List<(ulong Anchor, ClaimCount Claims)> Claims()
    {
        var claims = new List<(ulong, ClaimCount)>(_claims.Count);
        foreach (KeyValuePair<ulong, ClaimCount> pair in _claims)
            claims.Add((pair.Key, pair.Value));
        claims.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return claims;
    }

    /// <summary>The claims under <paramref name="anchor"/> now.</summary>
    public ClaimCount ClaimsAt(ulong anchor) => _claims.TryGetValue(anchor, out ClaimCount claims) ? claims : default;

    /// <summary>
    /// Takes a snapshot's claim counters where they are ahead of this process's, so that owners claiming from now on
    /// get the keys the snapshot's run gave them (after a restore, the later owners of the captured run).
    /// </summary>
    public void AdvanceClaims(IReadOnlyList<(ulong Anchor, ClaimCount Claims)> claims)
    {
        foreach ((ulong anchor, ClaimCount count) in claims)
        {
            ClaimCount here = ClaimsAt(anchor);
            _claims[anchor] = new ClaimCount(Math.Max(here.All, count.All), Math.Max(here.Registered, count.Registered));
        }
    }

    /// <summary>
    /// Gives <paramref name="owner"/> the next stream under the anchor with <paramref name="anchorPath"/> and
    /// <paramref name="anchorKey"/>, with the state a restore left for its key, if any.
    /// </summary>
    /// <param name="owner">The stream's owner.</param>
    /// <param name="anchorPath">The anchor's key path.</param>
    /// <param name="anchorKey">The anchor's key.</param>
    /// <param name="registered">A woven constructor registers the owner (it claims at construction, not at first use).</param>
    public ContinuingStream Claim(object owner, Segment[] anchorPath, ulong anchorKey, bool registered = false)
    {
        ClaimCount claims = ClaimsAt(anchorKey);
        long claim = claims.All;
        _claims[anchorKey] = new ClaimCount(claim + 1, claims.Registered + (registered ? 1 : 0));
        return Add(owner, new ContinuingStream(owner, [.. anchorPath, new Segment(StreamSeed, claim)], KeyDerivation.Child(anchorKey, StreamSeed, claim)));
    }

    /// <summary>
    /// Gives <paramref name="owner"/> the stream of a random module at <paramref name="relativePath"/> under the woven
    /// module whose stream is <paramref name="parent"/> (see <see cref="ModuleStreams"/>): unique because its parent's
    /// key is, and the path is within the parent.
    /// </summary>
    public ContinuingStream RegisterPath(object owner, ContinuingStream parent, long pathSeed, string relativePath)
    {
        var stream = new ContinuingStream(owner, [.. parent.Path, new Segment(pathSeed, 0)], KeyDerivation.Child(parent.Key, pathSeed, 0))
        {
            ModulePath = relativePath,
        };
        return Add(owner, stream);
    }

    private ContinuingStream Add(object owner, ContinuingStream stream)
    {
        if (_pending.Remove(stream.Key, out RngState? state))
            stream.State = state;
        if (_byKey.TryGetValue(stream.Key, out ContinuingStream? earlier) && earlier.IsLive)
        {
            // A restore gives states to keys: one the earlier owner got and has not drawn from goes to the new owner.
            if (earlier.RestoredUnused)
                stream.State ??= earlier.State;
            Displace(earlier);
        }
        _byKey[stream.Key] = stream;
        _byOwner.AddOrUpdate(owner, stream);
        PruneNowAndThen();
        return stream;
    }

    /// <summary>The stream's owner loses it: it is found no more, so its next entry claims a new one.</summary>
    private void Displace(ContinuingStream stream)
    {
        if (stream.TryGetOwner(out object? owner) && _byOwner.TryGetValue(owner!, out ContinuingStream? current) && ReferenceEquals(current, stream))
            _byOwner.Remove(owner!);
    }

    /// <summary>Drops the key index's entries of collected owners, so it grows with the live owners only.</summary>
    private void PruneNowAndThen()
    {
        if (_byKey.Count < 2 * _prunedAt + 64)
            return;
        var dead = new List<ulong>();
        foreach (KeyValuePair<ulong, ContinuingStream> pair in _byKey)
        {
            if (!pair.Value.IsLive)
                dead.Add(pair.Key);
        }
        foreach (ulong key in dead)
            _byKey.Remove(key);
        _prunedAt = _byKey.Count;
    }

    /// <summary>
    /// SetSeed: the claims start over, recorded states are dropped, and every live stream is keyed again from its path
    /// under <paramref name="rootKey"/>, from its start.
    /// </summary>
    public void Reseed(ulong rootKey)
    {
        _claims.Clear();
        _pending.Clear();
        var live = new List<(object Owner, ContinuingStream Stream)>();
        foreach (KeyValuePair<object, ContinuingStream> pair in _byOwner)
            live.Add((pair.Key, pair.Value));
        _byKey.Clear();
        _byOwner = new ConditionalWeakTable<object, ContinuingStream>();
        foreach ((object owner, ContinuingStream stream) in live)
        {
            ulong key = rootKey;
            foreach (Segment segment in stream.Path)
                key = KeyDerivation.Child(key, segment.Seed, segment.Ordinal);
            stream.Key = key;
            stream.State = null;
            stream.RestoredUnused = false;
            stream.Entries = 0;
            stream.OpenFrame = null;
            _byKey[key] = stream;
            _byOwner.AddOrUpdate(owner, stream);
        }
        _prunedAt = _byKey.Count;
    }

    /// <summary>Forgets every stream and claim (a runtime that is abandoned in tests).</summary>
    public void Clear()
    {
        _byOwner = new ConditionalWeakTable<object, ContinuingStream>();
        _byKey.Clear();
        _claims.Clear();
        _pending.Clear();
        _prunedAt = 0;
    }

    /// <summary>The started streams' states, and those a restore left for owners not registered yet, in key order.</summary>
    public List<(ulong Key, RngState State)> Capture(Sources sources)
    {
        var states = new List<(ulong, RngState)>();
        foreach (KeyValuePair<object, ContinuingStream> pair in _byOwner)
        {
            if (pair.Value.State is { } state)
                states.Add((pair.Value.Key, Copy(state)));
        }
        foreach (KeyValuePair<ulong, RngState> pair in _pending)
            states.Add((pair.Key, Copy(pair.Value)));
        states.Sort((a, b) => a.Item1.CompareTo(b.Item1)); // the same bytes for the same streams, whatever the table's order
        return states;

        RngState Copy(RngState state)
        {
            RngState copy = sources.NewState();
            state.CopyTo(copy);
            return copy;
        }
    }

    /// <summary>
    /// Puts every stream where a snapshot recorded it: live streams take their recorded state, or start over when the
    /// snapshot has none for them; recorded states of owners not registered yet wait for them. Claims are not restored:
    /// a resumed run that rebuilds its model claims the same keys again, in the same order, whether it does so before
    /// or after the restore.
    /// </summary>
    public void Restore(IReadOnlyList<(ulong Key, RngState State)> states)
    {
        var byKey = new Dictionary<ulong, RngState>(states.Count);
        foreach ((ulong key, RngState state) in states)
            byKey[key] = state;
        foreach (KeyValuePair<object, ContinuingStream> pair in _byOwner)
        {
            ContinuingStream stream = pair.Value;
            stream.State = byKey.Remove(stream.Key, out RngState? state) ? state : null;
            stream.RestoredUnused = stream.State is not null;
        }
        _pending = byKey;
    }
}

/// <summary>How many streams were claimed under an anchor since SetSeed, and how many of them by woven constructors.</summary>
internal readonly record struct ClaimCount(long All, long Registered);
