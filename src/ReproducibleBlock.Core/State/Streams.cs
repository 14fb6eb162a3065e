using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace ReproducibleBlock.State;

/// <summary>
/// The stream of one owner (a module instance) that a continuing block resumes: its key and, after its first exit,
/// the state its last exit left.
/// </summary>
internal sealed class ContinuingStream(ulong key)
{
    public ulong Key { get; } = key;

    /// <summary>Null until the first exit: the first entry starts from the state derived from <see cref="Key"/>.</summary>
    public RngState? State { get; set; }

    /// <summary>How many times the stream was entered (for CUDA continuation seeds where CUDA state cannot be read).</summary>
    public ulong Entries { get; set; }
}

/// <summary>
/// Every owner's continuing stream. Owners are held weakly: a module that is collected takes its stream (a 5,056-byte
/// CPU state) with it.
/// </summary>
internal sealed class StreamRegistry
{
    /// <summary>The block seed under which streams are numbered in their parent: "RB.strm" as a little-endian integer.</summary>
    internal const long StreamSeed = 0x6D7274732E4252;

    private readonly ConditionalWeakTable<object, ContinuingStream> _byOwner = new();
    private Dictionary<ulong, RngState> _restored = new();

    public ContinuingStream? Find(object owner) => _byOwner.TryGetValue(owner, out ContinuingStream? stream) ? stream : null;

    /// <summary>The state a restore left for the stream with <paramref name="key"/>, whose owner is not registered yet.</summary>
    public RngState? PendingState(ulong key) => _restored.TryGetValue(key, out RngState? state) ? state : null;

    /// <summary>Gives <paramref name="owner"/> the stream with <paramref name="key"/>, with the state a restore left for it, if any.</summary>
    public ContinuingStream Add(object owner, ulong key)
    {
        var stream = new ContinuingStream(key);
        if (_restored.Remove(key, out RngState? state))
            stream.State = state;
        _byOwner.AddOrUpdate(owner, stream);
        return stream;
    }

    /// <summary>Forgets every stream (SetSeed starts them over).</summary>
    public void Clear()
    {
        _byOwner.Clear();
        _restored.Clear();
    }

    /// <summary>The started streams' states, and those a restore left for owners not registered yet.</summary>
    public List<(ulong Key, RngState State)> Capture(Sources sources)
    {
        var states = new List<(ulong, RngState)>();
        foreach (KeyValuePair<object, ContinuingStream> pair in _byOwner)
        {
            if (pair.Value.State is { } state)
                states.Add((pair.Value.Key, Copy(state)));
        }
        foreach (KeyValuePair<ulong, RngState> pair in _restored)
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
    /// snapshot has none for them; recorded states of owners not registered yet wait for them.
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
        }
        _restored = byKey;
    }
}
