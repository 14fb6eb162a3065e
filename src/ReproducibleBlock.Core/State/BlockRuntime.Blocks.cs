using System;
using System.Threading;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.State;

/// <summary>Entering and leaving blocks: the order of each operation's steps.</summary>
internal sealed partial class BlockRuntime
{
    /// <remarks>
    /// All or nothing without an extra state read: everything that can refuse runs before anything moves, the
    /// derivation sets CUDA (the step that can fail) before the CPU and managed generators, and the bookkeeping
    /// (instance counter, frame, flow) is committed last. A block that restores on exit has read the state anyway, so
    /// a failure there puts every generator back; otherwise a failure on CUDA device n leaves devices before it at
    /// the block's seed.
    /// </remarks>
    /// <param name="blockSeed">The block's seed.</param>
    /// <param name="restoreOnExit">Whether leaving the block puts every generator back.</param>
    /// <param name="instance">An instance block (its ordinal counts the blocks with its seed entered under the same parent).</param>
    /// <param name="name">The woven member's name, for traces and refusals; null for a hand-written block.</param>
    /// <param name="woven">A woven method's or constructor's block: on a flow that does not own the open blocks it runs
    /// passively (see <see cref="PassiveCall"/>); a hand-written block is refused there.</param>
    public BlockScope Enter(long blockSeed, bool restoreOnExit, bool instance, string? name = null, bool woven = false) =>
        Enter<TraceChecked>(blockSeed, restoreOnExit, instance, name, woven);

    /// <summary><see cref="Enter"/> compiled without the tracing check: the benchmarks' baseline for what the check costs.</summary>
    internal BlockScope EnterSkippingTraceCheck(long blockSeed, bool restoreOnExit, bool instance) =>
        Enter<TraceSkipped>(blockSeed, restoreOnExit, instance, name: null, woven: false);

    private BlockScope Enter<TSwitch>(long blockSeed, bool restoreOnExit, bool instance, string? name, bool woven)
        where TSwitch : struct, ITraceSwitch
    {
        lock (_gate)
        {
            Seeding seeding = _seeding ?? throw new InvalidOperationException(
                $"{BlockDescription(blockSeed, name)} was entered before any seed was set. Call Reproducible.SetSeed(seed) once at the start of the program, before the first block.");
            if (PassiveReasonHere() is { } reason)
            {
                return woven
                    ? BeginPassive(blockSeed, BlockDescription(blockSeed, name), reason)
                    : throw new InvalidOperationException(PassiveRefusal(BlockDescription(blockSeed, name), reason));
            }
            seeding.Derivation.CheckBlockSeed(blockSeed);

            Sources sources = Sources();
            BlockFrame parent = _stack.Top;
            long ordinal = instance ? parent.InstanceOrdinal(blockSeed) : 0;
            ulong key = KeyDerivation.Child(parent.Key, blockSeed, ordinal);
            BlockFrame frame = _stack.Next();
            if (restoreOnExit)
                sources.Read(frame.Saved ??= sources.NewState());
            TraceWriter? tracer = default(TSwitch).On ? _trace.Tracer : null;
            Fingerprint before = tracer is null ? default : _trace.Read(sources, restoreOnExit ? frame.Saved : null);
            try
            {
                seeding.Derivation.Enter(sources, key, blockSeed);
            }
            catch
            {
                if (restoreOnExit)
                    sources.Undo(frame.Saved!);
                throw;
            }

            _writes++;
            if (instance)
                parent.CountInstance(blockSeed);
            var scope = new BlockScope(this, blockSeed, restoreOnExit);
            frame.Open(scope, blockSeed, ordinal, key, restoreOnExit);
            _stack.Push(scope);
            bool resumedHere = _resume.DueAt(_stack, seeding) is { } due && ResumeOnEntry(due, seeding, sources, parent, blockSeed, instance);
            if (tracer is not null)
            {
                // Keyed entry wrote the CPU state through the write buffer: hash that instead of reading it back.
                bool cpuJustWritten = !resumedHere && seeding.Derivation.Kind == BlockDerivation.Keyed && sources.Cpu.HasKnownLayout;
                _trace.Enter(tracer, frame, parent, Segment(blockSeed, ordinal), name, instance ? "instance" : "block", before, sources, cpuJustWritten);
                if (resumedHere)
                    _trace.Restored(tracer, "Resume", _seeding!, frame.TracePath, sources); // the entry applied a waiting Resume
            }
            return scope;
        }
    }

