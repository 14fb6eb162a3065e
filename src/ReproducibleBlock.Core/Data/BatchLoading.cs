using System;
using System.Diagnostics;
using ReproducibleBlock.State;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock;

/// <summary>
/// Follows the batches a <c>DataLoader</c> takes from a <see cref="ReproducibleSampler"/> and loads, to refuse what
/// would make a run depend on its worker count: draws from torch's global generators while a batch loads, and
/// <c>Resolve</c> calls that no epoch of the sampler stands behind.
/// </summary>
/// <remarks>
/// <para>
/// TorchSharp's <c>DataLoader</c> takes a batch's indices from the sampler on the calling flow, then runs
/// <c>Dataset.GetTensor</c> for them on its workers (PLINQ, one partition on the caller's thread) while that flow waits.
/// So the positions the sampler hands out in one go form a batch, and from the batch's first <c>Resolve</c> to its last,
/// nothing may move the global generators: a sample's augmentation must come from its own stream. At the batch's last
/// <c>Resolve</c>, the generators are compared with their state when the batch was handed out. (Woven calls made while
/// a batch loads run passively: on the workers, forked off the loading flow, and in the <c>GetTensor</c> calls the
/// loading flow runs itself, which <see cref="InItsOwnScope"/> recognises.)
/// </para>
/// <para>
/// What this cannot see: draws made after the batch's last <c>Resolve</c> (in the last sample's <c>GetTensor</c>), and
/// batches of a <c>Dataset</c> that does not call <c>Resolve</c> for every sample (the window then never opens, or never
/// closes before the next batch is taken, when it is closed).
/// </para>
/// </remarks>
internal sealed class BatchLoading(ReproducibleSampler sampler)
{
    private readonly object _gate = new();
    private object? _epoch;
    private long _epochNumber;
    private long _start;
    private long _end;
    private bool[] _resolved = new bool[16];
    private int _resolvedCount;
    private long _batchNumber = -1;
    private (ulong Writes, Fingerprint State) _handedOutMark;
    private TorchSharp.DisposeScope? _handOutScope;
    private bool _epochHandedOut;
    private bool _epochLoaded;
    private long _resolvesSinceLoaded;

    /// <summary>The position <paramref name="position"/> of <paramref name="epoch"/> was handed out, on the flow that enumerates the sampler.</summary>
    public void HandedOut(object epoch, long epochNumber, long position)
    {
        TorchSharp.DisposeScope? scope = TorchSharp.torch.CurrentDisposeScope;
        lock (_gate)
        {
            _handOutScope = scope;
            if (!ReferenceEquals(epoch, _epoch))
            {
                _epoch = epoch;
                _epochNumber = epochNumber;
                _batchNumber = -1;
                _epochHandedOut = false;
                _epochLoaded = false;
                _resolvesSinceLoaded = 0;
                StartBatch(position);
            }
            else if (_resolvedCount > 0 || position != _end)
            {
                StartBatch(position); // the previous batch is loading (or loaded): this position starts the next one
            }
            if (_end - _start == _resolved.Length)
                Array.Resize(ref _resolved, _resolved.Length * 2);
            _end = position + 1;
        }
    }

    private void StartBatch(long position)
    {
        _batchNumber++;
        _start = _end = position;
        Array.Clear(_resolved);
        _resolvedCount = 0;
        _handedOutMark = BlockRuntime.Shared.MovementMark();
    }

    /// <summary>
    /// Whether <paramref name="position"/> of <paramref name="epoch"/> is in a later batch than the epoch's first, handed
    /// out last and not resolved yet: a wrapper around the sampler (LINQ's <c>Select</c>, an iterator) ends the sampler's
    /// enumeration as soon as it runs out, before the <c>DataLoader</c> loads the short last batch it took. (An epoch
    /// taken whole by other code is one batch, the first: its positions are not let through.)
    /// </summary>
    public bool IsLastBatchStillLoading(object epoch, long position)
    {
        lock (_gate)
            return ReferenceEquals(epoch, _epoch) && _batchNumber > 0 && position >= _start && position < _end && !_resolved[position - _start];
    }

