using System;
using System.Collections;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using TorchSharp;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// XXH3-64 of tensors' bytes, as a trace records marks and modules' outputs: each tensor detached, copied to the CPU
/// when it is elsewhere, made contiguous, and its bytes appended in order.
/// </summary>
internal static class TensorFingerprint
{
    /// <summary>How deep <see cref="Of"/> looks into tuples and collections: a module's output nests two or three levels.</summary>
    private const int MaxDepth = 8;

    /// <summary>Appends <paramref name="tensor"/>'s bytes to <paramref name="hash"/>.</summary>
    public static void Append(XxHash3 hash, torch.Tensor tensor)
    {
        using torch.Tensor onCpu = tensor.detach().cpu().contiguous();
        hash.Append(onCpu.bytes);
    }

    /// <summary>
    /// The fingerprint of the tensors in a module's output, in order: a tensor, or tuples (value or reference), arrays and
    /// other collections of them, nested; null when it holds none (a method that returns no tensor has no output to
    /// compare).
    /// </summary>
    public static ulong? Of(object? output)
    {
        var hash = new XxHash3();
        return AppendAll(hash, output, depth: 0) ? hash.GetCurrentHashAsUInt64() : null;
    }

    private static bool AppendAll(XxHash3 hash, object? value, int depth)
    {
        switch (value)
        {
            case null:
                return false;
            case torch.Tensor tensor:
                Append(hash, tensor);
                return true;
            case string:
                return false;
            case ITuple tuple when depth < MaxDepth:
                bool any = false;
                for (int i = 0; i < tuple.Length; i++)
                    any |= AppendAll(hash, tuple[i], depth + 1);
                return any;
            case IDictionary dictionary when depth < MaxDepth:
                bool anyValue = false;
                foreach (DictionaryEntry entry in dictionary)
                    anyValue |= AppendAll(hash, entry.Value, depth + 1);
                return anyValue;
            case IEnumerable items when depth < MaxDepth:
                bool anyItem = false;
                foreach (object? item in items)
                    anyItem |= AppendAll(hash, item, depth + 1);
                return anyItem;
            default:
                return false;
        }
    }
}
