using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Runs a generated network's convolution layers one after another, each split across a fixed set of threads: the
/// calling thread and <c>threads − 1</c> persistent workers, started once with the classifier, take chunks of the layer
/// (<see cref="ChunksPerThread"/> per thread) from a shared counter. A layer starts when every chunk of the one before is
/// done (it reads that layer's whole output), and a run of layers the planner marks to be run whole by the calling thread
/// (too small to be worth splitting: <c>KernelContract.MinSplitMacs</c>) is run by it alone, with nothing between them.
/// Nothing is allocated per inference, and since every chunk computes whole outputs in the kernels' fixed summation
/// order, results are bit-identical for any thread count and any assignment of chunks.
/// </summary>
/// <remarks>
/// <para>Layers end on completion, not on arrival. No thread ever waits for another to reach a point: it waits only for a
/// chunk that another thread has taken and not yet finished. A worker that is asleep between inferences, still waking, or
/// on a vCPU the hypervisor has taken, holds up nothing: the caller starts the inference without it and does the chunks
/// itself, and the worker joins at whatever layer is running when it gets there (it walks past the finished ones). So an
/// inference on several threads is never held back by a thread that has no work in hand, and a late worker's lateness
/// does not pass from layer to layer. (With an arrival barrier every layer waited for the slowest thread to get a core:
/// on a 2-vCPU Zen 4 guest, 0.25_224 took 3.5–6.9× its one-thread time on two threads with a busy loop on the second
/// vCPU, and 4.9–5.6× on four threads; on completion, 1.00× and 0.80–1.00×.)</para>
/// <para>Every counter carries the number of its inference (<c>job &lt;&lt; 32 | count</c>), and a chunk is taken with a
/// compare-exchange on it, so a worker still walking the last inference can never take, or count, a chunk of the next.
/// Waiting is spin-then-block, with two budgets: for a layer's last chunks a thread spins up to
/// <see cref="LayerSpinMicroseconds"/> µs (they finish microseconds apart, while waking a blocked thread can cost a
/// millisecond on a virtual machine); between inferences a worker spins <see cref="IdleSpinMicroseconds"/> µs, then blocks
/// until the next one. The workers reference only this object (never the classifier), so an undisposed classifier is
/// still finalized and its finalizer stops them. Instances are driven by one classifier, which is itself not thread-safe.</para>
/// </remarks>
public sealed unsafe class LayerRunner : IDisposable
{
    /// <summary>The most threads a runner accepts.</summary>
    public const int MaxThreads = MobileNetGen.Model.KernelContract.MaxThreads;

    /// <summary>How long a thread spins for the last chunks of a layer before it blocks.</summary>
    public const int LayerSpinMicroseconds = 20_000;

    /// <summary>How long a worker spins waiting for the next inference before it blocks.</summary>
    public const int IdleSpinMicroseconds = 1_000;

    /// <summary>How long a waiting thread spins without yielding its core, within either budget.</summary>
    public const int PureSpinMicroseconds = 100;

    /// <summary>Chunks per thread each layer is cut into; threads take chunks from a shared counter, so a thread that
    /// starts late (woken from sleep) or runs slow (a busy core) does less, instead of everyone waiting for it.</summary>
    public const int ChunksPerThread = MobileNetGen.Model.KernelContract.ChunksPerThread;

    // Per layer l, on a cache line of its own: [l * Stride] the next chunk to take, [l * Stride + 1] the chunks done;
    // both as job << 32 | count.
    private const int Stride = 8;
    private long[] _state = new long[32 * Stride];

    private readonly Thread[] _workers;
    private readonly object _sleep = new();
    private int _sleepers;
    private int _job; // the inference last published (read with Volatile.Read, moved with Interlocked)
    private int _nudges; // bumped to wake idle workers with no job (Nudge)
    private delegate*<int, int, int, float*, float*, float*, SimdPath, void> _layer;
    private int _layerCount;
    private bool[]? _whole;
    private float* _input, _bufferA, _bufferB;
    private SimdPath _path;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _failure;
    private int _disposed;

    /// <summary>Tests only: called on a worker when it has seen a new inference and before it takes a chunk of it.</summary>
    internal Action? WorkerStartingJob;

