using System;

namespace ReproducibleBlock.State;

/// <summary>Why a woven call runs passively (see <see cref="PassiveCall"/>).</summary>
internal enum PassiveReason
{
    /// <summary>It runs while a batch loads: between the first and the last <see cref="ReproducibleSampler.Resolve"/> of the batch.</summary>
    DataLoading,

    /// <summary>Its thread was forked off the flow that entered the innermost block, which still runs inside it.</summary>
    Fork,

    /// <summary>Another thread or task entered the innermost block.</summary>
    OtherFlow,

    /// <summary>Other woven calls run passively at the same time, so no call may switch the generators.</summary>
    Concurrent,
}

/// <summary>
/// A woven call (a module's <c>forward</c> or constructor, a woven method, a continuing block) that runs on a flow that
/// does not own the open blocks: it does not touch the generators, so it cannot disturb the flow that owns them.
/// </summary>
/// <remarks>
/// <para>
/// Inference from several threads (each under <c>no_grad</c>, in <c>eval()</c>, drawing nothing) therefore runs as
/// unwoven code does. A call that does draw takes its numbers from torch's one global generator at whatever point the
/// thread schedule leaves it, which no run can repeat: when the generators moved during the outermost passive call of a
/// thread while the library itself wrote none of them, the call's exit throws, naming it and the fix.
/// </para>
/// <para>
/// What this cannot see: a draw during a passive call while the flow that owns the blocks switched the generators
/// (entered or left a block) at the same time; and it cannot tell which thread drew, only that one did while the call
/// ran, so a call that drew nothing while the owning flow drew is refused too: draws on several threads at once are not
/// reproducible whoever makes them.
/// </para>
/// </remarks>
internal sealed class PassiveCall(string description, PassiveReason reason, RngState before, ulong writesAtEntry)
{
    /// <summary>The call in messages: "The continuing block of Net.forward (a Net)".</summary>
    public string Description { get; } = description;

    public PassiveReason Reason { get; } = reason;

    /// <summary>Every generator's state when the call began.</summary>
    public RngState Before { get; } = before;

    /// <summary>The runtime's count of generator writes when the call began.</summary>
    public ulong WritesAtEntry { get; } = writesAtEntry;

    /// <summary>The thread the call runs on (whose passive depth its scopes count).</summary>
    public FlowThread? Thread { get; init; }

    /// <summary>The refusal of a call during which the generators moved with no write of the library's.</summary>
    public InvalidOperationException DrewRefusal()
    {
        string where = Reason switch
        {
            PassiveReason.DataLoading =>
                "while a batch was loading (in Dataset.GetTensor, between the first and the last ReproducibleSampler.Resolve of the batch)",
            PassiveReason.Fork =>
                "on a thread forked off the flow that owns the open blocks while that flow still ran inside them (a DataLoader worker, a Parallel.For or PLINQ body, or a task waited for synchronously)",
            PassiveReason.OtherFlow =>
                "on a thread or task that does not own the open blocks (another flow entered them, or called SetSeed)",
            _ =>
                "while woven calls ran on several threads at once",
        };
        string fix = Reason is PassiveReason.DataLoading or PassiveReason.Fork
            ? "In Dataset.GetTensor draw from the sample's own stream: var sample = sampler.Resolve(index); torch.rand(..., generator: sample.Generator), "
                + "sample.Random for managed draws; do not run modules that draw (dropout in training mode, random transforms) there. "
            : "Calls from several threads at once are reproducible only when they draw nothing (inference under no_grad in eval() mode, without sampling): "
                + "draw on one thread, or give each thread its own process. ";
        return new InvalidOperationException(
            $"{Description} drew random numbers from torch's global generator {where}. It ran without switching the generators, because its thread does not "
            + "own them, so what it drew depends on the thread schedule (or another thread drew while it ran: draws from several threads at once cannot be "
            + $"reproduced, whoever makes them). {fix}See docs/threads.md in ReproducibleBlock's documentation.");
    }

    /// <summary>Whether the generators moved between <see cref="Before"/> and <paramref name="now"/>.</summary>
    public bool Moved(RngState now) =>
        now.Managed != Before.Managed
        || !now.Cpu.AsSpan().SequenceEqual(Before.Cpu)
        || !now.Cuda.AsSpan().SequenceEqual(Before.Cuda);
}
