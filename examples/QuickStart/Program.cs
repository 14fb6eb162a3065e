// The toy model of torch-reproducible-block's README: a feature extractor of conv layers and a classifier.
// Without blocks, adding a conv layer changes the classifier's initial weights; with blocks it does not.
using System;
using System.Linq;
using ReproducibleBlock;
using TorchSharp;

static float[] ClassifierWeights(int convLayers, bool useBlocks)
{
    Reproducible.SetSeed(42);
    using (useBlocks ? Reproducible.Block(1) : null)
    {
        for (int i = 0; i < convLayers; i++)
            using (torch.nn.Conv2d(1, 1, 2)) { }
    }
    using (useBlocks ? Reproducible.Block(2) : null)
    {
        using var hidden = torch.nn.Linear(64, 128);
        return hidden.weight!.data<float>().ToArray();
    }
}

static string Fingerprint(float[] weights) => string.Join(" ", weights.Take(3).Select(w => w.ToString("+0.0000;-0.0000")));

Console.WriteLine("Initial weights of the classifier's Linear(64, 128), first three values:");
Console.WriteLine($"{"conv layers",-12} {"without blocks",-26} {"with blocks",-26}");
for (int convs = 1; convs <= 3; convs++)
    Console.WriteLine($"{convs,-12} {Fingerprint(ClassifierWeights(convs, false)),-26} {Fingerprint(ClassifierWeights(convs, true)),-26}");

bool isolated = Enumerable.Range(1, 3).Select(c => ClassifierWeights(c, true)).All(w => w.SequenceEqual(ClassifierWeights(1, true)));
Console.WriteLine(isolated
    ? "With blocks, the classifier starts from the same weights however many conv layers come before it."
    : "ISOLATION FAILED: the classifier's weights changed with the number of conv layers.");
return isolated ? 0 : 1;
