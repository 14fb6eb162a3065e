using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using ReproducibleBlock.Native;
using TorchSharp;

namespace ReproducibleBlock;

/// <summary>
/// What runs the code, as far as it can change the numbers: library versions, the libtorch actually loaded, the CPU
/// and the kernels libtorch picks for it, CUDA and cuDNN, thread counts, the determinism switches and the seeding.
/// Snapshots carry it, and <see cref="Reproducible.Restore"/> warns about each difference.
/// </summary>
/// <remarks>
/// A value that cannot be read on this platform is null (the libtorch version and CPU capability are read on Linux x64
/// only; CUDA and cuDNN only where CUDA is available).
/// </remarks>
public sealed class ReproducibleEnvironment
{
    private static readonly Lazy<ReproducibleEnvironment> Fixed = new(ReadFixed, System.Threading.LazyThreadSafetyMode.PublicationOnly);

    /// <summary>This library's version.</summary>
    public string ReproducibleBlockVersion { get; internal init; } = "";

    /// <summary>TorchSharp's assembly version.</summary>
    public string TorchSharpVersion { get; internal init; } = "";

    /// <summary>The version the loaded libtorch reports (TorchSharp's own <c>torch.__version__</c> is a constant); null when unknown.</summary>
    public string? LibTorchVersion { get; internal init; }

    /// <summary>The CPU capability libtorch's vectorised kernels use ("AVX2", "AVX512", "DEFAULT"); null when unknown.</summary>
    public string? CpuCapability { get; internal init; }

    /// <summary>The CPU's model name.</summary>
    public string CpuModel { get; internal init; } = "";

    /// <summary>The CPU's vendor: libtorch draws dropout masks through MKL on "GenuineIntel" only.</summary>
    public string CpuVendor { get; internal init; } = "";

    /// <summary>The operating system.</summary>
    public string OperatingSystem { get; internal init; } = "";

    /// <summary>The .NET runtime.</summary>
    public string DotNetVersion { get; internal init; } = "";

    /// <summary>libtorch's intra-op thread count (reductions split across threads can round differently).</summary>
    public int TorchThreads { get; internal init; }

    /// <summary>libtorch's inter-op thread count.</summary>
    public int TorchInteropThreads { get; internal init; }

    /// <summary>Whether deterministic algorithms are on; null when the switches cannot be read.</summary>
    public bool? DeterministicAlgorithms { get; internal init; }

    /// <summary>
    /// Whether an operation without a deterministic implementation warns instead of throwing while
    /// <see cref="DeterministicAlgorithms"/> is on (<see cref="Reproducible.UseDeterministicAlgorithms"/>'s <c>warnOnly</c>):
    /// such a run goes on with nondeterministic kernels where another would have stopped. Null when unknown.
    /// </summary>
    public bool? DeterministicWarnOnly { get; internal init; }

    /// <summary>Whether cuDNN is deterministic; null when unknown.</summary>
    public bool? DeterministicCuDnn { get; internal init; }

    /// <summary>Whether cuDNN's benchmark mode is on; null when unknown.</summary>
    public bool? BenchmarkCuDnn { get; internal init; }

    /// <summary>Whether TF32 is allowed in CUDA matrix products (TorchSharp's <c>backends.cuda.matmul.allow_tf32</c>).</summary>
    public bool? AllowTf32Matmul { get; internal init; }

    /// <summary>Whether TF32 is allowed in cuDNN convolutions (TorchSharp's <c>backends.cudnn.allow_tf32</c>, on by default).</summary>
    public bool? AllowTf32CuDnn { get; internal init; }

    /// <summary>The CUDA runtime version ("13.0"); null without CUDA or when unknown.</summary>
    public string? CudaVersion { get; internal init; }

    /// <summary>How many CUDA devices there are.</summary>
    public int CudaDevices { get; internal init; }

    /// <summary>The cuDNN version; null without CUDA or when unknown.</summary>
    public string? CuDnnVersion { get; internal init; }

    /// <summary>The CUDA devices' names, comma-separated; null without CUDA or when unknown.</summary>
    public string? CudaDeviceNames { get; internal init; }

