using System;
using System.IO.Hashing;
using static TorchSharp.torch;

namespace ReproducibleBlock.Demo;

/// <summary>Short, stable names for tensors and orders, so a table can show whether two are bit-identical.</summary>
public static class Fingerprint
{
    public static string Of(Tensor tensor)
    {
        using Tensor onCpu = tensor.detach().cpu().contiguous();
        return Of(onCpu.bytes);
    }

    public static string Of(ReadOnlySpan<byte> bytes) => XxHash32.HashToUInt32(bytes).ToString("x8")[..6];

    public static string Of(long[] order) => Of(System.Runtime.InteropServices.MemoryMarshal.AsBytes(order.AsSpan()));
}
