using System.Globalization;
using System.Runtime.InteropServices;
using MobileNetGen.Runtime.Kernels;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

/// <summary>Runs where Linux offers transparent huge pages to a process that asks (policy <c>always</c> or <c>madvise</c>).</summary>
public sealed class TransparentHugePagesFactAttribute : FactAttribute
{
    public const string PolicyFile = "/sys/kernel/mm/transparent_hugepage/enabled";

    public TransparentHugePagesFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "Linux only: other systems get ordinary pages";
        else if (!File.Exists(PolicyFile)) Skip = $"{PolicyFile} is absent: this kernel has no transparent huge pages";
        else if (File.ReadAllText(PolicyFile).Contains("[never]", StringComparison.Ordinal)) Skip = "transparent huge pages are off ([never])";
    }
}

/// <summary>The packed weights' blocks (<see cref="LargePages"/>): aligned, zeroed, and on 2 MiB pages where Linux gives them.</summary>
public unsafe class LargePagesTests
{
    [Fact]
    public void SmallBlockIsAlignedAndZeroed()
    {
        byte* p = (byte*)LargePages.AllocateZeroed(1000);
        try
        {
            Assert.Equal(0, (long)p % 64);
            Assert.True(new ReadOnlySpan<byte>(p, 1000).IndexOfAnyExcept((byte)0) < 0);
        }
        finally { NativeMemory.AlignedFree(p); }
    }

    [Fact]
    public void NegativeSizeIsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => LargePages.AllocateZeroed(-1));

    [TransparentHugePagesFact]
    public void LargeBlockIsAdvisedAndBackedByHugePages()
    {
        long bytes = 3 * LargePages.PageBytes + 12345; // rounded up to whole pages
        byte* p = (byte*)LargePages.AllocateZeroed(bytes);
        try
        {
            Assert.Equal(LargePageAdvice.Advised, LargePages.LastAdvice);
            Assert.Equal(0, (long)p % LargePages.PageBytes);
            Assert.True(new ReadOnlySpan<byte>(p, (int)bytes).IndexOfAnyExcept((byte)0) < 0);
            long huge = AnonHugePagesKiB((nuint)p);
            Assert.True(huge >= LargePages.PageBytes / 1024,
                $"the block's mapping holds {huge} KiB of huge pages: the kernel backed none of it with 2 MiB pages");
        }
        finally { NativeMemory.AlignedFree(p); }
    }

    [TransparentHugePagesFact]
    public void BlockFromOneMiBTakesAWholeLargePage()
    {
        byte* p = (byte*)LargePages.AllocateZeroed(LargePages.MinBytes);
        try
        {
            Assert.Equal(LargePageAdvice.Advised, LargePages.LastAdvice);
            Assert.Equal(0, (long)p % LargePages.PageBytes);
            new Span<byte>(p, (int)LargePages.PageBytes).Fill(1); // the whole page is the block's (rounded up)
        }
        finally { NativeMemory.AlignedFree(p); }
    }

    [TransparentHugePagesFact]
    public void GeneratedWeightsAreOnHugePages()
    {
        // A generated classifier's packed weights (0.75_224: 2.6 M floats, 10 MiB) come from LargePages, packed at the
        // first inference.
        using var classifier = new MobileNetGen.Variants.MobileNetV1_0_75_224();
        classifier.Run(new float[classifier.Info.Resolution * classifier.Info.Resolution * 3], new float[classifier.Info.NumClasses]);
        Assert.Equal(LargePageAdvice.Advised, LargePages.LastAdvice);
    }

    /// <summary>The AnonHugePages of the /proc/self/smaps mapping that contains <paramref name="address"/>.</summary>
    private static long AnonHugePagesKiB(nuint address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, null, out ulong start) &&
                ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, null, out ulong end))
            {
                inside = start <= address && address < end;
                continue;
            }
            if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
                return long.Parse(line["AnonHugePages:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