    /// <summary>The root seed given to <see cref="Reproducible.SetSeed"/>; null before it.</summary>
    public long? RootSeed { get; internal init; }

    /// <summary>The derivation given to <see cref="Reproducible.SetSeed"/>; null before it.</summary>
    public BlockDerivation? Derivation { get; internal init; }

    /// <summary>
    /// This process's rank among several training one model, as a <see cref="TrainingRun"/> or
    /// <see cref="ReproducibleSampler.ForRank"/> was told (or the launcher's <c>RANK</c>); null for one process. Recorded,
    /// not compared: a run resumes on another rank, and another world size.
    /// </summary>
    public int? Rank { get; internal init; }

    /// <summary>How many processes train the model (see <see cref="Rank"/>); null for one process.</summary>
    public int? WorldSize { get; internal init; }

    internal ReproducibleEnvironment()
    {
    }

    /// <summary>Reads the environment now.</summary>
    public static ReproducibleEnvironment Current()
    {
        State.BlockRuntime runtime = State.BlockRuntime.Shared;
        return Current(runtime.IsSeeded ? runtime.RootSeed : null, runtime.IsSeeded ? runtime.Derivation : null);
    }

    /// <summary>Reads the environment now, with the seeding of the runtime that asks.</summary>
    internal static ReproducibleEnvironment Current(long? rootSeed, BlockDerivation? derivation)
    {
        ReproducibleEnvironment fixedPart = Fixed.Value;
        LibTorchContext? context = null;
        try
        {
            context = LibTorchContext.Instance;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or InvalidOperationException)
        {
            // the switches are unknown here
        }
        return new ReproducibleEnvironment
        {
            ReproducibleBlockVersion = fixedPart.ReproducibleBlockVersion,
            TorchSharpVersion = fixedPart.TorchSharpVersion,
            LibTorchVersion = fixedPart.LibTorchVersion,
            CpuCapability = fixedPart.CpuCapability,
            CpuModel = fixedPart.CpuModel,
            CpuVendor = fixedPart.CpuVendor,
            OperatingSystem = fixedPart.OperatingSystem,
            DotNetVersion = fixedPart.DotNetVersion,
            CudaVersion = fixedPart.CudaVersion,
            CudaDevices = fixedPart.CudaDevices,
            CuDnnVersion = fixedPart.CuDnnVersion,
            CudaDeviceNames = fixedPart.CudaDeviceNames,
            TorchThreads = Try(() => (int?)torch.get_num_threads()) ?? 0,
            TorchInteropThreads = Try(() => (int?)torch.get_num_interop_threads()) ?? 0,
            DeterministicAlgorithms = context?.DeterministicAlgorithms,
            DeterministicWarnOnly = context?.DeterministicAlgorithmsWarnOnly,
            DeterministicCuDnn = context?.DeterministicCuDnn,
            BenchmarkCuDnn = context?.BenchmarkCuDnn,
            AllowTf32Matmul = Try(() => (bool?)torch.backends.cuda.matmul.allow_tf32),
            AllowTf32CuDnn = Try(() => (bool?)torch.backends.cudnn.allow_tf32),
            RootSeed = rootSeed,
            Derivation = derivation,
            Rank = DataParallel.Current?.Rank,
            WorldSize = DataParallel.Current?.WorldSize,
        };
    }

    private static ReproducibleEnvironment ReadFixed()
    {
        bool cuda = torch.cuda.is_available();
        return new ReproducibleEnvironment
        {
            ReproducibleBlockVersion = VersionOf(typeof(Reproducible).Assembly),
            TorchSharpVersion = VersionOf(typeof(torch).Assembly),
            LibTorchVersion = Try(LibTorchInfo.Version),
            CpuCapability = Try(LibTorchInfo.CpuCapability),
            CpuModel = Try(LibTorchInfo.CpuModel) ?? "unknown",
            CpuVendor = Try(LibTorchInfo.CpuVendor) ?? "unknown",
            OperatingSystem = RuntimeInformation.OSDescription,
            DotNetVersion = RuntimeInformation.FrameworkDescription,
            CudaDevices = cuda ? torch.cuda.device_count() : 0,
            CudaVersion = cuda ? Try(CudaInfo.RuntimeVersion) : null,
            CuDnnVersion = cuda ? Try(CudaInfo.CuDnnVersion) : null,
            CudaDeviceNames = cuda ? Try(() => CudaInfo.DeviceNames(torch.cuda.device_count()) is { Length: > 0 } names ? string.Join(", ", names) : null) : null,
        };
    }

