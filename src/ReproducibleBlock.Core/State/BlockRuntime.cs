using System;
using System.Globalization;
using System.Threading;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.State;

/// <summary>
/// What <see cref="Reproducible"/> delegates to: it takes the one lock and orders each operation's steps so that it
/// happens whole or not at all; the steps themselves live in the state model around it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Sources: <see cref="Sources"/> (<see cref="TorchCpuGenerator"/>, <see cref="BlockRandom"/>, <see cref="ICudaGenerators"/>).</item>
/// <item>Derivation: <see cref="Seeding"/> holds the root seed, the reference state and the <see cref="IBlockDerivation"/>; <see cref="KeyDerivation"/> the keys.</item>
/// <item>Scope stack: <see cref="ScopeStack"/> and its <see cref="BlockFrame"/>s, with the flow check; <see cref="PassiveCall"/> for flows that do not own it.</item>
/// <item>Streams: <see cref="StreamRegistry"/> (keys, claims) and <see cref="StreamBlocks"/> (entering and leaving them).</item>
/// <item>Snapshot: <see cref="Snapshots"/>, <see cref="SnapshotData"/>, <see cref="SnapshotFormat"/>, <see cref="PendingResume"/>.</item>
/// </list>
/// Entries and exits are in <c>BlockRuntime.Blocks.cs</c>, snapshots in <c>BlockRuntime.Snapshots.cs</c>.
/// </remarks>
internal sealed partial class BlockRuntime
{
    /// <summary>The process-wide runtime behind <see cref="Reproducible"/>; traces from the start when <see cref="BlockTrace.EnvironmentVariable"/> is set.</summary>
    public static BlockRuntime Shared { get; } = CreateShared();

    private static BlockRuntime CreateShared()
    {
        var runtime = new BlockRuntime(cudaFactory: null);
        lock (runtime._gate)
            runtime._trace.StartFromEnvironment(runtime._stack, seeding: null);
        return runtime;
    }

    private readonly object _gate = new();
    private readonly Func<Action<string>, ICudaGenerators>? _cudaFactory;
    private readonly ScopeStack _stack = new();
    private readonly StreamRegistry _streams = new();
    private readonly PendingResume _resume = new();
    private readonly TraceHooks _trace;
    private Sources? _sources;
    private Seeding? _seeding;
    private bool _warnedAboutSnapshots;
    private int _passiveCalls; // outermost passive calls running now
    private ulong _writes; // generator writes by the library, so a passive call can tell its draws from a block's switch

