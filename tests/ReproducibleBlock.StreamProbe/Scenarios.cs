using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TorchSharp;

namespace ReproducibleBlock.StreamProbe;

/// <summary>How far a scenario's numbers are the same from one machine to another.</summary>
public enum Portability
{
    /// <summary>Raw generator outputs and exact arithmetic on them: the same on every CPU.</summary>
    EveryCpu,

    /// <summary>
    /// Dropout masks: libtorch's <c>bernoulli_(p)</c> with a scalar p draws through MKL on Intel CPUs only (a vendor
    /// check in its CPU kernel) and through its generic path on every other CPU (AMD, ARM), so a mask depends on the
    /// CPU's vendor. Pinned for the generic path.
    /// </summary>
    EveryCpuButIntel,

    /// <summary>
    /// Values that pass through libtorch's vectorised float kernels (a Linear's initial weights, randn of 16 or more
    /// elements): their last bits depend on the CPU capability, so they are pinned with ATEN_CPU_CAPABILITY=default.
    /// </summary>
    CpuCapability,
}

/// <summary>A named, repeatable sequence of public API calls whose output is a user-visible stream.</summary>
public sealed record Scenario(string Name, Portability Portability, Func<string> Run);

/// <summary>
/// Every stream a user can observe, at every kind of place a block can be: the scenarios whose outputs the Core tests
/// pin. Each scenario starts with its own SetSeed, so it does not depend on what ran before it.
/// </summary>
public static class Scenarios
{
    private const long Root = 42;

    /// <summary>All scenarios, by name.</summary>
    public static IReadOnlyList<Scenario> All { get; } = Build();

