namespace MobileNetGen.Runtime.Kernels;

/// <summary>How a layer's output is shared between threads: contiguous ranges of whole units (rows, pixel tiles, panels).</summary>
public static class Partition
{
    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of <paramref name="count"/> items cut at multiples of
    /// <paramref name="grain"/> (a kernel's tile, so no thread gets a ragged tile it could have shared). Parts differ by at
    /// most one grain; a part may be empty when there are fewer grains than parts.
    /// </summary>
    public static void Split(int count, int grain, int part, int parts, out int start, out int end)
    {
        int units = (count + grain - 1) / grain;
        start = Math.Min((int)((long)units * part / parts) * grain, count);
        end = Math.Min((int)((long)units * (part + 1) / parts) * grain, count);
    }
}
