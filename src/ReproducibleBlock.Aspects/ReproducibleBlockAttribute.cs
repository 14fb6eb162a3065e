using System;

namespace ReproducibleBlock;

/// <summary>
/// Runs the whole body of a method or constructor inside its own reproducible block, as if it were wrapped in
/// <c>using (Reproducible.Block(seed)) { ... }</c>. On a class or struct, applies to all its instance constructors.
/// Woven at build time by ReproducibleBlock.Fody.
/// </summary>
/// <remarks>
/// <para>
/// Without a seed, the seed is derived at build time from the name: the type's full name for constructors, the type
/// and the method's signature for methods. Renaming the type or method then changes its stream; an explicit seed does
/// not. Give every block its own seed: the build fails when two targets share an explicit seed, unless every one of
/// them sets <see cref="AllowSharedSeed"/>.
/// </para>
/// <para>
/// A constructor block is entered before field initialisers and the base constructor call, so layers created in
/// field initialisers are inside it, and it counts instances: two objects of one type built in the same place get
/// different, reproducible states. It restores the enclosing stream on exit unless <c>RestoreOnExit = false</c> is
/// written, so building the object is invisible to the code around it. A method block does not count: every call
/// starts from the same state, so a method called in a loop draws the same numbers each time and (unless
/// <c>RestoreOnExit = true</c> is written) leaves the caller's stream at the block's state. For a module's <c>forward</c>, whose every call should draw fresh dropout
/// masks, use <see cref="ContinuingBlockAttribute"/> instead; the weaver warns about this attribute on a
/// <c>forward</c> override unless <see cref="RepeatsEachCall"/> is set.
/// Async methods and iterators cannot be woven (the block would end at the first <c>await</c> or before the body
/// runs): the build fails; use <c>using (Reproducible.Block(seed))</c> inside them instead. A lambda or local function
/// needs an explicit seed (the compiler's name for it, which a derived seed would come from, changes when an
/// unrelated lambda is added above it); static classes, finalizers and static constructors cannot be blocks.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class ReproducibleBlockAttribute : Attribute
{
    /// <summary>A block whose seed is derived from the target's name at build time.</summary>
    public ReproducibleBlockAttribute()
    {
    }

    /// <summary>A block with an explicit seed.</summary>
    /// <param name="seed">The block seed; see <c>Reproducible.Block</c>.</param>
    public ReproducibleBlockAttribute(long seed)
    {
        Seed = seed;
        HasSeed = true;
    }

    /// <summary>The explicit seed, when <see cref="HasSeed"/> is true.</summary>
    public long Seed { get; }

    /// <summary>Whether a seed was given; otherwise it is derived from the name at build time.</summary>
    public bool HasSeed { get; }

    /// <summary>When true, leaving the block puts every generator back as it was before entry.</summary>
    /// <remarks>
    /// What the weaver does when this is not written depends on the target: a constructor's block (the attribute on
    /// a constructor, a class or a struct) restores, so building an object is invisible to the code around it; a
    /// method's block does not, and draws after the call continue from the block's state, as in
    /// torch-reproducible-block. Write <c>RestoreOnExit = false</c> on a constructor or type to have its block
    /// continue the enclosing stream instead (the behaviour before 0.2), <c>RestoreOnExit = true</c> on a method to
    /// have it restore. Read by reflection, the property says only what was written (false when it was not).
    /// </remarks>
    public bool RestoreOnExit { get; set; }

    /// <summary>Set on every target that deliberately shares its explicit seed with another, to allow it.</summary>
    public bool AllowSharedSeed { get; set; }

    /// <summary>
    /// Says that every call of this method is meant to start from the same state and draw the same numbers, as a
    /// method block does. It changes nothing in the block; it silences the weaver's warning about a method block on a
    /// <c>forward</c> override (where <see cref="ContinuingBlockAttribute"/> is usually what is wanted).
    /// </summary>
    public bool RepeatsEachCall { get; set; }

    /// <summary>
    /// For a constructor's block (the attribute on a class or a constructor): when true (the default), each part the
    /// constructor builds draws in a block of its own, so what one part draws does not depend on what the others drew.
    /// Set it to false to have the whole constructor draw in its one block, as in 0.2. Ignored on methods.
    /// </summary>
    /// <remarks>
    /// The parts are the values the constructor stores in the instance's fields and properties (keyed by the member's
    /// name), the values it registers with <c>register_module("name", ...)</c> (keyed by that name), and every other call
    /// it makes (keyed by the callee's name and how many calls of that name came before it in the same constructor
    /// call). Calls into the .NET base library that cannot run user code (<c>List&lt;T&gt;.Add</c>, string formatting,
    /// tuple constructors) are not parts. So a conv layer added to <c>features = Sequential(...)</c> leaves every weight
    /// of <c>classifier = Sequential(...)</c> as it was, and a block added in one of four <c>MakeLayer(...)</c> calls
    /// leaves the blocks of the other three as they were. What still shifts: a new call of a callee inserted before
    /// another call of the same callee in the same constructor, and a layer inserted before others inside one part.
    /// With false, the module's TorchSharp dropouts also draw from the module's own continuing stream, as in 0.2,
    /// instead of streams keyed by their path in the module.
    /// Read by reflection, the property says only what was written (false when it was not).
    /// </remarks>
    public bool IsolateParts { get; set; }
}

