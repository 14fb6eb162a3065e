namespace ReproducibleBlock;

/// <summary>How a block's random state is derived from the seed given to <see cref="Reproducible.SetSeed"/> and its block seed.</summary>
public enum BlockDerivation
{
    /// <summary>
    /// The default. Each block gets a 64-bit key hashed from its parent's key and its block seed, and every
    /// generator's state is derived from that key: the whole 19,937-bit CPU state, the managed generator and
    /// a CUDA seed per block. Neighbouring block seeds give unrelated streams, any <see cref="long"/> is a valid
    /// block seed, entry costs the same for every seed, and a nested block depends on the block around it.
    /// </summary>
    Keyed = 0,

    /// <summary>
    /// The algorithm of the Python package torch-reproducible-block, bit for bit: on entry the CPU generator is
    /// reset to the state recorded by <see cref="Reproducible.SetSeed"/> and advanced as <c>blockSeed</c> calls of
    /// <c>torch.randint(1, 10, [1])</c> would advance it, so the numbers equal PyTorch's for the same seeds.
    /// Its known defects are kept: block <c>n + 1</c> sees block <c>n</c>'s stream shifted by one draw, entry
    /// time grows with the block seed, CUDA is reset but not advanced (every block gets the same CUDA stream),
    /// and nested blocks are absolute. Block seeds must be between 0 and 2^32 - 1 (larger ones would skip for hours).
    /// </summary>
    ResetAndAdvance = 1,
}
