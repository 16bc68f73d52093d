using System.Runtime.InteropServices;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Runtime.Kernels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Runtime.Detection;

/// <summary>Everything fixed about a generated detector, known at build time.</summary>
/// <param name="Name">Weights entry, e.g. <c>ssd_mobilenet_v1_0.75_300_coco_quant</c>.</param>
/// <param name="Classes">Columns of the class scores, background included (COCO: 91).</param>
/// <param name="Anchors">Anchor boxes (rows of the box encodings and class scores): 1917.</param>
/// <param name="WeightBytes">Bytes the embedded weights file adds to the binary.</param>
public sealed record DetectorModelInfo(
    string Name, string Variant, double Alpha, int InputWidth, int InputHeight, int Classes, int Anchors,
    string Source, string SourceSha256, long Macs, long Parameters, long WeightBytes, string? WeightsResource);

/// <summary>The quantization of a uint8 detector's input and of the tensors post-processing reads (TFLite's numbers).</summary>
public sealed record DetectorQuantization(Quantization Input, Quantization Boxes, Quantization Scores, Quantization Anchors);

/// <summary>
/// Base of every generated SSD detector (<c>[MobileNetSsd("ssd_mobilenet_v1_0.75_300_coco_quant")]</c>): the whole frame is
/// resized to the model's input as TensorFlow Lite's Task Library does (<see cref="DetectorPreprocessor"/>: no crop), the
/// generated integer network (every uint8 output equal to TFLite's reference kernels) writes the box encodings and the class
/// scores after LOGISTIC, and TFLite's <c>TFLite_Detection_PostProcess</c> (<see cref="DetectionPostprocess"/>: box
/// decoding with the anchors, class-agnostic fast NMS) turns them into detections in image pixels.
/// </summary>
/// <remarks>
/// An instance owns its workspace and is not thread-safe (an overlapping call throws); instances share the weights. The
/// allocation-free entry points (<see cref="DetectRgb24"/>, <see cref="DetectBgra32"/>, <see cref="RunQuantized"/>) allocate
/// nothing per call.
/// </remarks>
public abstract unsafe class MobileNetDetector : IDisposable
{
    private readonly byte* _workspace;
    private readonly byte* _image;
    private readonly long _boxesOffset, _scoresOffset;
    private readonly LayerRunner _runner;
    private readonly DetectorPreprocessor _preprocessor;
    private readonly DetectionPostprocess _postprocess;
    private readonly Detection[] _detections;
    private int _busy;
    private bool _disposed;

    /// <param name="workspaceBytes">The generated network's workspace (activations, scratch, box encodings, class scores).</param>
    /// <param name="boxesOffset">Where in the workspace the network leaves the box encodings [Anchors][4].</param>
    /// <param name="scoresOffset">Where it leaves the class scores after LOGISTIC [Anchors][Classes].</param>
    protected MobileNetDetector(DetectorModelInfo info, DetectorQuantization quantization, DetectionPostprocessOptions postprocess,
        IReadOnlyList<string> labels, long workspaceBytes, long boxesOffset, long scoresOffset, MobileNetOptions? options, int defaultThreads = 1)
    {
        Info = info;
        Quantization = quantization;
        SimdPath = MobileNetClassifier.ResolveSimdPath(options?.Simd ?? SimdPath.Auto);
        int threads = options?.Threads is int t && t != 0 ? t : defaultThreads;
        if (threads < 1 || threads > LayerRunner.MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(options), threads, $"Threads must be in 1..{LayerRunner.MaxThreads} (0: the class's default)");
        _preprocessor = new DetectorPreprocessor(info.InputWidth, info.InputHeight);
        float[] anchors = DetectionPostprocess.DequantizeAnchors(RawAnchors, quantization.Anchors);
        _postprocess = new DetectionPostprocess(postprocess, anchors, info.Classes, labelMap: labels);
        _detections = new Detection[_postprocess.MaxDetectionCount];
        _boxesOffset = boxesOffset;
        _scoresOffset = scoresOffset;
        long image = ((long)InputLength + 63) & ~63L;
        _workspace = (byte*)LargePages.AllocateZeroed(workspaceBytes + image);
        _image = _workspace + workspaceBytes;
        _runner = new LayerRunner(threads, options?.AdaptiveThreads ?? true);
        WorkspaceBytes = workspaceBytes + image;
    }

