using System;
using System.Collections.Generic;
using System.Linq;
using Fody;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// Rewrites one method or constructor so that its whole body runs inside a block:
/// <code>
/// BlockScope scope = Reproducible.Block(seed, restoreOnExit);        // constructors: WovenCode.EnterConstructorBlock
///                                                                    // continuing: Reproducible.ContinuingBlock(this)
/// try { original body, each `ret` turned into `stloc result; leave end` }
///                                     // continuing: `stloc result; WovenCode.RecordOutput(scope, result); leave end`
/// finally { if (scope != null) ((IDisposable)scope).Dispose(); }
/// end: return result;
/// </code>
/// Constructors are entered at IL offset 0, before field initialisers and the base constructor call. A constructor
/// that chains to another woven constructor of its type through this(...) tells it not to enter a second block. A
/// class's constructor that entered its block registers the new instance's stream before leaving it
/// (<c>if (scope != null) WovenCode.RegisterStream(this);</c> on every normal return), so the instance's continuing
/// block is keyed by its construction path. Inside the body, a class constructor's parts get sites
/// (<see cref="ConstructorSites"/>) and a continuing method's calls of other modules' forward are wrapped
/// (<see cref="ModuleCalls"/>).
/// </summary>
internal sealed class BlockWeaver(ModuleWeaver weaver, WeaveTarget target, ISet<MethodDefinition> wovenConstructors)
{
    private readonly MethodDefinition _method = target.Method;

    /// <summary>How many sites (<see cref="ConstructorSites"/>) were woven into the body.</summary>
    public int Sites { get; private set; }

    /// <summary>How many calls of other modules' forward (<see cref="Weaving.ModuleCalls"/>) were wrapped in the body.</summary>
    public int ModuleCalls { get; private set; }

    public void Weave()
    {
        try
        {
            WeaveBody();
        }
        catch (Exception exception) when (exception is not WeavingException)
        {
            throw new WeavingException($"Failed to weave {_method.FullName}: {exception.Message}");
        }
    }

    private void WeaveBody()
    {
        MethodBody body = _method.Body;
        body.SimplifyMacros();
        ILProcessor il = body.GetILProcessor();

        // Inside the body, before it is wrapped: the parts of a constructor, the module calls of a continuing method.
        if (target.HasSites)
            Sites = new ConstructorSites(weaver, _method).Weave(il);
        else if (target.Kind == BlockKind.Continuing)
            ModuleCalls = new ModuleCalls(weaver, _method).Weave(il);

        Instruction originalFirst = body.Instructions[0];
        SequencePoint? firstPoint = _method.FirstVisiblePoint();
        bool initLocals = body.InitLocals || !_method.SkipsLocalsInit();

        var scope = new VariableDefinition(weaver.BlockScopeType);
        body.Variables.Add(scope);
        // An init accessor returns `void modreq(IsExternalInit)`: void all the same.
        VariableDefinition? result = _method.ReturnsVoid() ? null : new VariableDefinition(_method.ReturnType);
        if (result is not null)
            body.Variables.Add(result);

        // The end: after the finally, return what the body returned.
        Instruction end = result is null ? il.Create(OpCodes.Ret) : il.Create(OpCodes.Ldloc, result);
        Instruction finallyStart = il.Create(OpCodes.Ldloc, scope);
        Instruction endFinally = il.Create(OpCodes.Endfinally);

        // Handlers that ran to the end of the method must keep ending where the original body ended.
        foreach (ExceptionHandler handler in body.ExceptionHandlers)
        {
            handler.TryEnd ??= finallyStart;
            handler.HandlerEnd ??= finallyStart;
        }

        // A tail call must be followed by `ret`, which is about to become `leave`: make such calls ordinary calls.
        foreach (Instruction tail in body.Instructions.Where(i => i.OpCode == OpCodes.Tail))
        {
            tail.OpCode = OpCodes.Nop;
            tail.Operand = null;
        }

        // A continuing method that returns a value hands it to the trace before leaving (RecordOutput<R>: one flag read
        // unless the trace records tensors). A result no type argument can hold (ref return, ref struct) is not recorded.
        MethodReference? recordOutput = null;
        if (result is not null && target.Kind == BlockKind.Continuing && _method.ReturnType.AsOutputTypeArgument() is { } outputType)
            recordOutput = new GenericInstanceMethod(weaver.RecordOutputMethod) { GenericArguments = { outputType } };

        // Each return leaves the protected region instead. The `ret` instruction itself is reused, so branches to it
        // and its sequence point (the closing brace) stay as they were.
        bool registers = _method.IsConstructor && !_method.DeclaringType.IsValueType;
        foreach (Instruction ret in body.Instructions.Where(i => i.OpCode == OpCodes.Ret).ToList())
        {
            if (registers)
            {
                // ret becomes: ldloc scope; brfalse leave; ldarg.0; call RegisterStream; leave: leave end
                Instruction leave = il.Create(OpCodes.Leave, end);
                ret.OpCode = OpCodes.Ldloc;
                ret.Operand = scope;
                il.InsertAfter(ret, leave);
                il.InsertAfter(ret, il.Create(OpCodes.Call, target.IsolateParts ? weaver.RegisterStreamMethod : weaver.RegisterStreamWithoutPathsMethod));
                il.InsertAfter(ret, il.Create(OpCodes.Ldarg_0));
                il.InsertAfter(ret, il.Create(OpCodes.Brfalse, leave));
            }
            else if (result is null)
            {
                ret.OpCode = OpCodes.Leave;
                ret.Operand = end;
            }
            else
            {
                // ret becomes: stloc result; [ldloc scope; ldloc result; call RecordOutput<R>;] leave end
                ret.OpCode = OpCodes.Stloc;
                ret.Operand = result;
                il.InsertAfter(ret, il.Create(OpCodes.Leave, end));
                if (recordOutput is not null)
                {
                    il.InsertAfter(ret, il.Create(OpCodes.Call, recordOutput));
                    il.InsertAfter(ret, il.Create(OpCodes.Ldloc, result));
                    il.InsertAfter(ret, il.Create(OpCodes.Ldloc, scope));
                }
            }
        }

        if (_method.IsConstructor)
            MarkChainedConstructorCalls(il);

        il.Append(finallyStart);
        il.Append(il.Create(OpCodes.Brfalse, endFinally));
        il.Append(il.Create(OpCodes.Ldloc, scope));
        il.Append(il.Create(OpCodes.Callvirt, weaver.DisposeMethod));
        il.Append(endFinally);
        il.Append(end);
        if (result is not null)
            il.Append(il.Create(OpCodes.Ret));

        // Entering: before everything, outside the protected region (if entering throws, there is nothing to leave).
        Instruction enterFirst;
        if (target.Kind == BlockKind.Continuing)
        {
            enterFirst = il.Create(OpCodes.Ldarg_0);
            il.InsertBefore(originalFirst, enterFirst);
            il.InsertBefore(originalFirst, il.Create(OpCodes.Ldstr, TraceName(_method)));
            il.InsertBefore(originalFirst, il.Create(OpCodes.Call, weaver.ContinuingBlockMethod));
        }
        else
        {
            enterFirst = il.Create(OpCodes.Ldc_I8, target.Seed);
            il.InsertBefore(originalFirst, enterFirst);
            il.InsertBefore(originalFirst, il.Create(target.RestoreOnExit ? OpCodes.Ldc_I4_1 : OpCodes.Ldc_I4_0));
            il.InsertBefore(originalFirst, il.Create(OpCodes.Ldstr, TraceName(_method)));
            il.InsertBefore(originalFirst, il.Create(OpCodes.Call, _method.IsConstructor ? weaver.EnterConstructorBlockMethod : weaver.EnterBlockMethod));
        }
        il.InsertBefore(originalFirst, il.Create(OpCodes.Stloc, scope));

        body.ExceptionHandlers.Add(new ExceptionHandler(ExceptionHandlerType.Finally)
        {
            TryStart = originalFirst,
            TryEnd = finallyStart,
            HandlerStart = finallyStart,
            HandlerEnd = end,
        });

        // An exception from entering the block (say, SetSeed not called yet) points at the method's first line; the
        // added finally and the return after it belong to no line of the source (hidden), so a failure there is not
        // reported at whatever line came before.
        if (firstPoint is not null)
        {
            HideFrom(finallyStart, firstPoint.Document);
            HideFrom(end, firstPoint.Document);
            _method.DebugInformation.SequencePoints.Insert(0, new SequencePoint(enterFirst, firstPoint.Document)
            {
                StartLine = firstPoint.StartLine,
                StartColumn = firstPoint.StartColumn,
                EndLine = firstPoint.EndLine,
                EndColumn = firstPoint.EndColumn,
            });
        }

        // The added locals are written before they are read; [SkipLocalsInit] stays honoured.
        body.InitLocals = initLocals;
        body.OptimizeMacros();
    }

