using System;
using System.IO;
using System.Threading;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// The runtime's tracing steps: starting and stopping the trace, and the fingerprints and events of each block. Every
/// member runs under the runtime's lock (the one passed in), except the exit handlers, which take it themselves.
/// </summary>
internal sealed class TraceHooks(object gate, Action<string> warn)
{
    private TraceWriter? _tracer;
    private RngState? _scratch; // read into while tracing, kept
    private bool _exitHooked;

    /// <summary>The trace being written, or null.</summary>
    public TraceWriter? Tracer => Volatile.Read(ref _tracer);

    /// <summary>The fingerprint of <paramref name="state"/>, or of the generators now when it is null.</summary>
    public Fingerprint Read(Sources sources, RngState? state)
    {
        if (state is null)
            sources.Read(state = _scratch ??= sources.NewState());
        return Fingerprint.Of(state);
    }

    /// <summary>
    /// Writes an entry event. <paramref name="cpuJustWritten"/>: the entry set the CPU state from the write buffer,
    /// which still holds it, so its fingerprint needs no read back.
    /// </summary>
    public void Enter(TraceWriter tracer, BlockFrame frame, BlockFrame parent, string segment, string? name, string kind, in Fingerprint before, Sources sources, bool cpuJustWritten)
    {
        frame.TracePath = parent.TracePath.Length == 0 ? segment : parent.TracePath + "/" + segment;
        frame.TraceName = name ?? BlockNames.OfCaller();
        Fingerprint state;
        if (cpuJustWritten)
        {
            RngState scratch = _scratch ??= sources.NewState();
            sources.Cuda.Read(scratch.Cuda);
            state = Fingerprint.Of(sources.Cpu.LastWritten, sources.Managed.State, scratch.Cuda);
        }
        else
        {
            state = Read(sources, state: null);
        }
        tracer.Enter(frame.TracePath, frame.TraceName, kind, frame.RestoreOnExit, before, state);
    }

    /// <summary>Starts the trace that <see cref="BlockTrace.EnvironmentVariable"/> asks for; a path that cannot be written gives a warning.</summary>
    public void StartFromEnvironment(ScopeStack stack, Seeding? seeding)
    {
        string? path = Environment.GetEnvironmentVariable(BlockTrace.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(path))
            return;
        try
        {
            Start(BlockTrace.ExpandPath(path), stack, seeding);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            warn($"{BlockTrace.EnvironmentVariable}={path}: the trace cannot be written ({e.Message}); the run goes on without tracing. "
                + "Use a writable path, with {pid} in it when several processes start with the variable set.");
        }
    }

    public string Start(string path, ScopeStack stack, Seeding? seeding)
    {
        if (_tracer is { } running)
            throw new InvalidOperationException($"A trace is already being written to {running.Path}. Call BlockTrace.Stop() before starting another.");
        if (stack.Depth > 0)
        {
            throw new InvalidOperationException(
                $"Tracing cannot start inside blocks ({stack.Describe()}): their entries would be missing from the trace. Start it outside every block, or set {BlockTrace.EnvironmentVariable} before the process starts.");
        }
        var tracer = new TraceWriter(path);
        if (seeding is not null)
            tracer.Seed(seeding.RootSeed, seeding.Derivation.Kind, ReproducibleEnvironment.Current().ToPairs());
        if (!_exitHooked)
        {
            _exitHooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => EndAtExit(complete: true);
            AppDomain.CurrentDomain.UnhandledException += (_, _) => EndAtExit(complete: false);
        }
        Volatile.Write(ref _tracer, tracer);
        return path;
    }

    public void Stop()
    {
        _tracer?.End();
        Volatile.Write(ref _tracer, null);
    }

    /// <summary>
    /// At process exit the trace ends (its <c>end</c> line says the run finished); on an unhandled exception it is only
    /// flushed, so the trace shows the run stopped early. Another thread may hold the lock while the process dies:
    /// then the buffer is left unwritten rather than the exit hung.
    /// </summary>
    internal void EndAtExit(bool complete)
    {
        if (!Monitor.TryEnter(gate, TimeSpan.FromSeconds(2)))
            return;
        try
        {
            if (_tracer is not { } tracer)
                return;
            if (complete)
            {
                tracer.End();
                Volatile.Write(ref _tracer, null);
            }
            else
            {
                tracer.Flush();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process is ending: a trace that cannot be written is all there is to lose.
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }
}
