using System;
using System.IO;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock;

/// <summary>
/// Records where every block starts and ends, with fingerprints of the generators' states, so that
/// <c>reproducible-block diff</c> can say where two runs first differ and why. Set the environment variable
/// <c>REPRODUCIBLEBLOCK_TRACE</c> to a file path before the process starts to trace a run without changing its code,
/// or call <see cref="Start(string)"/>.
/// </summary>
/// <remarks>
/// <para>
/// A trace is a JSON Lines file (format 2, described in the README): the root seed, derivation and environment at each
/// <see cref="Reproducible.SetSeed"/>, <see cref="Reproducible.Restore"/> and applied <see cref="Reproducible.Resume"/>,
/// and the environment's changes after them (<see cref="Reproducible.UseDeterministicAlgorithms"/>, torch's thread
/// count); the identity (name, version, MVID) of each woven assembly before its first block; for each block entered and
/// left, its path, its name (a woven member's <c>Namespace.Type.Method</c>, a module's path in its model,
/// <c>AlexNet.classifier.2</c>, or a hand-written block's <c>file:line</c>) and XXH3 fingerprints of the CPU, managed
/// and CUDA generator states; woven calls run passively on other threads, and draws the library refused; and the
/// fingerprints added with <see cref="Mark"/>. It is written in batches and at process exit; a run that crashes leaves
/// a readable prefix.
/// </para>
/// <para>
/// With <see cref="TensorsEnvironmentVariable"/> set to 1 (or <see cref="Start(string, bool)"/> with tensors), the exit
/// of every module's continuing block also carries a fingerprint of the module's output tensors, so that
/// <c>reproducible-block diff</c> names the first module whose output differs while every random stream agreed.
/// </para>
/// <para>
/// Off, tracing costs one check per block and allocates nothing. On, it reads and hashes the generator states at each
/// entry and exit (a few microseconds; see the README's benchmarks); with tensors, each module's output is copied to the
/// CPU and hashed too.
/// </para>
/// </remarks>
public static class BlockTrace
{
    /// <summary>The environment variable read when the library is first used: a trace file path, <c>{pid}</c> replaced by the process id.</summary>
    public const string EnvironmentVariable = "REPRODUCIBLEBLOCK_TRACE";

    /// <summary>
    /// The environment variable that adds modules' output tensors to a trace started by <see cref="EnvironmentVariable"/>
    /// or <see cref="Start(string)"/>: <c>1</c> (or <c>true</c>) to fingerprint them.
    /// </summary>
    public const string TensorsEnvironmentVariable = "REPRODUCIBLEBLOCK_TRACE_TENSORS";

    /// <summary>Whether a trace is being written.</summary>
    public static bool IsActive => BlockRuntime.Shared.Tracer is not null;

    /// <summary>Whether the trace being written fingerprints modules' output tensors.</summary>
    public static bool TracesTensors => BlockRuntime.Shared.TracesTensors;

    /// <summary>The file being written, or null when tracing is off.</summary>
    public static string? Path => BlockRuntime.Shared.Tracer?.Path;

    /// <summary>
    /// Starts writing a trace to <paramref name="path"/> (replacing the file), where <c>{pid}</c> stands for this
    /// process's id, so that child processes that inherit a path write files of their own. Modules' output tensors are
    /// fingerprinted when <see cref="TensorsEnvironmentVariable"/> asks for it.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <returns>The path written to, with <c>{pid}</c> replaced.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">A trace is already being written (call <see cref="Stop"/> first), or blocks are open.</exception>
    /// <exception cref="IOException">The file cannot be created, or another process is writing it.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be written.</exception>
    public static string Start(string path) => Start(path, TensorsAskedByEnvironment());

    /// <summary>
    /// Starts writing a trace to <paramref name="path"/>, as <see cref="Start(string)"/>, and says whether the exit of
    /// every module's continuing block carries a fingerprint of the module's output tensors (each copied to the CPU and
    /// hashed with XXH3: the cost grows with the outputs' size).
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">True to fingerprint modules' output tensors.</param>
    /// <returns>The path written to, with <c>{pid}</c> replaced.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">A trace is already being written (call <see cref="Stop"/> first), or blocks are open.</exception>
    /// <exception cref="IOException">The file cannot be created, or another process is writing it.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be written.</exception>
    public static string Start(string path, bool tensors)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return BlockRuntime.Shared.StartTrace(ExpandPath(path), tensors);
    }

    /// <summary>Ends the trace (an <c>end</c> line marks it complete) and closes the file. Does nothing when tracing is off.</summary>
    public static void Stop() => BlockRuntime.Shared.StopTrace();

    /// <summary>
    /// Adds a named fingerprint (XXH3-64 of the tensors' bytes, each made contiguous on the CPU, in order) to the trace,
    /// such as the loss after a step or the parameters after an epoch; <c>reproducible-block diff</c> reports the first
    /// mark that differs. Does nothing, and reads no tensor, when tracing is off.
    /// </summary>
    /// <param name="name">What is marked, for example "loss" or "epoch 3 parameters".</param>
    /// <param name="tensors">The tensors, in an order that is the same in every run.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="tensors"/> is null, or one of the tensors is.</exception>
    public static void Mark(string name, params torch.Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tensors);
        if (BlockRuntime.Shared.Tracer is null)
            return;
        var hash = new System.IO.Hashing.XxHash3();
        foreach (torch.Tensor tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            Tracing.TensorFingerprint.Append(hash, tensor);
        }
        BlockRuntime.Shared.TraceMark(name, hash.GetCurrentHashAsUInt64());
    }

    /// <summary>Whether <see cref="TensorsEnvironmentVariable"/> is <c>1</c> or <c>true</c>.</summary>
    internal static bool TensorsAskedByEnvironment() =>
        Environment.GetEnvironmentVariable(TensorsEnvironmentVariable)?.Trim() is { } value
        && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    internal static string ExpandPath(string path) =>
        path.Replace("{pid}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
