namespace ReproducibleBlock.Tool;

/// <summary>The exit codes of <c>reproducible-block</c>.</summary>
public static class ExitCodes
{
    /// <summary>The traces agree (environment differences are warnings), or <c>show</c> / <c>--help</c> is done.</summary>
    public const int Same = 0;

    /// <summary>The traces diverge (a trace that stops early while the other goes on included).</summary>
    public const int Diverged = 1;

    /// <summary>An input is not a readable trace.</summary>
    public const int Unreadable = 2;

    /// <summary>A usage error: an unknown command or option, or the wrong number of arguments.</summary>
    public const int Usage = 3;
}
