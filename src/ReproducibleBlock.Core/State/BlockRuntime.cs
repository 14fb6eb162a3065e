using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace ReproducibleBlock.State;

/// <summary>
/// The scope stack and the sources it drives: what <see cref="Reproducible"/> delegates to.
/// </summary>
/// <remarks>
/// <para>
/// Sources: the torch CPU default generator (<see cref="TorchCpuGenerator"/>), the managed generator
/// (<see cref="BlockRandom"/>) and the CUDA generators (<see cref="ICudaGenerators"/>). A block's state is
/// derived from its key (<see cref="KeyDerivation"/>, <see cref="CpuGeneratorState"/>) or, under
/// <see cref="BlockDerivation.ResetAndAdvance"/>, from the reference state recorded by SetSeed.
/// </para>
/// <para>
/// Every public operation takes one lock, so the library's own bookkeeping is safe from any thread. The
/// torch generators themselves are process-global and unsynchronised, so at most one logical flow may
/// have blocks open: each open block records its scope in an <see cref="AsyncLocal{T}"/>, which async
/// continuations inherit, and entering a block is refused unless the caller's flow sees the innermost
/// open block as its own.
/// </para>
/// </remarks>
internal sealed class BlockRuntime
{
    /// <summary>The largest block seed ResetAndAdvance accepts: 2^32 - 1 draws, about 20 seconds of skipping.</summary>
    internal const long MaxResetAndAdvanceSeed = uint.MaxValue;

    /// <summary>The process-wide runtime behind <see cref="Reproducible"/>.</summary>
    public static BlockRuntime Shared { get; } = new(cudaFactory: null);

    private readonly object _gate = new();
    private readonly AsyncLocal<BlockScope?> _flowTop = new();
    private readonly Func<Action<string>, ICudaGenerators>? _cudaFactory;
    private readonly BlockFrame _root = new();
    private BlockFrame[] _frames = new BlockFrame[8];
    private int _depth;

    private TorchCpuGenerator? _cpu;
    private ICudaGenerators _cuda = NoCudaGenerators.Instance;
    private bool _seeded;
    private long _rootSeed;
    private BlockDerivation _derivation;
    private RngState? _reference;
    private bool _warnedCaptureWithoutCuda;

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

    public bool IsSeeded => Volatile.Read(ref _seeded);

    public BlockDerivation Derivation => _derivation;

    /// <summary>How many CUDA devices have exact state in snapshots and restores (0 without CUDA or without the exports).</summary>
    private int ExactCudaDevices => _cuda.HasExactState ? _cuda.DeviceCount : 0;

    private BlockFrame Top => _depth == 0 ? _root : _frames[_depth - 1];

    private void Warn(string message) => WarningHandler?.Invoke(message);

    /// <summary>The CPU generator, created with the CUDA access on first use, so that loading this library touches no native code.</summary>
    private TorchCpuGenerator Sources()
    {
        if (_cpu is { } cpu)
            return cpu;
        cpu = new TorchCpuGenerator();
        if (!cpu.HasKnownLayout)
        {
            Warn($"this libtorch's CPU generator state is {cpu.StateSize} bytes, not the {CpuGeneratorState.Size} this library knows. "
                + "Keyed blocks fall back to manual_seed, which uses only 32 bits of each block key, so distinct blocks may share a stream.");
        }
        _cuda = _cudaFactory is null ? CudaGenerators.Detect(Warn) : _cudaFactory(Warn);
        _cpu = cpu;
        return cpu;
    }

    private RngState NewState() => new(Sources().StateSize, ExactCudaDevices);

