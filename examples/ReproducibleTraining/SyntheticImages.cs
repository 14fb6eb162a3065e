using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Training;

/// <summary>
/// Small 3×12×12 images in a few classes: a pattern all images share, a structure of each class (left-right symmetric,
/// so a flipped image keeps its class) and noise of each image. Each sample is augmented when it is loaded (a random
/// crop of the image padded by two pixels, a horizontal flip, noise), from the sample's own stream.
/// </summary>
internal sealed class SyntheticImages : torch.utils.data.Dataset
{
    public const int Classes = 4, Size = 12, Pad = 2;

    private readonly Tensor _images; // [count, 3, 12, 12], float32, CPU
    private readonly Tensor _labels; // [count], int64, CPU
    private readonly ReproducibleSampler _sampler;

    private SyntheticImages(Tensor images, Tensor labels, ReproducibleSampler sampler)
    {
        _images = images;
        _labels = labels;
        _sampler = sampler;
    }

    /// <summary>
    /// Draws the data set, in a block of its own: the same images for a seed, whatever was drawn before (and the model
    /// and training, in blocks of their own, draw the same whatever this draws).
    /// </summary>
    /// <param name="count">How many images.</param>
    /// <param name="sampler">The training sampler, whose per-sample streams the augmentation draws from.</param>
    [ReproducibleBlock(7)]
    public static SyntheticImages Generate(int count, ReproducibleSampler sampler)
    {
        using (NewDisposeScope())
        {
            Tensor shared = randn(3, Size, Size) * 0.5f;
            Tensor structure = randn(Classes, 3, Size / 2, Size / 2).repeat_interleave(2, dim: 2).repeat_interleave(2, dim: 3);
            structure = (structure + structure.flip(-1)) * 0.75f; // symmetric: a flip keeps the class
            Tensor labels = randint(0, Classes, [count]);
            Tensor images = shared + structure.index_select(0, labels) + randn(count, 3, Size, Size) * 0.8f;
            return new SyntheticImages(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), sampler);
        }
    }

    public override long Count => _labels.shape[0];

    /// <summary>The images as generated, without augmentation, and their labels (to measure accuracy).</summary>
    public (Tensor Images, Tensor Labels) Clean => (_images, _labels);

    /// <summary>
    /// One augmented sample. <c>DataLoader(num_worker: N)</c> calls it on N threads at once, in any order: everything
    /// random here comes from the sample's own stream (<see cref="ReproducibleSampler.Resolve"/>), never from torch's
    /// global generator, so the result depends on the epoch and the sample's place in it, not on the threads.
    /// </summary>
    public override Dictionary<string, Tensor> GetTensor(long index)
    {
        SampleStream stream = _sampler.Resolve(index);
        using (NewDisposeScope())
        {
            int dy = stream.Random.Next(2 * Pad + 1), dx = stream.Random.Next(2 * Pad + 1);
            bool flip = stream.Random.Next(2) == 1;
            Tensor padded = nn.functional.pad(_images[index], [Pad, Pad, Pad, Pad]);
            Tensor image = padded.narrow(1, dy, Size).narrow(2, dx, Size);
            if (flip)
                image = image.flip(-1);
            image += randn([3, Size, Size], generator: stream.Generator) * 0.1f;
            return new()
            {
                ["image"] = image.MoveToOuterDisposeScope(),
                ["label"] = _labels[index].MoveToOuterDisposeScope(),
                ["index"] = tensor(index).MoveToOuterDisposeScope(), // for --sample-log; draws nothing
            };
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _images.Dispose();
            _labels.Dispose();
        }
        base.Dispose(disposing);
    }
}
