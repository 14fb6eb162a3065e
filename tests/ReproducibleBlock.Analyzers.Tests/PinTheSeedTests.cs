using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>
/// RB0010 on every name-derived target and its fix, Pin the seed. The seeds written here are the weaver's: each is
/// the hash of the name text shown beside it (checked against the weaver itself by <see cref="WeaverSeedTests"/>).
/// Every fix is also woven, before and after (<see cref="Verify.Fix"/>): the build must pass and each member must
/// enter the block it entered before.
/// </summary>
[TestClass]
public sealed class PinTheSeedTests
{
    private static string Seed(string name) => SeedHash.Derive(name).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [TestMethod]
    public Task MethodAttributeWithoutSeed_IsPinned_KeepingItsNamedArguments() => Verify.Fix("""
        using ReproducibleBlock;
        namespace N;
        class C
        {
            [{|#0:ReproducibleBlock(RestoreOnExit = true)|}]
            public static long Draw(int count, string[] names) => 1;
        }
        """, $$"""
        using ReproducibleBlock;
        namespace N;
        class C
        {
            [ReproducibleBlock({{Seed("method:N.C::Draw(System.Int32,System.String[])")}}, RestoreOnExit = true)]
            public static long Draw(int count, string[] names) => 1;
        }
        """, Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0)
            .WithArguments("method N.C.Draw(int, string[])", Seed("method:N.C::Draw(System.Int32,System.String[])")));

    [TestMethod]
    public Task ConstructorAndClassAttributes_ArePinnedWithTheTypesSeed() => Verify.Fix("""
        using ReproducibleBlock;
        class Outer
        {
            [{|#0:ReproducibleBlock|}]
            public class Nested<T>
            {
            }

            [{|#1:ReproducibleBlock()|}]
            public Outer() { }
        }
        """, $$"""
        using ReproducibleBlock;
        class Outer
        {
            [ReproducibleBlock({{Seed("ctor:Outer/Nested`1")}})]
            public class Nested<T>
            {
            }

            [ReproducibleBlock({{Seed("ctor:Outer")}})]
            public Outer() { }
        }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructors of Outer.Nested<T>", Seed("ctor:Outer/Nested`1")),
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(1).WithArguments("constructor Outer.Outer()", Seed("ctor:Outer")));

    [TestMethod]
    public Task TypeWovenByTheRule_GetsAClassAttribute_WithTheRulesRestoreOnExit() => Verify.Fix("""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module), RestoreOnExit = false)]
        public class Module { }
        public sealed class {|#0:Classifier|} : Module
        {
        }
        /// <summary>Documented.</summary>
        [System.Serializable]
        public sealed class {|#1:Head|} : Module { }
        [NoReproducibleBlock]
        public sealed class Skipped : Module { }
        """, $$"""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module), RestoreOnExit = false)]
        public class Module { }
        [ReproducibleBlock({{Seed("ctor:Classifier")}}, RestoreOnExit = false)]
        public sealed class Classifier : Module
        {
        }
        /// <summary>Documented.</summary>
        [ReproducibleBlock({{Seed("ctor:Head")}}, RestoreOnExit = false)]
        [System.Serializable]
        public sealed class Head : Module { }
        [NoReproducibleBlock]
        public sealed class Skipped : Module { }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructors of Classifier (woven by the assembly rule)", Seed("ctor:Classifier")),
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(1).WithArguments("constructors of Head (woven by the assembly rule)", Seed("ctor:Head")));

    /// <summary>
    /// A rule that keeps 0.2's streams (IsolateParts = false): the class attribute that replaces it for the type must
    /// say so too, or pinning would give the constructor sites and move its streams.
    /// </summary>
    [TestMethod]
    public Task TypeWovenByARuleWithIsolatePartsFalse_GetsAClassAttribute_WithIsolatePartsFalse() => Verify.Fix("""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module), IsolateParts = false, RestoreOnExit = false)]
        public class Module { }
        public sealed class {|#0:Classifier|} : Module { }
        """, $$"""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module), IsolateParts = false, RestoreOnExit = false)]
        public class Module { }
        [ReproducibleBlock({{Seed("ctor:Classifier")}}, RestoreOnExit = false, IsolateParts = false)]
        public sealed class Classifier : Module { }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructors of Classifier (woven by the assembly rule)", Seed("ctor:Classifier")));

    [TestMethod]
    public Task RuleWithoutRestoreOnExit_PinsWithoutIt_AndQualifiesTheAttributeOutOfScope() => Verify.Fix("""
        [assembly: ReproducibleBlock.ReproducibleConstructors(typeof(Generic<>))]
        public class Generic<T> { }
        namespace Models
        {
            class {|#0:Model|} : Generic<int> { }
        }
        """, $$"""
        [assembly: ReproducibleBlock.ReproducibleConstructors(typeof(Generic<>))]
        public class Generic<T> { }
        namespace Models
        {
            [global::ReproducibleBlock.ReproducibleBlock({{Seed("ctor:Models.Model")}})]
            class Model : Generic<int> { }
        }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructors of Models.Model (woven by the assembly rule)", Seed("ctor:Models.Model")));

    [TestMethod]
    public Task AccessorAndGenericMethod_ArePinned() => Verify.Fix("""
        using System.Collections.Generic;
        using ReproducibleBlock;
        struct S
        {
            public int Value { [{|#0:ReproducibleBlock|}] get => 1; }
            [{|#1:ReproducibleBlock|}] public static T First<T>(List<T> items, ref int index) => items[index];
        }
        """, $$"""
        using System.Collections.Generic;
        using ReproducibleBlock;
        struct S
        {
            public int Value { [ReproducibleBlock({{Seed("method:S::get_Value()")}})] get => 1; }
            [ReproducibleBlock({{Seed("method:S::First`1(System.Collections.Generic.List`1<T>,System.Int32&)")}})] public static T First<T>(List<T> items, ref int index) => items[index];
        }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("method S.Value.get", Seed("method:S::get_Value()")),
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(1).WithArguments("method S.First<T>(System.Collections.Generic.List<T>, ref int)",
            Seed("method:S::First`1(System.Collections.Generic.List`1<T>,System.Int32&)")));

    [TestMethod]
    public Task ConstructorsSharingTheTypesSeed_ArePinnedToTheirOneBlock() => Verify.Fix("""
        using ReproducibleBlock;
        class TwoCtors
        {
            [{|#0:ReproducibleBlock|}] public TwoCtors() { }
            [{|#1:ReproducibleBlock(RestoreOnExit = false)|}] public TwoCtors(int x) { }
        }
        """, $$"""
        using ReproducibleBlock;
        class TwoCtors
        {
            [ReproducibleBlock({{Seed("ctor:TwoCtors")}})] public TwoCtors() { }
            [ReproducibleBlock({{Seed("ctor:TwoCtors")}}, RestoreOnExit = false)] public TwoCtors(int x) { }
        }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructor TwoCtors.TwoCtors()", Seed("ctor:TwoCtors")),
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(1).WithArguments("constructor TwoCtors.TwoCtors(int)", Seed("ctor:TwoCtors")));

    [TestMethod]
    public Task OneConstructorPinned_TheOtherIsPinnedIntoTheSameBlock() => Verify.Fix($$"""
        using ReproducibleBlock;
        class TwoCtors
        {
            [ReproducibleBlock({{Seed("ctor:TwoCtors")}})] public TwoCtors() { }
            [{|#0:ReproducibleBlock|}] public TwoCtors(int x) { }
        }
        """, $$"""
        using ReproducibleBlock;
        class TwoCtors
        {
            [ReproducibleBlock({{Seed("ctor:TwoCtors")}})] public TwoCtors() { }
            [ReproducibleBlock({{Seed("ctor:TwoCtors")}})] public TwoCtors(int x) { }
        }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructor TwoCtors.TwoCtors(int)", Seed("ctor:TwoCtors")));

    [TestMethod]
    public Task RuleWovenType_WithAnAttributedConstructor_IsPinnedToItsOneBlock() => Verify.Fix("""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module))]
        public class Module { }
        public sealed class {|#0:Head|} : Module
        {
            public Head() { }
            [{|#1:ReproducibleBlock|}] public Head(int x) { }
        }
        """, $$"""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module))]
        public class Module { }
        [ReproducibleBlock({{Seed("ctor:Head")}})]
        public sealed class Head : Module
        {
            public Head() { }
            [ReproducibleBlock({{Seed("ctor:Head")}})] public Head(int x) { }
        }
        """,
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0).WithArguments("constructors of Head (woven by the assembly rule)", Seed("ctor:Head")),
        Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(1).WithArguments("constructor Head.Head(int)", Seed("ctor:Head")));

    [TestMethod]
    public Task ExplicitSeeds_ContinuingBlocks_AndOptedOutConstructors_GetNoInfo() => Verify.Diagnostics("""
        using ReproducibleBlock;
        [assembly: ReproducibleConstructors(typeof(Module))]
        public class {|#0:Module|} { }
        class A : Module { [NoReproducibleBlock] public A() { } }
        [ReproducibleBlock(3)] class B : Module { }
        class C { [ReproducibleBlock(4)] void M() { } [ContinuingBlock] void N() { } }
        """, withNameDerived: true);
}
