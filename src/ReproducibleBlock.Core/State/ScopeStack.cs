using System;
using System.Linq;
using System.Threading;

namespace ReproducibleBlock.State;

/// <summary>
/// The open blocks, innermost last, above the root level, and which logical flow owns them.
/// </summary>
/// <remarks>
/// Torch's default generators are process-global and unsynchronised, so at most one logical flow may have blocks
/// open. Each open block records its scope in an <see cref="AsyncLocal{T}"/>, which async continuations inherit; an
/// operation on the stack is refused unless the caller's flow sees the innermost open block as its own. What this
/// cannot see: a task started inside a block inherits the block (it cannot be told from awaited work), so draws such a
/// task makes while its parent keeps drawing go unnoticed until one of the two enters or leaves a block; and draws on
/// other threads outside every block are invisible.
/// </remarks>
internal sealed class ScopeStack
{
    private readonly AsyncLocal<BlockScope?> _flowTop = new();
    private BlockFrame[] _frames = new BlockFrame[8];

    /// <summary>The level outside every block.</summary>
    public BlockFrame Root { get; } = new();

    public int Depth { get; private set; }

    public BlockFrame Top => Depth == 0 ? Root : _frames[Depth - 1];

    /// <summary>The open block at <paramref name="index"/> (0 is the outermost).</summary>
    public BlockFrame this[int index] => _frames[index];

    /// <summary>The level a block at <paramref name="index"/> was entered under.</summary>
    public BlockFrame ParentOf(int index) => index == 0 ? Root : _frames[index - 1];

    /// <summary>The frame the next block will use (frames are kept per depth and reused, so entry allocates none).</summary>
    public BlockFrame Next()
    {
        if (Depth == _frames.Length)
            Array.Resize(ref _frames, _frames.Length * 2);
        // Stryker disable once Assignment : a new frame each time behaves the same (Open resets it); reuse only saves the allocation
        return _frames[Depth] ??= new BlockFrame();
    }

    /// <summary>Makes the frame returned by <see cref="Next"/>, already opened by <paramref name="owner"/>, the innermost block of this flow.</summary>
    public void Push(BlockScope owner)
    {
        owner.EnteredUnder = Depth == 0 ? null : _frames[Depth - 1].Owner;
        owner.IsOpen = true;
        Depth++;
        _flowTop.Value = owner;
    }

    /// <summary>Closes the innermost block.</summary>
    public void Pop()
    {
        _frames[Depth - 1].Owner!.IsOpen = false;
        _frames[Depth - 1].Owner = null;
        Depth--;
        _flowTop.Value = Depth == 0 ? null : _frames[Depth - 1].Owner;
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
        _flowTop.Value = null;
    }

    /// <summary>
    /// Whether the calling flow sees <paramref name="scope"/> as its innermost open block. A flow remembers the block it
    /// entered last; when another flow it shares that block with (a task it started, or its parent) has left it since,
    /// the block it was entered under stands in for it.
    /// </summary>
    private bool FlowSees(BlockScope? scope)
    {
        BlockScope? seen = _flowTop.Value;
        while (seen is { IsOpen: false })
            seen = seen.EnteredUnder;
        return ReferenceEquals(seen, scope);
    }

    /// <summary>Refuses <paramref name="what"/> unless no block is open or the calling flow owns the innermost one.</summary>
    public void CheckSameFlow(string what)
    {
        if (Depth == 0 || FlowSees(Top.Owner))
            return;
        throw new InvalidOperationException(
            $"{what} cannot run on this thread or task: block {Top.BlockSeed} (open blocks: {Describe()}) was entered by another logical flow and is still open. "
            + "That flow is another thread, a task started before the block or one that has since entered blocks of its own, or an async iterator "
            + "(IAsyncEnumerable) that yields while its block is open: the loop consuming it runs outside the iterator's flow. "
            + "TorchSharp's default generators are process-global and not thread-safe, so blocks of concurrent flows would corrupt each other's draws. "
            + "Run blocks on one flow at a time: await the other work first, give each thread its own process, "
            + "and in an async iterator leave the block before each yield return.");
    }

    /// <summary>Refuses to leave <paramref name="scope"/>'s block (the innermost) from a flow that does not own it.</summary>
    public void CheckOwnedByThisFlow(BlockScope scope)
    {
        if (FlowSees(scope))
            return;
        throw new InvalidOperationException(
            $"Block {scope.BlockSeed} cannot be left from this thread or task: it was entered by another logical flow, which must leave it. The block stays open. "
            + "Either another thread or task disposes it, or it was entered in an async iterator (IAsyncEnumerable) that yields while it is open: "
            + "after a yield return the iterator's code runs in its consumer's flow. Dispose a block in the flow that entered it, as a using statement does, "
            + "and in an async iterator leave the block before each yield return.");
    }

    /// <summary>The open blocks' seeds, outermost first: "5 > 9".</summary>
    public string Describe() => string.Join(" > ", _frames.Take(Depth).Select(f => f.BlockSeed));
}
