using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ReproducibleBlock.Benchmarks.Models;

/// <summary>
/// A ResNet-18-shaped model for 3×16×16 images: a first conv, four MakeLayer calls of two BasicBlocks each (16, 32, 64
/// and 128 planes), then pooling and the final Linear, all in one Sequential. The same source is compiled three times
/// (see WovenTrainingBenchmarks): unwoven here, woven by the one-line rule, and woven with IsolateParts = false.
/// </summary>
public sealed class BenchResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> _layers;
    private int _inPlanes = 16;

    public static BenchResNet ResNet18(int classes) =>
        new((inPlanes, planes, stride) => new BenchBasicBlock(inPlanes, planes, stride), [2, 2, 2, 2], classes);

    public BenchResNet(Func<int, int, int, Module<Tensor, Tensor>> block, IList<int> blocks, int classes) : base(nameof(BenchResNet))
    {
        var modules = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv-first", Conv2d(3, 16, kernel_size: 3, padding: 1, bias: false)),
            ("bn-first", BatchNorm2d(16)),
            ("relu-first", ReLU(inplace: true)),
        };
        MakeLayer(modules, block, 16, blocks[0], 1);
        MakeLayer(modules, block, 32, blocks[1], 2);
        MakeLayer(modules, block, 64, blocks[2], 2);
        MakeLayer(modules, block, 128, blocks[3], 2);
        modules.Add(("pool", AdaptiveAvgPool2d(new long[] { 1, 1 })));
        modules.Add(("flatten", Flatten()));
        modules.Add(("linear", Linear(128, classes)));
        _layers = Sequential(modules);
        RegisterComponents();
    }

    private void MakeLayer(List<(string, Module<Tensor, Tensor>)> modules, Func<int, int, int, Module<Tensor, Tensor>> block, int planes, int count, int stride)
    {
        for (int i = 0; i < count; i++)
        {
            modules.Add(($"block-{planes}-{i}", block(_inPlanes, planes, i == 0 ? stride : 1)));
            _inPlanes = planes;
        }
    }

    public override Tensor forward(Tensor input) => _layers.forward(input);
}

/// <summary>A residual block: two 3×3 convs with batch norm, and a 1×1 shortcut where the shape changes.</summary>
public sealed class BenchBasicBlock : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> _layers;
    private readonly Module<Tensor, Tensor> _shortcut;

    public BenchBasicBlock(int inPlanes, int planes, int stride) : base(nameof(BenchBasicBlock))
    {
        _layers = Sequential(
            ("conv1", Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false)),
            ("bn1", BatchNorm2d(planes)),
            ("relu1", ReLU(inplace: true)),
            ("conv2", Conv2d(planes, planes, kernel_size: 3, padding: 1, bias: false)),
            ("bn2", BatchNorm2d(planes)));
        _shortcut = stride != 1 || inPlanes != planes
            ? Sequential(("conv", Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false)), ("bn", BatchNorm2d(planes)))
            : Sequential();
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _layers.forward(input).add_(_shortcut.forward(input)).relu_();
}
