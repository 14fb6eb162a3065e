using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>What the weaver rejects at build, reported at the attribute while typing, with the weaver's words.</summary>
[TestClass]
public sealed class RejectedTargetTests
{
    [TestMethod]
    public Task AsyncMethod_IsRB0001_NamingTheMethod() => Verify.Diagnostics("""
        using System.Threading.Tasks;
        using ReproducibleBlock;
        class C
        {
            [{|#0:ReproducibleBlock(1)|}]
            async Task Async() => await Task.Yield();
        }
        """, Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(0).WithArguments(
            "method C.Async()", "async", "[ReproducibleBlock]", "it would end at the first await, while the body goes on", "Reproducible.Block(seed)"));

    [TestMethod]
    public Task IteratorAndAsyncIterator_AreRB0001() => Verify.Diagnostics("""
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using ReproducibleBlock;
        class C
        {
            [{|#0:ReproducibleBlock(1)|}]
            IEnumerable<int> Iterator() { yield return 1; }

            [{|#1:ContinuingBlock|}]
            async IAsyncEnumerable<int> AsyncIterator() { await Task.Yield(); yield return 1; }

            // A yield in a local function does not make the method an iterator (but its result is enumerated later).
            [{|#2:ReproducibleBlock(2)|}]
            IEnumerable<int> Returns() { return Local(); static IEnumerable<int> Local() { yield return 1; } }
        }
        """,
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(0).WithArguments(
            "method C.Iterator()", "an iterator", "[ReproducibleBlock]", "it would end before the body runs, when the caller first gets the enumerator", "Reproducible.Block(seed)"),
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(1).WithArguments(
            "method C.AsyncIterator()", "an async iterator", "[ContinuingBlock]", "it would end at the first await, while the body goes on", "Reproducible.ContinuingBlock(this)"),
        Verify.Diagnostic(Descriptors.DeferredWork).WithLocation(2).WithArguments("method C.Returns()", "an enumerable or enumerator", "enumerated", "[ReproducibleBlock]"));

