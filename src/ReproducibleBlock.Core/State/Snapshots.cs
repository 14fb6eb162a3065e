using System;
using System.Collections.Generic;
using System.Linq;

namespace ReproducibleBlock.State;

/// <summary>Capture and restore: between the live state (seeding, scope stack, sources) and <see cref="SnapshotData"/>.</summary>
internal static class Snapshots
{
    public static SnapshotData Capture(Seeding seeding, ScopeStack stack, Sources sources, StreamRegistry streams)
    {
        ReproducibleEnvironment environment = ReproducibleEnvironment.Current(seeding.RootSeed, seeding.Derivation.Kind);
        RngState current = sources.NewState();
        sources.Read(current);
        RngState reference = sources.NewState();
        seeding.Reference.CopyTo(reference);
        var frames = new List<FrameData>(stack.Depth);
        for (int i = 0; i < stack.Depth; i++)
            frames.Add(Describe(stack[i]));
        return new SnapshotData
        {
            RootSeed = seeding.RootSeed,
            Derivation = seeding.Derivation.Kind,
            Reference = reference,
            Current = current,
            Root = Describe(stack.Root),
            Frames = frames,
            Environment = environment,
            Streams = streams.Capture(sources),
            Claims = streams.Claims(),
        };

        FrameData Describe(BlockFrame frame)
        {
            RngState? saved = null;
            if (frame.RestoreOnExit)
            {
                saved = sources.NewState();
                frame.Saved!.CopyTo(saved);
            }
            return new FrameData(frame.BlockSeed, frame.Ordinal, frame.RestoreOnExit, saved,
                new Dictionary<long, long>(frame.InstanceCounts), frame.ExitCount);
        }
    }