    /// <param name="cudaFactory">Stands in for CUDA detection (tests); null detects the real devices.</param>
    internal BlockRuntime(Func<Action<string>, ICudaGenerators>? cudaFactory)
    {
        _cudaFactory = cudaFactory;
        _trace = new TraceHooks(_gate, Warn);
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
            _writes++;
            _stack.Root.Open(owner: null, blockSeed: 0, ordinal: 0, key: rootKey, restoreOnExit: false);
            _streams.Reseed(rootKey);
            _stack.OwnRoot(new BlockScope(this, blockSeed: 0, restoreOnExit: false));
            _resume.DropOnSetSeed(Warn);
            var seeding = new Seeding(seed, strategy, reference);
            Volatile.Write(ref _seeding, seeding);
            if (_trace.Tracer is { } tracer)
                _trace.Seeded(tracer, seeding);
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
            CheckSameFlow(what);
            return _stack.Top.Key;
        }
    }

    /// <summary>
    /// The library's count of generator writes and a fingerprint of every generator now: two marks with the same count
    /// and different fingerprints mean that something drew in between.
    /// </summary>
    public (ulong Writes, Fingerprint State) MovementMark()
    {
        lock (_gate)
        {
            Sources sources = Sources();
            RngState now = _stack.ThisThread.MarkBuffer ??= sources.NewState();
            sources.Read(now);
            return (_writes, Fingerprint.Of(now));
        }
    }

    /// <summary>How many times the library has written the generators (a block entered or left, a seed, a restore).</summary>
    public ulong Writes
    {
        get
        {
            lock (_gate)
                return _writes;
        }
    }

    /// <summary>Forgets every open block without leaving it (generators stay as they are). For test clean-up only.</summary>
    internal void AbandonOpenBlocks()
    {
        lock (_gate)
        {
            _stack.Abandon();
            _resume.Drop();
            FlowThread self = _stack.ThisThread;
            if (self.PassiveDepth > 0)
            {
                self.PassiveDepth = 0;
                self.Passive = null;
                _passiveCalls--;
            }
        }
    }

    /// <summary>The stream <paramref name="owner"/> holds, or null. For tests.</summary>
    internal ContinuingStream? FindStreamForTests(object owner)
    {
        lock (_gate)
            return _streams.Find(owner);
    }

    /// <summary>The trace being written, or null.</summary>
    public TraceWriter? Tracer => _trace.Tracer;

    /// <summary>Whether a trace is written that records modules' output tensors.</summary>
    public bool TracesTensors => _trace.TracesTensors;

    public string StartTrace(string path, bool tensors)
    {
        lock (_gate)
            return _trace.Start(path, _stack, _seeding, tensors);
    }

    public void StopTrace()
    {
        lock (_gate)
            _trace.Stop();
    }

    public void TraceMark(string name, ulong fingerprint)
    {
        lock (_gate)
        {
            if (_trace.Tracer is not { } tracer)
                return;
            _trace.PollEnvironment(tracer, _stack.Top.TracePath);
            tracer.Mark(_stack.Top.TracePath, name, fingerprint);
        }
    }

    /// <summary>After the environment was changed through the library (the deterministic switch): an environment event.</summary>
    public void TraceEnvironmentChange()
    {
        lock (_gate)
        {
            if (_trace.Tracer is { } tracer)
                _trace.EnvironmentChanged(tracer, _stack.Top.TracePath);
        }
    }

    /// <summary>
    /// Gives the block of <paramref name="scope"/> the fingerprint of <paramref name="output"/>'s tensors, for its exit
    /// event, while the trace records tensors; does nothing otherwise, or for a passive call or a block not open.
    /// </summary>
    public void TraceOutput(BlockScope scope, object? output)
    {
        if (!_trace.TracesTensors || scope.Passive is not null)
            return;
        // Hashed outside the lock: the tensors are the caller's, and copying a large one takes time.
        if (_trace.OutputOf(output) is not { } fingerprint)
            return;
        lock (_gate)
        {
            int index = _stack.IndexOf(scope);
            if (index < 0 || _trace.Tracer is not { } tracer)
                return;
            _stack[index].TraceOutput = fingerprint;
            _trace.PollEnvironment(tracer, _stack.Top.TracePath);
        }
    }

    /// <summary>The output of one of TorchSharp's random modules whose stream its forward hook entered on this thread (see <see cref="EnterModule"/>).</summary>
    public void TraceModuleOutput(object module, object? output)
    {
        if (_stack.ThisThread.HookScopes.TryPeek(out (object Module, BlockScope Scope) entered) && ReferenceEquals(entered.Module, module))
            TraceOutput(entered.Scope, output);
    }

    /// <summary>A draw the library is about to refuse: <paramref name="who"/> drew from the global generators <paramref name="reason"/>, <paramref name="detail"/>.</summary>
    public void TraceDraw(string who, PassiveReason reason, string detail)
    {
        lock (_gate)
        {
            System.Threading.Thread thread = System.Threading.Thread.CurrentThread;
            _trace.Tracer?.Draw(_stack.Top.TracePath, who, thread.ManagedThreadId, thread.Name, reason.ToString(), detail);
        }
    }

    /// <summary>Ends or flushes the trace at process exit (see <see cref="TraceHooks.EndAtExit"/>).</summary>
    internal void EndTraceAtExit(bool complete) => _trace.EndAtExit(complete);

    /// <summary>A block in refusals: <c>Block 5</c>, or with the woven member's name, <c>The block of Namespace.Type..ctor (block 5)</c>.</summary>
    private static string BlockDescription(long blockSeed, string? name) =>
        name is null ? $"Block {blockSeed}" : $"The block of {name} (block {blockSeed})";

    /// <summary>A continuing block in refusals, with the woven member's name when there is one.</summary>
    private static string StreamDescription(object owner, string? name) =>
        name is null ? $"The continuing block of a {owner.GetType().Name}" : $"The continuing block of {name} (a {owner.GetType().Name})";

    private static string Segment(long blockSeed, long ordinal) => string.Create(CultureInfo.InvariantCulture, $"{blockSeed}#{ordinal}");
}
