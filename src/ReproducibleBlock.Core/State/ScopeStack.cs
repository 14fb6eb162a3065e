using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace ReproducibleBlock.State;

/// <summary>
/// The open blocks, innermost last, above the root level, and which logical flow owns them.
/// </summary>
/// <remarks>
/// <para>
/// Torch's default generators are process-global and unsynchronised, so at most one logical flow may have blocks open.
/// Each open block records its scope in an <see cref="AsyncLocal{T}"/>, which async continuations inherit; a flow owns
/// the innermost open block when it sees that block as its own (<see cref="Verdict"/>).
/// </para>
/// <para>
/// Work forked off a flow inherits its <see cref="AsyncLocal{T}"/> too: a DataLoader's PLINQ workers, a
/// <c>Parallel.For</c> body and a task started inside a block all see the block their parent had open. They are told
/// from an await continuation by the thread that entered the block: each thread's record follows the value the
/// <see cref="AsyncLocal{T}"/> holds on it (its change handler runs on every execution-context switch), so while the
/// entering thread still runs inside the block (it waits for the forked work, or takes part in it) another thread that
/// sees the block is a fork; once that thread has left the flow (an await returned it to its caller), the flow has
/// moved on to the new thread.
/// </para>
/// </remarks>
internal sealed class ScopeStack
{
    private readonly AsyncLocal<BlockScope?> _flowTop;
    private readonly ThreadLocal<FlowThread> _threads = new(() => new FlowThread());
    private BlockFrame[] _frames = new BlockFrame[8];
    private BlockScope? _rootOwner; // held by the flow that called SetSeed: it owns the level outside every block

    public ScopeStack() => _flowTop = new AsyncLocal<BlockScope?>(changed => _threads.Value!.Current = changed.CurrentValue);

    /// <summary>The level outside every block.</summary>
    public BlockFrame Root { get; } = new();

    public int Depth { get; private set; }

    public BlockFrame Top => Depth == 0 ? Root : _frames[Depth - 1];

    /// <summary>The open block at <paramref name="index"/> (0 is the outermost).</summary>
    public BlockFrame this[int index] => _frames[index];

    /// <summary>The level a block at <paramref name="index"/> was entered under.</summary>
    public BlockFrame ParentOf(int index) => index == 0 ? Root : _frames[index - 1];

    /// <summary>The innermost open block's scope, or the root owner's marker outside every block.</summary>
    public BlockScope TopOrRoot => Depth == 0 ? _rootOwner! : Top.Owner!;

    /// <summary>The calling thread's record.</summary>
    public FlowThread ThisThread => _threads.Value!;

    /// <summary>What the calling flow last entered (possibly closed since); null outside every block.</summary>
    public BlockScope? FlowValue => _flowTop.Value;

    /// <summary>The frame the next block will use (frames are kept per depth and reused, so entry allocates none).</summary>
    public BlockFrame Next()
    {
        if (Depth == _frames.Length)
            Array.Resize(ref _frames, _frames.Length * 2);
        // Stryker disable once Assignment : a new frame each time behaves the same (Open resets it); reuse only saves the allocation
        return _frames[Depth] ??= new BlockFrame();
    }

    /// <summary>
    /// SetSeed: the calling flow owns the level outside every block (woven calls of other flows there run passively).
    /// <paramref name="marker"/> stands for that level in the flow's <see cref="AsyncLocal{T}"/>; the previous owner's
    /// marker is closed, so flows that hold it own nothing any more.
    /// </summary>
    public void OwnRoot(BlockScope marker)
    {
        if (_rootOwner is { } previous)
            previous.IsOpen = false;
        marker.EnteredUnder = null;
        marker.EnteredOn = ThisThread;
        marker.IsOpen = true;
        _rootOwner = marker;
        _flowTop.Value = marker;
    }

    /// <summary>Makes the frame returned by <see cref="Next"/>, already opened by <paramref name="owner"/>, the innermost block of this flow.</summary>
    public void Push(BlockScope owner)
    {
        owner.EnteredUnder = Depth == 0 ? _rootOwner : _frames[Depth - 1].Owner;
        owner.EnteredOn = ThisThread;
        owner.IsOpen = true;
        Depth++;
        _flowTop.Value = owner;
    }

