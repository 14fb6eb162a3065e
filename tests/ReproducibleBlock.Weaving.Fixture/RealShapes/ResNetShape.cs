using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace WeavingFixture.RealShapes;

/// <summary>
/// The shape of TorchSharpExamples' ResNet, small: a first conv, then four <see cref="MakeLayer"/> calls, each building
/// its blocks in a loop through a delegate that a static factory defines, all added to one list, then the final
/// Linear, and the list wrapped in one Sequential after all of it. 3×16×16 images in.
/// </summary>
public sealed class TinyResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> layers;
    private int in_planes = 16;

    /// <summary>ResNet-18's block counts by default; the blocks are built by a lambda defined here, invoked by MakeLayer.</summary>
    public static TinyResNet ResNet18(int numClasses, int[]? numBlocks = null) =>
        new((in_planes, planes, stride) => new BasicBlock(in_planes, planes, stride), numBlocks ?? [2, 2, 2, 2], numClasses);

    public TinyResNet(Func<int, int, int, Module<Tensor, Tensor>> block, IList<int> num_blocks, int numClasses) : base(nameof(TinyResNet))
    {
        var modules = new List<(string, Module<Tensor, Tensor>)>();

        modules.Add(("conv2d-first", Conv2d(3, 16, kernel_size: 3, stride: 1, padding: 1, bias: false)));
        modules.Add(("bnrm2d-first", BatchNorm2d(16)));
        modules.Add(("relu-first", ReLU(inplace: true)));
        MakeLayer(modules, block, 16, num_blocks[0], 1);
        MakeLayer(modules, block, 32, num_blocks[1], 2);
        MakeLayer(modules, block, 64, num_blocks[2], 2);
        MakeLayer(modules, block, 128, num_blocks[3], 2);
        modules.Add(("avgpool", AdaptiveAvgPool2d(new long[] { 1, 1 })));
        modules.Add(("flatten", Flatten()));
        modules.Add(("linear", Linear(128, numClasses)));

        layers = Sequential(modules);

        RegisterComponents();
    }

    private void MakeLayer(List<(string, Module<Tensor, Tensor>)> modules, Func<int, int, int, Module<Tensor, Tensor>> block, int planes, int num_blocks, int stride)
    {
        var strides = new List<int> { stride };
        for (var i = 0; i < num_blocks - 1; i++)
            strides.Add(1);

        for (var i = 0; i < strides.Count; i++)
        {
            modules.Add(($"blck-{planes}-{i}", block(in_planes, planes, strides[i])));
            in_planes = planes;
        }
    }

    public override Tensor forward(Tensor input) => layers.forward(input);

    /// <summary>A residual block: a class of the user's own, so the assembly rule weaves its constructor and forward.</summary>
    public sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> layers;
        private readonly Module<Tensor, Tensor> shortcut;

        public BasicBlock(int in_planes, int planes, int stride) : base(nameof(BasicBlock))
        {
            var modules = new List<(string, Module<Tensor, Tensor>)>();
            modules.Add(("conv2d-1", Conv2d(in_planes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false)));
            modules.Add(("bnrm2d-1", BatchNorm2d(planes)));
            modules.Add(("relu-1", ReLU(inplace: true)));
            modules.Add(("conv2d-2", Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false)));
            modules.Add(("bnrm2d-2", BatchNorm2d(planes)));
            layers = Sequential(modules);

            if (stride != 1 || in_planes != planes)
            {
                shortcut = Sequential(
                    ("conv2d-3", Conv2d(in_planes, planes, kernel_size: 1, stride: stride, bias: false)),
                    ("bnrm2d-3", BatchNorm2d(planes)));
            }
            else
            {
                shortcut = Sequential();
            }

            RegisterComponents();
        }

        public override Tensor forward(Tensor t)
        {
            var x = layers.forward(t);
            var y = shortcut.forward(t);
            return x.add_(y).relu_();
        }
    }
}
