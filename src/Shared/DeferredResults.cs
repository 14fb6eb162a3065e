namespace ReproducibleBlock;

/// <summary>
/// Return types whose work happens after the method returns, so after a woven block has ended: shared by the weaver
/// (types from Cecil) and the analyzer (types from Roslyn symbols), which warn about the same list. Delegates, the third
/// kind, are recognised by each from its own type model.
/// </summary>
internal static class DeferredResults
{
    /// <summary>What a woven method returning delegates is said to return.</summary>
    public const string Delegate = "a delegate";

    /// <summary>
    /// "a task without being async", "an enumerable or enumerator", or null for any other type, named as
    /// <c>Namespace.Name</c> with the generic arity (<c>System.Threading.Tasks.Task`1</c>).
    /// </summary>
    public static string? KindOf(string typeName) => typeName switch
    {
        "System.Threading.Tasks.Task" or "System.Threading.Tasks.Task`1"
            or "System.Threading.Tasks.ValueTask" or "System.Threading.Tasks.ValueTask`1" => "a task without being async",
        "System.Collections.IEnumerable" or "System.Collections.Generic.IEnumerable`1"
            or "System.Collections.IEnumerator" or "System.Collections.Generic.IEnumerator`1"
            or "System.Collections.Generic.IAsyncEnumerable`1" or "System.Collections.Generic.IAsyncEnumerator`1"
            or "System.Linq.IQueryable`1" => "an enumerable or enumerator",
        _ => null,
    };

    /// <summary>How the deferred work starts: "called" for a delegate, "enumerated", or "awaited".</summary>
    public static string When(string kind) =>
        kind == Delegate ? "called" : kind.Contains("enumera") ? "enumerated" : "awaited";
}
