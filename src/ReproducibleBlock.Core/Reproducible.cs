using System;
using ReproducibleBlock.State;

namespace ReproducibleBlock;

/// <summary>
/// Seeds every random-number generator and isolates blocks of code from each other's random draws.
/// </summary>
/// <remarks>
/// <para>
/// Call <see cref="SetSeed"/> once at the start of the program; then every block (<c>using (Reproducible.Block(64)) { ... }</c>)
/// starts from a state of its own, derived from that seed and its block seed, so nothing that happens outside the
/// block changes what is drawn inside it: adding a layer to one part of a network leaves the initial weights,
/// dropout masks and data order of every other block as they were.
/// </para>
/// <para>
/// The generators covered are torch's CPU default generator (layer initialisation, dropout, <c>torch.rand*</c>),
/// the default CUDA generator of every device when CUDA is available, and <see cref="Random"/>.
/// They are process-global, so blocks may be open on only one thread or asynchronous flow at a time.
/// </para>
/// </remarks>
public static class Reproducible
{
    private static BlockRuntime Runtime => BlockRuntime.Shared;

    /// <summary>
    /// Seeds every generator with <paramref name="seed"/> and records the reference state that blocks derive from.
    /// </summary>
    /// <param name="seed">Any value. Outside blocks, torch draws exactly what PyTorch draws after <c>torch.manual_seed(seed)</c>.</param>
    /// <param name="derivation">How blocks derive their state; see <see cref="BlockDerivation"/>.</param>
    /// <remarks>
    /// Calling it again starts over: the reference state and the instance counters of <see cref="InstanceBlock"/> are reset.
    /// It also warns once, through <see cref="WarningHandler"/>, about each loaded assembly that uses the weaving
    /// attributes but was not woven (see <see cref="WovenAssemblyAttribute"/>).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="derivation"/> is not a defined value.</exception>
    /// <exception cref="InvalidOperationException">A block is open.</exception>
    public static void SetSeed(long seed, BlockDerivation derivation = BlockDerivation.Keyed)
    {
        Runtime.SetSeed(seed, derivation);
        UnwovenAssemblies.Shared.Check(AppDomain.CurrentDomain.GetAssemblies(), Runtime.WarningHandler);
    }

    /// <summary>Whether <see cref="SetSeed"/> (or <see cref="Restore"/>) has been called in this process.</summary>
    public static bool IsSeeded => Runtime.IsSeeded;

    /// <summary>
    /// Enters a block: every generator is set to the state derived from the enclosing block (or the root seed) and
    /// <paramref name="blockSeed"/>. Entering the same block seed in the same place always gives the same state.
    /// </summary>
    /// <param name="blockSeed">The block's seed. Give every block its own. Any value under <see cref="BlockDerivation.Keyed"/>; 0 to 2^32 - 1 under <see cref="BlockDerivation.ResetAndAdvance"/>.</param>
    /// <param name="restoreOnExit">
    /// When true, leaving the block puts every generator back exactly as it was before entry, as if the block had drawn
    /// nothing. When false (the default, as in torch-reproducible-block), draws after the block continue from the block's state.
    /// </param>
    /// <returns>The open block; dispose it to leave the block.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetSeed"/> has not been called, or another thread or asynchronous flow has a block open.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockSeed"/> is outside 0 to 2^32 - 1 under <see cref="BlockDerivation.ResetAndAdvance"/>.</exception>
    public static BlockScope Block(long blockSeed, bool restoreOnExit = false) => Runtime.Enter(blockSeed, restoreOnExit, instance: false);

    /// <summary>
    /// Enters a block whose state also depends on how many instance blocks with the same seed were already entered
    /// directly under the enclosing block (or, at the top level, since <see cref="SetSeed"/>). Woven constructors use it,
    /// so two modules of one type built side by side get different weights, reproducibly.
    /// </summary>
    /// <remarks>
    /// The first instance block with a given seed in a place equals <see cref="Block"/> with that seed. Under
    /// <see cref="BlockDerivation.ResetAndAdvance"/> the count is ignored, as blocks there are absolute.
    /// </remarks>
    /// <inheritdoc cref="Block" path="/param"/>
    /// <inheritdoc cref="Block" path="/returns"/>
    /// <inheritdoc cref="Block" path="/exception"/>
    public static BlockScope InstanceBlock(long blockSeed, bool restoreOnExit = false) => Runtime.Enter(blockSeed, restoreOnExit, instance: true);