    /// <summary>A runner of <paramref name="threads"/> threads, the caller's included. With <paramref name="adaptive"/> and
    /// more than one thread, <see cref="Run(delegate*{int, int, int, float*, float*, float*, SimdPath, void}, int, bool[], float*, float*, float*, SimdPath)"/>
    /// and <see cref="TakeAlone"/> run an inference on the calling thread alone when that has lately been the faster
    /// (<see cref="ThreadChoice"/>).</summary>
    public LayerRunner(int threads, bool adaptive = false)
    {
        if (threads < 1 || threads > MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be in 1..{MaxThreads}");
        Threads = threads;
        _workers = new Thread[threads - 1];
        if (adaptive && threads > 1) _choice = new ThreadChoice();
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"MobileNetGen worker {i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads each layer is split across, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Inferences this runner split across its threads, and ran on the calling thread alone because that had
    /// lately been the faster (or to check it again), since it was made. Both 0 when it is not adaptive.</summary>
    public long InferencesSplit => _choice?.SplitCount ?? 0;
    public long InferencesAlone => _choice?.AloneCount ?? 0;

    private readonly ThreadChoice? _choice;
    private bool _pending, _pendingAlone;
    private long _pendingStart;

    /// <summary>
    /// Decides how the next inference runs and starts timing it: true to run it on the calling thread alone (always with
    /// one thread), false to split it. A network with a schedule of its own for one thread asks this first and calls
    /// <see cref="RunHere(delegate*{int, int, int, float*, float*, float*, SimdPath, void}, int, float*, float*, float*, SimdPath)"/>
    /// with it, or <c>Run</c> with the split layers; either call ends the timing. Profiling always splits.
    /// </summary>
    public bool TakeAlone()
    {
        if (_choice is null || _clock is not null) return _workers.Length == 0;
        _pendingAlone = _choice.Next();
        _pending = true;
        _pendingStart = Stopwatch.GetTimestamp();
        return _pendingAlone;
    }

    /// <summary>Ends the timing <see cref="TakeAlone"/> started, if any.</summary>
    private void EndTiming(bool alone)
    {
        if (!_pending) return;
        _pending = false;
        _choice!.Record(alone, Stopwatch.GetTimestamp() - _pendingStart);
        if (alone && _choice.SplitIsNext) Nudge();
    }

    /// <summary>Wakes the idle workers without a job: they spin their <see cref="IdleSpinMicroseconds"/> again, so the next
    /// inference, a split after a run alone, does not pay for their waking up.</summary>
    private void Nudge()
    {
        Interlocked.Increment(ref _nudges);
        WakeSleepers();
    }

    /// <summary>
    /// Runs layers <c>0 .. layerCount − 1</c> of <paramref name="layer"/> (the generated <c>RunLayer(layer, part, parts,
    /// input, bufferA, bufferB, path)</c>), each cut into <see cref="Threads"/> × <see cref="ChunksPerThread"/> chunks that
    /// the threads share, and returns when all are done. A layer marked in <paramref name="whole"/> (the planner's choice:
    /// too small to be worth splitting, <c>KernelContract.MinSplitMacs</c>) is run whole, as part 0 of 1, by the calling
    /// thread; the workers wait for the end of a run of such layers.
    /// </summary>
    public void Run(delegate*<int, int, int, float*, float*, float*, SimdPath, void> layer, int layerCount, bool[]? whole,
        float* input, float* bufferA, float* bufferB, SimdPath path)
    {
        if (whole is not null && whole.Length < layerCount)
            throw new ArgumentException($"whole has {whole.Length} entries for {layerCount} layers", nameof(whole));
        if (_workers.Length != 0) ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_workers.Length == 0 || (!_pending ? TakeAlone() : _pendingAlone))
        {
            RunHere(layer, layerCount, input, bufferA, bufferB, path); // every layer whole: part 0 of 1
            return;
        }
        // The last inference is over: every chunk of it is done, so no thread runs a kernel until the job moves on.
        int job = _job + 1; // only this thread moves it
        if (_state.Length < layerCount * Stride) _state = new long[layerCount * Stride]; // once per runner: a network's layer count is fixed
        _layer = layer; _layerCount = layerCount; _whole = whole; _input = input; _bufferA = bufferA; _bufferB = bufferB; _path = path;
        long tag = (long)job << 32;
        for (int l = 0; l < layerCount; l++)
        {
            // (A whole layer's counters are not taken from; the last of a run of them is marked done by the caller.)
            _state[l * Stride] = tag;
            _state[l * Stride + 1] = tag;
        }
        Interlocked.Exchange(ref _job, job); // publishes the job and everything above (a full fence)
        WakeSleepers();
        RunJob(job, _state, caller: true);
        EndTiming(alone: false);
        if (_failure is { } failure) { _failure = null; failure.Throw(); }
    }

    /// <summary>Runs every layer whole, in order, on the calling thread (the workers are not woken): a network whose every
    /// layer is too small to split, and any network on one thread.</summary>
    public void RunHere(delegate*<int, int, int, float*, float*, float*, SimdPath, void> layer, int layerCount,
        float* input, float* bufferA, float* bufferB, SimdPath path)
    {
        for (int l = 0; l < layerCount; l++)
        {
            layer(l, 0, 1, input, bufferA, bufferB, path);
            Lap();
        }
        EndTiming(alone: true);
    }

    /// <summary>The same for the integer networks, whose layers take uint8 buffers.</summary>
    public void Run(delegate*<int, int, int, byte*, byte*, byte*, SimdPath, void> layer, int layerCount, bool[]? whole,
        byte* input, byte* bufferA, byte* bufferB, SimdPath path) =>
        // The integer networks' layers: the same runner; a function pointer's parameter types do not change its call.
        Run((delegate*<int, int, int, float*, float*, float*, SimdPath, void>)layer, layerCount, whole, (float*)input, (float*)bufferA, (float*)bufferB, path);

    /// <summary><see cref="RunHere(delegate*{int, int, int, float*, float*, float*, SimdPath, void}, int, float*, float*, float*, SimdPath)"/> for the integer networks.</summary>
    public void RunHere(delegate*<int, int, int, byte*, byte*, byte*, SimdPath, void> layer, int layerCount,
        byte* input, byte* bufferA, byte* bufferB, SimdPath path) =>
        RunHere((delegate*<int, int, int, float*, float*, float*, SimdPath, void>)layer, layerCount, (float*)input, (float*)bufferA, (float*)bufferB, path);

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            var next = new JobAfter(this, seen, Volatile.Read(ref _nudges));
            WaitUntil(ref next, IdleSpinMicroseconds);
            if (_stopping) return;
            int job = Volatile.Read(ref _job); // acquire: the job's fields below are at least this job's
            if (job == seen) continue; // nudged: wait again, spinning first
            seen = job;
            WorkerStartingJob?.Invoke();
            RunJob(job, _state, caller: false);
        }
    }

    /// <summary>
    /// This thread's share of inference <paramref name="job"/>: every split layer's chunks it can take, waiting after each
    /// layer until all its chunks are done; the caller also runs the runs of whole layers. A worker returns as soon as it
    /// finds a counter of a later job (it has fallen a whole inference behind: the fields it read may be that job's, and
    /// it runs nothing of it).
    /// </summary>
    private void RunJob(int job, long[] state, bool caller)
    {
        int chunks = Threads * ChunksPerThread;
        int count = _layerCount;
        bool[]? whole = _whole;
        var layer = _layer;
        float* input = _input, bufferA = _bufferA, bufferB = _bufferB;
        SimdPath path = _path;
        long tag = (long)job << 32;
        if (count * Stride > state.Length) return; // a later job's count with this job's (smaller) array: not ours
        for (int l = 0; l < count;)
        {
            int end = l + 1;
            bool alone = whole is not null && whole[l];
            if (alone) while (end < count && whole![end]) end++;
            if (alone && caller)
            {
                for (int s = l; s < end; s++)
                {
                    try { layer(s, 0, 1, input, bufferA, bufferB, path); }
                    catch (Exception e) { _failure ??= ExceptionDispatchInfo.Capture(e); } // kernels do not throw; should one, the job still ends
                    if (s + 1 < end) Lap();
                }
                // The workers wait for the run's last layer only. A full fence: the run's output is visible.
                Interlocked.Exchange(ref state[(end - 1) * Stride + 1], tag | 1);
                WakeSleepers();
                Lap(); // the run's last layer is timed when done, as a split layer is
                l = end;
                continue;
            }
            if (!alone)
            {
                ref long next = ref state[l * Stride];
                while (true)
                {
                    long v = Volatile.Read(ref next);
                    if ((v & ~0xFFFF_FFFFL) != tag) return; // a later job
                    int chunk = (int)v;
                    if (chunk >= chunks) break;
                    if (Interlocked.CompareExchange(ref next, v + 1, v) != v) continue;
                    try { layer(l, chunk, chunks, input, bufferA, bufferB, path); }
                    catch (Exception e) { _failure ??= ExceptionDispatchInfo.Capture(e); }
                    if (Interlocked.Increment(ref state[l * Stride + 1]) == (tag | (uint)chunks)) WakeSleepers();
                }
            }
            // Every chunk of the layer (or the caller's run of whole layers) taken: wait until they are done.
            var done = new LayerDone(state, (end - 1) * Stride + 1, tag, tag | (uint)(alone ? 1 : chunks));
            WaitUntil(ref done, LayerSpinMicroseconds);
            if (!done.Complete) return; // a later job
            if (caller) Lap();
            l = end;
        }
    }

    private interface ICondition { bool IsMet { get; } }

    /// <summary>A job after <c>seen</c> has been published, the worker is nudged, or the runner is stopping.</summary>
    private readonly struct JobAfter(LayerRunner runner, int seen, int nudges) : ICondition
    {
        public bool IsMet => Volatile.Read(ref runner._job) != seen || Volatile.Read(ref runner._nudges) != nudges || runner._stopping;
    }

    /// <summary>A layer's chunks are all done (its counter reads <c>target</c>: the job's tag and its chunk count), or its
    /// counter belongs to a later job.</summary>
    private readonly struct LayerDone(long[] state, int at, long tag, long target) : ICondition
    {
        public bool Complete => Volatile.Read(ref state[at]) == target;
        public bool IsMet { get { long v = Volatile.Read(ref state[at]); return v == target || (v & ~0xFFFF_FFFFL) != tag; } }
    }

    /// <summary>
    /// Returns when <paramref name="condition"/> holds. Three phases: spin on the core for up to
    /// <see cref="PureSpinMicroseconds"/> (a layer's other chunks usually finish within it); then spin yielding the
    /// processor (SpinWait never sleeps with sleep1Threshold −1), so that with more threads than cores the thread being
    /// waited for gets to run (pure spinning made 4 threads on 2 cores ~50× slower); then, past the budget, block until
    /// a thread that makes progress wakes the sleepers.
    /// </summary>
    private void WaitUntil<T>(ref T condition, int spinMicroseconds) where T : struct, ICondition
    {
        if (condition.IsMet) return;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        long pureUntil = start + System.Diagnostics.Stopwatch.Frequency * Math.Min(spinMicroseconds, PureSpinMicroseconds) / 1_000_000;
        long deadline = start + System.Diagnostics.Stopwatch.Frequency * spinMicroseconds / 1_000_000;
        for (int i = 0; ; i++)
        {
            if (condition.IsMet) return;
            Thread.SpinWait(8);
            if ((i & 63) == 63 && System.Diagnostics.Stopwatch.GetTimestamp() > pureUntil) break;
        }
        var spinner = new SpinWait();
        for (int i = 0; ; i++)
        {
            if (condition.IsMet) return;
            spinner.SpinOnce(sleep1Threshold: -1);
            if ((i & 15) == 15 && System.Diagnostics.Stopwatch.GetTimestamp() > deadline) break;
        }
        lock (_sleep)
        {
            // Counted before the last look (an interlocked add, a full fence): whoever makes progress after that look
            // sees a sleeper and pulses, and cannot pulse before this thread waits, as it needs the lock to.
            Interlocked.Increment(ref _sleepers);
            try { while (!condition.IsMet) Monitor.Wait(_sleep); }
            finally { Interlocked.Decrement(ref _sleepers); }
        }
    }

    /// <summary>Wakes any blocked thread; called after progress (a published job, a finished layer), which is made with a
    /// full fence before this reads the count.</summary>
    private void WakeSleepers()
    {
        if (Volatile.Read(ref _sleepers) == 0) return;
        lock (_sleep) Monitor.PulseAll(_sleep);
    }

    private long[]? _clock;
    private int _clockAt;

    /// <summary>
    /// Profiling (<c>MobileNetClassifier.Profile</c>): from now on the calling thread writes a <see cref="Stopwatch"/> time
    /// stamp into <paramref name="ticks"/> when each step is done (after its barrier, so the time of every thread's share is
    /// in it), and where the generated code calls <see cref="Lap"/>. Costs nothing while no clock is set.
    /// </summary>
    public void StartClock(long[] ticks)
    {
        _clock = ticks ?? throw new ArgumentNullException(nameof(ticks));
        _clockAt = 0;
    }

    /// <summary>Stops profiling; returns how many time stamps were written.</summary>
    public int StopClock()
    {
        int n = _clockAt;
        _clock = null;
        _clockAt = 0;
        return n;
    }

    /// <summary>Marks the end of a step that runs outside the runner (the head layers), when profiling.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Lap()
    {
        if (_clock is { } clock && _clockAt < clock.Length) clock[_clockAt++] = Stopwatch.GetTimestamp();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _workers.Length == 0) return;
        _stopping = true;
        Interlocked.Increment(ref _job); // a fence; the idle workers wake, see the stop flag and return
        WakeSleepers();
        foreach (var t in _workers) t.Join();
    }
}
