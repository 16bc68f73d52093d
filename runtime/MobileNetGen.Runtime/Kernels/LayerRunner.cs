using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Runs a generated network's convolution layers one after another, each split across a fixed set of threads: the
/// calling thread and <c>threads − 1</c> persistent workers, started once with the classifier, take chunks of the layer
/// (<see cref="ChunksPerThread"/> per thread) from a shared counter. A barrier separates layers (a layer reads the whole
/// output of the one before), except inside a run of layers the planner marks to be run whole by the calling thread
/// (too small to be worth splitting: <c>KernelContract.MinSplitMacs</c>). Nothing is allocated per inference, and since every chunk computes whole outputs in the
/// kernels' fixed summation order, results are bit-identical for any thread count and any assignment of chunks.
/// </summary>
/// <remarks>
/// Waiting is spin-then-block, with two budgets. Between the layers of one inference a thread spins for up to
/// <see cref="LayerSpinMicroseconds"/> µs: the parts of a layer finish microseconds apart, while waking a blocked thread
/// can cost a millisecond on a virtual machine, and once one thread sleeps, its lateness makes the other sleep at the next
/// barrier, and so on (with System.Threading.Barrier, or a 200 µs spin, two threads ran 0.25_224 slower than one). Between
/// inferences a worker spins for <see cref="IdleSpinMicroseconds"/> µs, then blocks until the next one.
/// The workers reference only this object (never the classifier), so an undisposed classifier is still finalized and
/// its finalizer stops them. Instances are driven by one classifier, which is itself not thread-safe.
/// </remarks>
public sealed unsafe class LayerRunner : IDisposable
{
    /// <summary>The most threads a runner accepts.</summary>
    public const int MaxThreads = MobileNetGen.Model.KernelContract.MaxThreads;

    /// <summary>How long a thread spins at a barrier between two layers before it blocks.</summary>
    public const int LayerSpinMicroseconds = 20_000;

    /// <summary>How long a worker spins waiting for the next inference before it blocks.</summary>
    public const int IdleSpinMicroseconds = 1_000;

    /// <summary>Chunks per thread each layer is cut into; threads take chunks from a shared counter, so a thread that
    /// starts late (woken from sleep) or runs slow (a busy core) does less, instead of everyone waiting for it.</summary>
    public const int ChunksPerThread = MobileNetGen.Model.KernelContract.ChunksPerThread;

    private int[] _nextChunk = new int[32];

    private readonly SpinThenBlockBarrier? _barrier;
    private readonly Thread[] _workers;
    private delegate*<int, int, int, float*, float*, float*, SimdPath, void> _layer;
    private int _layerCount;
    private bool[]? _whole;
    private float* _input, _bufferA, _bufferB;
    private SimdPath _path;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _failure;
    private int _disposed;

