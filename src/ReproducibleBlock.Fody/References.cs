using System.Linq;
using Fody;
using Mono.Cecil;

namespace ReproducibleBlock.Weaving;

public sealed partial class ModuleWeaver
{
    internal const string CoreAssemblyName = "ReproducibleBlock.Core";

    internal TypeReference BlockScopeType { get; private set; } = null!;
    /// <summary><c>WovenCode.EnterBlock(long, bool, string)</c>: entered by woven methods, with their name for traces.</summary>
    internal MethodReference EnterBlockMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.EnterConstructorBlock(long, bool, string)</c>: entered by woven constructors.</summary>
    internal MethodReference EnterConstructorBlockMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.ChainingToWovenConstructor()</c>: called before <c>this(...)</c> to a woven constructor.</summary>
    internal MethodReference ChainingToWovenConstructorMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.EnterContinuingBlock(object, string)</c>: entered by woven continuing methods.</summary>
    internal MethodReference ContinuingBlockMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.RegisterStream(object)</c>: called at the end of woven constructors of classes.</summary>
    internal MethodReference RegisterStreamMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.RegisterStreamWithoutPaths(object)</c>: instead, in constructors woven with <c>IsolateParts = false</c>.</summary>
    internal MethodReference RegisterStreamWithoutPathsMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.EnterSite(string)</c>: before a call that is a site of a woven constructor.</summary>
    internal MethodReference EnterSiteMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.EnterMemberSite(string)</c>: before a value a woven constructor stores in a member.</summary>
    internal MethodReference EnterMemberSiteMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.ExitSite()</c>: after a site's call or store.</summary>
    internal MethodReference ExitSiteMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.EnterModule(object)</c>: before a woven continuing method calls another module's forward.</summary>
    internal MethodReference EnterModuleMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.ExitModule(object)</c>: after that call.</summary>
    internal MethodReference ExitModuleMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.ExitModuleWithOutput&lt;T&gt;(object, T)</c>: instead, after a call that returned a value (open: instantiate it).</summary>
    internal MethodReference ExitModuleWithOutputMethod { get; private set; } = null!;
    /// <summary><c>WovenCode.RecordOutput&lt;T&gt;(BlockScope, T)</c>: before a woven continuing method returns a value (open: instantiate it).</summary>
    internal MethodReference RecordOutputMethod { get; private set; } = null!;
    internal MethodReference DisposeMethod { get; private set; } = null!;
    /// <summary><c>WovenAssemblyAttribute()</c>: the mark a woven assembly carries, which SetSeed looks for.</summary>
    private MethodReference? _wovenAssemblyConstructor;

