using System;
using System.Threading;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.State;

/// <summary>
/// Which flow may switch the generators: the one that owns the open blocks. Woven calls of any other flow run
/// passively (<see cref="PassiveCall"/>); hand-written blocks and snapshot operations there are refused.
/// </summary>
internal sealed partial class BlockRuntime
{
    /// <summary>Why a woven call of the calling flow must run passively now; null when it may switch the generators.</summary>
    private PassiveReason? PassiveReasonHere()
    {
        FlowThread self = _stack.ThisThread;
        if (self.PassiveDepth > 0)
            return self.Passive!.Reason;
        if (SampleStream.IsLoadingOnThisThread)
            return PassiveReason.DataLoading;
        if (_passiveCalls > 0)
            return PassiveReason.Concurrent;
        FlowVerdict verdict = _stack.Verdict();
        if (verdict == FlowVerdict.Fork && !self.IsKnownForkOf(_stack.TopOrRoot))
            verdict = AwaitForkVerdict(self, rootIsOwned: true);
        return verdict switch
        {
            FlowVerdict.Owner => null,
            FlowVerdict.Fork => PassiveReason.Fork,
            _ => PassiveReason.OtherFlow,
        };
    }

    /// <summary>Refuses <paramref name="what"/> unless no block is open or the calling flow owns the innermost one.</summary>
    private void CheckSameFlow(string what)
    {
        FlowVerdict verdict = _stack.Verdict(rootIsOwned: false);
        if (verdict == FlowVerdict.Fork && !_stack.ThisThread.IsKnownForkOf(_stack.TopOrRoot))
            verdict = AwaitForkVerdict(_stack.ThisThread, rootIsOwned: false);
        if (verdict != FlowVerdict.Owner)
            throw new InvalidOperationException(_stack.RefusalText(what, verdict));
    }

    /// <summary>
    /// The thread that entered the innermost block may be just returning from an await whose continuation runs here:
    /// give it a moment (outside the lock) to leave the flow before calling this thread a fork. A thread blocked in a
    /// wait (Task.Wait, a PLINQ or Parallel.For join) is not returning: that is a fork at once. A fork is remembered, so
    /// a worker pays the wait once per block it was forked in.
    /// </summary>
    private FlowVerdict AwaitForkVerdict(FlowThread self, bool rootIsOwned)
    {
        long deadline = Environment.TickCount64 + 20;
        var spin = new SpinWait();
        FlowVerdict verdict = FlowVerdict.Fork;
        while (verdict == FlowVerdict.Fork && !(_stack.TopOrRoot.EnteredOn?.IsBlockedInAWait ?? false) && Environment.TickCount64 < deadline)
        {
            Monitor.Exit(_gate);
            try
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            finally
            {
                Monitor.Enter(_gate);
            }
            verdict = _stack.Verdict(rootIsOwned);
        }
        if (verdict == FlowVerdict.Fork)
            self.RememberForkOf(_stack.TopOrRoot);
        return verdict;
    }

    private string PassiveRefusal(string what, PassiveReason reason) => reason switch
    {
        PassiveReason.Fork => _stack.RefusalText(what, FlowVerdict.Fork),
        PassiveReason.OtherFlow => _stack.RefusalText(what, FlowVerdict.Other),
        PassiveReason.DataLoading => $"{what} cannot be entered while a batch is loading (in Dataset.GetTensor, between the first and the last ReproducibleSampler.Resolve of "
            + "the batch): it would move torch's global generators under the flow that waits for the batch. Draw from the sample's own stream instead: "
            + "var sample = sampler.Resolve(index); torch.rand(..., generator: sample.Generator), and sample.Random for managed draws.",
        _ => $"{what} cannot be entered while woven calls run on other threads at the same time: it would move torch's global generators under them. "
            + "Wait for those calls to finish first.",
    };

    /// <summary>Starts a passive call (the outermost of its thread reads every generator's state, to compare at its end).</summary>
    private BlockScope BeginPassive(long blockSeed, string description, PassiveReason reason)
    {
        FlowThread self = _stack.ThisThread;
        if (self.PassiveDepth++ == 0)
        {
            Sources sources = Sources();
            RngState before = self.PassiveBefore ??= sources.NewState();
            sources.Read(before);
            self.Passive = new PassiveCall(description, reason, before, _writes) { Thread = self };
            _passiveCalls++;
        }
        return new BlockScope(this, blockSeed, restoreOnExit: false, self.Passive);
    }

    /// <summary>Ends a passive call; the outermost one throws when the generators moved during it without a write of the library's.</summary>
    private void EndPassive(PassiveCall call)
    {
        FlowThread thread = call.Thread!;
        if (--thread.PassiveDepth > 0)
            return;
        lock (_gate)
        {
            thread.Passive = null;
            _passiveCalls--;
            Sources sources = Sources();
            RngState now = thread.PassiveAfter ??= sources.NewState();
            sources.Read(now);
            bool drew = _writes == call.WritesAtEntry && call.Moved(now);
            if (_trace.Tracer is { } tracer)
                TraceHooks.Passive(tracer, _stack.Top.TracePath, call, drew); // the thread a woven call ran on, where it is not the blocks' own
            if (drew)
                throw call.DrewRefusal();
        }
    }
}
