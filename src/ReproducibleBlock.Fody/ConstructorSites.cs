using System.Collections.Generic;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// Gives each part a woven class constructor builds a block of its own inside the constructor's block (a site), so
/// that what one part draws does not depend on what the others drew:
/// <code>
/// features = Sequential(Conv2d(3, 8, 3), ReLU());
/// // becomes
/// WovenCode.EnterMemberSite("features");
/// WovenCode.EnterSite("Conv2d"); var c = Conv2d(3, 8, 3); WovenCode.ExitSite();
/// WovenCode.EnterSite("ReLU"); var r = ReLU(); WovenCode.ExitSite();
/// WovenCode.EnterSite("Sequential"); var s = Sequential(c, r); WovenCode.ExitSite();
/// features = s;
/// WovenCode.ExitSite();
/// </code>
/// </summary>
/// <remarks>
/// <para>
/// Member sites: a value stored in an instance field or property of <c>this</c> (<c>stfld</c>, a setter called on
/// <c>this</c>; field initialisers included, which run before the base constructor call), or registered with
/// <c>register_module("name", value)</c> on <c>this</c> with a constant name, whose evaluation makes a call that is a
/// site (a value without one draws nothing: no block is spent on it). Named by the member as written (a property's name
/// for its backing field) or by the registered name; entered right before the value's first instruction, left right
/// after the store. A store inside another member's value (<c>a = b = Make()</c>) is not a member site of its own.
/// </para>
/// <para>
/// Call sites: every other call (<c>call</c>, <c>callvirt</c>, <c>newobj</c>) in the body but those
/// <see cref="SiteCallees"/> excludes, entered right before the call (its arguments evaluated) and left right after
/// it, named as <see cref="SiteCallees.NameOf"/> says. Calls inside a member's value are sites inside its block.
/// </para>
/// <para>
/// The runtime keys each site by its name and how many sites of that name its enclosing block (the constructor's, or
/// the member's) entered before it, so a site does not depend on what other names drew. The inserted calls consume
/// their own argument and leave the stack as they found it, so they fit anywhere in an expression; no try/finally is
/// added (a protected region must start on an empty stack): a site an exception leaves open is closed by the next site
/// of its constructor or by the constructor's block exit. Code is inserted before an instruction by taking its place
/// (<see cref="CecilExtensions.InsertBeforeKeepingBranches"/>), so a branch to it (a conditional argument jumps straight
/// to the call) goes through the inserted code.
/// </para>
/// </remarks>
internal sealed class ConstructorSites(ModuleWeaver weaver, MethodDefinition constructor)
{
    /// <summary>A value stored in a member of <c>this</c>: from its first instruction to the store.</summary>
    private sealed class MemberStore(Instruction store, Instruction valueStart, string name)
    {
        public Instruction Store { get; } = store;
        public Instruction ValueStart { get; } = valueStart;
        public string Name { get; } = name;
    }

    /// <summary>The producers of the stack on entry to each instruction of the body, before any site is inserted.</summary>
    private Dictionary<Instruction, Instruction?[]?> _stacks = null!;

    /// <summary>Each instruction's position in the body, before any site is inserted.</summary>
    private Dictionary<Instruction, int> _index = null!;

    /// <summary>Inserts the sites; returns how many were woven.</summary>
    public int Weave(ILProcessor il)
    {
        MethodBody body = constructor.Body;
        List<Instruction> calls = body.Instructions.Where(i => i.OpCode.Code is Code.Call or Code.Callvirt or Code.Newobj).ToList();
        if (calls.Count == 0)
            return 0;
        _stacks = StackProducers.At(body, body.Instructions.ToList());
        _index = body.Instructions.Select((instruction, i) => (instruction, i)).ToDictionary(p => p.instruction, p => p.i);

        var stores = new Dictionary<Instruction, MemberStore>();
        foreach (Instruction instruction in body.Instructions)
        {
            if (StoreAt(instruction, _stacks[instruction]) is { } store)
                stores[instruction] = store;
        }
        Dictionary<Instruction, Instruction?[]?> stacks = _stacks;

        var sites = new List<(Instruction Call, string Name)>();
        foreach (Instruction call in calls)
        {
            var callee = (MethodReference)call.Operand;
            if (stores.ContainsKey(call) || IsChainedConstructorCall(call, callee, stacks[call]) || SiteCallees.IsExcluded(call, callee))
                continue;
            sites.Add((call, SiteCallees.NameOf(callee, StackProducers.FromTop(stacks[call], callee.Parameters.Count))));
        }

        List<MemberStore> members = MemberSites(stores.Values, sites.Select(s => s.Call));

        // Calls first, then members: a value that starts with a call (`x = Make()`) enters the member, then the call.
        foreach ((Instruction call, string name) in sites)
        {
            Instruction start = call.PrefixStart();
            Instruction moved = il.InsertBeforeKeepingBranches(start, il.Create(OpCodes.Ldstr, name), il.Create(OpCodes.Call, weaver.EnterSiteMethod));
            il.InsertAfter(start == call ? moved : call, il.Create(OpCodes.Call, weaver.ExitSiteMethod));
        }
        foreach (MemberStore member in members)
        {
            il.InsertBeforeKeepingBranches(member.ValueStart, il.Create(OpCodes.Ldstr, member.Name), il.Create(OpCodes.Call, weaver.EnterMemberSiteMethod));
            il.InsertAfter(member.Store, il.Create(OpCodes.Call, weaver.ExitSiteMethod));
        }
        return sites.Count + members.Count;
    }

