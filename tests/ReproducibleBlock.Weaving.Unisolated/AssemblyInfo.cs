using ReproducibleBlock;
using TorchSharp;

// The fixture's one-line rule, with the switch that keeps 0.2's streams.
[assembly: ReproducibleConstructors(typeof(torch.nn.Module), IsolateParts = false)]
