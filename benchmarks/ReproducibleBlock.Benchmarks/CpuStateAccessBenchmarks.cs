using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using ReproducibleBlock.Native;
using ReproducibleBlock.State;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// The ways of reading and writing the CPU generator's 5,056-byte state that were weighed for block entries and exits
/// (issue 19), side by side: TorchSharp's tensors, libtorch_cpu's exported <c>CPUGeneratorImpl</c> accessors (engine by
/// value, cached normals as <c>std::optional</c>), and the generator object's memory (the one chosen). Each is one read
/// and one write of the whole state in the format of <c>get_state</c>.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class CpuStateAccessBenchmarks
{
    private Generator _generator = null!;
    private TorchCpuGenerator _cpu = null!;
    private CpuGeneratorMemory _memory = null!;
    private ExportedAccessors _exports = null!;
    private readonly byte[] _state = new byte[CpuGeneratorState.Size];

    [GlobalSetup]
    public void SetUp()
    {
        _generator = Generator.Default;
        _cpu = new TorchCpuGenerator();
        // What the check at start-up costs, once per process: a fresh one, not the process's (already made) choice.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rechecked = new TorchCpuGenerator(verifyAgainst: reference => reference);
        Console.WriteLine($"Start-up check of the generator's memory: {clock.Elapsed.TotalMicroseconds:F0} us ({rechecked.Access})");
        _memory = CpuGeneratorMemory.TryOpen(_generator.Handle, new GeneratorTensors(_generator), out string? why)
            ?? throw new InvalidOperationException($"The memory path is not available here: {why}");
        _exports = ExportedAccessors.Open(_generator);
        torch.manual_seed(42);
        torch.randn(1).Dispose(); // a cached normal, so every path carries one
        _exports.CheckAgainst(_generator);
        _cpu.Read(_state);
    }

    /// <summary>The floor the issue compares with: one <c>get_state</c> and one <c>set_state</c>.</summary>
    [Benchmark(Baseline = true)]
    public void Tensors_GetSetState()
    {
        using Tensor state = _generator.get_state();
        _generator.set_state(state);
    }

    /// <summary>The exported accessors: <c>engine()</c> and both caches' getters, then <c>set_engine</c> and both setters.</summary>
    [Benchmark]
    public void Exports_ReadWrite()
    {
        _exports.Read(_state);
        _exports.Write(_state);
    }

    /// <summary>The generator object's fields, read and written in place (no native call).</summary>
    [Benchmark]
    public void Memory_ReadWrite()
    {
        _memory.Read(_state);
        _memory.Write(_state);
    }

    /// <summary>What <see cref="TorchCpuGenerator"/> does on the memory path: the same, plus keeping the written state for traces.</summary>
    [Benchmark]
    public void TorchCpuGenerator_ReadWriteReadBack()
    {
        _cpu.Read(_state);
        _cpu.WriteReadBack(_state);
    }

    /// <summary>
    /// The alternative not taken, kept to measure it: <c>at::CPUGeneratorImpl</c>'s exported members called through
    /// function pointers (System V x64: a by-value <c>at::mt19937</c> of 2,520 bytes is returned through a hidden pointer
    /// and passed on the stack; <c>std::optional&lt;float&gt;</c> travels in one integer register,
    /// <c>std::optional&lt;double&gt;</c> in a vector and an integer register).
    /// </summary>
    private sealed unsafe class ExportedAccessors
    {
        [StructLayout(LayoutKind.Sequential, Size = 2520)]
        private struct Engine
        {
            public ulong Seed;
            public int Left;
            public byte Seeded;
            public uint Next;
            public fixed uint Words[CpuGeneratorState.WordCount];
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct OptionalDouble
        {
            public double Value;
            public byte Engaged;
        }

        private readonly IntPtr _implementation;
        private readonly delegate* unmanaged<Engine*, IntPtr, Engine*> _engine;
        private readonly delegate* unmanaged<IntPtr, Engine, void> _setEngine;
        private readonly delegate* unmanaged<IntPtr, ulong> _nextFloat;
        private readonly delegate* unmanaged<IntPtr, ulong, void> _setNextFloat;
        private readonly delegate* unmanaged<IntPtr, OptionalDouble> _nextDouble;
        private readonly delegate* unmanaged<IntPtr, OptionalDouble, void> _setNextDouble;

        private ExportedAccessors(IntPtr implementation, IntPtr library)
        {
            _implementation = implementation;
            _engine = (delegate* unmanaged<Engine*, IntPtr, Engine*>)NativeLibrary.GetExport(library, "_ZN2at16CPUGeneratorImpl6engineEv");
            _setEngine = (delegate* unmanaged<IntPtr, Engine, void>)NativeLibrary.GetExport(library, "_ZN2at16CPUGeneratorImpl10set_engineENS_14mt19937_engineE");
            _nextFloat = (delegate* unmanaged<IntPtr, ulong>)NativeLibrary.GetExport(library, "_ZN2at16CPUGeneratorImpl24next_float_normal_sampleEv");
            _setNextFloat = (delegate* unmanaged<IntPtr, ulong, void>)NativeLibrary.GetExport(library, "_ZN2at16CPUGeneratorImpl28set_next_float_normal_sampleESt8optionalIfE");
            _nextDouble = (delegate* unmanaged<IntPtr, OptionalDouble>)NativeLibrary.GetExport(library, "_ZN2at16CPUGeneratorImpl25next_double_normal_sampleEv");
            _setNextDouble = (delegate* unmanaged<IntPtr, OptionalDouble, void>)NativeLibrary.GetExport(library, "_ZN2at16CPUGeneratorImpl29set_next_double_normal_sampleESt8optionalIdE");
        }

        public static ExportedAccessors Open(Generator generator)
        {
            if (!LoadedLibraries.TryGet(LoadedLibraries.FileNames("torch_cpu"), out IntPtr library))
                throw new InvalidOperationException("libtorch_cpu is not loaded.");
            return new ExportedAccessors(*(IntPtr*)generator.Handle, library);
        }

        public void Read(Span<byte> state)
        {
            Engine engine;
            _engine(&engine, _implementation);
            ulong single = _nextFloat(_implementation);
            OptionalDouble @double = _nextDouble(_implementation);
            BinaryPrimitives.WriteUInt64LittleEndian(state, engine.Seed);
            BinaryPrimitives.WriteInt32LittleEndian(state[CpuGeneratorState.LeftOffset..], engine.Left);
            BinaryPrimitives.WriteInt32LittleEndian(state[CpuGeneratorState.SeededOffset..], engine.Seeded);
            BinaryPrimitives.WriteUInt64LittleEndian(state[CpuGeneratorState.NextOffset..], engine.Next);
            Span<ulong> slots = MemoryMarshal.Cast<byte, ulong>(state.Slice(CpuGeneratorState.WordsOffset, 8 * CpuGeneratorState.WordCount));
            for (int i = 0; i < slots.Length; i++)
                slots[i] = engine.Words[i];
            state[5016..].Clear();
            if (@double.Engaged != 0)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(state[5024..], @double.Value);
                BinaryPrimitives.WriteInt32LittleEndian(state[CpuGeneratorState.NormalIsValidOffset..], 1);
            }
            if ((single >> 32 & 0xFF) != 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(state[5048..], (uint)single);
                state[CpuGeneratorState.FloatNormalIsValidOffset] = 1;
            }
        }

        public void Write(ReadOnlySpan<byte> state)
        {
            Engine engine;
            engine.Seed = BinaryPrimitives.ReadUInt64LittleEndian(state);
            engine.Left = BinaryPrimitives.ReadInt32LittleEndian(state[CpuGeneratorState.LeftOffset..]);
            engine.Seeded = BinaryPrimitives.ReadInt32LittleEndian(state[CpuGeneratorState.SeededOffset..]) != 0 ? (byte)1 : (byte)0;
            engine.Next = (uint)BinaryPrimitives.ReadUInt64LittleEndian(state[CpuGeneratorState.NextOffset..]);
            ReadOnlySpan<ulong> slots = MemoryMarshal.Cast<byte, ulong>(state.Slice(CpuGeneratorState.WordsOffset, 8 * CpuGeneratorState.WordCount));
            for (int i = 0; i < slots.Length; i++)
                engine.Words[i] = (uint)slots[i];
            _setEngine(_implementation, engine);
            bool floatValid = state[CpuGeneratorState.FloatNormalIsValidOffset] != 0;
            _setNextFloat(_implementation, floatValid ? 1UL << 32 | BinaryPrimitives.ReadUInt32LittleEndian(state[5048..]) : 0);
            bool doubleValid = BinaryPrimitives.ReadInt32LittleEndian(state[CpuGeneratorState.NormalIsValidOffset..]) != 0;
            _setNextDouble(_implementation, new OptionalDouble { Value = doubleValid ? BinaryPrimitives.ReadDoubleLittleEndian(state[5024..]) : 0, Engaged = doubleValid ? (byte)1 : (byte)0 });
        }

        /// <summary>Refuses to measure a path that is not exact: a read equals get_state, and a write of another state reads back as it.</summary>
        public void CheckAgainst(Generator generator)
        {
            byte[] read = new byte[CpuGeneratorState.Size];
            Read(read);
            using (Tensor state = generator.get_state())
            {
                if (!state.bytes.SequenceEqual(read))
                    throw new InvalidOperationException("The exported accessors read a different state than get_state.");
            }
            byte[] other = (byte[])read.Clone();
            other[CpuGeneratorState.FloatNormalIsValidOffset] = 1;
            BinaryPrimitives.WriteSingleLittleEndian(other.AsSpan(5048), 0.75f);
            BinaryPrimitives.WriteInt32LittleEndian(other.AsSpan(CpuGeneratorState.LeftOffset), 5);
            BinaryPrimitives.WriteUInt64LittleEndian(other.AsSpan(CpuGeneratorState.NextOffset), 620);
            Write(other);
            using (Tensor state = generator.get_state())
            {
                if (!state.bytes.SequenceEqual(other))
                    throw new InvalidOperationException("A write through the exported accessors reads back differently through get_state.");
            }
            Write(read);
        }
    }
}