/// <summary>
/// Runs the whole body of an instance method inside the instance's continuing block, as if it were wrapped in
/// <c>using (Reproducible.ContinuingBlock(this)) { ... }</c>: each call resumes the instance's own stream where its
/// previous call left it, so a module's <c>forward</c> draws fresh dropout masks on every call, reproducibly, and
/// neither sees nor shifts any other module's draws. Woven at build time by ReproducibleBlock.Fody.
/// </summary>
/// <remarks>
/// An instance built by a woven constructor (see <see cref="ReproducibleConstructorsAttribute"/>) has the stream of its
/// construction path: two instances of one type differ, and the same model built again after <c>SetSeed</c> has the
/// same streams. For every <c>forward</c> of a project's modules, set
/// <see cref="ReproducibleConstructorsAttribute.ContinuingForward"/> on the assembly rule instead of this attribute.
/// Static methods, methods of structs (there is no lasting instance to own the stream), async methods and iterators
/// cannot be woven: the build fails with the reason.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ContinuingBlockAttribute : Attribute
{
}

/// <summary>
/// Makes every instance constructor of every type in this assembly that derives from <see cref="BaseType"/> its own
/// reproducible block, as <see cref="ReproducibleBlockAttribute"/> on each of those types would.
/// For TorchSharp: <c>[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]</c>.
/// </summary>
/// <remarks>
/// Generic subclasses match (<c>Module&lt;Tensor, Tensor&gt;</c> derives from <c>Module</c>). A type or constructor marked
/// <see cref="NoReproducibleBlockAttribute"/> is skipped; one with its own <see cref="ReproducibleBlockAttribute"/> keeps
/// that attribute's settings.
/// </remarks>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class ReproducibleConstructorsAttribute : Attribute
{
    /// <param name="baseType">The class whose subclasses' constructors become blocks (an open generic type matches all its constructions).</param>
    public ReproducibleConstructorsAttribute(Type baseType)
    {
        BaseType = baseType;
    }

    /// <summary>The class whose subclasses' constructors become blocks.</summary>
    public Type BaseType { get; }

    /// <summary>
    /// When true (the default), leaving each constructor's block puts every generator back as it was before: building
    /// a module is invisible to everything around it, so a parent's own layers built after its children do not depend
    /// on how much the children drew. Set it to false to have the enclosing stream continue from the block's state (the
    /// behaviour before 0.2, which moves a parent's later layers whenever a child changes).
    /// </summary>
    public bool RestoreOnExit { get; set; } = true;

    /// <summary>
    /// When true (the default from 0.3), every override of a method named <c>forward</c> in those types also runs in
    /// the instance's continuing block (as with <see cref="ContinuingBlockAttribute"/>): each module instance draws from
    /// a stream of its own that continues from call to call, so adding dropout to one module never changes another's
    /// masks. Set it to false to leave <c>forward</c> unwoven (the default before 0.3): every module's draws then come
    /// from one interleaved stream.
    /// </summary>
    /// <remarks>
    /// Only the project's own modules are woven. TorchSharp's own random modules (such as <c>Dropout</c>) in a woven
    /// module's tree draw from streams keyed by their path under it (<c>classifier.2</c>), whether they are reached
    /// through a container's <c>forward</c> or called directly from a woven <c>forward</c> (unless
    /// <see cref="IsolateParts"/> is false: then from the stream of the woven module around them). A <c>forward</c>
    /// with its own <see cref="ReproducibleBlockAttribute"/> or <see cref="NoReproducibleBlockAttribute"/> keeps that.
    /// </remarks>
    public bool ContinuingForward { get; set; } = true;

    /// <summary>
    /// When true (the default from 0.3), each part a woven constructor builds draws in a block of its own, keyed by
    /// where it is built (see <see cref="ReproducibleBlockAttribute.IsolateParts"/>), and TorchSharp's random modules
    /// in the module's tree draw masks from streams keyed by their path. Set it to false to keep the streams of 0.2:
    /// the whole constructor draws in its one block, and those modules draw from the module's own stream.
    /// </summary>
    public bool IsolateParts { get; set; } = true;
}

/// <summary>
/// Keeps a type (its constructors and, under <see cref="ReproducibleConstructorsAttribute.ContinuingForward"/>, its
/// <c>forward</c>), one constructor, or one <c>forward</c> out of a <see cref="ReproducibleConstructorsAttribute"/> rule.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Constructor | AttributeTargets.Method, Inherited = false)]
public sealed class NoReproducibleBlockAttribute : Attribute
{
}
