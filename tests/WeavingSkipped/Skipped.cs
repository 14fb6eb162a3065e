using ReproducibleBlock;

namespace WeavingSkipped;

public static class Skipped
{
    [ReproducibleBlock(1)]
    public static int Draw() => 1;
}
