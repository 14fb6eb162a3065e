using System;
using System.Buffers.Binary;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The CPU state check refuses what libtorch's own check lets through (a state whose next draws read past the last
/// Mersenne Twister word, or one that draws zeros forever), and accepts every state libtorch itself produces.
/// </summary>
[TestClass]
public sealed class CpuStateValidityTests : RuntimeTest
{
    [TestMethod]
    public void EveryStateLibtorchLeaves_PassesTheCheck()
    {
        Gen.Select(Gen.Long, Gen.Int[0, 1400], Gen.Int[0, 3]).Sample((seed, draws, normals) =>
        {
            using var generator = new torch.Generator(unchecked((ulong)seed));
            if (draws > 0)
                torch.randint(0, 10, [draws], generator: generator).Dispose();
            if (normals > 0)
                torch.randn([normals], generator: generator).Dispose(); // leaves the cached normal set, or not
            using torch.Tensor state = generator.get_state();
            Assert.IsNull(CpuGeneratorState.Validate(state.bytes), $"seed {seed}, {draws} draws, {normals} normals");
        }, iter: 200, threads: 1);
    }

    [TestMethod]
    public void EveryDerivedBlockState_PassesTheCheck()
    {
        Gen.ULong.Sample(key =>
        {
            byte[] state = new byte[CpuGeneratorState.Size];
            CpuGeneratorState.Derive(key, state);
            Assert.IsNull(CpuGeneratorState.Validate(state));
        }, iter: 500, threads: 1);
    }

    [TestMethod]
    public void TheStateThatReadPastTheLastWord_IsRefused_ThoughLibtorchsOwnCheckTakesIt()
    {
        // 0.2 copied libtorch's check (seeded, 0 < left <= 624, next <= 624): this state passed it and FromBytes, and
        // 165 of the next 600 draws of all-zero words were not zero.
        byte[] state = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(1, state);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.LeftOffset), 624);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.NextOffset), 624);
        state.AsSpan(CpuGeneratorState.WordsOffset, 8 * CpuGeneratorState.WordCount).Clear();
        StringAssert.Contains(CpuGeneratorState.Validate(state), "'left' count (624) and 'next' index (624) do not add up to 625");

        // Control: libtorch takes it without complaint (nothing is drawn from it here).
        using var generator = new torch.Generator(0);
        using torch.Tensor before = generator.get_state();
        using torch.Tensor crafted = torch.tensor(state);
        generator.set_state(crafted);
        generator.set_state(before);
    }
}
