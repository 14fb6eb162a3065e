using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Reflection;

namespace ReproducibleBlock.Tests.Shared;

/// <summary>The repository these tests were built from, and a way to run the .NET CLI on it.</summary>
internal static class Repository
{
    public static readonly string Root = FindRoot();

    /// <summary>The configuration the tests were built in: fixtures and packages are built in the same one.</summary>
    public static readonly string Configuration =
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ReproducibleBlock.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("The repository root (with ReproducibleBlock.sln) is not above the test output.");
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and returns its exit code and everything it printed.</summary>
    public static (int ExitCode, string Output) Dotnet(string workingDirectory, params IEnumerable<string> arguments) =>
        Dotnet(workingDirectory, environment: null, arguments);

    /// <summary>As <see cref="Dotnet(string, IEnumerable{string})"/>, with variables added to the environment.</summary>
    public static (int ExitCode, string Output) Dotnet(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No build servers or reused nodes: nothing may outlive the test.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
            start.Environment[variable.Key] = variable.Value;
        using Process process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