    /// <summary>
    /// Enters <paramref name="owner"/>'s continuing block: its own stream, resumed where its last exit left it (the first
    /// entry starts from the state derived from its key), and on exit saved and the enclosing stream put back. An entry
    /// while the owner's block is already open continues the live stream (<see cref="StreamBlocks"/>).
    /// </summary>
    /// <param name="owner">Whose stream.</param>
    /// <param name="name">The woven member's name (or a random module's path), for traces and refusals.</param>
    /// <param name="closedByEnclosingExit">Entered by a forward hook, which no <c>finally</c> leaves: an enclosing exit may close it.</param>
    public BlockScope EnterStream(object owner, string? name = null, bool closedByEnclosingExit = false)
    {
        lock (_gate)
        {
            if (_seeding is null)
            {
                throw new InvalidOperationException(
                    $"{StreamDescription(owner, name)} was entered before any seed was set. Call Reproducible.SetSeed(seed) once at the start of the program.");
            }
            if (PassiveReasonHere() is { } reason)
                return BeginPassive(StreamRegistry.StreamSeed, StreamDescription(owner, name), reason);
            Sources sources = Sources();
            BlockFrame parent = _stack.Top;
            ContinuingStream? stream = _streams.Find(owner);
            BlockFrame frame = _stack.Next();
            var scope = new BlockScope(this, StreamRegistry.StreamSeed, restoreOnExit: true);
            TraceWriter? tracer = _trace.Tracer;
            if (stream?.OpenFrame is not null)
            {
                Fingerprint outside = tracer is null ? default : _trace.Read(sources, state: null);
                StreamBlocks.Reenter(_stack, sources, frame, stream, scope);
                frame.ClosedByEnclosingExit = closedByEnclosingExit;
                _writes++;
                _stack.Push(scope);
                if (tracer is not null)
                    _trace.Enter(tracer, frame, parent, StreamSegment(stream.Key), name, "continuing", outside, sources, cpuJustWritten: false, stream.TreeName);
                return scope;
            }
            ulong key = stream?.Key ?? _streams.NextKey(parent.Key);
            StreamBlocks.Switch(sources, frame, stream, key, stream is null ? _streams.StateForClaim(key) : null);
            _writes++;
            stream ??= _streams.Claim(owner, _stack.PathOf(_stack.Depth - 1), parent.Key);
            stream.Entries++;
            stream.RestoredUnused = false;
            frame.Open(scope, StreamRegistry.StreamSeed, stream.Path[^1].Ordinal, key, restoreOnExit: true);
            frame.Stream = stream;
            frame.ClosedByEnclosingExit = closedByEnclosingExit;
            stream.OpenFrame = frame;
            _stack.Push(scope);
            if (tracer is not null)
                _trace.Enter(tracer, frame, parent, StreamSegment(key), name, "continuing", Fingerprint.Of(frame.Saved!), sources, sources.Cpu.HasKnownLayout, stream.TreeName);
            return scope;
        }
    }

    private static string StreamSegment(ulong key) => "~" + key.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gives <paramref name="owner"/>, built inside its woven constructor's block, the stream of that construction path.</summary>
    /// <param name="owner">The instance being built.</param>
    /// <param name="pathStreams">
    /// Whether TorchSharp's random modules in its tree get streams keyed by their path (see <see cref="ModuleStreams"/>);
    /// false for a constructor woven with <c>IsolateParts = false</c>, whose modules draw in the owner's stream as in 0.2.
    /// </param>
    public void RegisterStream(object owner, bool pathStreams = true)
    {
        lock (_gate)
        {
            if (_seeding is null || _streams.Find(owner) is not null || _stack.ThisThread.PassiveDepth > 0)
                return;
            CheckSameFlow($"Registering the stream of a {owner.GetType().Name}");
            ContinuingStream stream = _streams.Claim(owner, _stack.PathOf(_stack.Depth - 1), _stack.Top.Key, registered: true);
            if (pathStreams && owner is TorchSharp.torch.nn.Module module)
                RegisterRandomModules(module, stream);
        }
    }

    /// <summary>Gives each of TorchSharp's random modules that <paramref name="owner"/> owns a stream keyed by its path (see <see cref="ModuleStreams"/>).</summary>
    private void RegisterRandomModules(TorchSharp.torch.nn.Module owner, ContinuingStream ownerStream)
    {
        foreach ((string path, TorchSharp.torch.nn.Module module) in ModuleStreams.RandomModulesOf(owner, m => _streams.Find(m) is not null))
        {
            _streams.RegisterPath(module, ownerStream, PathSeed(path), path);
            ModuleStreams.Hook(module, static m => Shared.EnterModule(m), static m => Shared.ExitModule(m));
            OutputHooks.Add(module, static (m, output) => Shared.TraceModuleOutput(m, output)); // runs before the hook that leaves
        }
        // Names in the tree, for traces: the outermost woven module registers last, so its names are the ones kept.
        string root = owner.GetType().Name;
        ownerStream.TreeName = root;
        foreach ((string path, TorchSharp.torch.nn.Module module) in owner.named_modules())
        {
            if (path.Length > 0 && _streams.Find(module) is { } stream)
                stream.TreeName = root + "." + BlockNames.ModulePath(path);
        }
    }

