using System.Collections.Generic;

namespace ReproducibleBlock.State;

/// <summary>
/// The batches being loaded right now: from the first to the last <see cref="ReproducibleSampler.Resolve"/> of a batch,
/// the flow that took the batch's indices waits for <c>Dataset.GetTensor</c> to run on its workers (or on itself), and
/// every woven call made by that flow or a fork of it is part of the loading: it runs passively.
/// </summary>
/// <remarks>
/// A window belongs to the flow that enumerated the sampler, named by the block its <see cref="System.Threading.AsyncLocal{T}"/>
/// held then: DataLoader workers inherit that value, and so does the flow itself when it loads samples on its own
/// thread (PLINQ runs one partition on the caller). Another flow's woven calls are not part of it.
/// </remarks>
internal sealed class LoadingWindows
{
    private readonly List<(object Window, BlockScope? Flow)> _open = [];

    public void Open(object window, BlockScope? flow) => _open.Add((window, flow));

    public void Close(object window) => _open.RemoveAll(open => ReferenceEquals(open.Window, window));

    /// <summary>SetSeed starts over: a batch left loading (an enumeration never finished nor disposed) is over too.</summary>
    public void CloseAll() => _open.Clear();

    /// <summary>Whether a flow whose last entered block is <paramref name="flow"/> is loading a batch now.</summary>
    public bool Covers(BlockScope? flow)
    {
        foreach ((object _, BlockScope? open) in _open)
        {
            if (ReferenceEquals(open, flow))
                return true;
        }
        return false;
    }
}
