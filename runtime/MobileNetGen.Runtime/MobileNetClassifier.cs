using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Runtime.Kernels;
using MobileNetGen.Runtime.Labels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Runtime;

/// <summary>
/// Base of every generated classifier. The generator emits the layers (<see cref="Forward"/>) and the embedded,
/// pre-packed weights; this class owns the workspace, checks arguments and turns logits into labelled predictions.
/// </summary>
/// <remarks>
/// An instance is not thread-safe: it owns one workspace (activations, input, logits, embeddings), allocated once in
/// the constructor, so that inference allocates nothing. Use one instance per thread; instances share the weights.
/// A call that overlaps another on the same instance is detected and throws <see cref="InvalidOperationException"/>.
/// With <see cref="MobileNetOptions.Threads"/> above 1, one inference is itself split across that many threads
/// (persistent workers owned by the instance; dispose it to stop them), with bit-identical results.
/// </remarks>
public abstract unsafe class MobileNetClassifier : IDisposable
{
    private readonly float* _workspace;
    private readonly float* _bufferA, _bufferB, _input, _logits, _probabilities, _embeddings;
    private readonly int[] _topIndices;
    private readonly string?[] _numberedLabels;
    private readonly LayerRunner _runner;
    private int _busy;
    private bool _disposed;

    /// <param name="info">Build-time facts about the model.</param>
    /// <param name="activationElements">Largest activation tensor in floats; sizes each of the two ping-pong buffers.</param>
    /// <param name="options">Runtime choices (SIMD path, threads, resize).</param>
    /// <param name="defaultThreads">Threads when <paramref name="options"/> leaves <see cref="MobileNetOptions.Threads"/> at 0
    /// (the generated class passes the app's MSBuild <c>MobileNetThreads</c>).</param>
    protected MobileNetClassifier(MobileNetModelInfo info, long activationElements, MobileNetOptions? options, int defaultThreads = 1)
    {
        Info = info;
        SimdPath = ResolveSimdPath(options?.Simd ?? SimdPath.Auto);
        Resize = options?.Resize ?? ResizeMethod.TensorFlowBilinear;
        int threads = options?.Threads is int t && t != 0 ? t : defaultThreads;
        if (threads < 1 || threads > LayerRunner.MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(options), threads, $"Threads must be in 1..{LayerRunner.MaxThreads} (0: the class's default)");
        long input = (long)info.Resolution * info.Resolution * 3;
        long[] sizes = { activationElements, activationElements, input, info.NumClasses, info.NumClasses, info.FeatureSize };
        long total = 0;
        foreach (long s in sizes) total += Round(s);
        _workspace = (float*)LargePages.AllocateZeroed(total * sizeof(float));
        float* p = _workspace;
        _bufferA = p; p += Round(sizes[0]);
        _bufferB = p; p += Round(sizes[1]);
        _input = p; p += Round(sizes[2]);
        _logits = p; p += Round(sizes[3]);
        _probabilities = p; p += Round(sizes[4]);
        _embeddings = p;
        _topIndices = new int[info.NumClasses];
        _numberedLabels = new string[info.NumClasses];
        WorkspaceBytes = total * sizeof(float);
        _runner = new LayerRunner(threads, options?.AdaptiveThreads ?? true);

        static long Round(long n) => (n + 15) & ~15L; // keep every buffer 64-byte aligned
    }

    public MobileNetModelInfo Info { get; }

    /// <summary>The SIMD width the kernels of this instance run with.</summary>
    public SimdPath SimdPath { get; }

    /// <summary>Threads one inference is split across (1: the calling thread only).</summary>
    public int Threads => _runner.Threads;

    /// <summary>With several threads and <see cref="MobileNetOptions.AdaptiveThreads"/>: the inferences split across them
    /// and those run on the calling thread alone (it had lately been the faster, or was being checked again), so far.</summary>
    public long InferencesSplit => _runner.InferencesSplit;
    /// <inheritdoc cref="InferencesSplit"/>
    public long InferencesAlone => _runner.InferencesAlone;

