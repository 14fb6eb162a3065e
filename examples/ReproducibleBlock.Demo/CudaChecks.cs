using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace ReproducibleBlock.Demo;

/// <summary>What must hold for CUDA draws; run with --device cuda on a GPU machine.</summary>
public static class CudaChecks
{
    public static IEnumerable<(string Property, bool Holds)> Run(Device device, IReadOnlyList<string> warnings)
    {
        float[] Draw(int n)
        {
            using Tensor drawn = randn(n, device: device);
            return drawn.cpu().data<float>().ToArray();
        }
        float[] InBlock(long seed)
        {
            using (Reproducible.Block(seed))
                return Draw(8);
        }

        Reproducible.SetSeed(42);
        yield return ("CUDA state is read and written exactly (libtorch_cuda exports found, no fallback)", !warnings.Any(w => w.Contains("CUDA")));
        float[] first = InBlock(1), again = InBlock(1), other = InBlock(2);
        yield return ("the same block gives the same CUDA draws", first.SequenceEqual(again));
        yield return ("different blocks get different CUDA streams", !first.SequenceEqual(other));

        Reproducible.SetSeed(42);
        Draw(4);
        float[] expected = Draw(8);
        Reproducible.SetSeed(42);
        Draw(4);
        using (Reproducible.Block(3, restoreOnExit: true))
            Draw(1000);
        yield return ("restoreOnExit puts CUDA back exactly", expected.SequenceEqual(Draw(8)));

        Reproducible.SetSeed(42);
        Draw(4);
        byte[] snapshot = Reproducible.Capture().ToBytes();
        float[] afterCapture = Draw(8);
        Draw(100);
        Reproducible.Restore(RngSnapshot.FromBytes(snapshot));
        yield return ("a restored snapshot repeats the CUDA draws", afterCapture.SequenceEqual(Draw(8)));

        Reproducible.SetSeed(42);
        string Mask()
        {
            using (Reproducible.Block(5))
            {
                using Tensor ones = TorchSharp.torch.ones(64, device: device);
                using Tensor dropped = nn.functional.dropout(ones, 0.5, training: true);
                return Fingerprint.Of(dropped);
            }
        }
        string mask = Mask();
        Draw(50);
        yield return ("dropout masks on CUDA repeat in the same block", mask == Mask());
    }
}
