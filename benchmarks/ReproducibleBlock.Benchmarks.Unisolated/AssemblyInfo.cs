using ReproducibleBlock;
using TorchSharp;

// The rule keeping 0.2's streams: one block per constructor (no sites), dropouts in their module's stream.
[assembly: ReproducibleConstructors(typeof(torch.nn.Module), IsolateParts = false)]