    public void SetSeed(long seed, BlockDerivation derivation)
    {
        if (derivation is not (BlockDerivation.Keyed or BlockDerivation.ResetAndAdvance))
            throw new ArgumentOutOfRangeException(nameof(derivation), derivation, "Use BlockDerivation.Keyed or BlockDerivation.ResetAndAdvance.");
        lock (_gate)
        {
            if (_depth > 0)
            {
                throw new InvalidOperationException(
                    $"Reproducible.SetSeed cannot be called while blocks are open ({DescribeOpenBlocks()}). Call it once at the start of the program, outside every block.");
            }
            TorchCpuGenerator cpu = Sources();
            cpu.Seed(seed);
            if (_cuda.DeviceCount > 0)
                _cuda.SeedAll(unchecked((ulong)seed)); // torch.manual_seed seeds CUDA too in PyTorch; TorchSharp's does not
            ulong rootKey = KeyDerivation.Root(seed);
            Random.State = KeyDerivation.ManagedState(rootKey);
            _reference = NewState();
            Read(_reference);
            _root.Open(owner: null, blockSeed: 0, ordinal: 0, key: rootKey, restoreOnExit: false);
            _rootSeed = seed;
            _derivation = derivation;
            Volatile.Write(ref _seeded, true);
        }
    }

