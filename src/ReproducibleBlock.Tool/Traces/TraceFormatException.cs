using System;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>An input is not a readable trace: a missing file, a line that is not JSON, or a line that breaks the format.</summary>
public sealed class TraceFormatException : Exception
{
    /// <summary>Creates the exception; the message is <c>file:line: problem</c>, or <c>file: problem</c> without a line.</summary>
    /// <param name="file">The file as the user named it.</param>
    /// <param name="line">The 1-based line number, or null when the problem is not on a line (a missing file).</param>
    /// <param name="problem">What is wrong, as a sentence without the file name.</param>
    /// <param name="inner">The exception that revealed the problem, if any.</param>
    public TraceFormatException(string file, long? line, string problem, Exception? inner = null)
        : base(line is { } l ? $"{file}:{l}: {problem}" : $"{file}: {problem}", inner)
    {
        File = file;
        Line = line;
        Problem = problem;
    }

    /// <summary>The file as the user named it.</summary>
    public string File { get; }

    /// <summary>The 1-based line number, or null when the problem is not on a line.</summary>
    public long? Line { get; }

    /// <summary>What is wrong, without the file name and line.</summary>
    public string Problem { get; }
}