    public DetectorModelInfo Info { get; }
    public DetectorQuantization Quantization { get; }
    public SimdPath SimdPath { get; }
    public int Threads => _runner.Threads;
    /// <inheritdoc cref="MobileNetClassifier.InferencesSplit"/>
    public long InferencesSplit => _runner.InferencesSplit;
    /// <inheritdoc cref="MobileNetClassifier.InferencesSplit"/>
    public long InferencesAlone => _runner.InferencesAlone;
    public long WorkspaceBytes { get; }

    /// <summary>The canonical weights file embedded in the detector's assembly (exactly the weights it runs), or null when the
    /// build embedded none. The caller disposes the stream.</summary>
    public Stream? OpenWeightsFile() =>
        Info.WeightsResource is string name ? GetType().Assembly.GetManifestResourceStream(name) : null;

    /// <summary>The model input's width and height (300 × 300).</summary>
    public int InputWidth => Info.InputWidth;
    public int InputHeight => Info.InputHeight;

    /// <summary>Bytes of one uint8 input: width × height × 3 (RGB).</summary>
    public int InputLength => Info.InputWidth * Info.InputHeight * 3;

    /// <summary>The most detections one call returns (the model's <c>max_detections</c>).</summary>
    public int MaxDetections => _postprocess.MaxDetectionCount;

    /// <summary>The post-processing options the model carries.</summary>
    public DetectionPostprocessOptions PostprocessOptions => _postprocess.Options;

    /// <summary>The uint8 box encodings of the last inference, [Anchors][4] (TFLite's first detector output before post-processing).</summary>
    public ReadOnlySpan<byte> BoxEncodings => new(_workspace + _boxesOffset, Info.Anchors * 4);

    /// <summary>The uint8 class scores after LOGISTIC of the last inference, [Anchors][Classes].</summary>
    public ReadOnlySpan<byte> ClassScores => new(_workspace + _scoresOffset, Info.Anchors * Info.Classes);

    /// <summary>The anchors as stored in the weights file: uint8 [Anchors][4] (y, x, h, w), quantized with <see cref="DetectorQuantization.Anchors"/>;
    /// read from the weights packed for this instance's <see cref="SimdPath"/> (set before the constructor reads them), so that
    /// no other layout is packed for them.</summary>
    protected abstract ReadOnlySpan<byte> RawAnchors { get; }

    /// <summary>The generated network: uint8 image → box encodings and class scores, at the offsets given to the constructor.</summary>
    protected abstract void ForwardQuantized(byte* image, byte* workspace, SimdPath path, LayerRunner runner);

    /// <summary>The steps of the network, for <see cref="Profile"/>.</summary>
    protected virtual IReadOnlyList<NetworkStep> ScheduleSteps() => Array.Empty<NetworkStep>();

    public IReadOnlyList<NetworkStep> Steps => ScheduleSteps();

