using ReproducibleBlock;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleTrainingApp;

/// <summary>
/// Small 3×12×12 images in a few classes (a pattern every image shares, a left-right symmetric structure per class and
/// noise per image), augmented when loaded: a random crop of the image padded by two pixels, a horizontal flip and
/// noise, all drawn from the sample's own stream. Replace it with your data set; keep the augmentation on the stream.
/// </summary>
public sealed class SyntheticData : torch.utils.data.Dataset
{
    public const int Samples = 256, Classes = 4, Size = 12, Pad = 2;

    private readonly Tensor _images; // [Samples, 3, 12, 12], float32
    private readonly Tensor _labels; // [Samples], int64
    private readonly ReproducibleSampler _sampler;

    private SyntheticData(Tensor images, Tensor labels, ReproducibleSampler sampler)
    {
        _images = images;
        _labels = labels;
        _sampler = sampler;
    }

    /// <summary>Draws the data set in a block of its own: the same images for a seed, whatever is drawn before or after.</summary>
    /// <param name="sampler">The training sampler, whose per-sample streams the augmentation draws from.</param>
    [ReproducibleBlock(7)]
    public static SyntheticData Generate(ReproducibleSampler sampler)
    {
        using (NewDisposeScope())
        {
            Tensor shared = randn(3, Size, Size) * 0.5f;
            Tensor structure = randn(Classes, 3, Size / 2, Size / 2).repeat_interleave(2, dim: 2).repeat_interleave(2, dim: 3);
            structure = (structure + structure.flip(-1)) * 0.75f; // symmetric: a flipped image keeps its class
            Tensor labels = randint(0, Classes, [Samples]);
            Tensor images = shared + structure.index_select(0, labels) + randn(Samples, 3, Size, Size) * 0.8f;
            return new SyntheticData(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), sampler);
        }
    }

    public override long Count => Samples;

    /// <summary>The images as generated, without augmentation, and their labels.</summary>
    public (Tensor Images, Tensor Labels) Clean => (_images, _labels);

    /// <summary>
    /// One augmented sample. The DataLoader may call it on several threads at once (<c>--workers</c>), in any order:
    /// everything random here comes from the sample's own stream (<see cref="ReproducibleSampler.Resolve"/>), never
    /// from torch's global generator, so a sample's augmentation depends only on the seed, the epoch and its place in
    /// the epoch's order.
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
