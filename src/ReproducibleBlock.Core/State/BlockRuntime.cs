using System;
using System.Globalization;
using System.IO;
using System.Threading;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.State;

/// <summary>
/// What <see cref="Reproducible"/> delegates to: it takes the lock, orders each operation so that it happens whole or
/// not at all, and leaves the rest to the state model around it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Sources: <see cref="Sources"/> (<see cref="TorchCpuGenerator"/>, <see cref="BlockRandom"/>, <see cref="ICudaGenerators"/>).</item>
/// <item>Derivation: <see cref="Seeding"/> holds the root seed, the reference state and the <see cref="IBlockDerivation"/>.</item>
/// <item>Scope stack: <see cref="ScopeStack"/> and its <see cref="BlockFrame"/>s, with the flow check.</item>
/// <item>Snapshot: <see cref="Snapshots"/>, <see cref="SnapshotData"/>, <see cref="SnapshotFormat"/>.</item>
/// </list>
/// Every operation takes one lock, so the library's own bookkeeping is safe from any thread.
/// </remarks>
internal sealed class BlockRuntime
{
    /// <summary>The process-wide runtime behind <see cref="Reproducible"/>; traces from the start when <see cref="BlockTrace.EnvironmentVariable"/> is set.</summary>
    public static BlockRuntime Shared { get; } = CreateShared();

    private static BlockRuntime CreateShared()
    {
        var runtime = new BlockRuntime(cudaFactory: null);
        runtime.StartTraceFromEnvironment();
        return runtime;
    }

    private readonly object _gate = new();
    private readonly Func<Action<string>, ICudaGenerators>? _cudaFactory;
    private readonly ScopeStack _stack = new();
    private Sources? _sources;
    private Seeding? _seeding;
    private SnapshotData? _pendingResume;
    private readonly StreamRegistry _streams = new();
    private bool _warnedAboutSnapshots;
    private TraceWriter? _tracer;
    private RngState? _traceState; // read into while tracing, kept
    private bool _traceExitHooked;

    /// <param name="cudaFactory">Stands in for CUDA detection (tests); null detects the real devices.</param>
    internal BlockRuntime(Func<Action<string>, ICudaGenerators>? cudaFactory)
    {
        _cudaFactory = cudaFactory;
        // Unseeded, the managed generator is as unpredictable as an unseeded System.Random.
        Random = new BlockRandom(unchecked((ulong)System.Random.Shared.NextInt64() ^ (ulong)Environment.TickCount64));
    }

    public BlockRandom Random { get; }

    public Action<string>? WarningHandler { get; set; } = DefaultWarningHandler;

    internal static void DefaultWarningHandler(string message) => Console.Error.WriteLine("ReproducibleBlock warning: " + message);

    public bool IsSeeded => Volatile.Read(ref _seeding) is not null;

    /// <summary>The root seed in force (0 before any SetSeed).</summary>
    public long RootSeed => Volatile.Read(ref _seeding)?.RootSeed ?? 0;

    /// <summary>The derivation in force (Keyed before any SetSeed).</summary>
    public BlockDerivation Derivation => Volatile.Read(ref _seeding)?.Derivation.Kind ?? BlockDerivation.Keyed;

    private void Warn(string message) => WarningHandler?.Invoke(message);

    /// <summary>The sources, created on first use, so that loading this library touches no native code.</summary>
    private Sources Sources()
    {
        if (_sources is { } sources)
            return sources;
        var cpu = new TorchCpuGenerator();
        if (!cpu.HasKnownLayout)
        {
            Warn($"this libtorch's CPU generator state is {cpu.StateSize} bytes, not the {CpuGeneratorState.Size} this library knows. "
                + "Keyed blocks fall back to manual_seed, which uses only 32 bits of each block key, so distinct blocks may share a stream.");
        }
        return _sources = new Sources(cpu, Random, DetectCuda());
    }

    private ICudaGenerators DetectCuda()
    {
        try
        {
            return _cudaFactory is null ? CudaDetection.Detect(Warn) : _cudaFactory(Warn);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An exclusive-process GPU taken by another process, a device out of memory, a broken driver: CUDA cannot
            // be used here, so it cannot be seeded either; the CPU and managed generators still can.
            Warn($"CUDA could not be initialised ({e.GetType().Name}: {e.Message}); ReproducibleBlock seeds and isolates the CPU and managed generators only. "
                + "Make the GPU available to this process (another process may hold it in exclusive mode) to have CUDA seeded too.");
            return NoCudaGenerators.Instance;
        }
    }