    [TestMethod]
    public Task ResultsThatDoTheirWorkLater_AreRB0011_AndOtherResultsAreNot() => Verify.Diagnostics("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using ReproducibleBlock;
        class C
        {
            [{|#0:ReproducibleBlock(1)|}]
            Task<int> NotAsync() => Task.FromResult(1);

            [{|#1:ReproducibleBlock(2)|}]
            IEnumerable<int> Lazy() => new List<int>();

            [{|#2:ContinuingBlock|}]
            Func<int> Later() => () => 3;

            [ReproducibleBlock(3)]
            int[] Eager() => new int[1];

            [{|#3:ReproducibleBlock(4)|}]
            async Task Awaited() => await Task.Yield();
        }
        """,
        Verify.Diagnostic(Descriptors.DeferredWork).WithLocation(0).WithArguments("method C.NotAsync()", "a task without being async", "awaited", "[ReproducibleBlock]"),
        Verify.Diagnostic(Descriptors.DeferredWork).WithLocation(1).WithArguments("method C.Lazy()", "an enumerable or enumerator", "enumerated", "[ReproducibleBlock]"),
        Verify.Diagnostic(Descriptors.DeferredWork).WithLocation(2).WithArguments("method C.Later()", "a delegate", "called", "[ContinuingBlock]"),
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(3).WithArguments(
            "method C.Awaited()", "async", "[ReproducibleBlock]", "it would end at the first await, while the body goes on", "Reproducible.Block(seed)"));

    [TestMethod]
    public Task LambdaAndLocalFunction_WithoutASeedOrContinuing_AreRB0002() => Verify.Diagnostics("""
        using System;
        using ReproducibleBlock;
        class C
        {
            void M()
            {
                Func<int> lambda = [{|#0:ReproducibleBlock|}] () => 1;
                [{|#1:ReproducibleBlock(RestoreOnExit = true)|}]
                int Local() => 2;
                [{|#2:ContinuingBlock|}]
                void Continuing() { }
                Func<int> seeded = [ReproducibleBlock(17)] () => 3;
                [ReproducibleBlock(18)]
                static int SeededLocal() => 4;
                _ = lambda() + Local() + seeded() + SeededLocal();
                Continuing();
            }
        }
        """,
        Verify.Diagnostic(Descriptors.LambdaOrLocalFunction).WithLocation(0).WithArguments(
            "The lambda in C.M() has [ReproducibleBlock] without a seed: a seed derived from the compiler's name for a lambda changes whenever a lambda or local function is added above it, and its stream with it. Give it an explicit seed ([ReproducibleBlock(seed)]), or move the code into a method."),
        Verify.Diagnostic(Descriptors.LambdaOrLocalFunction).WithLocation(1).WithArguments(
            "The local function Local in C.M() has [ReproducibleBlock] without a seed: a seed derived from the compiler's name for a local function changes whenever a lambda or local function is added above it, and its stream with it. Give it an explicit seed ([ReproducibleBlock(seed)]), or move the code into a method."),
        Verify.Diagnostic(Descriptors.LambdaOrLocalFunction).WithLocation(2).WithArguments(
            "The local function Continuing in C.M() has [ContinuingBlock]: its `this` is a compiler-generated closure, not the instance that owns the stream. Move the code into an instance method of the class and put the attribute there."));

    /// <summary>
    /// Lambdas and local functions with an explicit seed that the weaver refuses (async, iterator) or warns about (a
    /// result that does its work later), reported while typing as for methods (issue 20, defect 4).
    /// </summary>
    [TestMethod]
    public Task AsyncAndIteratorFunctions_AreRB0001_AndDeferredResults_AreRB0011() => Verify.DiagnosticsAsWoven("""
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using ReproducibleBlock;
        class C
        {
            async Task M()
            {
                [{|#0:ReproducibleBlock(501)|}]
                async Task Inner() => await Task.Yield();

                [{|#1:ReproducibleBlock(502)|}]
                static IEnumerable<int> Numbers() { yield return 1; }

                Func<Task> lambda = [{|#2:ReproducibleBlock(503)|}] async () => await Task.Yield();

                [{|#3:ReproducibleBlock(504)|}]
                static Task<int> Later() => Task.FromResult(1);

                Func<IEnumerable<int>> lazy = [{|#4:ReproducibleBlock(505)|}] () => Numbers();

                await Inner();
                await lambda();
                await Later();
                _ = lazy();
            }
        }
        """,
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(0).WithArguments(
            "local function Inner in C.M()", "async", "[ReproducibleBlock]", "it would end at the first await, while the body goes on", "Reproducible.Block(seed)"),
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(1).WithArguments(
            "local function Numbers in C.M()", "an iterator", "[ReproducibleBlock]", "it would end before the body runs, when the caller first gets the enumerator", "Reproducible.Block(seed)"),
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(2).WithArguments(
            "lambda in C.M()", "async", "[ReproducibleBlock]", "it would end at the first await, while the body goes on", "Reproducible.Block(seed)"),
        Verify.Diagnostic(Descriptors.DeferredWork).WithLocation(3).WithArguments("local function Later in C.M()", "a task without being async", "awaited", "[ReproducibleBlock]"),
        Verify.Diagnostic(Descriptors.DeferredWork).WithLocation(4).WithArguments("lambda in C.M()", "an enumerable or enumerator", "enumerated", "[ReproducibleBlock]"));

    /// <summary>A partial iterator is an iterator: RB0001, the weaver's error, not RB0011 (issue 20, defect 4).</summary>
    [TestMethod]
    public Task PartialIterator_IsRB0001() => Verify.DiagnosticsAsWoven("""
        using System.Collections.Generic;
        using ReproducibleBlock;
        partial class C
        {
            [{|#0:ReproducibleBlock(1)|}]
            private partial IEnumerable<int> Numbers();
        }
        partial class C
        {
            private partial IEnumerable<int> Numbers() { yield return 1; }
        }
        """,
        Verify.Diagnostic(Descriptors.AsyncOrIterator).WithLocation(0).WithArguments(
            "method C.Numbers()", "an iterator", "[ReproducibleBlock]", "it would end before the body runs, when the caller first gets the enumerator", "Reproducible.Block(seed)"));

    [TestMethod]
    public Task SeededLambdaSharingASeed_CountsWithTheOthers() => Verify.Diagnostics("""
        using System;
        using ReproducibleBlock;
        class C
        {
            [ReproducibleBlock(17)] void M() { }
            Func<int> F() => [{|#0:ReproducibleBlock(17)|}] () => 3;
        }
        """, Verify.Diagnostic(Descriptors.SharedExplicitSeed).WithLocation(0).WithArguments(17L, "lambda in C.F()", "method C.M()"));

    [TestMethod]
    public Task FinalizerAndStaticClass_AreRB0003() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            [{|#0:ReproducibleBlock(1)|}]
            ~C() { }
        }
        [{|#1:ReproducibleBlock(2)|}]
        static class Helpers { }
        """,
        Verify.Diagnostic(Descriptors.NoBody).WithLocation(0).WithArguments(
            "The finalizer C.~C() has [ReproducibleBlock]: it runs on the finalizer thread, whenever the garbage collector decides, so it cannot be a reproducible block. Remove the attribute."),
        Verify.Diagnostic(Descriptors.NoBody).WithLocation(1).WithArguments(
            "The static class Helpers has [ReproducibleBlock]: on a type, the attribute makes its instance constructors blocks, and a static class has none. Put the attribute on the methods that draw."));

    [TestMethod]
    public Task AbstractExternAndStaticConstructor_AreRB0003() => Verify.Diagnostics("""
        using System.Runtime.InteropServices;
        using ReproducibleBlock;
        abstract class C
        {
            [{|#0:ReproducibleBlock(1)|}]
            public abstract void Abstract();

            [{|#1:ReproducibleBlock(2)|}]
            [DllImport("libc")]
            static extern int getpid();

            [{|#2:ReproducibleBlock(3)|}]
            static C() { }
        }
        """,
        Verify.Diagnostic(Descriptors.NoBody).WithLocation(0).WithArguments(
            "The method C.Abstract() is abstract but has [ReproducibleBlock]: there is no body to run in a block. Put the attribute on the overriding methods instead."),
        Verify.Diagnostic(Descriptors.NoBody).WithLocation(1).WithArguments(
            "The method C.getpid() is extern but has [ReproducibleBlock]: there is no body to run in a block. Remove the attribute, or wrap the call in using (Reproducible.Block(seed))."),
        Verify.Diagnostic(Descriptors.NoBody).WithLocation(2).WithArguments(
            "The static constructor C.C() has [ReproducibleBlock]: a static constructor runs once, whenever the runtime decides, so it cannot be a reproducible block. Move the random work into a method or an instance constructor."));

    [TestMethod]
    public Task ContinuingOnStaticOrStructMethod_IsRB0004() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            [{|#0:ContinuingBlock|}]
            public static void Static() { }
        }
        struct S
        {
            [{|#1:ContinuingBlock|}]
            public void Draw() { }
        }
        """,
        Verify.Diagnostic(Descriptors.ContinuingWithoutInstance).WithLocation(0).WithArguments(
            "The static method C.Static() has [ContinuingBlock]: a continuing block is the stream of an instance, and a static method has none. Use [ReproducibleBlock] for a block with a seed, or call Reproducible.ContinuingBlock(owner) with the object that owns the stream."),
        Verify.Diagnostic(Descriptors.ContinuingWithoutInstance).WithLocation(1).WithArguments(
            "The method S.Draw() belongs to a struct but has [ContinuingBlock]: a struct's `this` is copied into a new box on every call, so its stream would start over each time. Put the method on a class, or call Reproducible.ContinuingBlock(owner) with a lasting object."));

    [TestMethod]
    public Task BothKindsOrOptedOut_AreRB0005() => Verify.Diagnostics("""
        using ReproducibleBlock;
        class C
        {
            [{|#0:ReproducibleBlock(1)|}, ContinuingBlock]
            public void Both() { }

            [{|#1:ContinuingBlock|}, NoReproducibleBlock]
            public void OptedOut() { }
        }
        [{|#2:ReproducibleBlock(2)|}, NoReproducibleBlock]
        class D { }
        """,
        Verify.Diagnostic(Descriptors.ConflictingAttributes).WithLocation(0).WithArguments(
            "The method C.Both() has both [ReproducibleBlock] and [ContinuingBlock]. Keep [ContinuingBlock] for a stream that continues from call to call, or [ReproducibleBlock] for one that starts from the same state on every call."),
        Verify.Diagnostic(Descriptors.ConflictingAttributes).WithLocation(1).WithArguments(
            "The method C.OptedOut() has both [ContinuingBlock] and [NoReproducibleBlock]. Remove one of them."),
        Verify.Diagnostic(Descriptors.ConflictingAttributes).WithLocation(2).WithArguments(
            "Type D has both [ReproducibleBlock] and [NoReproducibleBlock]. Remove one of them."));

    [TestMethod]
    public Task RuleOnNonClasses_IsRB0007() => Verify.Diagnostics("""
        using System;
        using ReproducibleBlock;
        [assembly: {|#0:ReproducibleConstructors(typeof(IDisposable))|}]
        [assembly: {|#1:ReproducibleConstructors(typeof(S))|}]
        [assembly: {|#2:ReproducibleConstructors(typeof(E))|}]
        [assembly: {|#3:ReproducibleConstructors(typeof(Static))|}]
        [assembly: {|#4:ReproducibleConstructors(typeof(Sealed))|}]
        [assembly: {|#5:ReproducibleConstructors(typeof(object))|}]
        [assembly: {|#6:ReproducibleConstructors(typeof(MulticastDelegate))|}]
        [assembly: ReproducibleConstructors(typeof(Open))]
        struct S { }
        enum E { A }
        static class Static { }
        sealed class Sealed { }
        class Open { }
        """,
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(0).WithArguments("System.IDisposable", "is an interface, so no type derives from it"),
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(1).WithArguments("S", "is a struct, so no type derives from it"),
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(2).WithArguments("E", "is an enum, so no type derives from it"),
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(3).WithArguments("Static", "is a static class, so no type derives from it"),
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(4).WithArguments("Sealed", "is a sealed class, so no type derives from it"),
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(5).WithArguments("System.Object", "cannot be a rule's base type: every class derives from it"),
        Verify.Diagnostic(Descriptors.RuleOnNonClass).WithLocation(6).WithArguments("System.MulticastDelegate",
            "cannot be a rule's base type: it is the base of every delegate, whose constructors the runtime implements"));

    [TestMethod]
    public Task ReproducibleBlockOnForward_IsRB0008_UnlessRepeatsEachCall() => Verify.Diagnostics("""
        using ReproducibleBlock;
        abstract class Module { public abstract int forward(int x); }
        class Dropout : Module
        {
            [{|#0:ReproducibleBlock(1)|}]
            public override int forward(int x) => x;
        }
        class Restoring : Module
        {
            [{|#1:ReproducibleBlock(2, RestoreOnExit = true)|}]
            public override int forward(int x) => x;
        }
        class Meant : Module
        {
            [ReproducibleBlock(3, RepeatsEachCall = true)]
            public override int forward(int x) => x;
        }
        class NotAnOverride
        {
            [ReproducibleBlock(4)]
            public int forward(int x) => x;
        }
        """,
        Verify.Diagnostic(Descriptors.RepeatingForward).WithLocation(0).WithArguments("method Dropout.forward(int)",
            ", and the caller's stream after each call continues from the block's state (the data order of every epoch repeats too)"),
        Verify.Diagnostic(Descriptors.RepeatingForward).WithLocation(1).WithArguments("method Restoring.forward(int)", ""));

    [TestMethod]
    public Task GoodTargets_GetNothing() => Verify.Diagnostics("""
        using System;
        using ReproducibleBlock;
        [ReproducibleBlock(10)]
        class C
        {
            public C() { }
            [ReproducibleBlock(11)] public ValueTuple<int, int> Pair() => (1, 2);
            [ContinuingBlock] public void Continuing() { }
            public int Property { [ReproducibleBlock(12)] get => 1; }
        }
        struct S { [ReproducibleBlock(13)] public void M() { } }
        """);
}
