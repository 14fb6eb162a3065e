using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>Explicit seeds shared by attributes (the weaver's error), and constant seeds of hand-written blocks (which it cannot see).</summary>
[TestClass]
public sealed class SharedSeedTests
{
    [TestMethod]
    public Task AttributesSharingASeed_AreRB0006_UnlessEachAllowsIt() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            [ReproducibleBlock(5)] void First() { }
            [{|#0:ReproducibleBlock(5)|}] void Second() { }
            [ReproducibleBlock(6, AllowSharedSeed = true)] void Third() { }
            [{|#1:ReproducibleBlock(6)|}] void Fourth() { }
            [ReproducibleBlock(7, AllowSharedSeed = true)] void Fifth() { }
            [ReproducibleBlock(7, AllowSharedSeed = true)] void Sixth() { }
        }
        """,
        Verify.Diagnostic(Descriptors.SharedExplicitSeed).WithLocation(0).WithArguments(5L, "method C.Second()", "method C.First()"),
        Verify.Diagnostic(Descriptors.SharedExplicitSeed).WithLocation(1).WithArguments(6L, "method C.Fourth()", "method C.Third()"));

    /// <summary>
    /// The constructors of one type with one seed are one block, as the type's derived seed makes them and as Pin the seed
    /// leaves them (issue 20); another type's constructor or a method with that seed is another block.
    /// </summary>
    [TestMethod]
    public Task ConstructorsOfOneTypeWithOneSeed_AreOneBlock() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            [ReproducibleBlock(9)] public C() { }
            [ReproducibleBlock(9, RestoreOnExit = false)] public C(int x) { }
        }
        [{|#0:ReproducibleBlock(9)|}]
        class D
        {
            [ReproducibleBlock(9)] public D(int x) { }
            public D() { }
        }
        """, Verify.Diagnostic(Descriptors.SharedExplicitSeed).WithLocation(0).WithArguments(9L, "constructors of D", "constructor C.C()"));

    [TestMethod]
    public Task StructAttributeWithoutConstructors_WeavesNothing_SoSharesNothing() => Verify.Diagnostics("""
        using ReproducibleBlock;
        [ReproducibleBlock(10)] struct S { }
        [ReproducibleBlock(10)] class C { }
        """, withNameDerived: true);

    [TestMethod]
    public Task ConstructorsOfATypeAttribute_AreOneBlock() => Verify.Diagnostics("""
        using ReproducibleBlock;
        [ReproducibleBlock(8)]
        class C
        {
            public C() { }
            public C(int x) { }
        }
        """);

    /// <summary>
    /// A record's copy constructor is never woven (the weaver skips it), so a type attribute whose only other constructor
    /// has its own seed weaves nothing with the type's seed: a method may have it (issue 20, defect 4).
    /// </summary>
    [TestMethod]
    public Task RecordCopyConstructor_DoesNotTakeTheTypesSeed() => Verify.DiagnosticsAsWoven("""
        using ReproducibleBlock;
        [ReproducibleBlock(5)]
        record R
        {
            [ReproducibleBlock(6)] public R() { }
        }
        class C
        {
            [ReproducibleBlock(5)] void M() { }
        }
        """);

    [TestMethod]
    public Task HandWrittenBlocksSharingASeed_AreRB0009() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            const long Shared = 42;
            void A() { using ({|#0:Reproducible.Block(42)|}) { } }
            void B() { using ({|#1:Reproducible.InstanceBlock(Shared, restoreOnExit: true)|}) { } }
            void Own() { using (Reproducible.Block(43)) { } }
            void NotConstant(long seed) { using (Reproducible.Block(seed)) { } using (Reproducible.Block(seed)) { } }
        }
        """,
        Verify.Diagnostic(Descriptors.SeedSharedWithHandWrittenBlock).WithLocation(0).WithArguments(42L,
            "the hand-written Reproducible.Block(42) at Test1.cs:5", "the hand-written Reproducible.InstanceBlock(42) at Test1.cs:6"),
        Verify.Diagnostic(Descriptors.SeedSharedWithHandWrittenBlock).WithLocation(1).WithArguments(42L,
            "the hand-written Reproducible.InstanceBlock(42) at Test1.cs:6", "the hand-written Reproducible.Block(42) at Test1.cs:5"));

    [TestMethod]
    public Task HandWrittenBlockSharingAnAttributesSeed_IsRB0009() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            [ReproducibleBlock(128)]
            static void Train() { }
            static void Evaluate() { using ({|#0:Reproducible.Block(128)|}) { } }
        }
        """,
        Verify.Diagnostic(Descriptors.SeedSharedWithHandWrittenBlock).WithLocation(0).WithArguments(128L,
            "the hand-written Reproducible.Block(128) at Test1.cs:6", "the method C.Train()"));
}
