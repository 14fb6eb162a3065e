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

    /// <summary>
    /// Runs a built .NET application (<paramref name="dll"/>) as a process of its own, through the dotnet host the test
    /// run uses (the CLI names it in DOTNET_HOST_PATH; else the one on PATH), with both output streams redirected.
    /// </summary>
    /// <param name="environment">Variables added to the process's environment.</param>
    /// <param name="timeout">How long it may run; past it the process tree is killed and the test fails.</param>
    public static AppRun RunApp(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
            start.Environment[variable.Key] = variable.Value;
        using Process process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        TimeSpan limit = timeout ?? TimeSpan.FromMinutes(2);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(dll)} {string.Join(' ', arguments)} did not finish in {limit.TotalSeconds:0} s.");
        }
        process.WaitForExit(); // the output streams are complete
        return new AppRun(process.Id, process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>What <see cref="Repository.RunApp"/> saw: the process id, its exit code and its two output streams.</summary>
internal sealed record AppRun(int ProcessId, int ExitCode, string Output, string Error);