    /// <summary>The enumeration of <paramref name="epoch"/> ended, whole (<paramref name="exhausted"/>) or abandoned.</summary>
    public void Ended(object epoch, bool exhausted)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(epoch, _epoch))
                return;
            _epochHandedOut = exhausted;
        }
    }

    /// <summary>
    /// Whether a <c>Resolve</c> made with <paramref name="current"/> as its thread's dispose scope runs in a scope of its
    /// own, opened after the indices were handed out: the <c>DataLoader</c> opens one around each <c>GetTensor</c>. A
    /// loop that takes indices and resolves them itself resolves in the scope it took them in.
    /// </summary>
    public bool InItsOwnScope(TorchSharp.DisposeScope? current)
    {
        lock (_gate)
            return current is not null && !ReferenceEquals(current, _handOutScope);
    }

    /// <summary>A sample's stream was resolved, on any thread.</summary>
    /// <remarks>
    /// Once an epoch was handed out and loaded whole, only the last batch's mixing partners may still be resolved
    /// (mixup resolves another sample's stream); more than twice the epoch's size (at least 64) means the loader takes
    /// its order elsewhere and the epoch's streams are being drawn again.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The global generators moved while the batch loaded, or the sampler's epoch was loaded whole and Resolve goes on.</exception>
    public void Resolved(object epoch, long position)
    {
        bool batchLoaded = false;
        long batch;
        lock (_gate)
        {
            if (!ReferenceEquals(epoch, _epoch))
                return;
            batch = _batchNumber;
            if (position >= _start && position < _end && !_resolved[position - _start])
            {
                _resolved[position - _start] = true;
                if (++_resolvedCount == _end - _start)
                {
                    batchLoaded = true;
                    _epochLoaded = _epochHandedOut;
                }
            }
            else if (_epochLoaded && ++_resolvesSinceLoaded > Math.Max(2 * sampler.Count, 64))
            {
                throw new InvalidOperationException(
                    $"Epoch {_epochNumber} of this ReproducibleSampler was handed out and loaded whole, and Resolve has been called {_resolvesSinceLoaded} times since "
                    + "without a new epoch: the loader does not take its order from this sampler (it was built with shuffle: true, or with another shuffler), "
                    + "so every epoch would get this epoch's streams again. Pass the sampler to the DataLoader as its shuffler argument and let it enumerate the "
                    + "sampler, once per epoch.");
            }
        }
        if (batchLoaded)
            CheckGeneratorsStill(batch);
    }

    /// <summary>The generators must be where they were when the batch was handed out: the loading flow waited meanwhile.</summary>
    private void CheckGeneratorsStill(long batch)
    {
        (ulong writes, Fingerprint state) = BlockRuntime.Shared.MovementMark();
        if (writes != _handedOutMark.Writes || state == _handedOutMark.State)
            return;
        string dataset = DatasetName();
        // The trace names the dataset (the refusal may end the run, or be caught and the run go on with another batch).
        BlockRuntime.Shared.TraceDraw($"{dataset}.GetTensor", State.PassiveReason.DataLoading, $"batch {batch} of epoch {_epochNumber}");
        throw new InvalidOperationException(
            $"While batch {batch} of epoch {_epochNumber} was loading, torch's global generator (or Reproducible.Random) moved: {dataset}.GetTensor drew "
            + "from it instead of from the sample's stream, so what each sample draws depends on the number of workers and on the thread schedule. Draw from the "
            + "sample's stream: var sample = sampler.Resolve(index); then torch.rand(..., generator: sample.Generator), sample.Random for managed draws. "
            + "TorchSharp's random transforms (torchvision.transforms.Random*, Randomize) draw from the global generator or an unseeded System.Random and take no "
            + "generator: draw the decision from the sample's stream and apply the deterministic transform (for example HorizontalFlip()). See "
            + "docs/training.md, \"Data loading\", in ReproducibleBlock's documentation.");
    }

    /// <summary>The dataset whose <c>GetTensor</c> is running on this thread, found on the failure path only.</summary>
    private static string DatasetName()
    {
        foreach (StackFrame frame in new StackTrace(skipFrames: 1).GetFrames())
        {
            if (frame.GetMethod() is { Name: "GetTensor", DeclaringType: { } type })
                return type.FullName ?? type.Name;
        }
        return "Dataset"; // not found on this thread's stack: the refusal reads "Dataset.GetTensor drew"
    }
}
