using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Linq.Expressions;
using System.Reflection;
using TorchSharp;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// Typed forward post-hooks that hand a module's output to the trace: TorchSharp's <c>call()</c> runs them after
/// <c>forward</c> and before the untyped hooks, so the output is seen while the module's stream is still open (its
/// untyped post-hook leaves it).
/// </summary>
/// <remarks>
/// A module's typed post-hook is <c>HookableModule&lt;TPreHook, TPostHook&gt;</c>'s <c>TPostHook</c>, a <c>Func</c> of the
/// module, its inputs and its result that returns the result: one type per module signature, so the hook is built once
/// per module type, with an expression tree. It returns the output unchanged and does nothing but read one flag while
/// tensors are not traced (no boxing of a value-type result then).
/// </remarks>
internal static class OutputHooks
{
    private static readonly ConcurrentDictionary<Type, (Func<Action<torch.nn.Module, object?>, Delegate> Make, MethodInfo Register)?> Hooks = new();

    private static readonly MethodInfo SeenMethod = typeof(OutputHooks).GetMethod(nameof(Seen), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Adds to <paramref name="module"/> a typed post-hook that passes each output to <paramref name="record"/> while tensors are traced.</summary>
    /// <returns>False when its type has no typed post-hook (not a <c>HookableModule</c>).</returns>
    public static bool Add(torch.nn.Module module, Action<torch.nn.Module, object?> record)
    {
        if (Hooks.GetOrAdd(module.GetType(), Build) is not { } hook)
            return false;
        hook.Register.Invoke(module, [hook.Make(record)]);
        return true;
    }

    /// <summary>Called by every hook: boxes the output only when it is to be fingerprinted.</summary>
    private static void Seen<TResult>(Action<torch.nn.Module, object?> record, torch.nn.Module module, TResult output)
    {
        if (State.BlockRuntime.Shared.TracesTensors)
            record(module, output);
    }

    private static (Func<Action<torch.nn.Module, object?>, Delegate> Make, MethodInfo Register)? Build(Type type)
    {
        Type? hookable = type;
        while (hookable is not null && !(hookable.IsGenericType && hookable.GetGenericTypeDefinition() == typeof(torch.nn.HookableModule<,>)))
            hookable = hookable.BaseType;
        if (hookable is null)
            return null;
        Type postHook = hookable.GetGenericArguments()[1];
        MethodInfo? invoke = postHook.GetMethod("Invoke");
        MethodInfo? register = type.GetMethod("register_forward_hook", [postHook]);
        if (invoke is null || register is null)
            return null;
        ParameterInfo[] parameters = invoke.GetParameters();
        // (module, inputs..., result) => { Seen(record, module, result); return result; }
        if (parameters.Length < 2 || parameters[^1].ParameterType != invoke.ReturnType || !typeof(torch.nn.Module).IsAssignableFrom(parameters[0].ParameterType))
            return null;
        ParameterExpression record = Expression.Parameter(typeof(Action<torch.nn.Module, object?>), "record");
        ParameterExpression[] arguments = parameters.Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        ParameterExpression result = arguments[^1];
        Expression body = Expression.Block(
            Expression.Call(SeenMethod.MakeGenericMethod(result.Type), record, Expression.Convert(arguments[0], typeof(torch.nn.Module)), result),
            result);
        LambdaExpression hook = Expression.Lambda(postHook, body, arguments);
        var make = Expression.Lambda<Func<Action<torch.nn.Module, object?>, Delegate>>(Expression.Convert(hook, typeof(Delegate)), record).Compile();
        return (make, register);
    }
}
