using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Threading;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// The runtime's tracing steps: starting and stopping the trace, and the fingerprints and events of each block. Every
/// member runs under the runtime's lock (the one passed in), except the exit handlers, which take it themselves.
/// </summary>
internal sealed class TraceHooks(object gate, Action<string> warn)
{
    private readonly CodeIdentities _code = new();
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal); // as the trace last recorded it
    private TraceWriter? _tracer;
    private bool _tensors;
    private RngState? _scratch; // read into while tracing, kept
    private bool _exitHooked;
    private (int Threads, int Interop, bool? Deterministic) _polled;
    private bool _warnedAboutOutputs;

    /// <summary>The trace being written, or null.</summary>
    public TraceWriter? Tracer => Volatile.Read(ref _tracer);

    /// <summary>Whether a trace is written and records modules' output tensors.</summary>
    public bool TracesTensors => Volatile.Read(ref _tensors);

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
    /// <remarks>
    /// The block's name in the trace is <c>treeName</c> when given: for a continuing block of a module in a woven
    /// module's tree, its path there (<c>AlexNet.classifier.2</c>), which a user maps back to the model where the woven
    /// member's name (or a random module's path under its woven module) would not say which instance it is. A woven
    /// member's <c>name</c> also names its assembly: a <c>code</c> event comes before the assembly's first block.
    /// </remarks>
    public void Enter(TraceWriter tracer, BlockFrame frame, BlockFrame parent, string segment, string? name, string kind, in Fingerprint before, Sources sources,
        bool cpuJustWritten, string? treeName = null)
    {
        if (_code.FirstOf(name) is { } assembly)
        {
            AssemblyName identity = assembly.GetName();
            tracer.Code(identity.Name ?? assembly.ManifestModule.Name, identity.Version?.ToString() ?? "0.0.0.0", assembly.ManifestModule.ModuleVersionId);
        }
        frame.TracePath = parent.TracePath.Length == 0 ? segment : parent.TracePath + "/" + segment;
        frame.TraceName = treeName ?? name ?? BlockNames.OfCaller();
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
            Start(BlockTrace.ExpandPath(path), stack, seeding, BlockTrace.TensorsAskedByEnvironment());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            warn($"{BlockTrace.EnvironmentVariable}={path}: the trace cannot be written ({e.Message}); the run goes on without tracing. "
                + "Use a writable path, with {pid} in it when several processes start with the variable set.");
        }
    }

    public string Start(string path, ScopeStack stack, Seeding? seeding, bool tensors)
    {
        if (_tracer is { } running)
            throw new InvalidOperationException($"A trace is already being written to {running.Path}. Call BlockTrace.Stop() before starting another.");
        if (stack.Depth > 0)
        {
            throw new InvalidOperationException(
                $"Tracing cannot start inside blocks ({stack.Describe()}): their entries would be missing from the trace. Start it outside every block, or set {BlockTrace.EnvironmentVariable} before the process starts.");
        }
        var tracer = new TraceWriter(path, tensors);
        _code.StartTrace();
        if (seeding is not null)
            Seeded(tracer, seeding);
        if (!_exitHooked)
        {
            _exitHooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => EndAtExit(complete: true);
            AppDomain.CurrentDomain.UnhandledException += (_, _) => EndAtExit(complete: false);
        }
        Volatile.Write(ref _tracer, tracer);
        Volatile.Write(ref _tensors, tensors);
        return path;
    }

    public void Stop()
    {
        _tracer?.End();
        Volatile.Write(ref _tensors, false);
        Volatile.Write(ref _tracer, null);
    }

    /// <summary>A seed event for <paramref name="seeding"/> (SetSeed), with the environment now, which later changes are compared with.</summary>
    public void Seeded(TraceWriter tracer, Seeding seeding) =>
        tracer.Seed(seeding.RootSeed, seeding.Derivation.Kind, RecordEnvironment());

    /// <summary>
    /// A seed event for a snapshot put back by <paramref name="how"/> (Restore, Resume), at <paramref name="path"/>, with
    /// the generators' state it left.
    /// </summary>
    public void Restored(TraceWriter tracer, string how, Seeding seeding, string path, Sources sources) =>
        tracer.Seed(seeding.RootSeed, seeding.Derivation.Kind, RecordEnvironment(), how, path, Read(sources, state: null));

    /// <summary>
    /// Writes an <c>environment</c> event with the values of the environment record that changed since the trace last
    /// recorded it (the deterministic switch turned on after SetSeed, another thread count); nothing when none did.
    /// </summary>
    public void EnvironmentChanged(TraceWriter tracer, string path)
    {
        List<(string Name, string Value)>? changed = null;
        foreach ((string name, string value) in ReproducibleEnvironment.Current().ToPairs())
        {
            if (name is nameof(ReproducibleEnvironment.RootSeed) or nameof(ReproducibleEnvironment.Derivation))
                continue; // the seeding is a seed event's
            if (!_environment.TryGetValue(name, out string? recorded) || !string.Equals(recorded, value, StringComparison.Ordinal))
            {
                (changed ??= []).Add((name, value));
                _environment[name] = value;
            }
        }
        _polled = Poll();
        if (changed is not null)
            tracer.EnvironmentChanged(path, changed);
    }

    /// <summary>
    /// Before an output or a mark is recorded: the values a user changes between steps (torch's thread counts, the
    /// deterministic switch) read cheaply, and an <c>environment</c> event when one changed since the last record.
    /// </summary>
    public void PollEnvironment(TraceWriter tracer, string path)
    {
        if (Poll() != _polled)
            EnvironmentChanged(tracer, path);
    }

    private static (int Threads, int Interop, bool? Deterministic) Poll()
    {
        bool? deterministic;
        try
        {
            deterministic = Native.LibTorchContext.Instance.DeterministicAlgorithms;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or InvalidOperationException)
        {
            deterministic = null;
        }
        return (TorchSharp.torch.get_num_threads(), TorchSharp.torch.get_num_interop_threads(), deterministic);
    }

    private IEnumerable<(string Name, string Value)> RecordEnvironment()
    {
        _environment.Clear();
        var pairs = new List<(string Name, string Value)>();
        foreach ((string name, string value) in ReproducibleEnvironment.Current().ToPairs())
        {
            pairs.Add((name, value));
            _environment[name] = value;
        }
        _polled = Poll();
        return pairs;
    }

    /// <summary>A woven call that ran passively (<paramref name="drew"/>: and drew, which the library refuses).</summary>
    public static void Passive(TraceWriter tracer, string path, PassiveCall call, bool drew)
    {
        Thread thread = Thread.CurrentThread;
        if (drew)
            tracer.Draw(path, call.Description, thread.ManagedThreadId, thread.Name, call.Reason.ToString(), DescribeThread(thread));
        else
            tracer.Passive(path, call.Description, thread.ManagedThreadId, thread.Name, call.Reason.ToString());
    }

    private static string DescribeThread(Thread thread) =>
        thread.IsThreadPoolThread ? "on a thread-pool thread" : thread.Name is { } name ? $"on thread '{name}'" : "on a thread of its own";

    /// <summary>The fingerprint of a module's output, or null (no tensor in it, or one that cannot be read: warned about once).</summary>
    public ulong? OutputOf(object? output)
    {
        try
        {
            return TensorFingerprint.Of(output);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or ArgumentException or NotSupportedException or System.Runtime.InteropServices.ExternalException)
        {
            // The trace must never change what the program does: a tensor that cannot be copied goes unrecorded.
            if (!_warnedAboutOutputs)
            {
                _warnedAboutOutputs = true;
                warn($"a module's output could not be fingerprinted for the trace ({e.GetType().Name}: {e.Message}); such outputs are left out of it.");
            }
            return null;
        }
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
