using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using TorchSharp;

namespace ReproducibleBlock;

/// <summary>
/// Continuing streams for TorchSharp's own modules that draw random numbers in <c>forward</c> (dropouts, RReLU,
/// attention, transformers and recurrent layers, whose dropout runs inside them): they are not woven (they live in
/// TorchSharp.dll), so each gets a stream keyed by its path under the nearest woven module (<c>classifier.2</c>), entered
/// by forward hooks around every <c>call()</c> (as <c>Sequential.forward</c> makes). Its draws then depend on nothing
/// else in the model: a dropout added to the feature extractor leaves every mask of the classifier's dropouts as it was.
/// </summary>
/// <remarks>
/// <para>
/// A woven module's constructor registers them when it ends (<see cref="WovenCode.RegisterStream"/>), after the
/// module's own <c>RegisterComponents</c>: the random modules of its tree that no woven module below it owns. The module
/// tree, its names, types and <c>state_dict</c> keys are unchanged; two hooks are added to each random module, and
/// run around the user's own. <c>call()</c> has no <c>finally</c>: a <c>forward</c> that throws leaves the stream open,
/// and the exit of the woven block around it closes it. Modules that draw nothing get no hook and cost nothing.
/// </para>
/// <para>
/// A random module's <c>forward</c> called directly (not through <c>call()</c>) runs no hook: woven code wraps such
/// calls itself (<see cref="WovenCode.EnterModule"/>); hand-written code draws in the stream of the woven module around
/// it.
/// </para>
/// </remarks>
internal static class ModuleStreams
{
    private static readonly HashSet<string> RandomModuleTypes =
    [
        "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "RReLU", "MultiheadAttention",
        "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "RNN", "LSTM", "GRU",
    ];

    private static readonly ConcurrentDictionary<Type, (MethodInfo Pre, MethodInfo Post)?> HookMethods = new();

    /// <summary>Whether <paramref name="module"/> is one of TorchSharp's modules that draw random numbers in forward.</summary>
    public static bool DrawsRandomly(torch.nn.Module module)
    {
        Type type = module.GetType();
        return type.Namespace == "TorchSharp.Modules" && type.Assembly == typeof(torch).Assembly && RandomModuleTypes.Contains(type.Name);
    }

    /// <summary>
    /// The random modules of <paramref name="owner"/>'s tree that belong to it: not under a module that has a stream of
    /// its own (a woven one), each with its path.
    /// </summary>
    public static IEnumerable<(string Path, torch.nn.Module Module)> RandomModulesOf(torch.nn.Module owner, Func<object, bool> hasStream)
    {
        var owned = new HashSet<string>(StringComparer.Ordinal); // paths of woven modules below the owner
        foreach ((string path, torch.nn.Module module) in owner.named_modules())
        {
            if (path.Length == 0 || owned.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal)))
                continue;
            if (hasStream(module))
            {
                owned.Add(path + ".");
                continue;
            }
            if (DrawsRandomly(module))
                yield return (path, module);
        }
    }

    /// <summary>Adds the hooks that enter and leave <paramref name="module"/>'s stream around each of its calls.</summary>
    /// <returns>False when its type has no hooks to add (a TorchSharp whose modules are not hookable).</returns>
    public static bool Hook(torch.nn.Module module, Action<torch.nn.Module> enter, Action<torch.nn.Module> leave)
    {
        if (HookMethods.GetOrAdd(module.GetType(), FindHookMethods) is not { } hooks)
            return false;
        hooks.Pre.Invoke(module, [enter]);
        hooks.Post.Invoke(module, [leave]);
        return true;
    }

    /// <summary>register_forward_pre_hook(Action&lt;Module&gt;) and register_forward_hook(Action&lt;Module&gt;) of the module's HookableModule base.</summary>
    private static (MethodInfo Pre, MethodInfo Post)? FindHookMethods(Type type)
    {
        MethodInfo? pre = type.GetMethod("register_forward_pre_hook", [typeof(Action<torch.nn.Module>)]);
        MethodInfo? post = type.GetMethod("register_forward_hook", [typeof(Action<torch.nn.Module>)]);
        return pre is null || post is null ? null : (pre, post);
    }
}
