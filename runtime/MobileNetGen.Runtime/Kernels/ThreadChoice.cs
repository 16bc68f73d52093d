namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Whether the next inference of a runner with several threads is split across them or run by the calling thread alone,
/// from the times of the recent ones. Splitting wins on an idle machine; but a virtual machine's host can take the other
/// vCPUs, or run another tenant on their cores, for seconds at a time, and an inference split across a core that is not
/// there is slower than one on the caller alone (measured here on a 2-vCPU Zen 4 guest: 0.25_224 1.2× one thread for
/// whole runs of 40 inferences). So each way keeps its last <see cref="Window"/> times, and the faster by their median is
/// taken, while the other is tried again now and then: one inference in <see cref="CheckAloneEvery"/> while splitting
/// (costing 1/32 of the gain at most), one in <see cref="CheckSplitEvery"/> while alone (so the split comes back soon
/// after the host gives the cores back). The first <see cref="Warmup"/> inferences alternate, to have both. The results
/// are the same either way; only the time differs.
/// </summary>
internal sealed class ThreadChoice
{
    /// <summary>Recent times kept per way.</summary>
    public const int Window = 8;

    /// <summary>Times a way needs before the medians are compared.</summary>
    public const int MinSamples = 3;

    /// <summary>Inferences at the start that alternate between the two ways.</summary>
    public const int Warmup = 2 * MinSamples;

    /// <summary>While splitting, one inference in this many runs on the caller alone.</summary>
    public const int CheckAloneEvery = 32;

    /// <summary>While on the caller alone, one inference in this many is split.</summary>
    public const int CheckSplitEvery = 8;

    private readonly long[] _split = new long[Window], _alone = new long[Window], _scratch = new long[Window];
    private long _splitCount, _aloneCount;
    private bool _preferAlone;
    private long _decided;
    private int _sinceCheck;

    /// <summary>The way taken outside the checks: true once the caller alone has been the faster lately.</summary>
    public bool PrefersAlone => _preferAlone;

    /// <summary>Inferences recorded, each way.</summary>
    public long SplitCount => _splitCount;
    public long AloneCount => _aloneCount;

    /// <summary>The way for the next inference: true to run it on the calling thread alone.</summary>
    public bool Next()
    {
        long n = _decided++;
        if (n < Warmup) return (n & 1) == 1; // split, alone, split, …
        int every = _preferAlone ? CheckSplitEvery : CheckAloneEvery;
        if (++_sinceCheck < every) return _preferAlone;
        _sinceCheck = 0;
        return !_preferAlone;
    }

    /// <summary>Whether <see cref="Next"/> will split: the runner then wakes its workers at the end of an inference alone, so
    /// that the split is timed with them awake, as it runs while it wins (workers idle between inferences fall asleep).</summary>
    public bool SplitIsNext
    {
        get
        {
            long n = _decided;
            if (n < Warmup) return (n & 1) == 0;
            int every = _preferAlone ? CheckSplitEvery : CheckAloneEvery;
            return _sinceCheck + 1 < every ? !_preferAlone : _preferAlone;
        }
    }

    /// <summary>Records how long an inference took (any unit, the same for both ways) and re-decides.</summary>
    public void Record(bool alone, long elapsed)
    {
        if (alone) _alone[_aloneCount++ % Window] = elapsed;
        else _split[_splitCount++ % Window] = elapsed;
        if (_aloneCount >= MinSamples && _splitCount >= MinSamples)
            _preferAlone = Median(_alone, _aloneCount) < Median(_split, _splitCount);
    }

    private long Median(long[] times, long count)
    {
        int n = (int)Math.Min(count, Window);
        // An insertion sort of at most Window values: Span.Sort would allocate its comparer's helper object at its first
        // use, inside some inference, and an inference allocates nothing.
        long[] s = _scratch;
        for (int i = 0; i < n; i++)
        {
            long v = times[i];
            int j = i;
            for (; j > 0 && s[j - 1] > v; j--) s[j] = s[j - 1];
            s[j] = v;
        }
        return (n & 1) == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