    /// <summary>The member store <paramref name="instruction"/> makes on <c>this</c>, if it is one (see the class remarks).</summary>
    private MemberStore? StoreAt(Instruction instruction, Instruction?[]? stack)
    {
        switch (instruction.Operand)
        {
            case FieldReference field when instruction.OpCode.Code == Code.Stfld:
                return Store(instruction, StackProducers.FromTop(stack, 1), SiteCallees.MemberName(field.Name));
            case MethodReference setter when instruction.OpCode.Code is Code.Call or Code.Callvirt
                && setter.HasThis && setter.Parameters.Count == 1 && setter.Name.StartsWith("set_", System.StringComparison.Ordinal)
                && setter.Resolve() is { IsSetter: true }:
                return Store(instruction, StackProducers.FromTop(stack, 1), setter.Name.Substring(4));
            case MethodReference register when instruction.OpCode.Code is Code.Call or Code.Callvirt
                && register.Name == "register_module" && register.HasThis && register.Parameters.Count == 2
                && register.Parameters[0].ParameterType.MetadataType == MetadataType.String && register.DeclaringType.IsTorchModule()
                && StackProducers.FromTop(stack, 2).IsLoadOfThis(constructor)
                && StackProducers.FromTop(stack, 1) is { OpCode.Code: Code.Ldstr, Operand: string name } constantName:
                return new MemberStore(instruction, constantName.Next, name);
            default:
                return null;
        }
    }

    /// <summary>
    /// A store whose target object is <c>this</c>: its value starts right after <c>this</c> was loaded, or, when the
    /// compiler computed the value into a temporary first (<c>ldarg.0; ldloc t; stfld</c>), where that computation starts.
    /// </summary>
    private MemberStore? Store(Instruction store, Instruction? target, string name)
    {
        if (!target.IsLoadOfThis(constructor) || target!.Next is not { } valueStart || valueStart == store)
            return null;
        if (valueStart.Next == store && valueStart.OpCode.Code == Code.Ldloc && valueStart.Operand is VariableDefinition spilled
            && SpilledStart(target, store, spilled) is { } start)
        {
            valueStart = start;
        }
        return new MemberStore(store, valueStart, name);
    }

    /// <summary>
    /// Where the computation of a value that the compiler put in the temporary <paramref name="temporary"/> before the
    /// store starts (a switch expression: <c>features = version switch { ... }</c> is compiled to a dispatch, arms that
    /// each end <c>stloc t; br end</c>, and <c>end: ldarg.0; ldloc t; stfld features</c>); null when the value does not
    /// have that shape (a local the user wrote, used later: <c>var f = A(); B(); features = f;</c>).
    /// </summary>
    /// <remarks>
    /// The writes of the temporary that go straight to the store (followed by <c>this</c>'s load, or by branches to it)
    /// are the arms; the computation starts at the latest instruction before the first of them that is entered with an
    /// empty stack and through which alone control enters the code up to the store (no branch from outside lands inside,
    /// no exception handler starts or ends inside), and that holds no other member's store.
    /// </remarks>
    private Instruction? SpilledStart(Instruction receiver, Instruction store, VariableDefinition temporary)
    {
        IList<Instruction> instructions = constructor.Body.Instructions;
        List<Instruction> arms = instructions.Where(i => i.OpCode.Code == Code.Stloc && i.Operand == temporary
            && _index[i] < _index[receiver] && GoesStraightTo(i.Next, receiver)).ToList();
        if (arms.Count == 0)
            return null;
        int end = _index[store];
        for (int i = arms.Min(a => _index[a]); i >= 0; i--)
        {
            Instruction candidate = instructions[i];
            if (IsMemberStoreInstruction(candidate))
                return null; // walked back into the statement before: not the shape expected
            if (_stacks[candidate] is { Length: 0 } && EntersOnlyAt(i, end))
                return candidate;
        }
        return null;
    }