    public BlockScope Enter(long blockSeed, bool restoreOnExit, bool instance)
    {
        lock (_gate)
        {
            if (!_seeded)
            {
                throw new InvalidOperationException(
                    $"Block {blockSeed} was entered before any seed was set. Call Reproducible.SetSeed(seed) once at the start of the program, before the first block.");
            }
            CheckSameFlow($"Block {blockSeed}");
            if (_derivation == BlockDerivation.ResetAndAdvance && blockSeed < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(blockSeed), blockSeed,
                    "Under BlockDerivation.ResetAndAdvance a block seed is a number of draws to skip, so it cannot be negative. Use a seed of 0 or more, or the Keyed derivation, where any value is valid.");
            }
            if (_derivation == BlockDerivation.ResetAndAdvance && blockSeed > MaxResetAndAdvanceSeed)
            {
                // Skipping is linear in the seed (as in the seed package): beyond this it would run for minutes to
                // hours, which is never what was meant. The usual cause is a woven block's 63-bit name-derived seed.
                throw new ArgumentOutOfRangeException(nameof(blockSeed), blockSeed,
                    $"Under BlockDerivation.ResetAndAdvance a block seed is a number of draws to skip, and skipping {blockSeed:N0} draws would take hours. "
                    + $"Use seeds up to {MaxResetAndAdvanceSeed:N0} (give woven blocks explicit seeds: [ReproducibleBlock(seed)]), or the Keyed derivation, where any value costs the same.");
            }

            BlockFrame parent = Top;
            long ordinal = instance ? parent.NextOrdinal(blockSeed) : 0;
            ulong key = KeyDerivation.Child(parent.Key, blockSeed, ordinal);
            BlockFrame frame = RentFrame();
            var scope = new BlockScope(this, blockSeed, restoreOnExit);
            if (restoreOnExit)
                Read(frame.Saved ??= NewState());
            try
            {
                ApplyBlockState(key, blockSeed);
            }
            catch
            {
                if (restoreOnExit)
                    Apply(frame.Saved!);
                throw;
            }
            frame.Open(scope, blockSeed, ordinal, key, restoreOnExit);
            _depth++;
            _flowTop.Value = scope;
            return scope;
        }
    }

    private void ApplyBlockState(ulong key, long blockSeed)
    {
        TorchCpuGenerator cpu = Sources();
        if (_derivation == BlockDerivation.Keyed)
        {
            cpu.WriteDerived(key);
            Random.State = KeyDerivation.ManagedState(key);
            if (_cuda.DeviceCount > 0)
                _cuda.SeedAll(KeyDerivation.CudaSeed(key)); // offset 0 on every device
            return;
        }

        // The seed package's algorithm: back to the reference state, then skip blockSeed draws. CUDA is reset
        // but never advanced, so every block sees the same CUDA stream, exactly as there.
        RngState reference = _reference!;
        cpu.Write(reference.Cpu);
        cpu.Advance(blockSeed);
        Random.State = SplitMix64.Advance(reference.Managed, (ulong)blockSeed);
        if (_cuda.DeviceCount > 0)
        {
            if (_cuda.HasExactState)
                WriteCuda(reference.Cuda);
            else
                _cuda.SeedAll(unchecked((ulong)_rootSeed));
        }
    }

    /// <summary>Leaves the block of <paramref name="scope"/>; does nothing when it is not open.</summary>
    public void Exit(BlockScope scope)
    {
        lock (_gate)
        {
            int index = _depth - 1;
            while (index >= 0 && !ReferenceEquals(_frames[index].Owner, scope))
                index--;
            if (index < 0)
                return;
            if (index != _depth - 1)
            {
                throw new InvalidOperationException(
                    $"Block {scope.BlockSeed} cannot be left while block {_frames[_depth - 1].BlockSeed}, entered inside it, is still open. "
                    + "Blocks are left in the reverse order of entry: dispose the inner block first (a using statement does this).");
            }
            BlockFrame frame = _frames[index];
            if (frame.RestoreOnExit)
            {
                Apply(frame.Saved!);
                BlockFrame parent = index == 0 ? _root : _frames[index - 1];
                if (_cuda.DeviceCount > 0 && !_cuda.HasExactState)
                    _cuda.SeedAll(KeyDerivation.Continuation(parent.Key, parent.ExitCount++));
            }
            frame.Owner = null;
            _depth--;
            _flowTop.Value = _depth == 0 ? null : _frames[_depth - 1].Owner;
        }
    }

    /// <summary>Forgets every open block without leaving it (generators stay as they are). For test clean-up only.</summary>
    internal void AbandonOpenBlocks()
    {
        lock (_gate)
        {
            for (int i = 0; i < _depth; i++)
                _frames[i].Owner = null;
            _depth = 0;
            _flowTop.Value = null;
        }
    }

    public SnapshotData Capture()
    {
        lock (_gate)
        {
            if (!_seeded)
                throw new InvalidOperationException("There is nothing to capture yet: call Reproducible.SetSeed(seed) first.");
            if (_cuda.DeviceCount > 0 && !_cuda.HasExactState && !_warnedCaptureWithoutCuda)
            {
                _warnedCaptureWithoutCuda = true; // once: checkpoints are taken often
                Warn("snapshots do not carry CUDA generator state here (it cannot be read); CUDA draws after a restore will not repeat.");
            }
            var current = NewState();
            Read(current);
            var reference = NewState();
            _reference!.CopyTo(reference);
            var frames = new List<FrameData>(_depth);
            for (int i = 0; i < _depth; i++)
                frames.Add(Describe(_frames[i]));
            return new SnapshotData
            {
                RootSeed = _rootSeed,
                Derivation = _derivation,
                Reference = reference,
                Current = current,
                Root = Describe(_root),
                Frames = frames,
            };
        }

        FrameData Describe(BlockFrame frame)
        {
            RngState? saved = null;
            if (frame.RestoreOnExit)
            {
                saved = NewState();
                frame.Saved!.CopyTo(saved);
            }
            return new FrameData(frame.BlockSeed, frame.Ordinal, frame.RestoreOnExit, saved,
                new Dictionary<long, long>(frame.InstanceCounts), frame.ExitCount);
        }
    }

    public void Restore(SnapshotData snapshot)
    {
        lock (_gate)
        {
            if (_depth > 0)
                CheckSameFlow("Restore");
            TorchCpuGenerator cpu = Sources();
            if (snapshot.Current.Cpu.Length != cpu.StateSize)
            {
                throw new ArgumentException(
                    $"The snapshot holds a {snapshot.Current.Cpu.Length}-byte CPU generator state, but this libtorch's is {cpu.StateSize} bytes: it was captured with another libtorch version and cannot be restored here.",
                    nameof(snapshot));
            }
            CheckSamePath(snapshot);
            bool cudaMatches = snapshot.Current.Cuda.Length == ExactCudaDevices;
            if (!cudaMatches)
            {
                Warn($"the snapshot carries CUDA state for {snapshot.Current.Cuda.Length} device(s), but {ExactCudaDevices} can be restored here; "
                    + "CUDA generators are left as they are, so CUDA draws will not repeat the captured run's.");
            }

            // Everything is checked: from here on nothing can fail half-way except libtorch itself.
            RngState Local(RngState from)
            {
                var state = NewState();
                from.Cpu.CopyTo(state.Cpu, 0);
                state.Managed = from.Managed;
                if (cudaMatches)
                    from.Cuda.CopyTo(state.Cuda, 0);
                else
                    ReadCuda(state.Cuda);
                return state;
            }

            _reference = Local(snapshot.Reference);
            _rootSeed = snapshot.RootSeed;
            _derivation = snapshot.Derivation;
            _root.Key = KeyDerivation.Root(snapshot.RootSeed);
            _root.SetInstanceCounts(snapshot.Root.InstanceCounts);
            _root.ExitCount = snapshot.Root.ExitCount;
            for (int i = 0; i < _depth; i++)
            {
                FrameData data = snapshot.Frames[i];
                BlockFrame frame = _frames[i];
                if (data.Saved is not null)
                    Local(data.Saved).CopyTo(frame.Saved ??= NewState());
                frame.SetInstanceCounts(data.InstanceCounts);
                frame.ExitCount = data.ExitCount;
            }
            Apply(Local(snapshot.Current));
            Volatile.Write(ref _seeded, true);
        }
    }

    /// <summary>A snapshot restores counters and saved states of the open blocks, so the same blocks must be open.</summary>
    private void CheckSamePath(SnapshotData snapshot)
    {
        bool same = snapshot.Frames.Count == _depth;
        ulong key = KeyDerivation.Root(snapshot.RootSeed);
        for (int i = 0; same && i < _depth; i++)
        {
            FrameData data = snapshot.Frames[i];
            key = KeyDerivation.Child(key, data.BlockSeed, data.Ordinal);
            BlockFrame open = _frames[i];
            same = open.Key == key && open.BlockSeed == data.BlockSeed && open.RestoreOnExit == data.RestoreOnExit;
        }
        if (same && _depth > 0)
            same = _rootSeed == snapshot.RootSeed && _derivation == snapshot.Derivation;
        if (!same)
        {
            string captured = snapshot.Frames.Count == 0 ? "outside every block" : "inside blocks " + string.Join(" > ", snapshot.Frames.Select(f => f.BlockSeed));
            string now = _depth == 0 ? "outside every block" : "inside blocks " + DescribeOpenBlocks();
            throw new InvalidOperationException(
                $"The snapshot was captured {captured} (root seed {snapshot.RootSeed}, {snapshot.Derivation}); Restore was called {now}. "
                + "Restore it where it was captured: after the same SetSeed, inside the same blocks.");
        }
    }

    private void CheckSameFlow(string what)
    {
        if (_depth == 0 || ReferenceEquals(_flowTop.Value, _frames[_depth - 1].Owner))
            return;
        throw new InvalidOperationException(
            $"{what} cannot run on this thread or task: block {_frames[_depth - 1].BlockSeed} (open blocks: {DescribeOpenBlocks()}) was entered by another logical flow and is still open. "
            + "TorchSharp's default generators are process-global and not thread-safe, so blocks of concurrent flows would corrupt each other's draws. "
            + "Run blocks on one flow at a time: await the other work first, or give each thread its own process.");
    }

    private string DescribeOpenBlocks() => string.Join(" > ", _frames.Take(_depth).Select(f => f.BlockSeed));

    private BlockFrame RentFrame()
    {
        if (_depth == _frames.Length)
            Array.Resize(ref _frames, _frames.Length * 2);
        return _frames[_depth] ??= new BlockFrame();
    }

    private void Read(RngState state)
    {
        Sources().Read(state.Cpu);
        state.Managed = Random.State;
        ReadCuda(state.Cuda);
    }

    private void ReadCuda(CudaGeneratorState[] cuda)
    {
        for (int device = 0; device < cuda.Length; device++)
            cuda[device] = _cuda.Read(device);
    }

    private void Apply(RngState state)
    {
        Sources().Write(state.Cpu);
        Random.State = state.Managed;
        WriteCuda(state.Cuda);
    }

    private void WriteCuda(CudaGeneratorState[] cuda)
    {
        for (int device = 0; device < cuda.Length; device++)
            _cuda.Write(device, cuda[device]);
    }
}
