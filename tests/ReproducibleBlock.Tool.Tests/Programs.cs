using System.Collections.Generic;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// The traces of a small training program, with every state a parameter so a test can make one run differ where it
/// wants. Lines:
/// <code>
///  1 trace
///  2 seed
///  3 enter 1#0      Demo.Net..ctor (instance, not restoring)
///  4 exit  1#0
///  5 enter 2#0      Demo.Train.Epoch
///  6 enter 2#0/7#0  Demo.Train.Augment
///  7 exit  2#0/7#0
///  8 mark  loss in 2#0
///  9 exit  2#0
/// 10 enter 3#0      Demo.Eval
/// 11 exit  3#0
/// 12 mark  final at the top level
/// 13 end
/// </code>
/// </summary>
internal static class Programs
{
    public static TraceBuilder Training(
        long seed = 42,
        string derivation = "Keyed",
        IReadOnlyDictionary<string, string>? environment = null,
        string netEnter = "net enter",
        string netKind = "instance",
        bool netRestore = false,
        string netExit = "net exit",
        string augmentEnter = "augment enter",
        string augmentExit = "augment exit",
        string loss = "loss",
        string evalBefore = "eval before",
        string evalEnter = "eval enter",
        string evalExit = "eval exit",
        bool end = true)
    {
        TraceBuilder trace = new TraceBuilder()
            .Seed(seed, derivation, environment)
            .Block("1#0", "Demo.Net..ctor", netEnter, netExit, netKind, netRestore)
            .Enter("2#0", "Demo.Train.Epoch", States.Of("epoch before"), States.Of("epoch enter"))
            .Block("2#0/7#0", "Demo.Train.Augment", augmentEnter, augmentExit)
            .Mark("2#0", "loss", Fp.Of(loss))
            .Exit("2#0", "Demo.Train.Epoch", States.Of("epoch exit"))
            .Block("3#0", "Demo.Eval", evalEnter, evalExit, beforeTag: evalBefore)
            .Mark("", "final", Fp.Of("final"));
        return end ? trace.End() : trace;
    }

    /// <summary>
    /// Seed 42, then <paramref name="count"/> top-level blocks b0, b1, ... (paths 0#0, 1#0, ...), block i on lines 3 + 2i
    /// and 4 + 2i, then the end. Blocks in <paramref name="enterDiffers"/> start from another state, blocks in
    /// <paramref name="exitDiffers"/> end with another.
    /// </summary>
    public static TraceBuilder Blocks(int count, int[]? enterDiffers = null, int[]? exitDiffers = null, bool end = true)
    {
        TraceBuilder trace = new TraceBuilder().Seed();
        for (int i = 0; i < count; i++)
        {
            string enter = System.Array.IndexOf(enterDiffers ?? [], i) >= 0 ? $"other enter {i}" : $"enter {i}";
            string exit = System.Array.IndexOf(exitDiffers ?? [], i) >= 0 ? $"other exit {i}" : $"exit {i}";
            trace.Block($"{i}#0", $"Demo.B{i}", enter, exit);
        }
        return end ? trace.End() : trace;
    }

    public static Dictionary<string, string> Environment(string key, string value)
    {
        var environment = new Dictionary<string, string>(TraceBuilder.DefaultEnvironment) { [key] = value };
        return environment;
    }
}