    /// <summary>Runs the network on a uint8 input (<see cref="InputLength"/> bytes, the model's input already resized) and copies
    /// the raw outputs: box encodings and class scores (both uint8, TFLite's outputs before post-processing).</summary>
    public void RunQuantized(ReadOnlySpan<byte> input, Span<byte> boxEncodings, Span<byte> classScores)
    {
        ThrowIfDisposed();
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} bytes ({InputWidth}x{InputHeight}x3), got {input.Length}", nameof(input));
        if (boxEncodings.Length < Info.Anchors * 4) throw new ArgumentException($"box encodings must hold {Info.Anchors * 4} bytes", nameof(boxEncodings));
        if (classScores.Length < Info.Anchors * Info.Classes) throw new ArgumentException($"class scores must hold {Info.Anchors * Info.Classes} bytes", nameof(classScores));
        Enter();
        try
        {
            input.CopyTo(new Span<byte>(_image, InputLength));
            ForwardQuantized(_image, _workspace, SimdPath, _runner);
            BoxEncodings.CopyTo(boxEncodings);
            ClassScores.CopyTo(classScores);
        }
        finally { Exit(); }
    }

    /// <summary>Detects objects in a packed RGB24 frame (rows <paramref name="stride"/> bytes apart) and writes them, best first, to
    /// <paramref name="output"/> (at least <see cref="MaxDetections"/> long); returns how many. Boxes are in the frame's pixels.
    /// Allocates nothing.</summary>
    public int DetectRgb24(ReadOnlySpan<byte> pixels, int width, int height, int stride, Span<Detection> output)
    {
        ThrowIfDisposed();
        RequireCapacity(output);
        Enter();
        try
        {
            _preprocessor.PreprocessRgb24(pixels, width, height, stride, new Span<byte>(_image, InputLength));
            return RunAndPostprocess(width, height, output);
        }
        finally { Exit(); }
    }

    /// <summary>As <see cref="DetectRgb24"/> for BGRA32 frames (alpha ignored).</summary>
    public int DetectBgra32(ReadOnlySpan<byte> pixels, int width, int height, int stride, Span<Detection> output)
    {
        ThrowIfDisposed();
        RequireCapacity(output);
        Enter();
        try
        {
            _preprocessor.PreprocessBgra32(pixels, width, height, stride, new Span<byte>(_image, InputLength));
            return RunAndPostprocess(width, height, output);
        }
        finally { Exit(); }
    }

    /// <summary>Detects objects in a decoded image; boxes in its pixels, best first.</summary>
    public Detection[] Detect(Image<Rgb24> image)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(image);
        Enter();
        try
        {
            _preprocessor.Preprocess(image, new Span<byte>(_image, InputLength));
            int n = RunAndPostprocess(image.Width, image.Height, _detections);
            return _detections.AsSpan(0, n).ToArray();
        }
        finally { Exit(); }
    }

    /// <summary>Decodes an image file (JPEG, PNG, BMP) and detects objects in it. Throws <see cref="ImageLoadException"/> for unreadable images.</summary>
    public Detection[] Detect(string path)
    {
        using var image = ImageLoader.LoadRgb24(path);
        return Detect(image);
    }

    private void RequireCapacity(Span<Detection> output)
    {
        if (output.Length < MaxDetections) throw new ArgumentException($"output must hold at least {MaxDetections} detections, got {output.Length}", nameof(output));
    }

    /// <summary>The network on the preprocessed image, then the post-processing into <paramref name="output"/> (checked by the caller).</summary>
    private int RunAndPostprocess(int width, int height, Span<Detection> output)
    {
        ForwardQuantized(_image, _workspace, SimdPath, _runner);
        return _postprocess.Run(BoxEncodings, Quantization.Boxes, ClassScores, Quantization.Scores, width, height, output);
    }

    /// <summary>
    /// Times each step of the network (and the post-processing, as the last step) over <paramref name="iterations"/> inferences
    /// of <paramref name="input"/> (uint8, the model's input size) after <paramref name="warmup"/> untimed ones.
    /// </summary>
    public NetworkProfile Profile(ReadOnlySpan<byte> input, int warmup, int iterations)
    {
        ThrowIfDisposed();
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} bytes, got {input.Length}", nameof(input));
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var steps = Steps;
        if (steps.Count == 0) throw new NotSupportedException($"{GetType().Name} lists no steps");
        var all = steps.Append(new NetworkStep("TFLite_Detection_PostProcess", "post-processing", $"{Info.Anchors} anchors -> {MaxDetections} detections", 0,
            (long)Info.Anchors * (4 + Info.Classes))).ToList();
        var ticks = new long[steps.Count];
        var samples = all.Select(_ => new double[iterations]).ToArray();
        var totals = new double[iterations];
        double msPerTick = 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        Enter();
        try
        {
            input.CopyTo(new Span<byte>(_image, InputLength));
            for (int it = -warmup; it < iterations; it++)
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                _runner.StartClock(ticks);
                ForwardQuantized(_image, _workspace, SimdPath, _runner);
                int n = _runner.StopClock();
                if (n != steps.Count) throw new InvalidOperationException($"the network reported {n} steps, its schedule lists {steps.Count}");
                _postprocess.Run(BoxEncodings, Quantization.Boxes, ClassScores, Quantization.Scores, InputWidth, InputHeight, _detections);
                long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
                if (it < 0) continue;
                long previous = t0;
                for (int s = 0; s < ticks.Length; s++) { samples[s][it] = (ticks[s] - previous) * msPerTick; previous = ticks[s]; }
                samples[^1][it] = (t1 - previous) * msPerTick;
                totals[it] = (t1 - t0) * msPerTick;
            }
        }
        finally { Exit(); }
        return NetworkProfile.FromSamples(all, samples, totals, Threads, SimdPath);
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("This MobileNetDetector is already running on another thread. An instance is not thread-safe: create one per thread (they share the weights).");
    }

    private void Exit() => Volatile.Write(ref _busy, 0);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        _runner?.Dispose();
        NativeMemory.AlignedFree(_workspace);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    ~MobileNetDetector() => Dispose(false);
}
