using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// XXH3-64 fingerprints of the three generator states, as a trace records them: the CPU state's bytes, the managed
/// state's 8 bytes (little-endian) and each CUDA device's seed and offset (8 + 8 bytes, little-endian, device by device).
/// </summary>
internal readonly record struct Fingerprint(ulong Cpu, ulong Managed, ulong? Cuda)
{
    public static Fingerprint Of(RngState state) => Of(state.Cpu, state.Managed, state.Cuda);

    public static Fingerprint Of(ReadOnlySpan<byte> cpuState, ulong managedState, ReadOnlySpan<CudaGeneratorState> cudaStates)
    {
        Span<byte> managed = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(managed, managedState);
        ulong? cuda = null;
        if (cudaStates.Length > 0)
        {
            var hash = new XxHash3();
            Span<byte> device = stackalloc byte[16];
            foreach (CudaGeneratorState generator in cudaStates)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(device, generator.Seed);
                BinaryPrimitives.WriteUInt64LittleEndian(device[8..], generator.Offset);
                hash.Append(device);
            }
            cuda = hash.GetCurrentHashAsUInt64();
        }
        return new Fingerprint(XxHash3.HashToUInt64(cpuState), XxHash3.HashToUInt64(managed), cuda);
    }
}
