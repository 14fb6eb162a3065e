using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>The toy model of torch-reproducible-block's README: conv layers in one block, the classifier in another.</summary>
[TestClass]
public sealed class ToyModelTests : RuntimeTest
{
    private static float[] ClassifierWeights(int convLayers, bool blocks, BlockDerivation derivation)
    {
        Reproducible.SetSeed(42, derivation);
        var disposables = new List<System.IDisposable>();
        using (blocks ? Reproducible.Block(64) : null)
        {
            int channels = 3;
            for (int i = 0; i < convLayers; i++, channels = 32)
                disposables.Add(nn.Conv2d(channels, 32, 2));
        }
        float[] weights;
        using (blocks ? Reproducible.Block(44) : null)
        {
            using var fc = nn.Linear(64, 128);
            using var output = nn.Linear(128, 10);
            weights = [.. fc.weight!.data<float>(), .. fc.bias!.data<float>(), .. output.weight!.data<float>(), .. output.bias!.data<float>()];
        }
        disposables.ForEach(d => d.Dispose());
        return weights;
    }

    [TestMethod]
    [DataRow(BlockDerivation.Keyed)]
    [DataRow(BlockDerivation.ResetAndAdvance)]
    public void ClassifierWeights_WithBlocks_DoNotDependOnTheConvLayers(BlockDerivation derivation)
    {
        float[] one = ClassifierWeights(1, blocks: true, derivation);
        CollectionAssert.AreEqual(one, ClassifierWeights(2, blocks: true, derivation));
        CollectionAssert.AreEqual(one, ClassifierWeights(3, blocks: true, derivation));
    }

    [TestMethod]
    public void ClassifierWeights_WithoutBlocks_ChangeWithTheConvLayers()
    {
        float[] one = ClassifierWeights(1, blocks: false, BlockDerivation.Keyed);
        float[] two = ClassifierWeights(2, blocks: false, BlockDerivation.Keyed);
        float[] three = ClassifierWeights(3, blocks: false, BlockDerivation.Keyed);
        CollectionAssert.AreNotEqual(one, two);
        CollectionAssert.AreNotEqual(two, three);
    }
}