    public void SetSeed(long seed, BlockDerivation derivation)
    {
        Derivations.CheckDefined(derivation);
        lock (_gate)
        {
            if (_stack.Depth > 0)
            {
                throw new InvalidOperationException(
                    $"Reproducible.SetSeed cannot be called while blocks are open ({_stack.Describe()}). Call it once at the start of the program, outside every block.");
            }
            Sources sources = Sources();
            RngState reference = sources.NewState(); // filled in below, once every generator is seeded
            IBlockDerivation strategy = Derivations.Create(derivation, seed, reference);
            RngState before = sources.NewState();
            sources.Read(before);
            ulong rootKey = KeyDerivation.Root(seed);
            try
            {
                sources.Cuda.Seed(unchecked((ulong)seed)); // torch.manual_seed seeds CUDA too in PyTorch; TorchSharp's does not
                sources.Cpu.Seed(seed);
                sources.Managed.State = KeyDerivation.ManagedState(rootKey);
                sources.Read(reference);
            }
            catch
            {
                sources.Undo(before);
                throw;
            }
            _stack.Root.Open(owner: null, blockSeed: 0, ordinal: 0, key: rootKey, restoreOnExit: false);
            _streams.Clear();
            if (_pendingResume is not null)
            {
                _pendingResume = null;
                Warn("SetSeed dropped the snapshot that Resume was waiting to apply: call Resume after SetSeed.");
            }
            Volatile.Write(ref _seeding, new Seeding(seed, strategy, reference));
            _tracer?.Seed(seed, derivation, ReproducibleEnvironment.Current().ToPairs());
        }
    }

    /// <remarks>
    /// All or nothing without an extra state read: everything that can refuse runs before anything moves, the
    /// derivation sets CUDA (the step that can fail) before the CPU and managed generators, and the bookkeeping
    /// (instance counter, frame, flow) is committed last. A block that restores on exit has read the state anyway, so
    /// a failure there puts every generator back; otherwise a failure on CUDA device n leaves devices before it at
    /// the block's seed.
    /// </remarks>
    public BlockScope Enter(long blockSeed, bool restoreOnExit, bool instance, string? name = null) =>
        Enter<TraceChecked>(blockSeed, restoreOnExit, instance, name);

    /// <summary><see cref="Enter"/> compiled without the tracing check: the benchmarks' baseline for what the check costs.</summary>
    internal BlockScope EnterSkippingTraceCheck(long blockSeed, bool restoreOnExit, bool instance) =>
        Enter<TraceSkipped>(blockSeed, restoreOnExit, instance, name: null);

    private BlockScope Enter<TSwitch>(long blockSeed, bool restoreOnExit, bool instance, string? name)
        where TSwitch : struct, ITraceSwitch
    {
        lock (_gate)
        {
            Seeding seeding = _seeding ?? throw new InvalidOperationException(
                $"{BlockDescription(blockSeed, name)} was entered before any seed was set. Call Reproducible.SetSeed(seed) once at the start of the program, before the first block.");
            _stack.CheckSameFlow(BlockDescription(blockSeed, name));
            seeding.Derivation.CheckBlockSeed(blockSeed);

            Sources sources = Sources();
            BlockFrame parent = _stack.Top;
            long ordinal = instance ? parent.InstanceOrdinal(blockSeed) : 0;
            ulong key = KeyDerivation.Child(parent.Key, blockSeed, ordinal);
            BlockFrame frame = _stack.Next();
            if (restoreOnExit)
                sources.Read(frame.Saved ??= sources.NewState());
            TraceWriter? tracer = default(TSwitch).On ? _tracer : null;
            Fingerprint before = tracer is null ? default : TraceRead(sources, restoreOnExit ? frame.Saved : null);
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

            if (instance)
                parent.CountInstance(blockSeed);
            var scope = new BlockScope(this, blockSeed, restoreOnExit);
            frame.Open(scope, blockSeed, ordinal, key, restoreOnExit);
            _stack.Push(scope);
            bool resumedHere = false;
            if (_pendingResume is { } pending && pending.Frames.Count == _stack.Depth)
                resumedHere = ResumeOnEntry(pending, seeding, sources, parent, blockSeed, instance);
            if (tracer is not null)
            {
                // Keyed entry wrote the CPU state through the write buffer: hash that instead of reading it back.
                bool cpuJustWritten = !resumedHere && seeding.Derivation.Kind == BlockDerivation.Keyed && sources.Cpu.HasKnownLayout;
                TraceEnter(tracer, frame, parent, string.Create(CultureInfo.InvariantCulture, $"{blockSeed}#{ordinal}"), name, instance ? "instance" : "block", before, sources, cpuJustWritten);
            }
            return scope;
        }
    }