    /// <summary>How images are scaled to the input size (TF-slim's TF1 bilinear unless the options said otherwise).</summary>
    public ResizeMethod Resize { get; }

    /// <summary>Side of the square input in pixels (the variant's resolution).</summary>
    public int InputSize => Info.Resolution;

    /// <summary>Floats in one input: <c>InputSize × InputSize × 3</c>, NHWC, RGB scaled to [−1, 1].</summary>
    public int InputLength => Info.Resolution * Info.Resolution * 3;

    public int NumClasses => Info.NumClasses;

    /// <summary>Length of the pooled feature vector (1024·α).</summary>
    public int FeatureSize => Info.FeatureSize;

    /// <summary>Bytes of native memory this instance holds for its workspace.</summary>
    public long WorkspaceBytes { get; }

    /// <summary>The pooled features of the last inference (the input of the classifier layer): image embeddings.</summary>
    public ReadOnlySpan<float> Embeddings => new(_embeddings, Info.FeatureSize);

    /// <summary>Logits of the last inference.</summary>
    public ReadOnlySpan<float> Logits => new(_logits, Info.NumClasses);

    /// <summary>Softmax of the last inference's logits (filled by the Classify methods).</summary>
    public ReadOnlySpan<float> Probabilities => new(_probabilities, Info.NumClasses);