    /// <summary>
    /// Enters <paramref name="owner"/>'s continuing block: a stream of its own that resumes where its previous call left
    /// it. Put it around a module's <c>forward</c> (<c>using (Reproducible.ContinuingBlock(this)) { ... }</c>): every call
    /// draws fresh dropout masks, reproducibly, and nothing outside sees its draws; another module's draws never shift
    /// them.
    /// </summary>
    /// <param name="owner">Whose stream: typically the module itself. Held weakly: a collected owner takes its stream with it.</param>
    /// <returns>The open block; dispose it to save the stream and put the enclosing stream back as it was.</returns>
    /// <remarks>
    /// <para>
    /// The first entry starts from a state derived from the owner's key, as a block does. The key is claimed under an
    /// anchor: the owner's woven constructor's block (its construction path), or else the block open at its first call;
    /// the n-th claim under an anchor since <see cref="SetSeed"/> gets the n-th key there. So every live owner has a
    /// stream of its own (two models built by two calls of one factory, in two folds, in two openings of one block), and
    /// the same model built again after <see cref="SetSeed"/> has the same ones. CPU, managed and CUDA state all
    /// continue; where CUDA state cannot be read (no libtorch_cuda exports), each call gets a fresh CUDA seed derived
    /// from the stream's key and call count instead: isolated and repeatable, but not one continuous Philox stream.
    /// </para>
    /// <para>
    /// Entered again while it is open (a <c>forward</c> calling <c>base.forward</c> or another overload, a recursion),
    /// it continues the live stream. Entered on a thread that does not own the open blocks (another thread, a thread
    /// forked off the owning flow, <c>Dataset.GetTensor</c> while a batch loads), it runs passively: it does not touch
    /// the generators, and disposing it throws when the generators moved meanwhile (see the README's Threads section).
    /// </para>
    /// <para>
    /// <see cref="Capture"/> records every stream's state and <see cref="Restore"/> puts them back, so a resumed run
    /// continues every module's masks exactly; both are refused inside a continuing block (checkpoint between steps).
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// <see cref="SetSeed"/> has not been called; or, when the block is left, it ran passively on a thread that does not
    /// own the open blocks and the generators moved meanwhile (a draw that no run can repeat).
    /// </exception>
    public static BlockScope ContinuingBlock(object owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return Runtime.EnterStream(owner);
    }

    /// <summary>
    /// A managed generator that follows the blocks like torch's: seeded by <see cref="SetSeed"/>, given its own state in
    /// each block, saved and restored with the others. Use it for what torch does not draw, such as data order
    /// (see <see cref="BlockShuffler"/>). It is the same instance for the whole process and, like any
    /// <see cref="System.Random"/>, not thread-safe.
    /// </summary>
    public static Random Random => Runtime.Random;

    /// <summary>
    /// Captures everything this library controls: the root seed and derivation, the reference state, the CPU, managed
    /// and CUDA generator states, the instance counters and what the open blocks will restore, for a checkpoint.
    /// </summary>
    /// <returns>A snapshot; <see cref="RngSnapshot.ToBytes"/> turns it into bytes to save beside the model.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetSeed"/> has not been called, or another thread or asynchronous flow has a block open.</exception>
    public static RngSnapshot Capture() => new(Runtime.Capture());

    /// <summary>
    /// Puts everything back as <paramref name="snapshot"/> recorded it, so that a run resumed from a checkpoint, in this
    /// process or a new one, draws exactly what the uninterrupted run would have drawn.
    /// </summary>
    /// <param name="snapshot">A snapshot from <see cref="Capture"/> or <see cref="RngSnapshot.FromBytes"/>.</param>
    /// <remarks>
    /// Call it where the snapshot was captured: outside every block, or inside the same blocks (after the same SetSeed),
    /// after building again what was built before the capture (the model): its constructors' instance blocks must have
    /// been entered as often as the snapshot counted, so that what is built afterwards gets the captured run's keys.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="snapshot"/> is null.</exception>
    /// <exception cref="ArgumentException">The snapshot was captured with a libtorch whose CPU state has another size.</exception>
    /// <exception cref="InvalidOperationException">
    /// The open blocks differ from those open at capture; this process has entered fewer instance blocks (woven
    /// constructors) than the snapshot counted at some level (build the model first); or another flow has a block open.
    /// </exception>
    public static void Restore(RngSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Runtime.Restore(snapshot.Data);
    }