    /// <summary>
    /// A block in refusals: <c>Block 5</c>, or with the woven member's name, <c>The block of Namespace.Type..ctor (block 5)</c>.
    /// </summary>
    private static string BlockDescription(long blockSeed, string? name) =>
        name is null ? $"Block {blockSeed}" : $"The block of {name} (block {blockSeed})";

    /// <summary>A continuing block in refusals, with the woven member's name when there is one.</summary>
    private static string StreamDescription(object owner, string? name) =>
        name is null ? $"The continuing block of a {owner.GetType().Name}" : $"The continuing block of {name} (a {owner.GetType().Name})";

    /// <summary>
    /// Enters <paramref name="owner"/>'s continuing block: its own stream, resumed where its last exit left it (the first
    /// entry starts from the state derived from its key), and on exit saved and the enclosing stream put back.
    /// </summary>
    /// <remarks>
    /// An owner registered by its woven constructor has the key of its construction path; any other gets, at its first
    /// entry, the key of the n-th new stream under the block open then.
    /// </remarks>
    public BlockScope EnterStream(object owner, string? name = null)
    {
        lock (_gate)
        {
            Seeding seeding = _seeding ?? throw new InvalidOperationException(
                $"{StreamDescription(owner, name)} was entered before any seed was set. Call Reproducible.SetSeed(seed) once at the start of the program.");
            _stack.CheckSameFlow(StreamDescription(owner, name));
            Sources sources = Sources();
            BlockFrame parent = _stack.Top;
            ContinuingStream? stream = _streams.Find(owner);
            long ordinal = stream is null ? parent.StreamCount : 0;
            ulong key = stream?.Key ?? KeyDerivation.Child(parent.Key, StreamRegistry.StreamSeed, ordinal);
            RngState? resumed = stream is null ? _streams.PendingState(key) : stream.State;
            BlockFrame frame = _stack.Next();
            sources.Read(frame.Saved ??= sources.NewState());
            TraceWriter? tracer = _tracer;
            Fingerprint before = tracer is null ? default : Fingerprint.Of(frame.Saved);
            try
            {
                if (resumed is null)
                {
                    KeyedDerivation.Instance.Enter(sources, key, StreamRegistry.StreamSeed);
                }
                else
                {
                    sources.Apply(resumed, alreadyValid: true);
                    sources.Cuda.ResumeStream(stream ?? new ContinuingStream(key));
                }
            }
            catch
            {
                sources.Undo(frame.Saved!);
                throw;
            }

            if (stream is null)
            {
                parent.StreamCount++;
                stream = _streams.Add(owner, key);
            }
            stream.Entries++;
            var scope = new BlockScope(this, StreamRegistry.StreamSeed, restoreOnExit: true);
            frame.Open(scope, StreamRegistry.StreamSeed, ordinal, key, restoreOnExit: true);
            frame.Stream = stream;
            _stack.Push(scope);
            if (tracer is not null)
                TraceEnter(tracer, frame, parent, "~" + key.ToString("x16", CultureInfo.InvariantCulture), name, "continuing", before, sources, sources.Cpu.HasKnownLayout);
            return scope;
        }
    }

