using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace ReproducibleBlock.Weaving;

public sealed partial class ModuleWeaver
{
    /// <summary>
    /// Gives each target its seed: the explicit one, or one derived from its name. Fails the build when two blocks
    /// would share a seed by accident (the seed package's rule: every block must have its own seed).
    /// </summary>
    private void AssignSeeds(List<WeaveTarget> allTargets)
    {
        // A continuing block has no seed: its stream is keyed by the instance.
        List<WeaveTarget> targets = allTargets.Where(t => t.Kind == BlockKind.Seeded).ToList();
        foreach (WeaveTarget target in targets)
            target.Seed = target.ExplicitSeed ?? DerivedSeed(NameForSeed(target));

        foreach (IGrouping<long, WeaveTarget> sameSeed in targets.GroupBy(t => t.Seed))
        {
            // The constructors of one type with one seed are one block, whether the seed comes from the type (its
            // attribute, a rule, its name) or is written on each: Pin the seed writes the type's derived seed on each.
            List<IGrouping<string, WeaveTarget>> blocks = sameSeed.GroupBy(BlockIdentity).ToList();
            if (blocks.Count < 2)
                continue;
            if (blocks.All(b => b.Any(t => t.ExplicitSeed is not null)) && sameSeed.All(t => t.AllowSharedSeed))
                continue;
            WeaveTarget first = blocks[0].First();
            foreach (IGrouping<string, WeaveTarget> other in blocks.Skip(1))
            {
                WeaveTarget target = other.First();
                string where = LocationOf(first.Method) is { } point ? $" ({point.Document.Url}({point.StartLine},{point.StartColumn}))" : "";
                string message = target.ExplicitSeed is not null && first.ExplicitSeed is not null
                    ? $"Block seed {target.Seed} of the {Signatures.Describe(target.Method)} is also the seed of the {Signatures.Describe(first.Method)}{where}. Every block needs its own seed, or the two draw the same numbers: change one, or set AllowSharedSeed = true on each of them to share it deliberately."
                    : $"The block seed of the {Signatures.Describe(target.Method)} ({target.Seed}) equals that of the {Signatures.Describe(first.Method)}{where}. Give one of them an explicit seed: [ReproducibleBlock(seed)].";
                Error(message, LocationOf(target.Method));
            }
        }
    }

    private static string BlockIdentity(WeaveTarget target) =>
        target.IsConstructor ? "type:" + target.Method.DeclaringType.FullName
        // The compiler emits a lambda written in a field initializer once per constructor that runs the initializers:
        // its copies are one block, recognised by the source position they share.
        : target.Method.Origin() != MethodOrigin.Member && target.Method.FirstVisiblePoint() is { } point
            ? $"function:{point.Document.Url}({point.StartLine},{point.StartColumn})"
        : "member:" + target.Method.FullName;

    /// <summary>The text a derived seed is hashed from: see <see cref="SeedNames.NameForSeed"/>.</summary>
    internal static string NameForSeed(WeaveTarget target) => SeedNames.NameForSeed(target.Method);

    /// <summary>The first 8 bytes of SHA-256 of the UTF-8 name, little-endian, with the sign bit cleared.</summary>
    /// <remarks>Stable across processes, machines and .NET versions, unlike string.GetHashCode.</remarks>
    internal static long DerivedSeed(string name) => SeedHash.Derive(name);
}
