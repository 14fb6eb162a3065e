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
