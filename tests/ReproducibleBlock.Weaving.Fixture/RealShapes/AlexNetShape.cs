using System;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace WeavingFixture.RealShapes;

/// <summary>Which version of the feature extractor a <see cref="TinyAlexNet"/> is built with: the user's edit, as two versions of the code.</summary>
public enum Features
{
    Plain,

    /// <summary>A conv layer (and its ReLU) added after the first one.</summary>
    ExtraConv,

    /// <summary>A Dropout added after the last pooling.</summary>
    ExtraDropout,
}

/// <summary>
/// The shape of TorchSharpExamples' AlexNet, small: the feature extractor and the classifier are two Sequentials built
/// in one constructor (no module classes of the user's own for the parts), an adaptive pooling between them, and
/// TorchSharp's own Dropouts in the classifier. 3×16×16 images in.
/// </summary>
public sealed class TinyAlexNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> features;
    private readonly Module<Tensor, Tensor> avgPool;
    private readonly Module<Tensor, Tensor> classifier;

    public TinyAlexNet(int numClasses, Features version = Features.Plain, bool extraLinear = false) : base(nameof(TinyAlexNet))
    {
        features = version switch
        {
            Features.ExtraConv => Sequential(
                ("c1", Conv2d(3, 16, kernel_size: 3, stride: 2, padding: 1)),
                ("r1", ReLU(inplace: true)),
                ("c1b", Conv2d(16, 16, kernel_size: 3, padding: 1)),
                ("r1b", ReLU(inplace: true)),
                ("mp1", MaxPool2d(kernel_size: 2)),
                ("c2", Conv2d(16, 32, kernel_size: 3, padding: 1)),
                ("r2", ReLU(inplace: true)),
                ("c3", Conv2d(32, 32, kernel_size: 3, padding: 1)),
                ("r3", ReLU(inplace: true)),
                ("mp2", MaxPool2d(kernel_size: 2))),
            Features.ExtraDropout => Sequential(
                ("c1", Conv2d(3, 16, kernel_size: 3, stride: 2, padding: 1)),
                ("r1", ReLU(inplace: true)),
                ("mp1", MaxPool2d(kernel_size: 2)),
                ("c2", Conv2d(16, 32, kernel_size: 3, padding: 1)),
                ("r2", ReLU(inplace: true)),
                ("c3", Conv2d(32, 32, kernel_size: 3, padding: 1)),
                ("r3", ReLU(inplace: true)),
                ("mp2", MaxPool2d(kernel_size: 2)),
                ("d0", Dropout(0.3))),
            _ => Sequential(
                ("c1", Conv2d(3, 16, kernel_size: 3, stride: 2, padding: 1)),
                ("r1", ReLU(inplace: true)),
                ("mp1", MaxPool2d(kernel_size: 2)),
                ("c2", Conv2d(16, 32, kernel_size: 3, padding: 1)),
                ("r2", ReLU(inplace: true)),
                ("c3", Conv2d(32, 32, kernel_size: 3, padding: 1)),
                ("r3", ReLU(inplace: true)),
                ("mp2", MaxPool2d(kernel_size: 2))),
        };

        avgPool = AdaptiveAvgPool2d(new long[] { 2, 2 });

        classifier = extraLinear
            ? Sequential(
                ("d1", Dropout()),
                ("l1", Linear(32 * 2 * 2, 64)),
                ("r1", ReLU(inplace: true)),
                ("d2", Dropout()),
                ("l2", Linear(64, 64)),
                ("r2", ReLU(inplace: true)),
                ("l2b", Linear(64, 64)),
                ("r2b", ReLU(inplace: true)),
                ("d3", Dropout()),
                ("l3", Linear(64, numClasses)))
            : Sequential(
                ("d1", Dropout()),
                ("l1", Linear(32 * 2 * 2, 64)),
                ("r1", ReLU(inplace: true)),
                ("d2", Dropout()),
                ("l2", Linear(64, 64)),
                ("r2", ReLU(inplace: true)),
                ("d3", Dropout()),
                ("l3", Linear(64, numClasses)));

        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var f = features.forward(input);
        var avg = avgPool.forward(f);
        var x = avg.view(new long[] { avg.shape[0], 32 * 2 * 2 });
        return classifier.forward(x);
    }
}
