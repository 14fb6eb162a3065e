using System;
using System.Collections;
using System.IO;
using System.Reflection;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Fails the build when the compiled assembly uses ReproducibleBlock's attributes (it references
/// ReproducibleBlock.Aspects) but was not woven (it has no reference to ReproducibleBlock.WovenAssemblyAttribute,
/// which the weaver adds with the mark [assembly: WovenAssembly]): the attributes would do nothing, and every block
/// would draw other numbers. The test Reproducible.SetSeed makes at run time, made at build time.
/// </summary>
/// <remarks>
/// MSBuild compiles this class against netstandard alone (RoslynCodeTaskFactory), where System.Reflection.Metadata
/// cannot be referenced; the copy loaded in MSBuild's own process is used through reflection instead: its PEReader and
/// MetadataReader, walking the assembly references and the type references by name.
/// </remarks>
public sealed class ReproducibleBlockCheckWoven : Task
{
    /// <summary>The assembly as the build left it for copying: after Fody, when Fody ran.</summary>
    [Required]
    public string Assembly { get; set; }

    /// <summary>Where the error points: FodyWeavers.xml when it exists, else the project file.</summary>
    public string File { get; set; }

    public override bool Execute()
    {
        if (string.IsNullOrEmpty(Assembly) || !System.IO.File.Exists(Assembly))
            return true;
        Metadata metadata;
        try
        {
            metadata = new Metadata(System.IO.File.ReadAllBytes(Assembly));
        }
        catch (Exception e) when (e is IOException || e is TargetInvocationException || e is MissingMemberException || e is FileNotFoundException || e is BadImageFormatException)
        {
            Log.LogWarning("ReproducibleBlock could not read " + Assembly + " to check that it was woven: " + e.Message);
            return true;
        }
        if (!metadata.ReferencesAssembly("ReproducibleBlock.Aspects") || metadata.ReferencesType("ReproducibleBlock", "WovenAssemblyAttribute"))
            return true;
        Log.LogError(null, "RB1001", null, File ?? "", 0, 0, 0, 0,
            "The assembly " + Path.GetFileNameWithoutExtension(Assembly) + " uses ReproducibleBlock's attributes ([ReproducibleBlock], [ContinuingBlock], "
            + "[assembly: ReproducibleConstructors]) but was not woven, so they would do nothing and its blocks would draw other numbers. Add "
            + "<ReproducibleBlock /> to the FodyWeavers.xml beside the project file (and leave DisableFody unset), or, to build it unwoven on purpose, "
            + "set <ReproducibleBlockRequireWeaving>false</ReproducibleBlockRequireWeaving> in the project.");
        return false;
    }

    /// <summary>An assembly's metadata, read with the System.Reflection.Metadata of the running MSBuild.</summary>
    private sealed class Metadata
    {
        private readonly object _reader;
        private readonly Type _readerType;

        public Metadata(byte[] image)
        {
            System.Reflection.Assembly library = System.Reflection.Assembly.Load(new AssemblyName("System.Reflection.Metadata"));
            Type peReaderType = library.GetType("System.Reflection.PortableExecutable.PEReader", throwOnError: true);
            object peReader = Activator.CreateInstance(peReaderType, new MemoryStream(image));
            MethodInfo getReader = library.GetType("System.Reflection.Metadata.PEReaderExtensions", throwOnError: true)
                .GetMethod("GetMetadataReader", new[] { peReaderType });
            _reader = getReader.Invoke(null, new[] { peReader });
            _readerType = _reader.GetType();
        }

        public bool ReferencesAssembly(string name)
        {
            foreach (object handle in (IEnumerable)Property(_reader, "AssemblyReferences"))
            {
                if (String(Property(Call("GetAssemblyReference", handle), "Name")) == name)
                    return true;
            }
            return false;
        }

        public bool ReferencesType(string @namespace, string name)
        {
            foreach (object handle in (IEnumerable)Property(_reader, "TypeReferences"))
            {
                object reference = Call("GetTypeReference", handle);
                if (String(Property(reference, "Name")) == name && String(Property(reference, "Namespace")) == @namespace)
                    return true;
            }
            return false;
        }

        private object Call(string method, object handle) =>
            _readerType.GetMethod(method, new[] { handle.GetType() }).Invoke(_reader, new[] { handle });

        private string String(object handle) => (string)Call("GetString", handle);

        private static object Property(object target, string name) => target.GetType().GetProperty(name).GetValue(target);
    }
}
