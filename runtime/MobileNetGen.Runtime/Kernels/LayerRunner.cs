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
/// The workers reference only this object (never the classifier), so an undisposed classifier is still finalized and
/// its finalizer stops them. Instances are driven by one classifier, which is itself not thread-safe.
/// </remarks>
public sealed unsafe class LayerRunner : IDisposable
{
    /// <summary>The most threads a runner accepts.</summary>
    public const int MaxThreads = 64;

    private readonly Barrier? _barrier;
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
        _barrier = new Barrier(threads);
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
        _barrier.Dispose();
    }
}
