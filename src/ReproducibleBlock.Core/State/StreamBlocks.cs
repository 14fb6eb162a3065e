namespace ReproducibleBlock.State;

/// <summary>
/// Entering and leaving continuing blocks (an owner's stream that resumes where its last call left it), the steps the
/// runtime orders under its lock.
/// </summary>
/// <remarks>
/// <para>
/// A first entry starts the stream from the state derived from its key (or from a state a restore left for the key);
/// each exit reads the stream's state into the frame's spare and puts the enclosing state back, so nothing outside sees
/// the stream's draws.
/// </para>
/// <para>
/// A nested entry of a stream that is already open (<c>forward</c> calling <c>base.forward</c> or another overload,
/// a recursive <c>forward</c>, a child calling back into its parent) continues the live stream: it never starts from
/// the state saved at the previous exit, and its exit never overwrites what the outer entry will save. The live state
/// is the generators' when no block above the stream's frame restores on exit; otherwise it waits in the saved state of
/// the lowest such block, to be put back when that block is left, and the nested entry carries it in and out of there.
/// </para>
/// </remarks>
internal static class StreamBlocks
{
    /// <summary>
    /// Switches the generators to <paramref name="stream"/>'s state (<paramref name="key"/>'s derived start when it has
    /// none), reading the enclosing state into <paramref name="frame"/>'s saved state first. All or nothing.
    /// </summary>
    /// <param name="sources">The generators.</param>
    /// <param name="frame">The stream's frame, not open yet.</param>
    /// <param name="stream">The owner's stream; null for an owner that has not claimed one yet.</param>
    /// <param name="key">The stream's key (the one the owner's claim will get, when it has none yet).</param>
    /// <param name="pendingState">For an owner not claimed yet: the state a restore left for <paramref name="key"/>.</param>
    public static void Switch(Sources sources, BlockFrame frame, ContinuingStream? stream, ulong key, RngState? pendingState)
    {
        sources.Read(frame.Saved ??= sources.NewState());
        RngState? resumed = stream is null ? pendingState : stream.State;
        try
        {
            if (resumed is null)
            {
                KeyedDerivation.Instance.Enter(sources, key, StreamRegistry.StreamSeed);
            }
            else
            {
                sources.Apply(resumed, alreadyValid: true);
                sources.Cuda.ResumeStream(key, stream?.Entries ?? 0);
            }
        }
        catch
        {
            sources.Undo(frame.Saved);
            throw;
        }
    }

    /// <summary>Prepares a nested entry of the open <paramref name="stream"/> in <paramref name="frame"/>. All or nothing.</summary>
    public static void Reenter(ScopeStack stack, Sources sources, BlockFrame frame, ContinuingStream stream, BlockScope scope)
    {
        int streamIndex = stack.Depth - 1;
        while (!ReferenceEquals(stack[streamIndex], stream.OpenFrame))
            streamIndex--;
        int holder = -1;
        for (int i = streamIndex + 1; i < stack.Depth && holder < 0; i++)
        {
            if (stack[i].RestoreOnExit)
                holder = i;
        }
        if (holder >= 0)
        {
            sources.Read(frame.Saved ??= sources.NewState());
            try
            {
                sources.Apply(stack[holder].Saved!, alreadyValid: true);
            }
            catch
            {
                sources.Undo(frame.Saved);
                throw;
            }
        }
        frame.Open(scope, StreamRegistry.StreamSeed, stream.Path[^1].Ordinal, stream.Key, restoreOnExit: holder >= 0);
        frame.Reentered = stream;
        frame.ReentryHolder = holder;
    }

    /// <summary>Leaves a nested entry: the stream's live state goes back where it waits, and the state before the entry is put back.</summary>
    public static void LeaveReentry(ScopeStack stack, Sources sources, BlockFrame frame)
    {
        if (frame.ReentryHolder < 0)
            return; // the stream's state is the generators': it simply goes on
        BlockFrame holder = stack[frame.ReentryHolder];
        RngState live = frame.Spare ??= sources.NewState();
        sources.Read(live);
        sources.Apply(frame.Saved!, alreadyValid: true);
        frame.Spare = holder.Saved;
        holder.Saved = live;
    }

    /// <summary>
    /// Leaves a stream's block: its state is read into the frame's spare state (so a failure leaves the stream's previous
    /// state intact), the enclosing state put back, and the two traded once the exit has happened.
    /// </summary>
    /// <returns>The stream's state at the exit.</returns>
    public static RngState Leave(ScopeStack stack, Sources sources, int index, BlockFrame frame)
    {
        ContinuingStream stream = frame.Stream!;
        RngState ended = frame.Spare ??= sources.NewState();
        sources.Read(ended);
        // CUDA first, the step that can fail: a failed exit then leaves the block open with nothing moved.
        sources.Cuda.ContinueAfterRestoringExit(stack.ParentOf(index));
        sources.Apply(frame.Saved!, alreadyValid: true);
        frame.Spare = stream.State;
        stream.State = ended;
        return ended;
    }
}
