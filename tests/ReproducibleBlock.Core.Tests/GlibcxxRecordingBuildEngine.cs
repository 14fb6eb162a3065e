using System.Collections;
using System.Collections.Generic;
using Microsoft.Build.Framework;

namespace ReproducibleBlock.Tests;

/// <summary>Stands in for MSBuild when the libstdc++ build step's task runs in a test: keeps what it logs.</summary>
internal sealed class GlibcxxRecordingBuildEngine : IBuildEngine
{
    public List<string> Errors { get; } = [];
    public List<string> Warnings { get; } = [];
    public List<string> Messages { get; } = [];

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "test.csproj";

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    public void LogCustomEvent(CustomBuildEventArgs e) => Messages.Add(e.Message ?? "");
    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e.Message ?? "");
    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message ?? "");
    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e.Message ?? "");
}
