using ReproducibleBlock;

namespace WeavingIncremental;

public static class Woven
{
    [ReproducibleBlock(1)]
    public static int One() => 1;
}
