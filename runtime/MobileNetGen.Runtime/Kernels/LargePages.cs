using System.Runtime.InteropServices;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Native blocks for the packed weights and the classifiers' workspaces, on 2 MiB pages where the OS gives them: on Linux a
/// block of at least <see cref="MinBytes"/> is rounded up to whole 2 MiB pages, aligned to 2 MiB and advised
/// <c>madvise(MADV_HUGEPAGE)</c> before it is first touched, so
/// that transparent huge pages back it when the system's policy is <c>madvise</c> (Debian's and most distributions'
/// default) as well as <c>always</c>. Elsewhere, or when the call is refused, the block is an ordinary one.
/// </summary>
/// <remarks>
/// Why: the last layers stream weights that no cache keeps between inferences (1.0_128: 2, 4 and 4 MiB of floats for the
/// last pointwise layer pair and the logits). On 4 KiB pages each such panel of 128 KiB crosses 32 pages, the hardware
/// prefetchers stop at every page boundary and the 17 MiB of a 1.0 network need more TLB entries than the core has.
/// Measured alone (Zen 4, family 25 model 17; 16 × 1024 → 1024 pointwise, caches flushed by a 64 MiB walk before each
/// run): 2 MiB pages took 0.77–0.85× the time of 4 KiB ones. From 1 MiB, so that the α = 0.25 networks' 1.9 MiB of
/// weights and their activations are on large pages too: whole inferences with the caches flushed before each, three
/// rounds alternating with the 2 MiB threshold and weights only: 0.25_128 0.91–0.93×, 0.25_224 0.95–0.97×.
/// </remarks>
public static unsafe class LargePages
{
    /// <summary>The large page size asked for (x64 and ARM64 Linux: 2 MiB).</summary>
    public const long PageBytes = 2L << 20;

    /// <summary>The smallest block put on large pages (rounded up to whole ones: at most half of such a block is slack).</summary>
    public const long MinBytes = PageBytes / 2;

    private const int MadvHugePage = 14; // <linux/mman.h> MADV_HUGEPAGE, the same on x64 and ARM64
    private const int MadvCollapse = 25; // MADV_COLLAPSE (Linux 6.1)

    /// <summary>How the most recent block of at least <see cref="MinBytes"/> was placed.</summary>
    public static LargePageAdvice LastAdvice { get; private set; } = LargePageAdvice.NotAsked;

    /// <summary>A zeroed block of <paramref name="bytes"/>, 64-byte aligned (2 MiB aligned and advised for large pages when
    /// it is at least <see cref="MinBytes"/> on Linux). Free it with <see cref="NativeMemory.AlignedFree"/>.</summary>
    public static void* AllocateZeroed(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        bool large = OperatingSystem.IsLinux() && bytes >= MinBytes;
        long size = large ? (bytes + PageBytes - 1) / PageBytes * PageBytes : bytes;
        void* p = NativeMemory.AlignedAlloc((nuint)Math.Max(size, 1), large ? (nuint)PageBytes : 64);
        LargePageAdvice advice = large ? Madvise(p, size, MadvHugePage) : LargePageAdvice.NotAsked;
        if (large) LastAdvice = advice;
        NativeMemory.Clear(p, (nuint)size); // first touch: after the advice, so the faults take large pages
        // A block the allocator had handed out before (glibc reuses freed memory in its arenas once its mmap threshold has
        // grown) is already backed by 4 KiB pages, which the faults above do not replace: collapse it into large pages now
        // (Linux 6.1+; older kernels refuse, and the block keeps its small pages).
        if (advice == LargePageAdvice.Advised) Madvise(p, size, MadvCollapse);
        return p;
    }

    private static LargePageAdvice Madvise(void* p, long size, int advice)
    {
        try
        {
            return madvise((nint)p, (nuint)size, advice) == 0 ? LargePageAdvice.Advised : LargePageAdvice.Refused;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return LargePageAdvice.Unavailable; // no libc by that name (a static or exotic runtime): ordinary pages
        }
    }

    [DllImport("libc", EntryPoint = "madvise", ExactSpelling = true)]
    private static extern int madvise(nint address, nuint length, int advice);
}

/// <summary>What <see cref="LargePages"/> could do for a block.</summary>
public enum LargePageAdvice
{
    /// <summary>No block large enough has been allocated (or not on Linux).</summary>
    NotAsked,
    /// <summary><c>madvise(MADV_HUGEPAGE)</c> succeeded: the kernel backs the block with 2 MiB pages where it can.</summary>
    Advised,
    /// <summary>The kernel refused the advice (transparent huge pages compiled out): ordinary pages.</summary>
    Refused,
    /// <summary>libc's <c>madvise</c> could not be bound: ordinary pages.</summary>
    Unavailable,
}