    /// <summary>
    /// Runs the network on a preprocessed input (<see cref="InputLength"/> floats, NHWC, [−1, 1]) and writes
    /// <see cref="NumClasses"/> logits. Allocates nothing.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, Span<float> logits)
    {
        ThrowIfDisposed();
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} floats ({InputSize}x{InputSize}x3), got {input.Length}", nameof(input));
        if (logits.Length < NumClasses) throw new ArgumentException($"logits must hold at least {NumClasses} floats, got {logits.Length}", nameof(logits));
        Enter();
        try
        {
            fixed (float* pin = input)
            {
                Forward(pin, _logits, _embeddings, _bufferA, _bufferB, SimdPath, _runner);
            }
            new ReadOnlySpan<float>(_logits, NumClasses).CopyTo(logits);
        }
        finally { Exit(); }
    }

    /// <summary>The generated network: input NHWC → logits, pooled features into <paramref name="embeddings"/>.</summary>
    /// <param name="bufferA">Scratch of the generator's activation size, 64-byte aligned.</param>
    /// <param name="bufferB">Second scratch buffer of the same size.</param>
    /// <param name="runner">Runs the convolution layers, split across this instance's threads.</param>
    protected abstract void Forward(float* input, float* logits, float* embeddings, float* bufferA, float* bufferB, SimdPath path, LayerRunner runner);

    /// <summary>
    /// The weights file this class was generated from, as embedded in its assembly (the canonical safetensors, byte for byte:
    /// for exporting the model, or running it in another engine); null for synthetic weights. The caller disposes the stream.
    /// </summary>
    public Stream? OpenWeightsFile() =>
        Info.WeightsResource is string name ? GetType().Assembly.GetManifestResourceStream(name) : null;

    /// <summary>The runner that splits this instance's layers across its threads.</summary>
    protected LayerRunner Runner => _runner;

    /// <summary>The two ping-pong activation buffers of the workspace (for subclasses that enter the network another way).</summary>
    protected float* WorkspaceA => _bufferA;
    protected float* WorkspaceB => _bufferB;

    /// <summary>Where the last inference's logits and embeddings are kept (<see cref="Logits"/>, <see cref="Embeddings"/>).</summary>
    protected float* LogitsPointer => _logits;
    protected float* EmbeddingsPointer => _embeddings;

    /// <summary>The steps of the schedule this instance runs with <paramref name="threads"/> threads, in order (the generated
    /// class lists them; <see cref="Profile"/> times them).</summary>
    protected virtual IReadOnlyList<NetworkStep> ScheduleSteps(int threads) => Array.Empty<NetworkStep>();

    /// <summary>Work <see cref="Forward"/> does before the generated network's first step, timed as a step of its own by
    /// <see cref="Profile"/> (a uint8 network's input quantization), or null.</summary>
    private protected virtual NetworkStep? InputStep => null;

    /// <summary>The steps this instance runs (its thread count decides the schedule: one thread takes the fused pairs).</summary>
    public IReadOnlyList<NetworkStep> Steps => InputStep is { } first ? [first, .. ScheduleSteps(Threads)] : ScheduleSteps(Threads);

    /// <summary>
    /// Times each step of the network over <paramref name="iterations"/> inferences of <paramref name="input"/> after
    /// <paramref name="warmup"/> untimed ones: the view of TFLite's <c>benchmark_model --enable_op_profiling</c>. A step's time
    /// ends at its barrier, so with several threads it includes waiting for the slowest. Allocates (for the samples); the
    /// inferences themselves do not.
    /// </summary>
    public NetworkProfile Profile(ReadOnlySpan<float> input, int warmup, int iterations)
    {
        ThrowIfDisposed();
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} floats, got {input.Length}", nameof(input));
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var steps = Steps;
        if (steps.Count == 0) throw new NotSupportedException($"{GetType().Name} lists no steps (generated by an older MobileNetGen)");
        var ticks = new long[steps.Count];
        var samples = new double[steps.Count][];
        for (int i = 0; i < samples.Length; i++) samples[i] = new double[iterations];
        var totals = new double[iterations];
        double msPerTick = 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        Enter();
        try
        {
            fixed (float* pin = input)
            {
                for (int it = -warmup; it < iterations; it++)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    _runner.StartClock(ticks);
                    Forward(pin, _logits, _embeddings, _bufferA, _bufferB, SimdPath, _runner);
                    int n = _runner.StopClock();
                    if (n != steps.Count) throw new InvalidOperationException($"the network reported {n} steps, its schedule lists {steps.Count}");
                    if (it < 0) continue;
                    long previous = t0;
                    for (int s = 0; s < ticks.Length; s++) { samples[s][it] = (ticks[s] - previous) * msPerTick; previous = ticks[s]; }
                    totals[it] = (previous - t0) * msPerTick;
                }
            }
        }
        finally { Exit(); }
        return NetworkProfile.FromSamples(steps, samples, totals, Threads, SimdPath);
    }

    /// <summary>Marks the instance busy; a second, overlapping call (another thread sharing it) is misuse and throws.</summary>
    protected void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException(
                "This MobileNetClassifier is already running an inference on another thread. An instance is not thread-safe: " +
                "create one instance per thread (they share the weights), or set MobileNetOptions.Threads to split one inference.");
    }

    protected void Exit() => Volatile.Write(ref _busy, 0);

    /// <summary>Classifies a packed RGB24 buffer (e.g. a camera frame): TF-slim preprocessing, inference, softmax,
    /// top-k into <paramref name="top"/> (its length is k). Allocates nothing.</summary>
    public void ClassifyRgb24(ReadOnlySpan<byte> pixels, int width, int height, int stride, Span<Prediction> top)
    {
        ThrowIfDisposed();
        Enter();
        try
        {
            if (Resize == ResizeMethod.Antialiased) AntialiasedResize.Rgb24ToInput(pixels, width, height, stride, InputSize, new Span<float>(_input, InputLength));
            else Preprocessor.Rgb24ToInput(pixels, width, height, stride, InputSize, new Span<float>(_input, InputLength));
            RunOwnInput(top);
        }
        finally { Exit(); }
    }

    /// <summary>As <see cref="ClassifyRgb24"/> for BGRA32 buffers (alpha ignored).</summary>
    public void ClassifyBgra32(ReadOnlySpan<byte> pixels, int width, int height, int stride, Span<Prediction> top)
    {
        ThrowIfDisposed();
        Enter();
        try
        {
            if (Resize == ResizeMethod.Antialiased) AntialiasedResize.Bgra32ToInput(pixels, width, height, stride, InputSize, new Span<float>(_input, InputLength));
            else Preprocessor.Bgra32ToInput(pixels, width, height, stride, InputSize, new Span<float>(_input, InputLength));
            RunOwnInput(top);
        }
        finally { Exit(); }
    }

    /// <summary>Classifies a decoded image; returns the top <paramref name="k"/> predictions.</summary>
    public Prediction[] Classify(Image<Rgb24> image, int k = 5)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(image);
        if (k < 1 || k > NumClasses) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1..{NumClasses}");
        var result = new Prediction[k];
        Enter();
        try
        {
            if (Resize == ResizeMethod.Antialiased) AntialiasedResize.ImageToInput(image, InputSize, new Span<float>(_input, InputLength));
            else Preprocessor.ImageToInput(image, InputSize, new Span<float>(_input, InputLength));
            RunOwnInput(result);
        }
        finally { Exit(); }
        return result;
    }

    /// <summary>Decodes an image file (JPEG, PNG, BMP) and classifies it. Throws <see cref="ImageLoadException"/> for unreadable images.</summary>
    public Prediction[] Classify(string path, int k = 5)
    {
        using var image = ImageLoader.LoadRgb24(path);
        return Classify(image, k);
    }

    private void RunOwnInput(Span<Prediction> top)
    {
        if (top.Length < 1 || top.Length > NumClasses) throw new ArgumentException($"top must hold 1..{NumClasses} predictions, got {top.Length}", nameof(top));
        Forward(_input, _logits, _embeddings, _bufferA, _bufferB, SimdPath, _runner);
        var probs = new Span<float>(_probabilities, NumClasses);
        Postprocess.Softmax(new ReadOnlySpan<float>(_logits, NumClasses), probs);
        Span<int> indices = _topIndices.AsSpan(0, top.Length);
        Postprocess.TopK(probs, indices);
        for (int i = 0; i < indices.Length; i++)
        {
            int o = indices[i];
            int imagenet = ImageNetIndexOf(o);
            top[i] = new Prediction(o, imagenet, probs[o], LabelOf(o));
        }
    }

    /// <summary>TF-slim ImageNet index (0 = background) of a model output; the output index itself for a custom head
    /// (<see cref="MobileNetModelInfo.ImageNetLabels"/> false), whatever its class count.</summary>
    public int ImageNetIndexOf(int outputIndex) =>
        !Info.ImageNetLabels || Info.BackgroundClass || Info.NumClasses != 1000 ? outputIndex : outputIndex + 1;

    /// <summary>Label of a model output: the ImageNet label, or for a custom head the label the generated class embeds
    /// (<c>class N</c> when its weights carried none).</summary>
    public virtual string LabelOf(int outputIndex)
    {
        if (!Info.ImageNetLabels) return NumberedLabel(outputIndex);
        int i = ImageNetIndexOf(outputIndex);
        return (uint)i < (uint)ImageNetLabels.All.Length ? ImageNetLabels.All[i] : NumberedLabel(outputIndex);
    }

    /// <summary><c>class N</c>: the label of an output that has no label text (made once per output and instance, so that
    /// classifying stays allocation-free after the first time).</summary>
    protected string NumberedLabel(int outputIndex) =>
        (uint)outputIndex < (uint)_numberedLabels.Length
            ? _numberedLabels[outputIndex] ??= $"class {outputIndex}"
            : $"class {outputIndex}";

    /// <summary>The widest path the hardware accelerates, or the forced one.</summary>
    public static SimdPath ResolveSimdPath(SimdPath requested)
    {
        if (requested != SimdPath.Auto)
        {
            if (!SimdPaths.IsCompiled(requested))
                throw new NotSupportedException(
                    $"SIMD path {requested} is not in this NativeAOT binary: its instruction set does not accelerate it, so its kernels were " +
                    "left out (publish with a wider MobileNetIsa, e.g. x86-64-v4 for Vector512, or use SimdPath.Auto)");
            return requested;
        }
        if (Vector512.IsHardwareAccelerated) return SimdPath.Vector512;
        if (Vector256.IsHardwareAccelerated) return SimdPath.Vector256;
        if (Vector128.IsHardwareAccelerated) return SimdPath.Vector128;
        return SimdPath.Scalar;
    }

    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        _runner?.Dispose(); // null when the constructor threw
        NativeMemory.AlignedFree(_workspace);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    ~MobileNetClassifier() => Dispose(false);
}
