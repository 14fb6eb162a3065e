using System;
using System.Collections.Generic;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Stands in for CUDA, which the CI machine lacks, behind the interface the real code uses. Each device holds a
/// (seed, offset) pair like a Philox generator; <see cref="Draw"/> consumes the stream as a CUDA kernel would.
/// </summary>
internal sealed class FakeCudaGenerators(int devices, bool exact) : ICudaGenerators
{
    private readonly CudaGeneratorState[] _state = new CudaGeneratorState[devices];

    public int DeviceCount => _state.Length;
    public bool HasExactState => exact;
    public List<ulong> SeedAllCalls { get; } = [];

    public CudaGeneratorState Read(int device) =>
        exact ? _state[device] : throw new NotSupportedException("the fake was made without exact state");

    public void Write(int device, CudaGeneratorState state)
    {
        if (!exact)
            throw new NotSupportedException("the fake was made without exact state");
        if (state.Offset % 4 != 0)
            throw new ArgumentException("offsets are multiples of 4");
        _state[device] = state;
    }

    public void SeedAll(ulong seed)
    {
        SeedAllCalls.Add(seed);
        Array.Fill(_state, new CudaGeneratorState(seed, 0));
    }

    /// <summary>What a kernel drawing on <paramref name="device"/> would see: its (seed, offset), then the offset moves on.</summary>
    public CudaGeneratorState Draw(int device, ulong offsetIncrement = 4)
    {
        CudaGeneratorState before = _state[device];
        _state[device] = before with { Offset = before.Offset + offsetIncrement };
        return before;
    }

    /// <summary>The generator state, for assertions, whatever <see cref="HasExactState"/> says.</summary>
    public CudaGeneratorState Peek(int device) => _state[device];
}
