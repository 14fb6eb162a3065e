using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using ReproducibleBlock;

[assembly: ReproducibleConstructors(typeof(IDisposable))] // error: rule on an interface

namespace WeavingErrors;

public abstract class HasAbstract
{
    [ReproducibleBlock(1)]
    public abstract void Abstract(); // error: abstract
}

public static class Misuse
{
    [ReproducibleBlock(2)]
    [DllImport("libc")]
    public static extern int getpid(); // error: extern

    [ReproducibleBlock(3)]
    public static async Task<int> Async() // error: async
    {
        await Task.Yield();
        return 1;
    }

    [ReproducibleBlock(4)]
    public static IEnumerable<int> Iterator() // error: iterator
    {
        yield return 1;
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
    public async Task<int> Async() // error: async continuing
    {
        await Task.Yield();
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