    /// <summary>Snapshots are taken between steps: inside a continuing block, the stream being drawn has no resting state.</summary>
    private void CheckNoStreamOpen(string what)
    {
        for (int i = 0; i < _stack.Depth; i++)
        {
            if (_stack[i].Stream is not null)
            {
                throw new InvalidOperationException(
                    $"{what} cannot run inside a continuing block (a module's forward, or Reproducible.ContinuingBlock): its stream is being drawn. "
                    + "Checkpoint between steps, outside the modules' calls.");
            }
        }
    }

    /// <summary>Gives <paramref name="owner"/>, built inside its woven constructor's block, the stream of that construction path.</summary>
    public void RegisterStream(object owner)
    {
        lock (_gate)
        {
            if (_seeding is null || _streams.Find(owner) is not null)
                return;
            _stack.CheckSameFlow($"Registering the stream of a {owner.GetType().Name}");
            _streams.Add(owner, KeyDerivation.Child(_stack.Top.Key, StreamRegistry.StreamSeed, 0));
        }
    }

    /// <summary>
    /// Applies a pending <see cref="Resume"/> when the block just entered completes the path of its capture. A failed
    /// restore takes the entry's bookkeeping back too (and, for a restoring block, its generators); the generators of a
    /// plain block stay at the block's state, as after any failed entry.
    /// </summary>
    /// <returns>Whether the snapshot was restored.</returns>
    private bool ResumeOnEntry(SnapshotData pending, Seeding seeding, Sources sources, BlockFrame parent, long blockSeed, bool instance)
    {
        if (!Snapshots.IsCapturedHere(pending, seeding, _stack))
            return false;
        try
        {
            Volatile.Write(ref _seeding, Snapshots.Restore(pending, seeding, _stack, sources, _streams, Warn));
            _pendingResume = null;
            return true;
        }
        catch
        {
            BlockFrame frame = _stack.Top;
            _stack.Pop();
            if (instance)
                parent.UncountInstance(blockSeed);
            if (frame.RestoreOnExit)
                sources.Undo(frame.Saved!);
            throw;
        }
    }

    /// <summary>Whether a snapshot given to <see cref="Resume"/> waits for its blocks to be entered.</summary>
    public bool IsResumePending
    {
        get
        {
            lock (_gate)
                return _pendingResume is not null;
        }
    }

    /// <summary>
    /// Restores <paramref name="snapshot"/> now when it was captured where the caller is, or else as soon as the blocks
    /// open at its capture are entered again, whoever enters them.
    /// </summary>
    public void Resume(SnapshotData snapshot)
    {
        lock (_gate)
        {
            _stack.CheckSameFlow("Resume");
            CheckNoStreamOpen("Resume");
            Sources sources = Sources();
            if (snapshot.Current.Cpu.Length != sources.Cpu.StateSize || Snapshots.IsCapturedHere(snapshot, _seeding, _stack))
            {
                // Restore now, or refuse now (a foreign libtorch) rather than when the blocks are entered.
                Volatile.Write(ref _seeding, Snapshots.Restore(snapshot, _seeding, _stack, sources, _streams, Warn));
                _pendingResume = null;
                return;
            }
            // Refuse what could never apply, rather than wait for it silently.
            if (_seeding is null || _seeding.RootSeed != snapshot.RootSeed || _seeding.Derivation.Kind != snapshot.Derivation)
            {
                string now = _seeding is null ? "before any SetSeed" : _seeding.ToString();
                throw new InvalidOperationException(
                    $"The snapshot was captured inside blocks after SetSeed({snapshot.RootSeed}, {snapshot.Derivation}); Resume was called {now}, so its blocks "
                    + $"would never derive the same keys. Call Reproducible.SetSeed({snapshot.RootSeed}, BlockDerivation.{snapshot.Derivation}) first.");
            }
            if (snapshot.Frames.Count <= _stack.Depth)
            {
                throw new InvalidOperationException(
                    $"Resume was called inside blocks {_stack.Describe()}, deeper than (or as deep as) the blocks open at capture, where they could never be entered: "
                    + "call it where the snapshot was captured, or outside every block.");
            }
            _pendingResume = snapshot;
        }
    }

    /// <summary>Leaves the block of <paramref name="scope"/>; does nothing when it is not open.</summary>
    public void Exit(BlockScope scope) => Exit<TraceChecked>(scope);

    /// <summary><see cref="Exit"/> compiled without the tracing check (benchmarks' baseline).</summary>
    internal void ExitSkippingTraceCheck(BlockScope scope) => Exit<TraceSkipped>(scope);