    /// <summary>An assembly's version as its package names it: the informational version without the commit, else the assembly version.</summary>
    internal static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>One value of the record, or null when reading it failed: the record never makes a capture fail.</summary>
    private static T? Try<T>(Func<T?> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return default;
        }
    }

    /// <summary>
    /// The differences from <paramref name="other"/> that can change what a run computes, one sentence each; empty when
    /// there are none. The seeding and the intra-op thread count are compared too; the operating system (whose version
    /// names the kernel build) and the inter-op thread count are recorded but not compared.
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(ReproducibleEnvironment other) => DifferencesFrom(other, includeSeeding: true);

    /// <param name="other">The environment to compare with.</param>
    /// <param name="includeSeeding">False when the seeding is about to be replaced (a restore), so it cannot differ in effect.</param>
    internal IReadOnlyList<string> DifferencesFrom(ReproducibleEnvironment other, bool includeSeeding)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        void Compare<T>(string what, T mine, T theirs, string why)
        {
            if (!EqualityComparer<T>.Default.Equals(mine, theirs))
                differences.Add($"{what}: {Show(theirs)} there, {Show(mine)} here ({why})");
        }
        // Values may come from a snapshot made elsewhere: keep control characters out of the warning.
        static string Show<T>(T value) => value is null ? "unknown" : new string(value.ToString()!.Select(c => char.IsControl(c) ? '?' : c).ToArray());

        Compare("libtorch", LibTorchVersion, other.LibTorchVersion, "kernels and their numerics change between versions");
        Compare("TorchSharp", TorchSharpVersion, other.TorchSharpVersion, "the bindings and their defaults");
        Compare("ReproducibleBlock", MinorVersion(ReproducibleBlockVersion), MinorVersion(other.ReproducibleBlockVersion), "streams move only in minor versions, per the changelog");
        Compare("CPU capability", CpuCapability, other.CpuCapability, "vectorised float kernels round differently");
        Compare("CPU vendor", CpuVendor, other.CpuVendor, "dropout masks are drawn through MKL on Intel CPUs only");
        Compare("CUDA", CudaVersion, other.CudaVersion, "CUDA kernels change between versions");
        Compare("CUDA devices", CudaDevices, other.CudaDevices, "CUDA generator state is kept per device");
        Compare("cuDNN", CuDnnVersion, other.CuDnnVersion, "cuDNN's algorithms change between versions");
        Compare("GPUs", CudaDeviceNames, other.CudaDeviceNames, "kernels are chosen and tuned per GPU");
        Compare("torch threads", TorchThreads, other.TorchThreads, "reductions split across threads can round differently");
        Compare("deterministic algorithms", DeterministicAlgorithms, other.DeterministicAlgorithms, "nondeterministic kernels may be used");
        Compare("deterministic algorithms warn only", DeterministicWarnOnly, other.DeterministicWarnOnly, "nondeterministic kernels run, with a warning, where they would throw");
        Compare("cuDNN deterministic", DeterministicCuDnn, other.DeterministicCuDnn, "cuDNN may pick nondeterministic algorithms");
        Compare("cuDNN benchmark", BenchmarkCuDnn, other.BenchmarkCuDnn, "benchmark mode picks algorithms by timing");
        Compare("TF32 in matrix products", AllowTf32Matmul, other.AllowTf32Matmul, "TF32 rounds CUDA matrix products");
        Compare("TF32 in cuDNN", AllowTf32CuDnn, other.AllowTf32CuDnn, "TF32 rounds cuDNN convolutions");
        if (includeSeeding)
        {
            Compare("root seed", RootSeed, other.RootSeed, "every stream derives from it");
            Compare("derivation", Derivation, other.Derivation, "blocks derive their state differently");
        }
        // A runtime's patch releases keep its math; a new major version may change it (Math's functions, vectorised paths).
        Compare(".NET", MajorVersion(DotNetVersion), MajorVersion(other.DotNetVersion), "managed math may change between major versions");
        return differences;
    }

    /// <summary>The record as (name, invariant text) pairs, for the snapshot format; unknown values are left out.</summary>
    internal IEnumerable<(string Name, string Value)> ToPairs()
    {
        static string Text(object value) => Convert.ToString(value, CultureInfo.InvariantCulture)!;
        yield return (nameof(ReproducibleBlockVersion), ReproducibleBlockVersion);
        yield return (nameof(TorchSharpVersion), TorchSharpVersion);
        if (LibTorchVersion is not null) yield return (nameof(LibTorchVersion), LibTorchVersion);
        if (CpuCapability is not null) yield return (nameof(CpuCapability), CpuCapability);
        yield return (nameof(CpuModel), CpuModel);
        yield return (nameof(CpuVendor), CpuVendor);
        yield return (nameof(OperatingSystem), OperatingSystem);
        yield return (nameof(DotNetVersion), DotNetVersion);
        yield return (nameof(TorchThreads), Text(TorchThreads));
        yield return (nameof(TorchInteropThreads), Text(TorchInteropThreads));
        if (DeterministicAlgorithms is { } d) yield return (nameof(DeterministicAlgorithms), Text(d));
        if (DeterministicWarnOnly is { } w) yield return (nameof(DeterministicWarnOnly), Text(w));
        if (DeterministicCuDnn is { } c) yield return (nameof(DeterministicCuDnn), Text(c));
        if (BenchmarkCuDnn is { } b) yield return (nameof(BenchmarkCuDnn), Text(b));
        if (AllowTf32Matmul is { } t) yield return (nameof(AllowTf32Matmul), Text(t));
        if (AllowTf32CuDnn is { } tc) yield return (nameof(AllowTf32CuDnn), Text(tc));
        if (CudaVersion is not null) yield return (nameof(CudaVersion), CudaVersion);
        yield return (nameof(CudaDevices), Text(CudaDevices));
        if (CuDnnVersion is not null) yield return (nameof(CuDnnVersion), CuDnnVersion);
        if (CudaDeviceNames is not null) yield return (nameof(CudaDeviceNames), CudaDeviceNames);
        if (RootSeed is { } seed) yield return (nameof(RootSeed), Text(seed));
        if (Derivation is { } derivation) yield return (nameof(Derivation), derivation.ToString());
        if (Rank is { } rank) yield return (nameof(Rank), Text(rank));
        if (WorldSize is { } worldSize) yield return (nameof(WorldSize), Text(worldSize));
    }

    /// <summary>The record from <see cref="ToPairs"/>'s pairs; names it does not know are ignored (a later version's).</summary>
    /// <exception cref="FormatException">A known value does not parse.</exception>
    internal static ReproducibleEnvironment FromPairs(IReadOnlyDictionary<string, string> pairs)
    {
        string? Get(string name) => pairs.TryGetValue(name, out string? value) ? value : null;
        int Int(string name) => Get(name) is { } v ? int.Parse(v, NumberStyles.Integer, CultureInfo.InvariantCulture) : 0;
        bool? Bool(string name) => Get(name) is { } v ? bool.Parse(v) : null;
        try
        {
            return new ReproducibleEnvironment
            {
                ReproducibleBlockVersion = Get(nameof(ReproducibleBlockVersion)) ?? "unknown",
                TorchSharpVersion = Get(nameof(TorchSharpVersion)) ?? "unknown",
                LibTorchVersion = Get(nameof(LibTorchVersion)),
                CpuCapability = Get(nameof(CpuCapability)),
                CpuModel = Get(nameof(CpuModel)) ?? "unknown",
                CpuVendor = Get(nameof(CpuVendor)) ?? "unknown",
                OperatingSystem = Get(nameof(OperatingSystem)) ?? "unknown",
                DotNetVersion = Get(nameof(DotNetVersion)) ?? "unknown",
                TorchThreads = Int(nameof(TorchThreads)),
                TorchInteropThreads = Int(nameof(TorchInteropThreads)),
                DeterministicAlgorithms = Bool(nameof(DeterministicAlgorithms)),
                DeterministicWarnOnly = Bool(nameof(DeterministicWarnOnly)),
                DeterministicCuDnn = Bool(nameof(DeterministicCuDnn)),
                BenchmarkCuDnn = Bool(nameof(BenchmarkCuDnn)),
                AllowTf32Matmul = Bool(nameof(AllowTf32Matmul)),
                AllowTf32CuDnn = Bool(nameof(AllowTf32CuDnn)),
                CudaVersion = Get(nameof(CudaVersion)),
                CudaDevices = Int(nameof(CudaDevices)),
                CuDnnVersion = Get(nameof(CuDnnVersion)),
                CudaDeviceNames = Get(nameof(CudaDeviceNames)),
                RootSeed = Get(nameof(RootSeed)) is { } seed ? long.Parse(seed, NumberStyles.Integer, CultureInfo.InvariantCulture) : null,
                Derivation = Get(nameof(Derivation)) is { } derivation ? ParseDerivation(derivation) : null,
                Rank = Get(nameof(Rank)) is { } rank ? int.Parse(rank, NumberStyles.None, CultureInfo.InvariantCulture) : null,
                WorldSize = Get(nameof(WorldSize)) is { } worldSize ? int.Parse(worldSize, NumberStyles.None, CultureInfo.InvariantCulture) : null,
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"The snapshot's environment record has a value that does not parse: {e.Message}", e);
        }
    }

    /// <summary>"0.3" from "0.3.1" or "0.3.0-ci.12.1": the part of a version whose change may move streams.</summary>
    internal static string MinorVersion(string version)
    {
        string[] parts = version.Split('.', '-', '+');
        return parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : version;
    }

    /// <summary>".NET 10" from ".NET 10.0.12" (<see cref="RuntimeInformation.FrameworkDescription"/>); the text itself when it has no version.</summary>
    internal static string MajorVersion(string description)
    {
        int digit = description.IndexOfAny("0123456789".ToCharArray());
        if (digit < 0)
            return description;
        int end = digit;
        while (end < description.Length && char.IsAsciiDigit(description[end]))
            end++;
        return description[..end];
    }

    private static BlockDerivation ParseDerivation(string text) =>
        text is nameof(BlockDerivation.Keyed) or nameof(BlockDerivation.ResetAndAdvance)
            ? Enum.Parse<BlockDerivation>(text)
            : throw new FormatException($"'{text}' is not a derivation.");

    /// <inheritdoc />
    public override string ToString() =>
        $"ReproducibleBlock {ReproducibleBlockVersion}, TorchSharp {TorchSharpVersion}, libtorch {LibTorchVersion ?? "unknown"} ({CpuCapability ?? "unknown"} kernels), "
        + $"{CpuModel} ({CpuVendor}), {OperatingSystem}, {DotNetVersion}, {TorchThreads}/{TorchInteropThreads} torch threads, "
        + $"CUDA {CudaVersion ?? "none"} ({CudaDevices} devices{(CudaDeviceNames is null ? "" : ": " + CudaDeviceNames)}), cuDNN {CuDnnVersion ?? "none"}, deterministic algorithms {Show(DeterministicAlgorithms)}{(DeterministicWarnOnly == true ? " (warn only)" : "")}, "
        + $"cuDNN deterministic {Show(DeterministicCuDnn)} benchmark {Show(BenchmarkCuDnn)}, TF32 matmul {Show(AllowTf32Matmul)} cuDNN {Show(AllowTf32CuDnn)}, "
        + $"root seed {(RootSeed is { } seed ? seed.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}, {(Derivation?.ToString() ?? "no derivation")}";

    private static string Show(bool? value) => value is { } v ? (v ? "on" : "off") : "unknown";
}