    /// <summary>
    /// Resumes from a checkpoint without handing the snapshot to the code that opens its blocks: restores
    /// <paramref name="snapshot"/> now when it was captured where the caller is (outside every block, or inside the
    /// same blocks), or else as soon as the blocks open at its capture are entered again, by whatever code enters
    /// them (a woven <c>[ReproducibleBlock(128)] Train()</c>, for example).
    /// </summary>
    /// <param name="snapshot">A snapshot from <see cref="Capture"/> or <see cref="RngSnapshot.FromBytes"/>.</param>
    /// <remarks>
    /// Call it after <see cref="SetSeed"/>, with the same seed and derivation as the captured run, and after building
    /// the model again (a snapshot captured after woven constructors ran is refused until as many have run here). <see cref="IsResumePending"/> tells whether it is still waiting for its blocks. Entering the block
    /// that completes the path restores everything the snapshot holds, exactly as <see cref="Restore"/> called inside
    /// that block would.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="snapshot"/> is null.</exception>
    /// <exception cref="ArgumentException">The snapshot was captured with a libtorch whose CPU state has another size.</exception>
    /// <exception cref="InvalidOperationException">
    /// The snapshot was captured inside blocks and <see cref="SetSeed"/> was not called with its seed and derivation
    /// (its blocks could never be entered), Resume is called as deep as or deeper than the blocks open at capture, this
    /// process has entered fewer instance blocks than the snapshot counted (when it restores at once; a snapshot that
    /// waits is refused, the same way, by the entry of its innermost block when that block built instances before the
    /// capture), or another thread or asynchronous flow has a block open. A SetSeed or Restore after Resume drops the waiting
    /// snapshot (SetSeed with a warning), and leaving the snapshot's outermost block without applying it warns.
    /// </exception>
    public static void Resume(RngSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Runtime.Resume(snapshot.Data);
    }

    /// <summary>Whether a snapshot given to <see cref="Resume"/> is still waiting for its blocks to be entered.</summary>
    public static bool IsResumePending => Runtime.IsResumePending;

    /// <summary>
    /// Makes libtorch use deterministic algorithms (what PyTorch's <c>torch.use_deterministic_algorithms</c> does, which
    /// TorchSharp 0.107 does not implement): operations with a deterministic implementation use it, the others throw
    /// (or, with <paramref name="warnOnly"/>, warn). It also makes cuDNN deterministic and turns its benchmark mode off,
    /// and, when CUDA is available, sets <c>CUBLAS_WORKSPACE_CONFIG=:4096:8</c> in the native environment for cuBLAS.
    /// </summary>
    /// <param name="enabled">True to turn it on; false to turn it off and put cuDNN's modes back as they were.</param>
    /// <param name="warnOnly">When true, an operation without a deterministic implementation warns instead of throwing.</param>
    /// <remarks>
    /// With it on, libtorch also fills memory that <c>torch.empty</c> leaves uninitialised (NaN for floating point, the
    /// largest value for integers), so reading it by mistake is visible and repeatable. The setting is process-wide.
    /// cuBLAS reads its variable when it creates a handle: if CUDA matrix products ran before this call, a warning says
    /// to set <c>CUBLAS_WORKSPACE_CONFIG</c> before the process starts.
    /// </remarks>
    /// <exception cref="PlatformNotSupportedException">The loaded libtorch does not export the switches (the message names what is missing).</exception>
    public static void UseDeterministicAlgorithms(bool enabled = true, bool warnOnly = false)
    {
        Determinism.Use(enabled, warnOnly, message => Runtime.WarningHandler?.Invoke(message));
        Runtime.TraceEnvironmentChange(); // a trace records the switch as its seed event did not (SetSeed came first)
    }

    /// <summary>Whether libtorch uses deterministic algorithms (see <see cref="UseDeterministicAlgorithms"/>), whoever turned them on.</summary>
    /// <exception cref="PlatformNotSupportedException">The loaded libtorch does not export the switches.</exception>
    public static bool AreDeterministicAlgorithmsEnabled => Determinism.Enabled;

    /// <summary>
    /// Receives the library's rare warnings (for example, when CUDA state cannot be read and a fallback is used).
    /// By default they are written to standard error; set another handler to route them to your logger, or null to drop them.
    /// </summary>
    /// <remarks>The handler is called while the library holds its lock: it must not call back into <see cref="Reproducible"/>.</remarks>
    public static Action<string>? WarningHandler
    {
        get => Runtime.WarningHandler;
        set => Runtime.WarningHandler = value;
    }
}
