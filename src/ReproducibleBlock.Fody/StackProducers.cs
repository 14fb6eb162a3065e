using System.Collections.Generic;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// Which instruction pushed each value on the stack where an instruction starts: a call's receiver (its <c>this</c>
/// argument), a store's target object, the name given to <c>register_module</c>. A walk over the body that follows
/// every branch and keeps, for each stack slot, the instruction that pushed it.
/// </summary>
/// <remarks>
/// Compiled C# reaches an instruction with the same stack depth on every path; where paths disagree about a slot's
/// producer, the first one found is kept, which is enough to tell <c>ldarg.0</c> from <c>ldloca</c> for a constructor
/// call's receiver (pushed before any argument, so before any branch inside the arguments). The value a store
/// consumes starts right after the producer of the slot below it (its target object, or the argument before it):
/// C# evaluates a store's operands left to right, each one's code following the last's.
/// </remarks>
internal static class StackProducers
{
    public static Dictionary<Instruction, Instruction?> ReceiversOf(MethodBody body, IReadOnlyCollection<Instruction> calls)
    {
        Dictionary<Instruction, Instruction?[]?> stacks = At(body, calls);
        var result = new Dictionary<Instruction, Instruction?>();
        foreach (Instruction call in calls)
            result[call] = call.Operand is MethodReference callee ? FromTop(stacks[call], callee.Parameters.Count) : null;
        return result;
    }

    /// <summary>
    /// The producer of the slot <paramref name="depth"/> below the top of <paramref name="stack"/> (0: the top), or null
    /// when the stack is not that deep or the instruction was never reached.
    /// </summary>
    public static Instruction? FromTop(Instruction?[]? stack, int depth) =>
        stack is not null && stack.Length > depth ? stack[stack.Length - 1 - depth] : null;

    /// <summary>
    /// For each of <paramref name="instructions"/>, the producers of the stack on entry to it, bottom first; null for an
    /// instruction no path reaches.
    /// </summary>
    public static Dictionary<Instruction, Instruction?[]?> At(MethodBody body, IReadOnlyCollection<Instruction> instructions)
    {
        var result = instructions.Distinct().ToDictionary(c => c, _ => (Instruction?[]?)null);
        var stacks = new Dictionary<Instruction, Instruction?[]>();
        var work = new Stack<Instruction>();

        void Reach(Instruction target, Instruction?[] stack)
        {
            if (stacks.ContainsKey(target))
                return;
            stacks[target] = stack;
            work.Push(target);
        }

        if (body.Instructions.Count == 0)
            return result;
        Reach(body.Instructions[0], []);
        foreach (ExceptionHandler handler in body.ExceptionHandlers)
        {
            Instruction?[] onEntry = handler.HandlerType is ExceptionHandlerType.Catch or ExceptionHandlerType.Filter ? [null] : [];
            Reach(handler.HandlerStart, onEntry);
            if (handler.FilterStart is not null)
                Reach(handler.FilterStart, [null]);
        }

        while (work.Count > 0)
        {
            Instruction instruction = work.Pop();
            Instruction?[] stack = stacks[instruction];
            if (result.ContainsKey(instruction))
                result[instruction] = stack;

            Instruction?[] after;
            if (instruction.OpCode.StackBehaviourPop == StackBehaviour.PopAll)
            {
                after = [];
            }
            else
            {
                int popped = System.Math.Min(stack.Length, Pops(instruction, body.Method));
                var next = stack.Take(stack.Length - popped).ToList();
                if (instruction.OpCode.Code == Code.Dup && stack.Length > 0)
                    next.AddRange([stack[stack.Length - 1], stack[stack.Length - 1]]);
                else
                    next.AddRange(Enumerable.Repeat(instruction, Pushes(instruction)));
                after = next.ToArray();
            }

            switch (instruction.Operand)
            {
                case Instruction target:
                    Reach(target, after);
                    break;
                case Instruction[] targets:
                    foreach (Instruction target in targets)
                        Reach(target, after);
                    break;
            }
            FlowControl flow = instruction.OpCode.FlowControl;
            if (flow is not (FlowControl.Branch or FlowControl.Return or FlowControl.Throw) && instruction.Next is { } following)
                Reach(following, after);
        }
        return result;
    }

    private static int Pops(Instruction instruction, MethodDefinition method)
    {
        switch (instruction.OpCode.StackBehaviourPop)
        {
            case StackBehaviour.Pop0:
                return 0;
            case StackBehaviour.Pop1:
            case StackBehaviour.Popi:
            case StackBehaviour.Popref:
                return 1;
            case StackBehaviour.Pop1_pop1:
            case StackBehaviour.Popi_pop1:
            case StackBehaviour.Popi_popi:
            case StackBehaviour.Popi_popi8:
            case StackBehaviour.Popi_popr4:
            case StackBehaviour.Popi_popr8:
            case StackBehaviour.Popref_pop1:
            case StackBehaviour.Popref_popi:
                return 2;
            case StackBehaviour.Popi_popi_popi:
            case StackBehaviour.Popref_popi_popi:
            case StackBehaviour.Popref_popi_popi8:
            case StackBehaviour.Popref_popi_popr4:
            case StackBehaviour.Popref_popi_popr8:
            case StackBehaviour.Popref_popi_popref:
                return 3;
            case StackBehaviour.Varpop:
                switch (instruction.Operand)
                {
                    case MethodReference callee when instruction.OpCode.Code == Code.Newobj:
                        return callee.Parameters.Count;
                    case MethodReference callee:
                        return callee.Parameters.Count + (callee.HasThis && !callee.ExplicitThis ? 1 : 0);
                    case CallSite site:
                        return site.Parameters.Count + 1 + (site.HasThis && !site.ExplicitThis ? 1 : 0);
                    default:
                        return instruction.OpCode.Code == Code.Ret && !method.ReturnsVoid() ? 1 : 0;
                }
            default:
                return 0;
        }
    }

    private static int Pushes(Instruction instruction)
    {
        switch (instruction.OpCode.StackBehaviourPush)
        {
            case StackBehaviour.Push0:
                return 0;
            case StackBehaviour.Push1_push1:
                return 2;
            case StackBehaviour.Varpush:
                return instruction.OpCode.Code == Code.Newobj ? 1
                    : instruction.Operand is MethodReference callee ? (callee.ReturnsVoid() ? 0 : 1)
                    : instruction.Operand is CallSite site ? (site.ReturnType.WithoutModifiers().MetadataType == MetadataType.Void ? 0 : 1)
                    : 0;
            default:
                return 1;
        }
    }
}