    /// <summary>
    /// Puts everything back as <paramref name="snapshot"/> recorded it and returns the seeding it implies. Everything is
    /// checked first, and the generators are set before any bookkeeping changes; when setting them fails (a CUDA
    /// device), what they were is put back, so a failed restore changes nothing.
    /// </summary>
    /// <param name="snapshot">What to restore, already read and checked by <see cref="SnapshotFormat"/> if it came as bytes.</param>
    /// <param name="seeding">The seeding in force; null before any SetSeed.</param>
    /// <param name="stack">The open blocks, which must be those open at capture.</param>
    /// <param name="sources">The generators to set.</param>
    /// <param name="streams">The continuing streams, which take the states the snapshot recorded.</param>
    /// <param name="warn">Receives the warning when CUDA state cannot be restored on this machine.</param>
    /// <param name="enteredNow">The innermost open block was entered just now by a waiting Resume.</param>
    /// <param name="adoptConstructions">
    /// Take the snapshot's instance counters and stream claims even where this process has built fewer: a training loop
    /// resumed past the iterations that built them (see <see cref="TrainingRun"/>), which will not build them again.
    /// </param>
    public static Seeding Restore(SnapshotData snapshot, Seeding? seeding, ScopeStack stack, Sources sources, StreamRegistry streams, Action<string> warn, bool enteredNow, bool adoptConstructions = false)
    {
        if (snapshot.Current.Cpu.Length != sources.Cpu.StateSize)
        {
            throw new ArgumentException(
                $"The snapshot holds a {snapshot.Current.Cpu.Length}-byte CPU generator state, but this libtorch's is {sources.Cpu.StateSize} bytes: it was captured with another libtorch version and cannot be restored here.",
                nameof(snapshot));
        }
        CheckSamePath(snapshot, seeding, stack);
        if (!adoptConstructions)
            CheckRebuilt(snapshot, stack, enteredNow);
        List<(ulong Anchor, ClaimCount Claims)> adopted = CheckReregistered(snapshot, streams, adoptConstructions);
        if (snapshot.Environment is { } captured)
        {
            IReadOnlyList<string> differences = ReproducibleEnvironment.Current(seeding?.RootSeed, seeding?.Derivation.Kind).DifferencesFrom(captured, includeSeeding: false);
            if (differences.Count > 0)
            {
                warn($"the snapshot was captured in another environment, so draws and results may differ from the captured run's: {string.Join("; ", differences)}.");
            }
        }
        bool cudaMatches = snapshot.Current.Cuda.Length == sources.Cuda.StateCount;
        if (!cudaMatches)
        {
            warn($"the snapshot carries CUDA state for {snapshot.Current.Cuda.Length} device(s), but {sources.Cuda.StateCount} can be restored here; "
                + "CUDA generators are left as they are, so CUDA draws will not repeat the captured run's.");
        }

        RngState Local(RngState from)
        {
            RngState state = sources.NewState();
            from.Cpu.CopyTo(state.Cpu, 0);
            state.Managed = from.Managed;
            if (cudaMatches)
                from.Cuda.CopyTo(state.Cuda, 0);
            else
                sources.Cuda.Read(state.Cuda);
            return state;
        }

        RngState reference = Local(snapshot.Reference);
        var restored = new Seeding(snapshot.RootSeed, Derivations.Create(snapshot.Derivation, snapshot.RootSeed, reference), reference);
        var streamStates = new List<(ulong Key, RngState State)>(snapshot.Streams.Count);
        foreach ((ulong key, RngState state) in snapshot.Streams)
            streamStates.Add((key, Local(state)));
        var saved = new RngState?[stack.Depth];
        for (int i = 0; i < stack.Depth; i++)
            saved[i] = snapshot.Frames[i].Saved is { } state ? Local(state) : null;
        RngState before = sources.NewState();
        sources.Read(before);
        try
        {
            sources.Apply(Local(snapshot.Current));
        }
        catch
        {
            sources.Undo(before);
            throw;
        }

        streams.Restore(streamStates);
        streams.AdvanceClaims(adopted);
        stack.Root.Key = restored.RootKey;
        stack.Root.SetInstanceCounts(snapshot.Root.InstanceCounts);
        stack.Root.ExitCount = snapshot.Root.ExitCount;
        for (int i = 0; i < stack.Depth; i++)
        {
            FrameData data = snapshot.Frames[i];
            BlockFrame frame = stack[i];
            if (saved[i] is { } state)
                state.CopyTo(frame.Saved ??= sources.NewState());
            frame.SetInstanceCounts(data.InstanceCounts);
            frame.ExitCount = data.ExitCount;
        }
        return restored;
    }

    /// <summary>Whether the blocks open now, and the seeding, are those of <paramref name="snapshot"/>'s capture.</summary>
    public static bool IsCapturedHere(SnapshotData snapshot, Seeding? seeding, ScopeStack stack)
    {
        bool same = snapshot.Frames.Count == stack.Depth;
        ulong key = KeyDerivation.Root(snapshot.RootSeed);
        for (int i = 0; same && i < stack.Depth; i++)
        {
            FrameData data = snapshot.Frames[i];
            key = KeyDerivation.Child(key, data.BlockSeed, data.Ordinal);
            BlockFrame open = stack[i];
            same = open.Key == key && open.BlockSeed == data.BlockSeed && open.RestoreOnExit == data.RestoreOnExit;
        }
        if (same && stack.Depth > 0)
            same = seeding is not null && seeding.RootSeed == snapshot.RootSeed && seeding.Derivation.Kind == snapshot.Derivation;
        return same;
    }

