using System;

namespace ReproducibleBlock.State;

/// <summary>
/// What SetSeed (or a Restore) established: the root seed, the derivation, and the reference state taken right after
/// seeding. Replaced whole, never edited, so a SetSeed that fails leaves the previous seeding in force.
/// </summary>
internal sealed class Seeding
{
    /// <param name="rootSeed">The seed given to SetSeed.</param>
    /// <param name="derivation">From <see cref="Derivations.Create"/>, over the same <paramref name="reference"/>.</param>
    /// <param name="reference">The state right after seeding; its CUDA part is rebuilt here.</param>
    public Seeding(long rootSeed, IBlockDerivation derivation, RngState reference)
    {
        RootSeed = rootSeed;
        Reference = reference;
        Derivation = derivation;
        // By construction SetSeed leaves every CUDA device at (root seed, offset 0): that is the reference, whatever
        // a snapshot captured on another machine says.
        reference.Cuda.AsSpan().Fill(new CudaGeneratorState(unchecked((ulong)rootSeed), 0));
    }

    public long RootSeed { get; }

    public IBlockDerivation Derivation { get; }

    /// <summary>The state right after seeding, to which ResetAndAdvance blocks reset (and which snapshots carry).</summary>
    public RngState Reference { get; }

    public ulong RootKey => KeyDerivation.Root(RootSeed);

    public override string ToString() => $"root seed {RootSeed}, {Derivation.Kind}";
}
