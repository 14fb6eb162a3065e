using System;
using System.Collections.Generic;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests.Cuda;

/// <summary>
/// The real CUDA paths, on a CUDA device: libtorch_cuda's generator exports, seeding, block streams, restoring,
/// snapshots, dropout, continuing streams and deterministic algorithms. Without a device each test is inconclusive
/// (see <see cref="CudaDevice"/>). Run on a GPU with <c>dotnet test --filter TestCategory=Cuda</c> (built with
/// <c>-p:TorchSharpBackend=cuda</c>) or through <c>tools/cuda-tests/</c>. <c>CudaTests</c> covers the same logic
/// on every machine through a fake.
/// </summary>
[TestClass]
[TestCategory("Cuda")]
public sealed class CudaDeviceTests : RuntimeTest
{
    private const int N = 64;

    [TestMethod]
    public void Exports_AreFoundInTheLoadedLibTorchCuda()
    {
        int devices = CudaDevice.Require();
        bool found = LibTorchCudaDevices.TryCreate(devices, out LibTorchCudaDevices? exact, out string? why);
        Assert.IsTrue(found, why);
        Assert.AreEqual(devices, exact!.DeviceCount);
    }

    [TestMethod]
    public void SetSeed_SeedsEveryDevice_AsManualSeedAllDoes()
    {
        int devices = CudaDevice.Require();
        Assert.IsTrue(LibTorchCudaDevices.TryCreate(devices, out LibTorchCudaDevices? exact, out string? why), why);
        var expected = new List<float[]>();
        torch.cuda.manual_seed_all(42);
        for (int device = 0; device < devices; device++)
            expected.Add(CudaDevice.Normal(N, device));

        for (int device = 0; device < devices; device++)
            CudaDevice.Normal(N, device); // move every device away from the seed
        Reproducible.SetSeed(42);
        for (int device = 0; device < devices; device++)
            Assert.AreEqual(new CudaGeneratorState(42, 0), exact!.Read(device), $"device {device}");
        for (int device = 0; device < devices; device++)
            CollectionAssert.AreEqual(expected[device], CudaDevice.Normal(N, device), $"device {device}");
    }

    [TestMethod]
    public void Blocks_GetDistinctCudaStreams_ThatRepeat()
    {
        CudaDevice.Require();
        Reproducible.SetSeed(42);
        float[] first, other, again;
        using (Reproducible.Block(1))
            first = CudaDevice.Normal(N);
        CudaDevice.Normal(N); // draws between blocks do not move a block's stream
        using (Reproducible.Block(2))
            other = CudaDevice.Normal(N);
        using (Reproducible.Block(1))
            again = CudaDevice.Normal(N);
        CollectionAssert.AreEqual(first, again, "the same block gets the same CUDA stream");
        CollectionAssert.AreNotEqual(first, other, "another block gets another CUDA stream");
    }

    [TestMethod]
    public void RestoreOnExit_RepeatsTheCudaDrawsAfterTheBlock()
    {
        CudaDevice.Require();
        Reproducible.SetSeed(7);
        CudaDevice.Normal(N);
        float[] withoutBlock = CudaDevice.Normal(N);

        Reproducible.SetSeed(7);
        CudaDevice.Normal(N);
        using (Reproducible.Block(3, restoreOnExit: true))
            CudaDevice.Normal(4 * N);
        CollectionAssert.AreEqual(withoutBlock, CudaDevice.Normal(N), "the draws after a restoring block are those without it");
    }

    [TestMethod]
    public void Snapshot_RepeatsTheCudaDraws_AlsoThroughBytes()
    {
        CudaDevice.Require();
        Reproducible.SetSeed(7);
        CudaDevice.Normal(N);
        RngSnapshot snapshot = Reproducible.Capture();
        float[] first = CudaDevice.Normal(N);
        CudaDevice.Normal(3 * N);
        Reproducible.Restore(snapshot);
        CollectionAssert.AreEqual(first, CudaDevice.Normal(N), "restored snapshot");
        Reproducible.Restore(RngSnapshot.FromBytes(snapshot.ToBytes()));
        CollectionAssert.AreEqual(first, CudaDevice.Normal(N), "snapshot read back from its bytes");
    }