    private void Exit<TSwitch>(BlockScope scope)
        where TSwitch : struct, ITraceSwitch
    {
        lock (_gate)
        {
            int index = _stack.IndexOf(scope);
            if (index < 0)
                return;
            if (index != _stack.Depth - 1)
            {
                throw new InvalidOperationException(
                    $"Block {scope.BlockSeed} cannot be left while block {_stack.Top.BlockSeed}, entered inside it, is still open. "
                    + "Blocks are left in the reverse order of entry: dispose the inner block first (a using statement does this).");
            }
            _stack.CheckOwnedByThisFlow(scope);
            BlockFrame frame = _stack[index];
            if (_pendingResume is { } pending && index == 0 && frame.Key == KeyDerivation.Child(_stack.Root.Key, pending.Frames[0].BlockSeed, pending.Frames[0].Ordinal))
            {
                Warn($"block {frame.BlockSeed}, the outermost block of the snapshot given to Resume, is being left, but the snapshot was not applied: "
                    + $"the blocks inside it ({string.Join(" > ", System.Linq.Enumerable.Select(pending.Frames, f => f.BlockSeed))}) were not entered as at capture. "
                    + "The run goes on without it.");
            }
            TraceWriter? tracer = default(TSwitch).On ? _tracer : null;
            Fingerprint ending = default;
            if (tracer is not null && frame.Stream is null)
                ending = TraceRead(Sources(), state: null);
            if (frame.RestoreOnExit)
            {
                Sources sources = Sources();
                // A continuing block's stream is read into the frame's spare state, so a failure leaves the stream's
                // previous state intact, and traded once the exit has happened.
                RngState? ended = null;
                if (frame.Stream is not null)
                {
                    sources.Read(ended = frame.Spare ??= sources.NewState());
                    if (tracer is not null)
                        ending = Fingerprint.Of(ended);
                }
                // CUDA first, the step that can fail: a failed exit then leaves the block open with nothing moved.
                sources.Cuda.ContinueAfterRestoringExit(_stack.ParentOf(index));
                sources.Apply(frame.Saved!, alreadyValid: true);
                if (frame.Stream is { } stream)
                {
                    frame.Spare = stream.State;
                    stream.State = ended;
                }
            }
            tracer?.Exit(frame.TracePath, frame.TraceName, ending);
            _stack.Pop();
        }
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

    /// <summary>The trace being written, or null.</summary>
    public TraceWriter? Tracer => Volatile.Read(ref _tracer);

    /// <summary>The fingerprint of <paramref name="state"/>, or of the generators now when it is null.</summary>
    private Fingerprint TraceRead(Sources sources, RngState? state)
    {
        if (state is null)
            sources.Read(state = _traceState ??= sources.NewState());
        return Fingerprint.Of(state);
    }

    /// <summary>
    /// Writes an entry event. <paramref name="cpuJustWritten"/>: the entry set the CPU state from the write buffer,
    /// which still holds it, so its fingerprint needs no read back.
    /// </summary>
    private void TraceEnter(TraceWriter tracer, BlockFrame frame, BlockFrame parent, string segment, string? name, string kind, in Fingerprint before, Sources sources, bool cpuJustWritten)
    {
        frame.TracePath = parent.TracePath.Length == 0 ? segment : parent.TracePath + "/" + segment;
        frame.TraceName = name ?? BlockNames.OfCaller();
        Fingerprint state;
        if (cpuJustWritten)
        {
            RngState scratch = _traceState ??= sources.NewState();
            sources.Cuda.Read(scratch.Cuda);
            state = Fingerprint.Of(sources.Cpu.LastWritten, sources.Managed.State, scratch.Cuda);
        }
        else
        {
            state = TraceRead(sources, state: null);
        }
        tracer.Enter(frame.TracePath, frame.TraceName, kind, frame.RestoreOnExit, before, state);
    }

    /// <summary>Starts the trace that <see cref="BlockTrace.EnvironmentVariable"/> asks for; a path that cannot be written gives a warning.</summary>
    private void StartTraceFromEnvironment()
    {
        string? path = Environment.GetEnvironmentVariable(BlockTrace.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(path))
            return;
        try
        {
            StartTrace(BlockTrace.ExpandPath(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Warn($"{BlockTrace.EnvironmentVariable}={path}: the trace cannot be written ({e.Message}); the run goes on without tracing. "
                + "Use a writable path, with {pid} in it when several processes start with the variable set.");
        }
    }

    public string StartTrace(string path)
    {
        lock (_gate)
        {
            if (_tracer is { } running)
                throw new InvalidOperationException($"A trace is already being written to {running.Path}. Call BlockTrace.Stop() before starting another.");
            if (_stack.Depth > 0)
            {
                throw new InvalidOperationException(
                    $"Tracing cannot start inside blocks ({_stack.Describe()}): their entries would be missing from the trace. Start it outside every block, or set {BlockTrace.EnvironmentVariable} before the process starts.");
            }
            var tracer = new TraceWriter(path);
            if (_seeding is { } seeding)
                tracer.Seed(seeding.RootSeed, seeding.Derivation.Kind, ReproducibleEnvironment.Current().ToPairs());
            if (!_traceExitHooked)
            {
                _traceExitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => EndTraceAtExit(complete: true);
                AppDomain.CurrentDomain.UnhandledException += (_, _) => EndTraceAtExit(complete: false);
            }
            Volatile.Write(ref _tracer, tracer);
            return path;
        }
    }

    public void StopTrace()
    {
        lock (_gate)
        {
            _tracer?.End();
            Volatile.Write(ref _tracer, null);
        }
    }

    public void TraceMark(string name, ulong fingerprint)
    {
        lock (_gate)
        {
            _tracer?.Mark(_stack.Top.TracePath, name, fingerprint);
        }
    }

    /// <summary>
    /// At process exit the trace ends (its <c>end</c> line says the run finished); on an unhandled exception it is only
    /// flushed, so the trace shows the run stopped early. Another thread may hold the lock while the process dies:
    /// then the buffer is left unwritten rather than the exit hung.
    /// </summary>
    internal void EndTraceAtExit(bool complete)
    {
        if (!Monitor.TryEnter(_gate, TimeSpan.FromSeconds(2)))
            return;
        try
        {
            if (_tracer is not { } tracer)
                return;
            if (complete)
            {
                tracer.End();
                Volatile.Write(ref _tracer, null);
            }
            else
            {
                tracer.Flush();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process is ending: a trace that cannot be written is all there is to lose.
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>The key of the innermost open block (the root key outside every block), for streams derived from it.</summary>
    /// <param name="what">Names the caller in refusals.</param>
    public ulong CurrentKey(string what)
    {
        lock (_gate)
        {
            if (_seeding is null)
                throw new InvalidOperationException($"{what} needs a seed: call Reproducible.SetSeed(seed) once at the start of the program.");
            _stack.CheckSameFlow(what);
            return _stack.Top.Key;
        }
    }

    /// <summary>Forgets every open block without leaving it (generators stay as they are). For test clean-up only.</summary>
    internal void AbandonOpenBlocks()
    {
        lock (_gate)
        {
            _stack.Abandon();
            _pendingResume = null;
        }
    }

    public SnapshotData Capture()
    {
        lock (_gate)
        {
            Seeding seeding = _seeding ?? throw new InvalidOperationException("There is nothing to capture yet: call Reproducible.SetSeed(seed) first.");
            _stack.CheckSameFlow("Capture");
            CheckNoStreamOpen("Capture");
            Sources sources = Sources();
            if (sources.Cuda.SnapshotWarning is { } warning && !_warnedAboutSnapshots)
            {
                _warnedAboutSnapshots = true; // once: checkpoints are taken often
                Warn(warning);
            }
            return Snapshots.Capture(seeding, _stack, sources, _streams);
        }
    }

    public void Restore(SnapshotData snapshot)
    {
        lock (_gate)
        {
            _stack.CheckSameFlow("Restore");
            CheckNoStreamOpen("Restore");
            Seeding restored = Snapshots.Restore(snapshot, _seeding, _stack, Sources(), _streams, Warn);
            Volatile.Write(ref _seeding, restored);
            _pendingResume = null; // a restore supersedes a resume still waiting
        }
    }
}
