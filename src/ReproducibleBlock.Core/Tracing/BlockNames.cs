using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// Names for blocks in a trace that are the same on every machine. Woven blocks pass their member's name; a
/// hand-written block is named by the source line that opened it, found by walking the stack, which happens only
/// while tracing is on: the whole stack once per call site (the name is cached by method and IL offset), one frame on
/// later entries (see <see cref="OfCaller"/>).
/// </summary>
internal static partial class BlockNames
{
    private static readonly Assembly Core = typeof(BlockNames).Assembly;
    private static readonly ConcurrentDictionary<(IntPtr Method, int Offset), string> ByCallSite = new();
    private static readonly ConcurrentDictionary<string, string> RelativeFiles = new();
    private static long s_fullWalks;

    /// <summary>How many times a name was looked for by walking the whole stack (a <see cref="StackTrace"/> of every frame): what tests count.</summary>
    internal static long FullWalks => Interlocked.Read(ref s_fullWalks);

    /// <summary>
    /// Call sites a full walk found first outside this library, with the depth (frames up from <see cref="OfCaller"/>)
    /// it found them at: what the one-frame look of later entries may answer from.
    /// </summary>
    private static readonly ConcurrentDictionary<(IntPtr Method, int Offset, int Depth), string> ByDepth = new();

    /// <summary>The depth at which the last full walk found the first frame outside this library; 0 before the first.</summary>
    private static int s_siteDepth;

    /// <summary>The first frame outside this library: <c>file:line</c>, or <c>Type.Method+IL_offset</c> without symbols.</summary>
    /// <remarks>
    /// A <see cref="StackTrace"/> makes a <see cref="StackFrame"/> and resolves a method for every frame of the stack;
    /// .NET has no way to ask for the caller's return address alone. So an entry first looks at one frame, at the depth
    /// the last full walk found its caller: the library's frames between the public entry point and here are the same
    /// for every entry through that entry point. That frame answers only when a full walk found that very frame (method
    /// and IL offset) first outside the library at that very depth; otherwise (another entry point, or the JIT having
    /// inlined the library's frames since, which moves the caller to another depth) the whole stack is walked, as before.
    /// A call instruction calls one method, so a frame that once called into the library directly at that depth is the
    /// caller again; only a delegate or virtual call that reaches the library directly one time and through user code
    /// another, at the same depth, could fool it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)] // the depths count from this frame
    public static string? OfCaller()
    {
        int depth = Volatile.Read(ref s_siteDepth);
        if (depth > 0)
        {
            var probe = new StackFrame(depth, needFileInfo: false);
            if (probe.GetMethod() is { } probed && probed.Module.Assembly != Core
                && ByDepth.TryGetValue((HandleOf(probed), probe.GetILOffset(), depth), out string? cached))
            {
                return cached;
            }
        }
        Interlocked.Increment(ref s_fullWalks);
        var quick = new StackTrace(1, fNeedFileInfo: false);
        for (int i = 0; i < quick.FrameCount; i++)
        {
            StackFrame? frame = quick.GetFrame(i);
            MethodBase? method = frame?.GetMethod();
            if (method is null || method.Module.Assembly == Core)
                continue;
            (IntPtr, int) site = (HandleOf(method), frame!.GetILOffset());
            if (!ByCallSite.TryGetValue(site, out string? name))
            {
                // First time at this call site: the same walk again, with file and line (the same frames, one level up).
                StackFrame? detailed = new StackTrace(1, fNeedFileInfo: true).GetFrame(i);
                name = detailed?.GetFileName() is { Length: > 0 } file
                    ? $"{RelativeFiles.GetOrAdd(file, Relative)}:{detailed.GetFileLineNumber()}"
                    : $"{method.DeclaringType?.FullName}.{method.Name}+IL_{site.Item2:X4}";
                ByCallSite.TryAdd(site, name);
            }
            // GetFrame(i) of a trace that skips this frame is StackFrame(i + 1) seen from here. A dynamic method (no
            // handle) is walked for every time, as before.
            if (site.Item1 != IntPtr.Zero)
            {
                ByDepth.TryAdd((site.Item1, site.Item2, i + 1), name);
                Volatile.Write(ref s_siteDepth, i + 1);
            }
            return name;
        }
        return null;
    }

    private static IntPtr HandleOf(MethodBase method)
    {
        try
        {
            return method.MethodHandle.Value;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
        {
            return IntPtr.Zero; // a dynamic method: named again each time, never cached wrongly under another's handle
        }
    }

    [GeneratedRegex(@"^/_\d*/")]
    private static partial Regex DeterministicRoot();

    [GeneratedRegex(@"<([^<>.]+)>k__BackingField")]
    private static partial Regex BackingField();

    /// <summary>
    /// A module's path in its model as the source names it: TorchSharp names a module held by an auto-property after the
    /// compiler's backing field (<c>&lt;Features&gt;k__BackingField</c>); a trace says <c>Features</c>.
    /// </summary>
    internal static string ModulePath(string path) => path.Contains('<', StringComparison.Ordinal) ? BackingField().Replace(path, "$1") : path;

    /// <summary>
    /// A source path as the same text on every machine: a deterministic build's mapped path (<c>/_/src/A.cs</c>) without
    /// its root, or the path relative to the repository (the nearest folder above with <c>.git</c>), else the solution,
    /// else the project folder; the file name alone when none is found (sources not on this machine).
    /// </summary>
    internal static string Relative(string file)
    {
        string normal = file.Replace('\\', '/');
        Match mapped = DeterministicRoot().Match(normal);
        if (mapped.Success)
            return normal[mapped.Length..];
        foreach (Func<DirectoryInfo, bool> isRoot in RootTests)
        {
            for (DirectoryInfo? folder = new FileInfo(file).Directory; folder is not null; folder = folder.Parent)
            {
                if (SafeIsRoot(isRoot, folder))
                    return Path.GetRelativePath(folder.FullName, file).Replace('\\', '/');
            }
        }
        return Path.GetFileName(normal);
    }

    private static readonly Func<DirectoryInfo, bool>[] RootTests =
    [
        folder => Directory.Exists(Path.Combine(folder.FullName, ".git")) || File.Exists(Path.Combine(folder.FullName, ".git")),
        folder => folder.EnumerateFiles("*.sln").Any() || folder.EnumerateFiles("*.slnx").Any(),
        folder => folder.EnumerateFiles("*.csproj").Any(),
    ];

    private static bool SafeIsRoot(Func<DirectoryInfo, bool> isRoot, DirectoryInfo folder)
    {
        try
        {
            return folder.Exists && isRoot(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return false;
        }
    }
}