    /// <summary>
    /// A hidden sequence point (line 0xFEEFEE) at <paramref name="instruction"/>, one of the instructions appended
    /// after the original body: after every existing point, as points are kept in IL order.
    /// </summary>
    private void HideFrom(Instruction instruction, Document document) =>
        _method.DebugInformation.SequencePoints.Add(new SequencePoint(instruction, document) { StartLine = 0xFEEFEE, EndLine = 0xFEEFEE });

    /// <summary>
    /// The block's name in traces, the same on every machine: <c>Namespace.Type.Method</c> or <c>Namespace.Type..ctor</c>,
    /// nested types joined with <c>+</c> as reflection writes them, generic arity with a backtick.
    /// </summary>
    internal static string TraceName(MethodDefinition method) => method.DeclaringType.FullName.Replace('/', '+') + "." + method.Name;

    /// <summary>
    /// Before <c>this(...)</c> to a woven constructor (its arguments already evaluated), tell it the block is entered.
    /// </summary>
    /// <remarks>
    /// Only a call on <c>this</c> (argument 0) chains: in a struct, <c>var t = new S(n);</c> compiles to a call of
    /// the same constructor on a local's address. The marker takes the call instruction's place, and the call moves
    /// after it, so every branch to the call (a conditional or <c>??</c> as the last argument jumps straight to it)
    /// goes through the marker.
    /// </remarks>
    private void MarkChainedConstructorCalls(ILProcessor il)
    {
        List<Instruction> calls = _method.Body.Instructions.Where(i => i.OpCode == OpCodes.Call
            && i.Operand is MethodReference { Name: ".ctor" } callee
            && callee.Resolve() is { } definition
            && definition.DeclaringType == _method.DeclaringType
            && wovenConstructors.Contains(definition)).ToList();
        if (calls.Count == 0)
            return;
        Dictionary<Instruction, Instruction?> receivers = StackProducers.ReceiversOf(_method.Body, calls);
        foreach (Instruction call in calls)
        {
            if (!receivers[call].IsLoadOfThis(_method))
                continue;
            il.InsertBeforeKeepingBranches(call, il.Create(OpCodes.Call, weaver.ChainingToWovenConstructorMethod));
        }
    }
}
