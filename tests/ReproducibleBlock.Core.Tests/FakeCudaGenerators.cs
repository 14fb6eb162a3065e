using System;
using System.Collections.Generic;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Stands in for CUDA devices, which the CI machine lacks, behind the interface the real code uses
/// (<see cref="ICudaDevices"/>, as libtorch_cuda's exports do). Each device holds a (seed, offset) pair like a Philox
/// generator; <see cref="Draw"/> consumes the stream as a CUDA kernel would. With <c>exact: false</c> it plays CUDA
/// without the exports, which can only be seeded.
/// </summary>
internal sealed class FakeCudaGenerators(int devices, bool exact) : ICudaDevices
{
    private readonly CudaGeneratorState[] _state = new CudaGeneratorState[devices];

    public int DeviceCount => _state.Length;
    public List<ulong> SeedAllCalls { get; } = [];

    /// <summary>Stands in for CUDA detection, which picks the behaviour from what the devices allow: <c>new BlockRuntime(fake.Factory)</c>.</summary>
    public ICudaGenerators Factory(Action<string> warn) =>
        DeviceCount == 0 ? NoCudaGenerators.Instance
        : exact ? new ExactCudaGenerators(this)
        : new SeedOnlyCudaGenerators(this);

    /// <summary>Called with the operation's name ("Read", "Write", "SeedAll") before it runs: throw from it to make the device fail.</summary>
    public Action<string>? BeforeCall { get; set; }

    public CudaGeneratorState Read(int device)
    {
        BeforeCall?.Invoke("Read");
        return exact ? _state[device] : throw new NotSupportedException("the fake was made without exact state");
    }

    public void Write(int device, CudaGeneratorState state)
    {
        BeforeCall?.Invoke("Write");
        if (!exact)
            throw new NotSupportedException("the fake was made without exact state");
        if (state.Offset % 4 != 0)
            throw new ArgumentException("offsets are multiples of 4");
        _state[device] = state;
    }

    /// <summary>When set, <see cref="SeedAll"/> seeds this many devices, one after the other as libtorch does, then fails.</summary>
    public int? FailSeedAllAfter { get; set; }

    public void SeedAll(ulong seed)
    {
        BeforeCall?.Invoke("SeedAll");
        SeedAllCalls.Add(seed);
        for (int device = 0; device < _state.Length; device++)
        {
            if (device == FailSeedAllAfter)
                throw new InvalidOperationException($"CUDA error: device {device} was lost");
            _state[device] = new CudaGeneratorState(seed, 0);
        }
    }

    /// <summary>What a kernel drawing on <paramref name="device"/> would see: its (seed, offset), then the offset moves on.</summary>
    public CudaGeneratorState Draw(int device, ulong offsetIncrement = 4)
    {
        CudaGeneratorState before = _state[device];
        _state[device] = before with { Offset = before.Offset + offsetIncrement };
        return before;
    }

    /// <summary>The generator state, for assertions, even without exact state.</summary>
    public CudaGeneratorState Peek(int device) => _state[device];
}
