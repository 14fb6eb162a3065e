using System;
using System.ComponentModel;

namespace ReproducibleBlock;

/// <summary>
/// Entry points for the code ReproducibleBlock.Fody weaves into constructors. Not meant to be called directly:
/// use <see cref="Reproducible.Block"/> and <see cref="Reproducible.InstanceBlock"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WovenCode
{
    // Set by a woven constructor just before it calls another woven constructor of its own type through this(...),
    // consumed by that constructor's first instruction: nothing runs in between, so a thread-static flag suffices.
    [ThreadStatic]
    private static bool t_chainedCallPending;

    /// <summary>
    /// Enters the block of a woven constructor (an instance block), or returns null when this constructor was reached
    /// through <c>this(...)</c> from a woven constructor that already entered it.
    /// </summary>
    /// <exception cref="InvalidOperationException">As for <see cref="Reproducible.InstanceBlock"/>.</exception>
    public static BlockScope? EnterConstructorBlock(long blockSeed, bool restoreOnExit) => EnterConstructorBlock(blockSeed, restoreOnExit, name: null);

    /// <summary>
    /// As <see cref="EnterConstructorBlock(long, bool)"/>, naming the block in traces (<c>Namespace.Type..ctor</c>).
    /// Woven by ReproducibleBlock.Fody 0.2 and later; assemblies woven before call the overload without a name.
    /// </summary>
    /// <exception cref="InvalidOperationException">As for <see cref="Reproducible.InstanceBlock"/>.</exception>
    public static BlockScope? EnterConstructorBlock(long blockSeed, bool restoreOnExit, string? name)
    {
        if (t_chainedCallPending)
        {
            t_chainedCallPending = false;
            return null;
        }
        return State.BlockRuntime.Shared.Enter(blockSeed, restoreOnExit, instance: true, name, woven: true);
    }

    /// <summary>Enters the block of a woven method, as <see cref="Reproducible.Block"/>, naming it in traces (<c>Namespace.Type.Method</c>).</summary>
    /// <exception cref="InvalidOperationException">As for <see cref="Reproducible.Block"/>.</exception>
    public static BlockScope EnterBlock(long blockSeed, bool restoreOnExit, string? name) =>
        State.BlockRuntime.Shared.Enter(blockSeed, restoreOnExit, instance: false, name, woven: true);

    /// <summary>Enters <paramref name="owner"/>'s continuing block, as <see cref="Reproducible.ContinuingBlock"/>, naming it in traces.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="owner"/> is null.</exception>
    /// <exception cref="InvalidOperationException">As for <see cref="Reproducible.ContinuingBlock"/>.</exception>
    public static BlockScope EnterContinuingBlock(object owner, string? name)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return State.BlockRuntime.Shared.EnterStream(owner, name);
    }

    /// <summary>
    /// Gives <paramref name="owner"/>, whose woven constructor's block is the innermost open block, the continuing
    /// stream keyed by that construction path (see <see cref="Reproducible.ContinuingBlock"/>).
    /// </summary>
    public static void RegisterStream(object owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        State.BlockRuntime.Shared.RegisterStream(owner);
    }

    /// <summary>
    /// As <see cref="RegisterStream"/>, for a constructor woven with <c>IsolateParts = false</c>: TorchSharp's random
    /// modules in <paramref name="owner"/>'s tree get no streams keyed by their path, and draw in the stream of the woven
    /// module that calls them, as in 0.2.
    /// </summary>
    public static void RegisterStreamWithoutPaths(object owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        State.BlockRuntime.Shared.RegisterStream(owner, pathStreams: false);
    }

    /// <summary>
    /// Enters a site of the woven constructor being run: a call, named by its callee, drawn in a block of its own keyed
    /// by that name and how many calls of it came before in the same constructor call.
    /// </summary>
    public static void EnterSite(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        State.BlockRuntime.Shared.EnterSite(name, State.SiteKind.Call);
    }

    /// <summary>Enters a site of the woven constructor being run: the value stored in the member (or registered under the name) <paramref name="name"/>.</summary>
    public static void EnterMemberSite(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        State.BlockRuntime.Shared.EnterSite(name, State.SiteKind.Member);
    }

    /// <summary>Leaves the innermost site entered by <see cref="EnterSite"/> or <see cref="EnterMemberSite"/>.</summary>
    public static void ExitSite() => State.BlockRuntime.Shared.ExitSite();

    /// <summary>
    /// Before woven code calls the <c>forward</c> of one of TorchSharp's random modules directly (no hook runs then):
    /// enters its stream, keyed by its path under its woven module; null for any other module.
    /// </summary>
    public static BlockScope? EnterModule(object module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return State.BlockRuntime.Shared.EnterModule(module);
    }

    /// <summary>After that call: leaves what <see cref="EnterModule"/> entered.</summary>
    public static void ExitModule(object module)
    {
        ArgumentNullException.ThrowIfNull(module);
        State.BlockRuntime.Shared.ExitModule(module);
    }

    /// <summary>
    /// After that call, when it returned <paramref name="output"/>: as <see cref="ExitModule"/>, with the output's
    /// tensors fingerprinted for the module's exit event while the trace records tensors
    /// (<see cref="BlockTrace.TensorsEnvironmentVariable"/>).
    /// </summary>
    /// <typeparam name="T">The <c>forward</c>'s return type: a value type is boxed only while tensors are traced.</typeparam>
    public static void ExitModuleWithOutput<T>(object module, T output)
    {
        ArgumentNullException.ThrowIfNull(module);
        State.BlockRuntime runtime = State.BlockRuntime.Shared;
        if (runtime.TracesTensors)
            runtime.TraceModuleOutput(module, output);
        runtime.ExitModule(module);
    }

    /// <summary>
    /// Before a woven continuing method (a module's <c>forward</c>) returns <paramref name="output"/> from the block that
    /// <see cref="EnterContinuingBlock"/> entered as <paramref name="scope"/>: while the trace records tensors
    /// (<see cref="BlockTrace.TensorsEnvironmentVariable"/>), the block's exit event carries the fingerprint of the
    /// output's tensors (a tensor, or tuples and collections of them). Otherwise it reads one flag and returns.
    /// </summary>
    /// <typeparam name="T">The method's return type: a value type is boxed only while tensors are traced.</typeparam>
    public static void RecordOutput<T>(BlockScope? scope, T output)
    {
        State.BlockRuntime runtime = State.BlockRuntime.Shared;
        if (scope is not null && runtime.TracesTensors)
            runtime.TraceOutput(scope, output);
    }

    /// <summary>Marks that the next woven constructor to start is reached through <c>this(...)</c> and must not enter a block of its own.</summary>
    public static void ChainingToWovenConstructor() => t_chainedCallPending = true;
}
