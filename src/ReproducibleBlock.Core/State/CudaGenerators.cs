using System;

namespace ReproducibleBlock.State;

/// <summary>The whole state of one CUDA device's default generator: a Philox seed and an offset into its stream.</summary>
/// <param name="Seed">The Philox key (what <c>torch.cuda.manual_seed</c> sets).</param>
/// <param name="Offset">How far the stream has been consumed, per thread; always a multiple of 4.</param>
internal readonly record struct CudaGeneratorState(ulong Seed, ulong Offset);

/// <summary>
/// What the runtime does with the CUDA generators. There are three behaviours, chosen once per process by
/// <see cref="CudaDetection"/>: exact state (<see cref="ExactCudaGenerators"/>), seeding only
/// (<see cref="SeedOnlyCudaGenerators"/>), and no CUDA (<see cref="NoCudaGenerators"/>). The runtime never asks
/// which one it has.
/// </summary>
internal interface ICudaGenerators
{
    /// <summary>How many device states <see cref="Read"/> and <see cref="Write"/> move and snapshots carry.</summary>
    int StateCount { get; }

    /// <summary>The warning <see cref="Reproducible.Capture"/> gives once when snapshots lose CUDA state; null when they lose nothing.</summary>
    string? SnapshotWarning { get; }

    /// <summary>Seeds every device, offset 0 (SetSeed, and every block's entry).</summary>
    /// <remarks>Devices are seeded one after the other: when device n fails, devices before it are already seeded.</remarks>
    void Seed(ulong seed);

    /// <summary>Reads <see cref="StateCount"/> device states into <paramref name="states"/>.</summary>
    void Read(Span<CudaGeneratorState> states);

    /// <summary>Writes back <see cref="StateCount"/> device states read by <see cref="Read"/>.</summary>
    void Write(ReadOnlySpan<CudaGeneratorState> states);

    /// <summary>
    /// Called when a block that restores on exit is left under <paramref name="parent"/>, before the states
    /// <see cref="Read"/> saved are written back: what CUDA continues from when they cannot be.
    /// </summary>
    void ContinueAfterRestoringExit(BlockFrame parent);

    /// <summary>
    /// Called when a continuing stream is entered again, after its saved state was written back: what CUDA continues
    /// from when that state could not hold CUDA's.
    /// </summary>
    /// <param name="key">The stream's key.</param>
    /// <param name="entries">How many times the stream was entered before.</param>
    void ResumeStream(ulong key, ulong entries);
}

/// <summary>No CUDA: every operation is free and does nothing.</summary>
internal sealed class NoCudaGenerators : ICudaGenerators
{
    public static readonly NoCudaGenerators Instance = new();

    private NoCudaGenerators()
    {
    }

    public int StateCount => 0;
    public string? SnapshotWarning => null;
    public void Seed(ulong seed) { }
    public void Read(Span<CudaGeneratorState> states) { }
    public void Write(ReadOnlySpan<CudaGeneratorState> states) { }
    public void ContinueAfterRestoringExit(BlockFrame parent) { }
    public void ResumeStream(ulong key, ulong entries) { }
}

/// <summary>Exact CUDA state: every device's seed and offset are read, written back and carried by snapshots.</summary>
internal sealed class ExactCudaGenerators(ICudaDevices devices) : ICudaGenerators
{
    public int StateCount => devices.DeviceCount;
    public string? SnapshotWarning => null;

    public void Seed(ulong seed) => devices.SeedAll(seed);

    public void Read(Span<CudaGeneratorState> states)
    {
        for (int device = 0; device < states.Length; device++)
            states[device] = devices.Read(device);
    }

    public void Write(ReadOnlySpan<CudaGeneratorState> states)
    {
        for (int device = 0; device < states.Length; device++)
            devices.Write(device, states[device]);
    }

    public void ContinueAfterRestoringExit(BlockFrame parent) { } // the exact state was written back

    public void ResumeStream(ulong key, ulong entries) { } // the exact state was written back
}

/// <summary>
/// CUDA that can be seeded but not read (no libtorch_cuda exports): blocks still get their own CUDA seed, but a block
/// that restores on exit continues CUDA from a fresh seed derived from its parent's key and an exit counter (never a
/// replay of earlier draws), and snapshots carry no CUDA state.
/// </summary>
internal sealed class SeedOnlyCudaGenerators(ICudaSeeder seeder) : ICudaGenerators
{
    public int StateCount => 0;

    public string? SnapshotWarning =>
        "snapshots do not carry CUDA generator state here (it cannot be read); CUDA draws after a restore will not repeat.";

    public void Seed(ulong seed) => seeder.SeedAll(seed);
    public void Read(Span<CudaGeneratorState> states) { }
    public void Write(ReadOnlySpan<CudaGeneratorState> states) { }

    public void ContinueAfterRestoringExit(BlockFrame parent)
    {
        seeder.SeedAll(KeyDerivation.Continuation(parent.Key, parent.ExitCount));
        parent.ExitCount++; // counted once the exit happened, so a failed one is retried with the same seed
    }

    /// <summary>A fresh seed per entry of the stream: isolated and repeatable, but not the Philox stream's continuation.</summary>
    public void ResumeStream(ulong key, ulong entries) =>
        seeder.SeedAll(KeyDerivation.CudaSeed(KeyDerivation.Child(key, StreamRegistry.StreamSeed, unchecked((long)entries))));
}
