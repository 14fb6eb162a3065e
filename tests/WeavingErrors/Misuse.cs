using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using ReproducibleBlock;

namespace WeavingErrors;

public abstract class HasAbstract
{
    [ReproducibleBlock(1)]
    public abstract void Abstract(); // error, no location: abstract
}

public static class Misuse
{
    [ReproducibleBlock(2)]
    [DllImport("libc")]
    public static extern int getpid(); // error, no location: extern

    [ReproducibleBlock(3)]
    public static async Task<int> Async()
    {
        await Task.Yield(); // error: async
        return 1;
    }

    [ReproducibleBlock(4)]
    public static IEnumerable<int> Iterator()
    {
        yield return 1; // error: iterator
    }

    [ReproducibleBlock(5)]
    public static int First() => 1;

    [ReproducibleBlock(5)]
    public static int Second() => 2; // error: shared seed

    [ReproducibleBlock(6, AllowSharedSeed = true)]
    public static int Third() => 3;

    [ReproducibleBlock(6)]
    public static int Fourth() => 4; // error: shared seed without AllowSharedSeed on both
}

public sealed class StaticConstructor
{
    [ReproducibleBlock(7)]
    static StaticConstructor() { } // error: static constructor
}

#pragma warning disable IDE1006 // forward, as TorchSharp names it: what the weaver's warning looks for
public class Module
{
    public virtual int forward(int input) => input;
}

public sealed class Continuing : Module
{
    [ContinuingBlock]
    public static int Static() => 1; // error: static continuing

    [ContinuingBlock]
    [ReproducibleBlock(8)]
    public int Both() => 2; // error: both kinds

    [ContinuingBlock]
    [NoReproducibleBlock]
    public int OptedOut() => 3; // error: continuing opted out

    [ContinuingBlock]
    public async Task<int> Async()
    {
        await Task.Yield(); // error: async continuing
        return 4;
    }
}

public struct ContinuingStruct
{
    [ContinuingBlock]
    public readonly int Draw() => 5; // error: struct continuing
}

public sealed class RepeatingForward : Module
{
    [ReproducibleBlock(9)]
    public override int forward(int input) => input + 1; // warning: repeating forward
}

public sealed class RestoringForward : Module
{
    [ReproducibleBlock(10, RestoreOnExit = true)]
    public override int forward(int input) => input + 2; // warning: restoring forward
}

public sealed class DeliberatelyRepeatingForward : Module
{
    [ReproducibleBlock(11, RepeatsEachCall = true)]
    public override int forward(int input) => input + 3;
}

[ReproducibleBlock(12)]
public static class StaticHolder
{
    // A type has no sequence point of its own: it is located at its first constructor or method.
    public static int Value() => 1; // error: static class
}

public sealed class Finalized
{
    [ReproducibleBlock(13)]
    ~Finalized() { } // error: finalizer
}

public static class Nameless
{
    public static Func<int> Lambda() => [ReproducibleBlock] () => 1; // error: lambda without a seed

    public static int LocalFunction()
    {
        return Local();

        [ReproducibleBlock]
        static int Local() => 2; // error: local function without a seed
    }
}

public static class Deferred
{
    [ReproducibleBlock(14)]
    public static Task<int> NotAsync() => Task.FromResult(1); // warning: task without async

    [ReproducibleBlock(15)]
    public static IEnumerable<int> Lazy() => Enumerable.Range(0, 3).Select(i => i * 2); // warning: enumerable

    [ReproducibleBlock(16)]
    public static Func<int> Later() => () => 3; // warning: delegate
}

public sealed class Handler : System.Net.Http.HttpMessageHandler
{
    protected override System.Threading.Tasks.Task<System.Net.Http.HttpResponseMessage> SendAsync(System.Net.Http.HttpRequestMessage request, System.Threading.CancellationToken cancellationToken) =>
        throw new NotSupportedException(); // warning: unresolved base
}

public sealed class InitializedFirst
{
    // Every constructor runs the field initialisers first: the constructor's first sequence point is here.
    private readonly long _ticks = Environment.TickCount64;

    [ReproducibleBlock(17)]
    public static long Method() => 1;

    [ReproducibleBlock(17)]
    public InitializedFirst() => _ticks++; // error: constructor after its field initialisers
}