    public LayerRunner(int threads)
    {
        if (threads < 1 || threads > MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be in 1..{MaxThreads}");
        Threads = threads;
        _workers = new Thread[threads - 1];
        if (threads == 1) return;
        _barrier = new SpinThenBlockBarrier(threads);
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"MobileNetGen worker {i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads each layer is split across, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Runs layers <c>0 .. layerCount − 1</c> of <paramref name="layer"/> (the generated <c>RunLayer(layer, part, parts,
    /// input, bufferA, bufferB, path)</c>), each cut into <see cref="Threads"/> × <see cref="ChunksPerThread"/> chunks that
    /// the threads share, and returns when all are done. A layer marked in <paramref name="whole"/> (the planner's choice:
    /// too small to be worth a barrier, <c>KernelContract.MinSplitMacs</c>) is run whole, as part 0 of 1, by the calling
    /// thread, and a run of such layers has no barrier inside it: the workers wait at the barrier after it.
    /// </summary>
    public void Run(delegate*<int, int, int, float*, float*, float*, SimdPath, void> layer, int layerCount, bool[]? whole,
        float* input, float* bufferA, float* bufferB, SimdPath path)
    {
        if (whole is not null && whole.Length < layerCount)
            throw new ArgumentException($"whole has {whole.Length} entries for {layerCount} layers", nameof(whole));
        if (_barrier is null)
        {
            RunHere(layer, layerCount, input, bufferA, bufferB, path);
            return;
        }
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_nextChunk.Length < layerCount) _nextChunk = new int[layerCount]; // once per runner: a network's layer count is fixed
        Array.Clear(_nextChunk, 0, layerCount);
        _layer = layer; _layerCount = layerCount; _whole = whole; _input = input; _bufferA = bufferA; _bufferB = bufferB; _path = path;
        _barrier.SignalAndWait(IdleSpinMicroseconds); // start: the workers see the job (the barrier is a full fence)
        RunParts(caller: true);
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
        while (true)
        {
            _barrier!.SignalAndWait(IdleSpinMicroseconds); // wait for a job (or the stop signal)
            if (_stopping) return;
            RunParts(caller: false);
        }
    }

    /// <summary>This thread's chunks of every split layer, meeting the others at the barrier after each; the caller also
    /// runs each run of whole layers, with one barrier after the run.</summary>
    private void RunParts(bool caller)
    {
        int chunks = Threads * ChunksPerThread;
        bool[]? whole = _whole;
        for (int l = 0; l < _layerCount;)
        {
            int end = l + 1;
            bool alone = whole is not null && whole[l];
            if (alone) while (end < _layerCount && whole![end]) end++;
            try
            {
                if (!alone)
                    for (int chunk; (chunk = Interlocked.Increment(ref _nextChunk[l]) - 1) < chunks;)
                        _layer(l, chunk, chunks, _input, _bufferA, _bufferB, _path);
                else if (caller)
                    for (int s = l; s < end; s++)
                    {
                        _layer(s, 0, 1, _input, _bufferA, _bufferB, _path);
                        if (s + 1 < end) Lap(); // the run's last layer is timed after the barrier, as a split layer is
                    }
            }
            catch (Exception e)
            {
                // Kernels do not throw; should one ever, the others still reach the barrier and the caller rethrows.
                _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            _barrier!.SignalAndWait(LayerSpinMicroseconds);
            if (caller) Lap();
            l = end;
        }
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
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _barrier is null) return;
        _stopping = true;
        _barrier.SignalAndWait(IdleSpinMicroseconds); // releases the workers, which see the stop flag and return
        foreach (var t in _workers) t.Join();
    }
}

/// <summary>
/// A reusable barrier for a fixed number of threads that spins briefly, then blocks. The last thread to arrive opens it
/// (a new generation); the others spin on the generation and fall back to <see cref="Monitor.Wait(object)"/>, so a
/// thread waiting between inferences sleeps. Arrival is an interlocked decrement (a full fence), so every write made
/// before <see cref="SignalAndWait"/> is visible to every thread after it.
/// </summary>
internal sealed class SpinThenBlockBarrier
{
    /// <summary>How long a waiting thread spins without yielding its core.</summary>
    public const int PureSpinMicroseconds = 100;

    private readonly int _participants;
    private readonly object _lock = new();
    private int _remaining;
    private volatile int _generation;

    public SpinThenBlockBarrier(int participants)
    {
        _participants = participants;
        _remaining = participants;
    }

    /// <summary>Arrives, and returns when all participants have arrived; spins for up to
    /// <paramref name="spinMicroseconds"/> µs, then blocks.</summary>
    public void SignalAndWait(int spinMicroseconds)
    {
        int generation = _generation;
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _remaining = _participants; // before the generation moves on: nobody arrives at the next one earlier
            lock (_lock)
            {
                _generation = generation + 1;
                Monitor.PulseAll(_lock);
            }
            return;
        }
        // Three phases: spin on the core for up to PureSpinMicroseconds (the other parts of a layer usually finish
        // within it); then spin yielding the processor (SpinWait never sleeps with sleep1Threshold −1), so that with
        // more threads than cores the thread being waited for gets to run (pure spinning made 4 threads on 2 cores ~50×
        // slower); then, past the budget, block.
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        long pureUntil = start + System.Diagnostics.Stopwatch.Frequency * Math.Min(spinMicroseconds, PureSpinMicroseconds) / 1_000_000;
        long deadline = start + System.Diagnostics.Stopwatch.Frequency * spinMicroseconds / 1_000_000;
        for (int i = 0; ; i++)
        {
            if (_generation != generation) return;
            Thread.SpinWait(8);
            if ((i & 63) == 63 && System.Diagnostics.Stopwatch.GetTimestamp() > pureUntil) break;
        }
        var spinner = new SpinWait();
        for (int i = 0; ; i++)
        {
            if (_generation != generation) return;
            spinner.SpinOnce(sleep1Threshold: -1);
            if ((i & 15) == 15 && System.Diagnostics.Stopwatch.GetTimestamp() > deadline) break;
        }
        lock (_lock)
        {
            while (_generation == generation) Monitor.Wait(_lock);
        }
    }
}
