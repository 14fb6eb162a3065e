using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace ReproducibleBlock.State;

/// <summary>The writing half of <see cref="SnapshotFormat"/>: every record in the order the format lists them.</summary>
internal static partial class SnapshotFormat
{
    private readonly struct Writer(ArrayBufferWriter<byte> output)
    {
        public void U8(byte value) { output.GetSpan(1)[0] = value; output.Advance(1); }
        public void U32(uint value) { BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value); output.Advance(4); }
        public void U64(ulong value) { BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value); output.Advance(8); }
        public void I64(long value) => U64(unchecked((ulong)value));

        public void State(RngState state)
        {
            U32((uint)state.Cpu.Length);
            state.Cpu.CopyTo(output.GetSpan(state.Cpu.Length));
            output.Advance(state.Cpu.Length);
            U64(state.Managed);
            U32((uint)state.Cuda.Length);
            foreach (CudaGeneratorState device in state.Cuda)
            {
                U64(device.Seed);
                U64(device.Offset);
            }
        }

        public void Environment(ReproducibleEnvironment? environment)
        {
            U8(environment is null ? (byte)0 : (byte)1);
            if (environment is null)
                return;
            var pairs = new List<(string Name, string Value)>(environment.ToPairs());
            U32((uint)pairs.Count);
            foreach ((string name, string value) in pairs)
            {
                Text(name);
                Text(value);
            }
        }

        private void Text(string text)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text.Length > 1024 ? text[..1024] : text);
            BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), (ushort)utf8.Length);
            output.Advance(2);
            utf8.CopyTo(output.GetSpan(utf8.Length));
            output.Advance(utf8.Length);
        }

        public void Frame(FrameData frame)
        {
            I64(frame.BlockSeed);
            I64(frame.Ordinal);
            U8(frame.RestoreOnExit ? (byte)1 : (byte)0);
            if (frame.RestoreOnExit)
                State(frame.Saved!);
            U32((uint)frame.InstanceCounts.Count);
            foreach (KeyValuePair<long, long> pair in frame.InstanceCounts)
            {
                I64(pair.Key);
                I64(pair.Value);
            }
            U64(frame.ExitCount);
        }
    }
}