    /// <summary>
    /// Whether control goes from <paramref name="from"/> to <paramref name="target"/> through nothing but nops and
    /// branches always taken: <c>br</c>, and the <c>ldc.i4.1; brtrue</c> a Debug build puts before a hidden sequence point.
    /// </summary>
    private static bool GoesStraightTo(Instruction? from, Instruction target)
    {
        for (int hops = 0; from is not null && hops < 16; hops++)
        {
            if (from == target)
                return true;
            from = from.OpCode.Code switch
            {
                Code.Nop => from.Next,
                Code.Br => from.Operand as Instruction,
                Code.Ldc_I4 when from.Operand is int constant && from.Next is { } branch
                    && ((constant != 0 && branch.OpCode.Code == Code.Brtrue) || (constant == 0 && branch.OpCode.Code == Code.Brfalse)) => branch.Operand as Instruction,
                _ => null,
            };
        }
        return false;
    }

    /// <summary>Whether the code from position <paramref name="start"/> to <paramref name="end"/> is entered only at its start.</summary>
    private bool EntersOnlyAt(int start, int end)
    {
        bool Inside(Instruction? i) => i is not null && _index[i] > start && _index[i] <= end;
        foreach (ExceptionHandler handler in constructor.Body.ExceptionHandlers)
        {
            if (Inside(handler.TryStart) || Inside(handler.TryEnd) || Inside(handler.HandlerStart) || Inside(handler.HandlerEnd) || Inside(handler.FilterStart))
                return false;
        }
        foreach (Instruction instruction in constructor.Body.Instructions)
        {
            int from = _index[instruction];
            if (from >= start && from <= end)
                continue;
            IEnumerable<Instruction> targets = instruction.Operand switch
            {
                Instruction target => [target],
                Instruction[] many => many,
                _ => [],
            };
            if (targets.Any(Inside))
                return false;
        }
        return true;
    }

    /// <summary>A store into a member of <c>this</c> (a field or a setter), whatever its value: the end of another statement.</summary>
    private bool IsMemberStoreInstruction(Instruction instruction) =>
        (instruction.OpCode.Code == Code.Stfld || (instruction.Operand is MethodReference { HasThis: true } method && method.Name.StartsWith("set_", System.StringComparison.Ordinal)))
        && StackProducers.FromTop(_stacks[instruction], 1).IsLoadOfThis(constructor);

    /// <summary>The base or this(...) constructor call of a class constructor: <c>call .ctor</c> on <c>this</c>.</summary>
    private bool IsChainedConstructorCall(Instruction call, MethodReference callee, Instruction?[]? stack) =>
        call.OpCode.Code == Code.Call && callee.Name == ".ctor" && StackProducers.FromTop(stack, callee.Parameters.Count).IsLoadOfThis(constructor);

    /// <summary>
    /// The stores that become member sites: those whose value makes a call that is a site, and that are not inside
    /// another such store's value.
    /// </summary>
    private List<MemberStore> MemberSites(IEnumerable<MemberStore> stores, IEnumerable<Instruction> siteCalls)
    {
        Dictionary<Instruction, int> index = _index;
        List<int> callIndices = siteCalls.Select(c => index[c]).ToList();
        var withCalls = stores
            .Select(s => (Store: s, From: index[s.ValueStart], To: index[s.Store]))
            .Where(s => callIndices.Any(c => c >= s.From && c < s.To))
            .OrderBy(s => s.From).ThenByDescending(s => s.To)
            .ToList();
        var kept = new List<MemberStore>();
        int end = -1;
        foreach ((MemberStore store, int from, int to) in withCalls)
        {
            if (from < end)
                continue; // inside the value of a member kept before it
            kept.Add(store);
            end = to;
        }
        return kept;
    }
}