    /// <summary>The scenario called <paramref name="name"/>.</summary>
    public static Scenario Named(string name) =>
        All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"No scenario is called '{name}'.", nameof(name));

    private static List<Scenario> Build()
    {
        var places = new (string Name, BlockDerivation Derivation, Func<Func<string>, string> At)[]
        {
            ("keyed/root", BlockDerivation.Keyed, body => body()),
            ("keyed/block64", BlockDerivation.Keyed, body => In(64, body)),
            ("keyed/nested-1-9", BlockDerivation.Keyed, body => In(1, () => In(9, body))),
            ("keyed/instance300-first", BlockDerivation.Keyed, body => InInstance(300, body)),
            ("keyed/instance300-second", BlockDerivation.Keyed, body => { InInstance(300, () => Draw(5)); return InInstance(300, body); }),
            ("keyed/nested-1-instance300-second", BlockDerivation.Keyed, body => In(1, () => { InInstance(300, () => ""); return InInstance(300, body); })),
            ("keyed/block-min", BlockDerivation.Keyed, body => In(long.MinValue, body)),
            ("keyed/block-max", BlockDerivation.Keyed, body => In(long.MaxValue, body)),
            ("keyed/block-minus1", BlockDerivation.Keyed, body => In(-1, body)),
            ("keyed/restore-inside", BlockDerivation.Keyed, body => { Draw(3); return In(64, body, restoreOnExit: true); }),
            ("keyed/after-block64", BlockDerivation.Keyed, body => { In(64, () => Draw(3)); return body(); }),
            ("keyed/after-restoring-block64", BlockDerivation.Keyed, body => { Draw(3); In(64, () => Draw(100), restoreOnExit: true); return body(); }),
            ("keyed/root7-block64", BlockDerivation.Keyed, body => { Reproducible.SetSeed(7); return In(64, body); }),
            ("raa/block0", BlockDerivation.ResetAndAdvance, body => In(0, body)),
            ("raa/block64", BlockDerivation.ResetAndAdvance, body => In(64, body)),
            ("raa/nested-3-5", BlockDerivation.ResetAndAdvance, body => In(3, () => In(5, body))),
            ("raa/instance300-second", BlockDerivation.ResetAndAdvance, body => { InInstance(300, () => Draw(5)); return InInstance(300, body); }),
            ("raa/after-block64", BlockDerivation.ResetAndAdvance, body => { In(64, () => Draw(3)); return body(); }),
            ("raa/after-restoring-block64", BlockDerivation.ResetAndAdvance, body => { Draw(3); In(64, () => Draw(100), restoreOnExit: true); return body(); }),
        };

        var scenarios = new List<Scenario>();
        foreach (var (name, derivation, at) in places)
        {
            scenarios.Add(new($"{name}/torch", Portability.EveryCpu, () => { Reproducible.SetSeed(Root, derivation); return at(TorchDraws); }));
            scenarios.Add(new($"{name}/managed", Portability.EveryCpu, () => { Reproducible.SetSeed(Root, derivation); return at(ManagedDraws); }));
        }
        foreach (var (name, derivation, at) in places.Where(p => p.Name is "keyed/block64" or "keyed/nested-1-9" or "keyed/instance300-second" or "keyed/root" or "raa/block64"))
        {
            scenarios.Add(new($"{name}/dropout", Portability.EveryCpuButIntel, () => { Reproducible.SetSeed(Root, derivation); return at(DropoutMask); }));
            scenarios.Add(new($"{name}/float-kernels", Portability.CpuCapability, () => { Reproducible.SetSeed(Root, derivation); return at(FloatKernelDraws); }));
        }
        scenarios.Add(new("keyed/block5/shuffler", Portability.EveryCpu, () =>
        {
            Reproducible.SetSeed(Root);
            return In(5, () => Orders(new BlockShuffler(12)));
        }));
        scenarios.Add(new("keyed/root/shuffler", Portability.EveryCpu, () =>
        {
            Reproducible.SetSeed(Root);
            return Orders(new BlockShuffler(12));
        }));
        scenarios.Add(new("raa/block5/shuffler", Portability.EveryCpu, () =>
        {
            Reproducible.SetSeed(Root, BlockDerivation.ResetAndAdvance);
            return In(5, () => Orders(new BlockShuffler(12)));
        }));
        return scenarios;
    }

    private static string In(long blockSeed, Func<string> body, bool restoreOnExit = false)
    {
        using (Reproducible.Block(blockSeed, restoreOnExit))
            return body();
    }

    private static string InInstance(long blockSeed, Func<string> body)
    {
        using (Reproducible.InstanceBlock(blockSeed))
            return body();
    }

    /// <summary>Moves the torch CPU generator and the managed generator on, as a block's own work would.</summary>
    private static string Draw(int n)
    {
        using torch.Tensor drawn = torch.randint(0, 10, [n]);
        Reproducible.Random.NextBytes(new byte[n]);
        return "";
    }

    /// <summary>
    /// Raw CPU generator outputs: randint below 2^31 (one 32-bit output each), random_ below 2^40 (random64: two outputs each),
    /// rand (24 bits each, scaled exactly), randn of 6 (the scalar path, below libtorch's 16-element vectorised one),
    /// and a Bernoulli draw with a tensor of probabilities (libtorch's generic path on every CPU).
    /// </summary>
    public static string TorchDraws()
    {
        using var scope = torch.NewDisposeScope();
        long[] randint = torch.randint(0, 1L << 31, [6], torch.int64).data<long>().ToArray();
        long[] random = torch.empty([3], torch.int64).random_(0, 1L << 40).data<long>().ToArray();
        float[] rand = torch.rand([4]).data<float>().ToArray();
        float[] randn = torch.randn([6]).data<float>().ToArray();
        float[] bernoulli = torch.bernoulli(torch.full([24], 0.5f)).data<float>().ToArray();
        return $"randint {Ints(randint)} | random_ {Ints(random)} | rand {Bits(rand)} | randn {Bits(randn)} | bernoulli {Mask(bernoulli)}";
    }

    /// <summary>Every kind of draw of <see cref="Reproducible.Random"/>.</summary>
    public static string ManagedDraws()
    {
        Random random = Reproducible.Random;
        var bytes = new byte[13];
        string first = string.Join(" ",
            random.Next(), random.Next(10, 20), random.Next(1000), random.NextInt64(),
            random.NextInt64(1000), random.NextInt64(-5, 5), random.NextInt64(long.MinValue, long.MaxValue));
        string doubles = BitConverter.DoubleToInt64Bits(random.NextDouble()).ToString("x16", CultureInfo.InvariantCulture);
        string single = BitConverter.SingleToInt32Bits(random.NextSingle()).ToString("x8", CultureInfo.InvariantCulture);
        random.NextBytes(bytes);
        return $"ints {first} | double {doubles} | single {single} | bytes {Convert.ToHexStringLower(bytes)}";
    }

    /// <summary>The mask of a dropout (p = 0.5) over 48 ones, in training mode.</summary>
    public static string DropoutMask()
    {
        using var scope = torch.NewDisposeScope();
        float[] kept = torch.nn.functional.dropout(torch.ones(48), 0.5, training: true).data<float>().ToArray();
        return Mask(kept);
    }

    /// <summary>A Linear(3, 2)'s initial weight and bias, and randn of 32 (the vectorised path).</summary>
    public static string FloatKernelDraws()
    {
        using var scope = torch.NewDisposeScope();
        var linear = torch.nn.Linear(3, 2);
        float[] weight = linear.weight!.data<float>().ToArray();
        float[] bias = linear.bias!.data<float>().ToArray();
        float[] randn = torch.randn([32]).data<float>().ToArray();
        linear.Dispose();
        return $"linear {Bits(weight)} {Bits(bias)} | randn32 {Bits(randn)}";
    }

    private static string Orders(BlockShuffler shuffler) => $"{Ints(shuffler.ToArray())} | {Ints(shuffler.ToArray())}";

    private static string Ints(IEnumerable<long> values) => string.Join(" ", values);

    private static string Bits(IEnumerable<float> values) =>
        string.Join(" ", values.Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8", CultureInfo.InvariantCulture)));

    private static string Mask(IEnumerable<float> values) => string.Concat(values.Select(v => v != 0 ? '1' : '0'));
}