    [TestMethod]
    public void Dropout_OnCudaTensors_RepeatsInABlock()
    {
        CudaDevice.Require();
        Reproducible.SetSeed(11);
        float[] first, again;
        using (Reproducible.Block(5))
            first = CudaDevice.DropoutMask(4 * N);
        CudaDevice.DropoutMask(4 * N);
        using (Reproducible.Block(5))
            again = CudaDevice.DropoutMask(4 * N);
        CollectionAssert.AreEqual(first, again);
        CollectionAssert.Contains(first, 0f, "some elements dropped");
        CollectionAssert.Contains(first, 1f, "some elements kept");
    }

    private sealed class DropoutModule
    {
        public float[] Forward()
        {
            using (Reproducible.ContinuingBlock(this))
                return CudaDevice.DropoutMask(4 * N);
        }
    }

    [TestMethod]
    public void WovenModules_OnCuda_DrawTheirOwnRepeatableMasks()
    {
        CudaDevice.Require();
        // The woven fixture (tests/ReproducibleBlock.Weaving.Fixture): the assembly rule with ContinuingForward, so each
        // Noisy's forward runs in its own continuing block; dropout on CUDA tensors draws from the CUDA generator.
        (float[] First, float[] Second, float[] FirstAgain) Masks()
        {
            Reproducible.SetSeed(42);
            using var model = new WeavingFixture.TwoNoisy();
            model.to(torch.CUDA);
            float[] Mask(WeavingFixture.Noisy noisy)
            {
                using torch.Tensor ones = torch.ones(N, device: torch.CUDA);
                using torch.Tensor output = noisy.forward(ones);
                using torch.Tensor onCpu = output.cpu();
                return onCpu.data<float>().ToArray();
            }
            float[] first = Mask(model.First), second = Mask(model.Second);
            CudaDevice.Normal(N); // a draw outside every block
            return (first, second, Mask(model.First));
        }
        (float[] first, float[] second, float[] firstAgain) = Masks();
        CollectionAssert.AreNotEqual(first, second, "siblings of one type have streams of their own");
        CollectionAssert.AreNotEqual(first, firstAgain, "each call continues the stream");
        (float[] rebuiltFirst, float[] rebuiltSecond, float[] rebuiltFirstAgain) = Masks();
        CollectionAssert.AreEqual(first, rebuiltFirst);
        CollectionAssert.AreEqual(second, rebuiltSecond);
        CollectionAssert.AreEqual(firstAgain, rebuiltFirstAgain);
    }

    [TestMethod]
    public void ContinuingModuleStreams_OnCuda_ContinueAndIgnoreDrawsOutside()
    {
        CudaDevice.Require();
        List<float[]> Run(bool drawOutside)
        {
            Reproducible.SetSeed(5);
            var module = new DropoutModule();
            var masks = new List<float[]>();
            for (int step = 0; step < 3; step++)
            {
                masks.Add(module.Forward());
                if (drawOutside)
                    CudaDevice.Normal(N);
            }
            return masks;
        }
        List<float[]> first = Run(drawOutside: false), second = Run(drawOutside: true);
        CollectionAssert.AreNotEqual(first[0], first[1], "the stream continues: each call draws fresh numbers");
        for (int step = 0; step < 3; step++)
            CollectionAssert.AreEqual(first[step], second[step], $"step {step}");
    }

    [TestMethod]
    public void DeterministicAlgorithms_MakeAnOpWithoutADeterministicCudaKernelThrow()
    {
        CudaDevice.Require();
        using torch.Tensor values = torch.rand(1000, device: torch.CUDA);
        try
        {
            Reproducible.UseDeterministicAlgorithms(false);
            values.histc(10, 0, 1).Dispose(); // histc on CUDA has no deterministic kernel
            Reproducible.UseDeterministicAlgorithms(true);
            Assert.IsTrue(Reproducible.AreDeterministicAlgorithmsEnabled);
            Exception thrown = Assert.Throws<Exception>(() => values.histc(10, 0, 1).Dispose());
            StringAssert.Contains(thrown.Message, "deterministic");
        }
        finally
        {
            Reproducible.UseDeterministicAlgorithms(false);
        }
    }
}
