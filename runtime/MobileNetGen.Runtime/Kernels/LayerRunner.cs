using System.Runtime.ExceptionServices;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Runs a generated network's convolution layers one after another, each split across a fixed set of threads: the
/// calling thread takes part 0 and <c>threads − 1</c> persistent workers, started once with the classifier, take the
/// others. A barrier separates layers (a layer reads the whole output of the one before). Nothing is allocated per
/// inference, and since every part computes whole outputs in the kernels' fixed summation order, results are
/// bit-identical for any thread count.
/// </summary>
/// <remarks>
/// The barrier spins for up to <see cref="SpinThenBlockBarrier.SpinMicroseconds"/> µs before it blocks: a layer's parts
/// finish microseconds apart, and waking a blocked thread costs tens of microseconds per layer (System.Threading.Barrier
/// made two threads slower than one on the small variants). Between inferences the workers block after that spin.
/// The workers reference only this object (never the classifier), so an undisposed classifier is still finalized and
/// its finalizer stops them. Instances are driven by one classifier, which is itself not thread-safe.
/// </remarks>
public sealed unsafe class LayerRunner : IDisposable
{
    /// <summary>The most threads a runner accepts.</summary>
    public const int MaxThreads = 64;

    private readonly SpinThenBlockBarrier? _barrier;
    private readonly Thread[] _workers;
    private delegate*<int, int, int, float*, float*, float*, SimdPath, void> _layer;
    private int _layerCount;
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
            _workers[i].Start(i + 1);
        }
    }

    /// <summary>Threads each layer is split across, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Runs layers <c>0 .. layerCount − 1</c> of <paramref name="layer"/> (the generated <c>RunLayer(layer, part, parts,
    /// input, bufferA, bufferB, path)</c>), each split into <see cref="Threads"/> parts, and returns when all are done.
    /// </summary>
    public void Run(delegate*<int, int, int, float*, float*, float*, SimdPath, void> layer, int layerCount,
        float* input, float* bufferA, float* bufferB, SimdPath path)
    {
        if (_barrier is null)
        {
            for (int l = 0; l < layerCount; l++) layer(l, 0, 1, input, bufferA, bufferB, path);
            return;
        }
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _layer = layer; _layerCount = layerCount; _input = input; _bufferA = bufferA; _bufferB = bufferB; _path = path;
        _barrier.SignalAndWait(); // start: the workers see the job (the barrier is a full fence)
        RunParts(0);
        if (_failure is { } failure) { _failure = null; failure.Throw(); }
    }

    private void WorkerLoop(object? partObject)
    {
        int part = (int)partObject!;
        while (true)
        {
            _barrier!.SignalAndWait(); // wait for a job (or the stop signal)
            if (_stopping) return;
            RunParts(part);
        }
    }

    /// <summary>This thread's part of every layer, meeting the others at the barrier after each layer.</summary>
    private void RunParts(int part)
    {
        for (int l = 0; l < _layerCount; l++)
        {
            try
            {
                _layer(l, part, Threads, _input, _bufferA, _bufferB, _path);
            }
            catch (Exception e)
            {
                // Kernels do not throw; should one ever, the others still reach the barrier and the caller rethrows.
                _failure ??= ExceptionDispatchInfo.Capture(e);
            }
            _barrier!.SignalAndWait();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _barrier is null) return;
        _stopping = true;
        _barrier.SignalAndWait(); // releases the workers, which see the stop flag and return
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
    /// <summary>How long a waiting thread spins before it blocks.</summary>
    public const int SpinMicroseconds = 200;

    private readonly int _participants;
    private readonly object _lock = new();
    private readonly long _spinTicks = Math.Max(1, System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000);
    private int _remaining;
    private volatile int _generation;

    public SpinThenBlockBarrier(int participants)
    {
        _participants = participants;
        _remaining = participants;
    }

    public void SignalAndWait()
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
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + _spinTicks;
        for (int i = 0; ; i++)
        {
            if (_generation != generation) return;
            Thread.SpinWait(8);
            if ((i & 63) == 63 && System.Diagnostics.Stopwatch.GetTimestamp() > deadline) break;
        }
        lock (_lock)
        {
            while (_generation == generation) Monitor.Wait(_lock);
        }
    }
}