    /// <summary>Closes the innermost block.</summary>
    public void Pop()
    {
        BlockFrame frame = _frames[Depth - 1];
        frame.Owner!.IsOpen = false;
        frame.Owner = null;
        if (frame.Stream is { } stream)
            stream.OpenFrame = null;
        frame.Stream = null;
        Depth--;
        _flowTop.Value = Depth == 0 ? _rootOwner : _frames[Depth - 1].Owner;
    }

    /// <summary>Where <paramref name="scope"/>'s block is on the stack, or -1 when it is not open.</summary>
    public int IndexOf(BlockScope scope)
    {
        int index = Depth - 1;
        while (index >= 0 && !ReferenceEquals(_frames[index].Owner, scope))
            index--;
        return index;
    }

    /// <summary>Forgets every open block without leaving it. For test clean-up only.</summary>
    public void Abandon()
    {
        while (Depth > 0)
            Pop();
        _flowTop.Value = _rootOwner;
    }

    /// <summary>The open block a flow whose last entered block is <paramref name="value"/> sees as its innermost.</summary>
    /// <remarks>
    /// A flow remembers the block it entered last; when another flow it shares that block with (a task it started, or
    /// its parent) has left it since, the block it was entered under stands in for it.
    /// </remarks>
    private static BlockScope? SeenFrom(BlockScope? value)
    {
        while (value is { IsOpen: false })
            value = value.EnteredUnder;
        return value;
    }

    /// <summary>How the calling flow stands to the innermost open block.</summary>
    /// <param name="rootIsOwned">
    /// Whether the level outside every block belongs to the flow that called SetSeed (for entries: another flow's woven
    /// calls there run passively); false lets any flow act there (captures, a sampler's epoch).
    /// </param>
    public FlowVerdict Verdict(bool rootIsOwned = true)
    {
        BlockScope? top = Depth == 0 ? (rootIsOwned ? _rootOwner : null) : Top.Owner!;
        if (top is null)
            return FlowVerdict.Owner;
        if (!ReferenceEquals(SeenFrom(_flowTop.Value), top))
            return FlowVerdict.Other;
        FlowThread? entering = top.EnteredOn;
        FlowThread self = ThisThread;
        if (entering is null || ReferenceEquals(entering, self) || !entering.IsInside(top))
            return FlowVerdict.Owner;
        return FlowVerdict.Fork;
    }

    /// <summary>Why <paramref name="what"/> cannot run on the calling flow (<paramref name="verdict"/> is not the owner's).</summary>
    public string RefusalText(string what, FlowVerdict verdict)
    {
        string where = Depth == 0
            ? "the level outside every block, which belongs to the flow that called Reproducible.SetSeed,"
            : $"block {Top.BlockSeed} (open blocks: {Describe()})";
        if (verdict == FlowVerdict.Fork)
        {
            return $"{what} cannot run on this thread: it was forked off the flow that owns {where} and that flow still runs "
                + "(a DataLoader worker, a Parallel.For or PLINQ body, or a task the flow waits for synchronously). "
                + "TorchSharp's default generators are process-global and not thread-safe, so a block entered here would move the generators under that flow. "
                + "In Dataset.GetTensor draw from the sample's stream (ReproducibleSampler.Resolve(index).Generator); elsewhere enter blocks on the flow that owns them, "
                + "or await the work instead of waiting for it synchronously.";
        }
        return $"{what} cannot run on this thread or task: {where} is owned by another logical flow. "
            + "That flow is another thread, a task started before the block or one that has since entered blocks of its own, or an async iterator "
            + "(IAsyncEnumerable) that yields while its block is open: the loop consuming it runs outside the iterator's flow. "
            + "TorchSharp's default generators are process-global and not thread-safe, so blocks of concurrent flows would corrupt each other's draws. "
            + "Run blocks on one flow at a time: await the other work first, give each thread its own process, "
            + "and in an async iterator leave the block before each yield return.";
    }

    /// <summary>Refuses to leave <paramref name="scope"/>'s block (the innermost) from a flow that does not own it.</summary>
    public void CheckOwnedByThisFlow(BlockScope scope)
    {
        if (ReferenceEquals(SeenFrom(_flowTop.Value), scope))
            return;
        throw new InvalidOperationException(
            $"Block {scope.BlockSeed} cannot be left from this thread or task: it was entered by another logical flow, which must leave it. The block stays open. "
            + "Either another thread or task disposes it, or it was entered in an async iterator (IAsyncEnumerable) that yields while it is open: "
            + "after a yield return the iterator's code runs in its consumer's flow. Dispose a block in the flow that entered it, as a using statement does, "
            + "and in an async iterator leave the block before each yield return.");
    }

