using System.Collections.Generic;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// In a woven continuing method (a module's <c>forward</c> under the rule's ContinuingForward, or a
/// <c>[ContinuingBlock]</c> method), wraps each direct call of <c>forward</c> on another TorchSharp module so that one
/// of TorchSharp's random modules (a <c>Dropout</c> held in a field and called as <c>_dropout.forward(x)</c>) draws
/// from its stream keyed by its path, as it does when a container calls it through <c>call()</c>, whose hooks enter
/// that stream (TorchSharp runs hooks only in <c>call()</c>):
/// <code>
/// y = _dropout.forward(x);
/// // becomes
/// Tensor a = x; object m = _dropout;      // the arguments and the receiver, already evaluated, kept in locals
/// WovenCode.EnterModule(m);
/// Tensor o = ((Dropout)m).forward(a);
/// WovenCode.ExitModuleWithOutput(m, o);  // WovenCode.ExitModule(m) after a forward that returns nothing
/// y = o;
/// </code>
/// The output reaches the trace only while it records tensors, and only for a module with a path stream.
/// </summary>
/// <remarks>
/// A call counts when its method is named <c>forward</c> and is declared by a type that derives from TorchSharp's
/// <c>torch.nn.Module</c> (the receiver's static type), and its receiver is not <c>this</c> (<c>base.forward</c>, a
/// recursion: the module's own continuing block is already open). The runtime does nothing for a module without a
/// path stream (a container, a layer that draws nothing, a woven module: its own forward enters its block), at the
/// cost of a lookup. A <c>forward</c> that throws skips the exit: the woven method's block exit closes the stream.
/// The arguments are spilled to locals at the call (rather than the receiver duplicated where it was evaluated) so that
/// nothing depends on how the receiver and the arguments were computed: a receiver chosen by a conditional, or
/// arguments with branches, need no analysis.
/// </remarks>
internal sealed class ModuleCalls(ModuleWeaver weaver, MethodDefinition method)
{
    /// <summary>Wraps the calls; returns how many.</summary>
    public int Weave(ILProcessor il)
    {
        MethodBody body = method.Body;
        List<Instruction> calls = body.Instructions.Where(i => i.OpCode.Code is Code.Call or Code.Callvirt
            && i.Operand is MethodReference { Name: "forward", HasThis: true } callee
            && callee.DeclaringType.IsTorchModule()).ToList();
        if (calls.Count == 0)
            return 0;
        Dictionary<Instruction, Instruction?> receivers = StackProducers.ReceiversOf(body, calls);
        int woven = 0;
        foreach (Instruction call in calls)
        {
            // A prefixed call (constrained. in generic code: its receiver is an address, not an object) is left alone.
            if (receivers[call] is null || receivers[call].IsLoadOfThis(method) || call.PrefixStart() != call)
                continue;
            Wrap(il, call);
            woven++;
        }
        return woven;
    }

    private void Wrap(ILProcessor il, Instruction call)
    {
        var callee = (MethodReference)call.Operand;
        ModuleDefinition module = method.Module;
        var arguments = callee.Parameters.Select(p => new VariableDefinition(module.ImportReference(callee.ResolveParameterType(p.ParameterType)))).ToList();
        var receiver = new VariableDefinition(module.TypeSystem.Object);
        foreach (VariableDefinition argument in arguments)
            method.Body.Variables.Add(argument);
        method.Body.Variables.Add(receiver);

        var before = new List<Instruction>();
        for (int i = arguments.Count - 1; i >= 0; i--)
            before.Add(il.Create(OpCodes.Stloc, arguments[i]));
        before.Add(il.Create(OpCodes.Dup));
        before.Add(il.Create(OpCodes.Stloc, receiver));
        before.Add(il.Create(OpCodes.Ldloc, receiver));
        before.Add(il.Create(OpCodes.Call, weaver.EnterModuleMethod));
        before.Add(il.Create(OpCodes.Pop)); // the scope it returns is left by ExitModule
        foreach (VariableDefinition argument in arguments)
            before.Add(il.Create(OpCodes.Ldloc, argument));

        Instruction moved = il.InsertBeforeKeepingBranches(call, [.. before]);
        var after = new List<Instruction>();
        if (callee.ReturnsVoid() || callee.ResolveParameterType(callee.ReturnType).AsOutputTypeArgument() is not { } outputType)
        {
            after.Add(il.Create(OpCodes.Ldloc, receiver));
            after.Add(il.Create(OpCodes.Call, weaver.ExitModuleMethod));
        }
        else
        {
            // The result, kept in a local, handed to the exit and left on the stack as the call left it.
            TypeReference imported = module.ImportReference(outputType);
            var output = new VariableDefinition(imported);
            method.Body.Variables.Add(output);
            after.Add(il.Create(OpCodes.Stloc, output));
            after.Add(il.Create(OpCodes.Ldloc, receiver));
            after.Add(il.Create(OpCodes.Ldloc, output));
            after.Add(il.Create(OpCodes.Call, new GenericInstanceMethod(weaver.ExitModuleWithOutputMethod) { GenericArguments = { imported } }));
            after.Add(il.Create(OpCodes.Ldloc, output));
        }
        Instruction last = moved;
        foreach (Instruction instruction in after)
        {
            il.InsertAfter(last, instruction);
            last = instruction;
        }
    }
}
