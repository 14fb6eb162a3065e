using ReproducibleBlock;
using TorchSharp;

// The one-line rule as a user writes it: sites in every constructor, every forward in its continuing block.
[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]