    private void FindReferences()
    {
        if (!TryFindTypeDefinition("ReproducibleBlock.Reproducible", out TypeDefinition? reproducible))
        {
            throw new WeavingException(
                $"ReproducibleBlock.Fody cannot find {CoreAssemblyName}: add a reference to the ReproducibleBlock.Core package (the ReproducibleBlock.Fody package brings it).");
        }
        TypeDefinition wovenCode = FindTypeDefinition("ReproducibleBlock.WovenCode");
        TypeDefinition blockScope = FindTypeDefinition("ReproducibleBlock.BlockScope");
        TypeDefinition disposable = FindTypeDefinition("System.IDisposable");

        BlockScopeType = ModuleDefinition.ImportReference(blockScope);
        EnterBlockMethod = ModuleDefinition.ImportReference(Required(wovenCode, "EnterBlock", MetadataType.Int64, MetadataType.Boolean, MetadataType.String));
        EnterConstructorBlockMethod = ModuleDefinition.ImportReference(Required(wovenCode, "EnterConstructorBlock", MetadataType.Int64, MetadataType.Boolean, MetadataType.String));
        ChainingToWovenConstructorMethod = ModuleDefinition.ImportReference(wovenCode.Methods.Single(m => m.Name == "ChainingToWovenConstructor"));
        ContinuingBlockMethod = ModuleDefinition.ImportReference(Required(wovenCode, "EnterContinuingBlock", MetadataType.Object, MetadataType.String));
        RegisterStreamMethod = ModuleDefinition.ImportReference(Required(wovenCode, "RegisterStream", MetadataType.Object));
        RegisterStreamWithoutPathsMethod = ModuleDefinition.ImportReference(Required(wovenCode, "RegisterStreamWithoutPaths", MetadataType.Object));
        EnterSiteMethod = ModuleDefinition.ImportReference(Required(wovenCode, "EnterSite", MetadataType.String));
        EnterMemberSiteMethod = ModuleDefinition.ImportReference(Required(wovenCode, "EnterMemberSite", MetadataType.String));
        ExitSiteMethod = ModuleDefinition.ImportReference(Required(wovenCode, "ExitSite"));
        EnterModuleMethod = ModuleDefinition.ImportReference(Required(wovenCode, "EnterModule", MetadataType.Object));
        ExitModuleMethod = ModuleDefinition.ImportReference(Required(wovenCode, "ExitModule", MetadataType.Object));
        ExitModuleWithOutputMethod = ModuleDefinition.ImportReference(RequiredGeneric(wovenCode, "ExitModuleWithOutput", 1, MetadataType.Object, MetadataType.MVar));
        RecordOutputMethod = ModuleDefinition.ImportReference(RequiredGeneric(wovenCode, "RecordOutput", 1, MetadataType.Class, MetadataType.MVar));
        DisposeMethod = ModuleDefinition.ImportReference(disposable.Methods.Single(m => m.Name == "Dispose"));
        _wovenAssemblyConstructor = TryFindTypeDefinition(WovenAssemblyAttributeName, out TypeDefinition? marker)
            ? ModuleDefinition.ImportReference(marker!.Methods.Single(m => m.IsConstructor && !m.IsStatic && m.Parameters.Count == 0))
            : null;
    }

    private const string WovenAssemblyAttributeName = "ReproducibleBlock.WovenAssemblyAttribute";

    /// <summary>
    /// Marks the assembly as woven (<c>[assembly: WovenAssembly]</c>), once: Reproducible.SetSeed warns about an
    /// assembly that uses the attributes without this mark, as when FodyWeavers.xml lacks &lt;ReproducibleBlock /&gt;.
    /// </summary>
    private void MarkAssemblyWoven()
    {
        if (_wovenAssemblyConstructor is null
            || ModuleDefinition.Assembly.CustomAttributes.Any(a => a.AttributeType.FullName == WovenAssemblyAttributeName))
        {
            return;
        }
        ModuleDefinition.Assembly.CustomAttributes.Add(new CustomAttribute(_wovenAssemblyConstructor));
    }

    /// <summary>A method of ReproducibleBlock.Core the woven code calls, or a clear error when the referenced Core predates it.</summary>
    private static MethodDefinition Required(TypeDefinition type, string name, params MetadataType[] parameters) =>
        RequiredGeneric(type, name, genericArity: 0, parameters);

    /// <summary>As <see cref="Required"/>, for a generic method with <paramref name="genericArity"/> type parameters.</summary>
    private static MethodDefinition RequiredGeneric(TypeDefinition type, string name, int genericArity, params MetadataType[] parameters) =>
        type.Methods.SingleOrDefault(m => m.Name == name && m.GenericParameters.Count == genericArity
            && m.Parameters.Select(p => p.ParameterType.MetadataType).SequenceEqual(parameters))
        ?? throw new WeavingException(
            $"{type.FullName}.{name}{(genericArity switch { 0 => "", 1 => "<T>", _ => "<" + new string(',', genericArity - 1) + ">" })}({string.Join(", ", parameters)}) is missing from the referenced {CoreAssemblyName} ({type.Module.Assembly.Name.Version}): "
            + "it is older than ReproducibleBlock.Fody. Reference the ReproducibleBlock.Core version that comes with the weaver.");
}
