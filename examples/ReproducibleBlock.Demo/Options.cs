using System.IO;

namespace ReproducibleBlock.Demo;

/// <summary>The demo's command line.</summary>
internal sealed record Options(bool Cuda, bool Check, string? PlotPath)
{
    /// <summary>What <c>--help</c> prints, on standard output, and what a wrong option prints, on standard error.</summary>
    public const string Usage = """
        Usage: dotnet run --project examples/ReproducibleBlock.Demo -c Release [-- <options>]
           or: dotnet ReproducibleBlock.Demo.dll [<options>]

        Shows the problem torch-reproducible-block describes (adding a layer changes the weights of every later layer,
        the data order and the dropout masks) and how ReproducibleBlock's blocks fix it, in tables.

        Options:
          --check              exit with 1 if any isolation property fails (a smoke test)
          --plot FILE          also draw the training runs' loss curves into FILE (a PNG picture)
          --device cpu|cuda    where the networks live (default cpu); cuda needs a CUDA backend (see docs/cuda.md)
          -h, --help           print this text and exit

        Exit status: 0 when done (with --check: every property holds), 1 when a property fails under --check,
        2 for a wrong option or when --device cuda finds no CUDA.
        """;

    /// <summary>Reads the arguments.</summary>
    /// <returns>The options, or null when the program should stop with <paramref name="exitCode"/> (help or a wrong option).</returns>
    public static Options? Parse(string[] args, TextWriter output, TextWriter error, out int exitCode)
    {
        bool cudaDevice = false, check = false;
        string? plot = null;
        for (int i = 0; i < args.Length; i++)
        {
            string? problem = null;
            switch (args[i])
            {
                case "-h" or "--help":
                    output.WriteLine(Usage);
                    exitCode = 0;
                    return null;
                case "--check":
                    check = true;
                    break;
                case "--device" when i + 1 < args.Length && args[i + 1] is "cpu" or "cuda":
                    cudaDevice = args[++i] == "cuda";
                    break;
                case "--device":
                    problem = "--device needs cpu or cuda after it";
                    break;
                case "--plot" when i + 1 < args.Length && !args[i + 1].StartsWith('-'):
                    plot = args[++i];
                    break;
                case "--plot":
                    problem = "--plot needs a file name after it";
                    break;
                default:
                    problem = $"unknown option '{args[i]}'";
                    break;
            }
            if (problem is not null)
            {
                error.WriteLine($"ReproducibleBlock.Demo: {problem}.");
                error.WriteLine();
                error.WriteLine(Usage);
                exitCode = 2;
                return null;
            }
        }
        exitCode = 0;
        return new Options(cudaDevice, check, plot);
    }
}