    /// <summary>
    /// Enters the stream of one of TorchSharp's random modules registered by <see cref="RegisterRandomModules"/> (its
    /// forward pre-hook, or woven code calling its <c>forward</c>); null for any other object.
    /// </summary>
    public BlockScope? EnterModule(object module)
    {
        string? path;
        lock (_gate)
            path = _streams.Find(module)?.ModulePath;
        if (path is null)
            return null;
        BlockScope scope = EnterStream(module, path, closedByEnclosingExit: true);
        _stack.ThisThread.HookScopes.Push((module, scope));
        return scope;
    }

    /// <summary>Leaves what <see cref="EnterModule"/> entered for <paramref name="module"/> on this thread (its forward post-hook).</summary>
    public void ExitModule(object module)
    {
        System.Collections.Generic.Stack<(object Module, BlockScope Scope)> scopes = _stack.ThisThread.HookScopes;
        // Entries an exception left behind (a forward that threw skips its post-hook) were closed by an enclosing exit.
        while (scopes.TryPop(out (object Module, BlockScope Scope) entered))
        {
            if (ReferenceEquals(entered.Module, module))
            {
                entered.Scope.Dispose();
                return;
            }
        }
    }

    /// <summary>Leaves the block of <paramref name="scope"/>; does nothing when it is not open.</summary>
    public void Exit(BlockScope scope) => Exit<TraceChecked>(scope);

    /// <summary><see cref="Exit"/> compiled without the tracing check (benchmarks' baseline).</summary>
    internal void ExitSkippingTraceCheck(BlockScope scope) => Exit<TraceSkipped>(scope);

    private void Exit<TSwitch>(BlockScope scope)
        where TSwitch : struct, ITraceSwitch
    {
        if (scope.Passive is { } passive)
        {
            EndPassive(passive);
            return;
        }
        lock (_gate)
        {
            int index = _stack.IndexOf(scope);
            if (index < 0)
                return;
            CloseLeftOpenAbove(index, scope);
            _stack.CheckOwnedByThisFlow(scope);
            BlockFrame frame = _stack[index];
            _resume.CheckLeaving(_stack, index, frame, Warn);
            TraceWriter? tracer = default(TSwitch).On ? _trace.Tracer : null;
            Fingerprint ending = tracer is not null && frame.Stream is null ? _trace.Read(Sources(), state: null) : default;
            if (frame.Stream is not null)
            {
                RngState ended = StreamBlocks.Leave(_stack, Sources(), index, frame);
                if (tracer is not null)
                    ending = Fingerprint.Of(ended);
                _writes++;
            }
            else if (frame.Reentered is not null)
            {
                StreamBlocks.LeaveReentry(_stack, Sources(), frame);
                _writes++;
            }
            else if (frame.RestoreOnExit)
            {
                Sources sources = Sources();
                // CUDA first, the step that can fail: a failed exit then leaves the block open with nothing moved.
                sources.Cuda.ContinueAfterRestoringExit(_stack.ParentOf(index));
                sources.Apply(frame.Saved!, alreadyValid: true);
                _writes++;
            }
            tracer?.Exit(frame.TracePath, frame.TraceName, ending, frame.TraceOutput);
            _stack.Pop();
        }
    }

    /// <summary>
    /// Blocks are left in the reverse order of entry. Frames the library entered for woven code that an exception left
    /// open (a module stream entered by a hook whose <c>forward</c> threw) are closed by the exit of the block around
    /// them; any other open block inside is a programming error.
    /// </summary>
    private void CloseLeftOpenAbove(int index, BlockScope scope)
    {
        for (int i = _stack.Depth - 1; i > index; i--)
        {
            if (!_stack[i].ClosedByEnclosingExit)
            {
                throw new InvalidOperationException(
                    $"Block {scope.BlockSeed} cannot be left while block {_stack.Top.BlockSeed}, entered inside it, is still open. "
                    + "Blocks are left in the reverse order of entry: dispose the inner block first (a using statement does this).");
            }
        }
        while (_stack.Depth - 1 > index)
            Exit<TraceChecked>(_stack.Top.Owner!);
    }

    /// <summary>Whether the tracing check is compiled in: a struct type argument, so the JIT drops the check where it is off.</summary>
    private interface ITraceSwitch
    {
        bool On { get; }
    }

    private readonly struct TraceChecked : ITraceSwitch
    {
        public bool On => true;
    }

    private readonly struct TraceSkipped : ITraceSwitch
    {
        public bool On => false;
    }
}
