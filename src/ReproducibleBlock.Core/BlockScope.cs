using System;
using ReproducibleBlock.State;

namespace ReproducibleBlock;

/// <summary>
/// An open block, returned by <see cref="Reproducible.Block"/>; disposing it leaves the block. Use it with a
/// <c>using</c> statement, so the block is left even when an exception is thrown inside it.
/// </summary>
/// <remarks>
/// Blocks nest as a stack and must be left in the reverse order of entry. Disposing a scope twice does nothing.
/// </remarks>
public sealed class BlockScope : IDisposable
{
    private readonly BlockRuntime _runtime;
    private bool _disposed;

    internal BlockScope(BlockRuntime runtime, long blockSeed, bool restoreOnExit, PassiveCall? passive = null)
    {
        _runtime = runtime;
        BlockSeed = blockSeed;
        RestoresOnExit = restoreOnExit;
        Passive = passive;
    }

    /// <summary>
    /// For a woven call that runs without touching the generators (on a flow that does not own the open blocks, see
    /// <see cref="PassiveCall"/>): the call; null for a block on the stack.
    /// </summary>
    internal PassiveCall? Passive { get; }

    /// <summary>The thread that entered the block (see <see cref="ScopeStack.Verdict"/>).</summary>
    internal FlowThread? EnteredOn { get; set; }

    /// <summary>The block that was innermost when this one was entered (null at the top level): a flow that last saw this
    /// block open, after it was left, sees that one.</summary>
    internal BlockScope? EnteredUnder { get; set; }

    /// <summary>Whether the block is on the stack (set by the scope stack under the runtime's lock).</summary>
    internal bool IsOpen { get; set; }

    /// <summary>The block seed this block was entered with.</summary>
    public long BlockSeed { get; }

    /// <summary>Whether leaving the block puts every generator back as it was before entry.</summary>
    public bool RestoresOnExit { get; }

    /// <summary>Leaves the block. Does nothing when it was already left.</summary>
    /// <remarks>
    /// Throwing from a <c>using</c> statement's implicit <c>finally</c> replaces an exception already in flight; both
    /// refusals below are programming errors that the message explains.
    /// </remarks>
    /// <exception cref="InvalidOperationException">
    /// A block entered inside this one is still open (it must be left first), or the calling thread or task is not the
    /// flow that entered the block (the block then stays open for that flow to leave).
    /// </exception>
    public void Dispose()
    {
        // Stryker disable once Statement : Exit ignores a scope whose block is not open; the flag only spares it the lock
        if (_disposed)
            return;
        _runtime.Exit(this);
        // Stryker disable once Boolean : as above, a second Exit of a left block does nothing
        _disposed = true;
    }

    /// <inheritdoc />
    public override string ToString() => $"Block {BlockSeed}{(RestoresOnExit ? " (restores on exit)" : "")}";
}
