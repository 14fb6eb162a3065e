using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// What the weaver produced, read back as C#: each shape compared with a reviewed, checked-in decompilation
/// (Approved/{Type}.{Configuration}.approved.txt: the compiler's IL differs between Debug and Release; on a difference
/// the new text is written beside the test output as *.received.txt),
/// plus assertions that do not depend on the decompiler's layout.
/// </summary>
[TestClass]
public sealed class DecompiledShapeTests
{
    public TestContext TestContext { get; set; } = null!;

    private void AssertApproved(string typeName, string file)
    {
        string actual = Decompiled.Type("WeavingFixture." + typeName);
        file += "." + Repository.Configuration;
        string approvedPath = Path.Combine(AppContext.BaseDirectory, "Approved", file + ".approved.txt");
        string approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).Replace("\r\n", "\n") : "(no approved file yet)";
        if (actual.Trim() != approved.Trim())
        {
            string received = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), file + ".received.txt");
            File.WriteAllText(received, actual);
            Assert.Fail($"The woven {typeName} decompiles differently from Approved/{file}.approved.txt; review {received} and, if right, copy it over the approved file.");
        }
    }

    [TestMethod]
    [DataRow("Methods")]
    [DataRow("Chained")]
    [DataRow("Derived")]
    [DataRow("Classifier")]
    [DataRow("NotABlock")]
    [DataRow("Point")]
    [DataRow("Noisy")]
    [DataRow("Counter")]
    [DataRow("Tower")]
    [DataRow("InitOnly")]
    [DataRow("ChainedConditional")]
    [DataRow("Recorded")]
    [DataRow("Nested")]
    [DataRow("NoInit")]
    [DataRow("Ticket")]
    [DataRow("Lambdas")]
    [DataRow("LeavesItsState")]
    [DataRow("Parts")]
    [DataRow("Labelled`1")]
    [DataRow("Keeper`1")]
    [DataRow("Recovering")]
    [DataRow("Unparted")]
    [DataRow("RealShapes.TinyAlexNet")]
    [DataRow("RealShapes.TinyResNet")]
    [DataRow("RealShapes.StackedMlp")]
    [DataRow("RealShapes.Registered")]
    [DataRow("RealShapes.DirectDropout")]
    public void WovenType_DecompilesAsApproved(string type) => AssertApproved(type, type);

    [TestMethod]
    public void EveryReturnPath_IsInsideOneBlock()
    {
        string methods = Decompiled.Type("WeavingFixture.Methods");
        string manyReturns = methods[methods.IndexOf("ManyReturns", StringComparison.Ordinal)..methods.IndexOf("RefReturn", StringComparison.Ordinal)];
        const string enter = "WovenCode.EnterBlock(2L, restoreOnExit: false, \"WeavingFixture.Methods.ManyReturns\")";
        Assert.AreEqual(1, CountOf(manyReturns, enter));
        Assert.IsTrue(manyReturns.IndexOf("using (" + enter + ")", StringComparison.Ordinal) < manyReturns.IndexOf("return", StringComparison.Ordinal));
    }

    [TestMethod]
    public void Constructor_EntersBeforeFieldInitialisersAndTheBaseCall()
    {
        string derived = Decompiled.Type("WeavingFixture.Derived");
        int enter = derived.IndexOf("WovenCode.EnterConstructorBlock(11L", StringComparison.Ordinal);
        int initialiser = derived.IndexOf("WovenCode.EnterMemberSite(\"_fromInitializer\")", StringComparison.Ordinal);
        int stored = derived.IndexOf("_fromInitializer = ", StringComparison.Ordinal);
        int baseCall = derived.IndexOf("base..ctor()", StringComparison.Ordinal);
        Assert.IsTrue(enter >= 0 && enter < initialiser && initialiser < stored && stored < baseCall, derived);
    }

    /// <summary>
    /// <c>features = version switch { ... }</c>: the compiler computes the value into a temporary before loading
    /// <c>this</c>, so the value does not start right after <c>this</c>; its member site must still cover the arms.
    /// </summary>
    [TestMethod]
    public void ASwitchExpressionStoredInAMember_IsInsideTheMembersSite()
    {
        string alexNet = Decompiled.Type("WeavingFixture.RealShapes.TinyAlexNet");
        int enter = alexNet.IndexOf("WovenCode.EnterMemberSite(\"features\");", StringComparison.Ordinal);
        int firstConv = alexNet.IndexOf("WovenCode.EnterSite(\"Conv2d\");", StringComparison.Ordinal);
        int stored = alexNet.IndexOf("features = ", StringComparison.Ordinal);
        Assert.IsTrue(enter >= 0 && enter < firstConv && firstConv < stored, alexNet);
        Assert.AreEqual("WovenCode.ExitSite();", alexNet[stored..].Split('\n')[1].Trim(), "left right after the store");
    }

    [TestMethod]
    public void ChainingConstructor_MarksTheChainedCall()
    {
        string chained = Decompiled.Type("WeavingFixture.Chained");
        StringAssert.Matches(chained, new System.Text.RegularExpressions.Regex(@"WovenCode\.ChainingToWovenConstructor\(\);\s*this\.\.ctor\(first\);"));
    }

    [TestMethod]
    public void AssemblyRule_WeavesModulesWithTheirNameSeed_AndSkipsTheOptedOut()
    {
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Classifier"), $"WovenCode.EnterConstructorBlock({NameSeed("ctor:WeavingFixture.Classifier")}L");
        StringAssert.Contains(Decompiled.Type("WeavingFixture.ToyModel"), $"WovenCode.EnterConstructorBlock({NameSeed("ctor:WeavingFixture.ToyModel")}L");
        Assert.IsFalse(Decompiled.Type("WeavingFixture.NotABlock").Contains("WovenCode", StringComparison.Ordinal));
        Assert.IsFalse(Decompiled.Type("WeavingFixture.Base").Contains("WovenCode", StringComparison.Ordinal), "not a Module, no attribute");
    }

    [TestMethod]
    public void MethodWithoutSeed_GetsItsNameSeed()
    {
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Methods"), $"WovenCode.EnterBlock({NameSeed("method:WeavingFixture.Methods::NamedSeed()")}L, restoreOnExit: false, \"WeavingFixture.Methods.NamedSeed\")");
    }

    [TestMethod]
    public void WovenBlocks_AreNamedForTraces_ByTheirMember()
    {
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Classifier"), "restoreOnExit: true, \"WeavingFixture.Classifier..ctor\")");
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Classifier"), "WovenCode.EnterContinuingBlock(this, \"WeavingFixture.Classifier.forward\")");
        StringAssert.Contains(Decompiled.Type("WeavingFixture.GenericType`1"), "\"WeavingFixture.GenericType`1.Pair\"");
    }

    [TestMethod]
    public void ConstructorBlocks_Restore_UnlessRestoreOnExitFalseIsWritten()
    {
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Chained"), "WovenCode.EnterConstructorBlock(10L, restoreOnExit: true,");
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Derived"), "WovenCode.EnterConstructorBlock(11L, restoreOnExit: true,");
        StringAssert.Contains(Decompiled.Type("WeavingFixture.LeavesItsState"), "WovenCode.EnterConstructorBlock(19L, restoreOnExit: false,");
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Methods"), "WovenCode.EnterBlock(1L, restoreOnExit: false,");
    }

    [TestMethod]
    public void RecordCopyConstructor_IsNotWoven()
    {
        string recorded = Decompiled.Type("WeavingFixture.Recorded");
        Assert.AreEqual(1, CountOf(recorded, "WovenCode.EnterConstructorBlock("), recorded);
    }

    [TestMethod]
    public void StructLocalOfItsOwnType_IsNotTakenForChaining()
    {
        Assert.AreEqual(0, CountOf(Decompiled.Type("WeavingFixture.Nested"), "ChainingToWovenConstructor"));
        Assert.AreEqual(1, CountOf(Decompiled.Type("WeavingFixture.ChainedConditional"), "ChainingToWovenConstructor"));
    }

    /// <summary>The documented derivation, computed here independently of the weaver's code.</summary>
    internal static long NameSeed(string name) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0) & long.MaxValue;

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
}