    /// <summary>
    /// A snapshot's instance counters say how many woven constructors (instance blocks) had run at each level when it
    /// was captured; restoring them before this process has built as many would give the constructions still to come
    /// (a model built after Restore) the ordinals of later ones, and every one of their streams other keys.
    /// </summary>
    private static void CheckRebuilt(SnapshotData snapshot, ScopeStack stack, bool enteredNow)
    {
        for (int level = -1; level < stack.Depth; level++)
        {
            BlockFrame frame = level < 0 ? stack.Root : stack[level];
            FrameData captured = level < 0 ? snapshot.Root : snapshot.Frames[level];
            foreach (KeyValuePair<long, long> count in captured.InstanceCounts)
            {
                long built = frame.InstanceOrdinal(count.Key);
                if (built >= count.Value)
                    continue;
                string where = level < 0 ? "outside every block" : $"inside block {frame.BlockSeed}";
                if (enteredNow && level == stack.Depth - 1)
                {
                    throw new InvalidOperationException(
                        $"The snapshot was captured after {count.Value} instance block(s) with seed {count.Key} (woven constructors) had been entered {where}; Resume "
                        + $"applies it as block {frame.BlockSeed} is entered, before its body builds them again, so they would get other keys and lose their streams. "
                        + "Call Reproducible.Restore inside the block, after building, at the point where the snapshot was captured (or capture outside the block).");
                }
                throw new InvalidOperationException(
                    $"The snapshot was captured after {count.Value} instance block(s) with seed {count.Key} (woven constructors) had been entered {where}, and this "
                    + $"process has entered {built} there so far: it is being restored before the code that builds them ran again, so they would get other keys and "
                    + "lose their streams. Build the model (and whatever else was built before the checkpoint) first, then call Restore or Resume.");
            }
        }
    }

    /// <summary>
    /// Modules built by woven constructors in one place (a factory called for a student and its teacher, a model per
    /// fold in one block) claim their streams there in order. A snapshot taken after n of them were built gives their
    /// states to the first n built here: restoring it before as many were built again would leave the newest with
    /// another's key (or none), silently.
    /// </summary>
    /// <param name="snapshot">The snapshot being restored.</param>
    /// <param name="streams">This process's streams.</param>
    /// <param name="adopt">
    /// Whether the constructions this process skipped are to be taken as done: then the claims of every place where only
    /// constructors claimed are returned, to be taken. A place where an owner also claimed at its first use cannot be
    /// advanced (that owner, used again, must get its old key), so it is still refused there.
    /// </param>
    /// <returns>The claims to take.</returns>
    private static List<(ulong Anchor, ClaimCount Claims)> CheckReregistered(SnapshotData snapshot, StreamRegistry streams, bool adopt)
    {
        var adopted = new List<(ulong Anchor, ClaimCount Claims)>();
        foreach ((ulong anchor, ClaimCount claims) in snapshot.Claims)
        {
            if (adopt && claims.All == claims.Registered)
            {
                adopted.Add((anchor, claims));
                continue;
            }
            long built = streams.ClaimsAt(anchor).Registered;
            if (built >= claims.Registered)
                continue;
            throw new InvalidOperationException(
                $"The snapshot was captured after {claims.Registered} module(s) built by woven constructors had claimed their streams in one place (a factory "
                + $"called more than once, or a model built per fold or per epoch in the same block), and this process has built {built} there so far: their "
                + "streams would go to other modules. Build every one of them again first, in the same order, or give each fold its own SetSeed (or TrainingRun).");
        }
        return adopted;
    }

    /// <summary>A snapshot restores counters and saved states of the open blocks, so the same blocks must be open.</summary>
    private static void CheckSamePath(SnapshotData snapshot, Seeding? seeding, ScopeStack stack)
    {
        if (IsCapturedHere(snapshot, seeding, stack))
            return;
        string captured = snapshot.Frames.Count == 0 ? "outside every block" : "inside blocks " + string.Join(" > ", snapshot.Frames.Select(f => f.BlockSeed));
        string now = stack.Depth == 0 ? "outside every block" : "inside blocks " + stack.Describe();
        string seededNow = seeding is null ? "before any SetSeed" : seeding.ToString();
        throw new InvalidOperationException(
            $"The snapshot was captured {captured} (root seed {snapshot.RootSeed}, {snapshot.Derivation}); Restore was called {now} ({seededNow}). "
            + "Restore it where it was captured: after the same SetSeed, inside the same blocks.");
    }
}