    /// <summary>The open blocks' seeds, outermost first: "5 > 9".</summary>
    public string Describe() => string.Join(" > ", _frames.Take(Depth).Select(f => f.BlockSeed));

    /// <summary>
    /// The key path of the frame at <paramref name="index"/> (-1 for the root): the segments whose keys chain from the
    /// root key to its key. A continuing block's frame carries its stream's path, which starts where the stream was
    /// claimed, not where it is entered.
    /// </summary>
    public Segment[] PathOf(int index)
    {
        var segments = new List<Segment>();
        for (int i = index; i >= 0; i--)
        {
            BlockFrame frame = _frames[i];
            if (frame.Stream is { } stream)
            {
                segments.Reverse();
                return [.. stream.Path, .. segments];
            }
            segments.Add(new Segment(frame.BlockSeed, frame.Ordinal));
        }
        segments.Reverse();
        return [.. segments];
    }
}

/// <summary>How a flow stands to the innermost open block (see <see cref="ScopeStack.Verdict"/>).</summary>
internal enum FlowVerdict
{
    /// <summary>No block is open, or the flow entered the innermost one (itself or before an await moved it to this thread).</summary>
    Owner,

    /// <summary>The flow sees the innermost block but was forked off the flow that entered it, which still runs inside it.</summary>
    Fork,

    /// <summary>The flow does not see the innermost block: another thread, task or iterator entered it.</summary>
    Other,
}

/// <summary>One thread's view of the flows: which block its execution context holds now, and its passive calls.</summary>
internal sealed class FlowThread
{
    private readonly Thread _thread = Thread.CurrentThread;
    private volatile BlockScope? _current;

    /// <summary>The block the thread's execution context holds now (kept by the <see cref="AsyncLocal{T}"/>'s change handler).</summary>
    public BlockScope? Current
    {
        get => _current;
        set => _current = value;
    }

    /// <summary>Whether this thread runs, now, inside <paramref name="scope"/> (or a block entered under it).</summary>
    public bool IsInside(BlockScope scope)
    {
        if (!_thread.IsAlive)
            return false;
        for (BlockScope? value = _current; value is not null; value = value.EnteredUnder)
        {
            if (ReferenceEquals(value, scope))
                return true;
        }
        return false;
    }

    /// <summary>Whether the thread is blocked in a wait, a sleep or a join (so it is not about to leave its flow).</summary>
    public bool IsBlockedInAWait => (_thread.ThreadState & ThreadState.WaitSleepJoin) != 0;

    private BlockScope? _forkOf;
    private BlockScope? _forkSeenWith;

    /// <summary>Remembers that this thread, with its current flow value, is a fork of <paramref name="scope"/>'s flow.</summary>
    public void RememberForkOf(BlockScope scope)
    {
        _forkOf = scope;
        _forkSeenWith = _current;
    }

    /// <summary>Whether this thread was found a fork of <paramref name="scope"/>'s flow with the flow value it has now.</summary>
    public bool IsKnownForkOf(BlockScope scope) => ReferenceEquals(_forkOf, scope) && ReferenceEquals(_forkSeenWith, _current);

    /// <summary>How deep this thread is in passive calls (woven calls that do not touch the generators).</summary>
    public int PassiveDepth { get; set; }

    /// <summary>The outermost passive call of this thread while <see cref="PassiveDepth"/> is above 0.</summary>
    public PassiveCall? Passive { get; set; }

    /// <summary>Kept states a passive call reads the generators into at its start and end (no allocation per call).</summary>
    public RngState? PassiveBefore { get; set; }

    /// <inheritdoc cref="PassiveBefore"/>
    public RngState? PassiveAfter { get; set; }

    /// <summary>Streams of random modules entered by forward hooks on this thread, innermost on top.</summary>
    public Stack<(object Module, BlockScope Scope)> HookScopes { get; } = new();

    /// <summary>A kept state for <see cref="BlockRuntime.MovementMark"/>.</summary>
    public RngState? MarkBuffer { get; set; }
}
