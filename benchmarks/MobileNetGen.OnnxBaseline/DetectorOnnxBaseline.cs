using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MobileNetGen.Importers.Exporters;
using MobileNetGen.Model;

namespace MobileNetGen.OnnxBaseline;

/// <summary>
/// ONNX Runtime running a uint8 SSD MobileNet v1 detector exported by <see cref="DetectorOnnxExporter"/> with its integer
/// kernels (QLinearConv, QLinearConcat, QLinearSigmoid): the peer of the generated detectors (<c>MobileNetDetector.RunQuantized</c>),
/// raw box encodings and class scores, no post-processing. As <see cref="QuantizedOnnxBaseline"/>, input and output buffers
/// are pinned arrays wrapped once in <see cref="OrtValue"/>s and bound by name on every <see cref="Run"/>, so a run allocates
/// (almost) nothing on the managed heap. Extra uint8 outputs of the export (<see cref="DetectorOnnxExportOptions.LayerOutputs"/>,
/// <see cref="DetectorOnnxExportOptions.ClassLogitsOutput"/>) are bound too and readable after a run. Not thread-safe.
/// </summary>
public sealed class DetectorOnnxBaseline : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly byte[] _input;
    private readonly byte[] _boxes;
    private readonly byte[] _scores;
    private readonly Dictionary<string, byte[]> _extra = new(StringComparer.Ordinal);
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private bool _disposed;

    /// <summary>Loads an exported model for <paramref name="threads"/> intra-op threads (session options as <see cref="OnnxBaseline.CreateSessionOptions"/>).</summary>
    public DetectorOnnxBaseline(byte[] model, int threads) : this(model, CreateOptions(threads), threads, ownsOptions: true) { }

    /// <summary>Loads an exported model with the caller's session options (e.g. profiling on); the options are not disposed here.</summary>
    public DetectorOnnxBaseline(byte[] model, SessionOptions options, int threads) : this(model, options, threads, ownsOptions: false) { }

    private static SessionOptions CreateOptions(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        return OnnxBaseline.CreateSessionOptions(threads);
    }

    private DetectorOnnxBaseline(byte[] model, SessionOptions options, int threads, bool ownsOptions)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(options);
            ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
            Threads = threads;
            _session = new InferenceSession(model, options);
        }
        finally
        {
            if (ownsOptions) options?.Dispose(); // the session keeps what it needs
        }
        try
        {
            var inMeta = Require(DetectorOnnxExporter.InputName, _session.InputMetadata, "input");
            var boxMeta = Require(DetectorOnnxExporter.BoxEncodingsName, _session.OutputMetadata, "output");
            var scoreMeta = Require(DetectorOnnxExporter.ClassScoresName, _session.OutputMetadata, "output");
            int[] inDims = inMeta.Dimensions;
            if (inDims.Length != 4 || inDims[0] != 1 || inDims[1] <= 0 || inDims[2] <= 0 || inDims[3] != 3)
                throw new ArgumentException($"input '{DetectorOnnxExporter.InputName}' has shape [{string.Join(",", inDims)}], expected [1,H,W,3]", nameof(model));
            int[] boxDims = boxMeta.Dimensions, scoreDims = scoreMeta.Dimensions;
            if (boxDims.Length != 3 || boxDims[0] != 1 || boxDims[1] <= 0 || boxDims[2] != 4)
                throw new ArgumentException($"output '{DetectorOnnxExporter.BoxEncodingsName}' has shape [{string.Join(",", boxDims)}], expected [1,N,4]", nameof(model));
            if (scoreDims.Length != 3 || scoreDims[0] != 1 || scoreDims[1] != boxDims[1] || scoreDims[2] <= 0)
                throw new ArgumentException($"output '{DetectorOnnxExporter.ClassScoresName}' has shape [{string.Join(",", scoreDims)}], expected [1,{boxDims[1]},C]", nameof(model));
            InputHeight = inDims[1];
            InputWidth = inDims[2];
            Anchors = boxDims[1];
            Classes = scoreDims[2];
            _input = GC.AllocateArray<byte>(InputLength, pinned: true);
            _boxes = GC.AllocateArray<byte>(Anchors * 4, pinned: true);
            _scores = GC.AllocateArray<byte>(Anchors * Classes, pinned: true);
            var outputs = new List<OrtValue>
            {
                OrtValue.CreateTensorValueFromMemory(_boxes, new long[] { 1, Anchors, 4 }),
                OrtValue.CreateTensorValueFromMemory(_scores, new long[] { 1, Anchors, Classes }),
            };
            var outputNames = new List<string> { DetectorOnnxExporter.BoxEncodingsName, DetectorOnnxExporter.ClassScoresName };
            foreach (var (name, buffer) in UInt8Outputs.BindOthers(_session, outputNames.ToArray(), outputs, outputNames)) _extra[name] = buffer;
            _inputValues = new[] { OrtValue.CreateTensorValueFromMemory(_input, new long[] { 1, InputHeight, InputWidth, 3 }) };
            _outputValues = outputs.ToArray();
            _inputNames = new[] { DetectorOnnxExporter.InputName };
            _outputNames = outputNames.ToArray();
            _runOptions = new RunOptions();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private static NodeMetadata Require(string name, IReadOnlyDictionary<string, NodeMetadata> metadata, string what) =>
        metadata.TryGetValue(name, out var m) && m.ElementDataType == TensorElementType.UInt8
            ? m
            : throw new ArgumentException($"the model has no uint8 {what} '{name}' (not a MobileNetGen detector export)", "model");

    /// <summary>Exports <paramref name="weights"/> with <see cref="DetectorOnnxExporter"/> and loads the model.</summary>
    public static DetectorOnnxBaseline FromWeights(SafeTensorsFile weights, int threads, DetectorOnnxExportOptions? export = null) =>
        new DetectorOnnxBaseline(DetectorOnnxExporter.Export(weights, export), threads);

    public int Threads { get; }
    public int InputHeight { get; }
    public int InputWidth { get; }
    /// <summary>Bytes of one uint8 input: [1,H,W,3] NHWC, the quantized image (<c>DetectorPreprocessor</c>'s output).</summary>
    public int InputLength => InputHeight * InputWidth * 3;
    /// <summary>Anchors: rows of the box encodings and class scores (1917).</summary>
    public int Anchors { get; }
    /// <summary>Class columns, background included (91).</summary>
    public int Classes { get; }

    /// <summary>The uint8 box encodings of the last <see cref="Run"/>, [Anchors][4].</summary>
    public ReadOnlySpan<byte> BoxEncodings => _boxes;

    /// <summary>The uint8 class scores (after the sigmoid) of the last <see cref="Run"/>, [Anchors][Classes].</summary>
    public ReadOnlySpan<byte> ClassScores => _scores;

    /// <summary>The other uint8 outputs the model declares (layer outputs, <c>class_logits</c>).</summary>
    public IReadOnlyCollection<string> ExtraOutputNames => _extra.Keys;

    /// <summary>Another uint8 output of the last <see cref="Run"/>: a layer's NCHW output, or <c>class_logits</c> [Anchors][Classes].</summary>
    public ReadOnlySpan<byte> Output(string name) =>
        _extra.TryGetValue(name, out var b) ? b : throw new KeyNotFoundException($"the model exposes no extra output '{name}'");

    /// <summary>
    /// Runs the model on a uint8 image (<see cref="InputLength"/> bytes, NHWC) and writes the box encodings
    /// (<see cref="Anchors"/>·4 bytes) and class scores (<see cref="Anchors"/>·<see cref="Classes"/> bytes).
    /// </summary>
    public void Run(ReadOnlySpan<byte> input, Span<byte> boxes, Span<byte> scores)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (input.Length != _input.Length) throw new ArgumentException($"input has {input.Length} bytes, the model takes {_input.Length} ([1,{InputHeight},{InputWidth},3])", nameof(input));
        if (boxes.Length < _boxes.Length) throw new ArgumentException($"boxes has room for {boxes.Length} bytes, the model writes {_boxes.Length}", nameof(boxes));
        if (scores.Length < _scores.Length) throw new ArgumentException($"scores has room for {scores.Length} bytes, the model writes {_scores.Length}", nameof(scores));
        input.CopyTo(_input);
        _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);
        _boxes.AsSpan().CopyTo(boxes);
        _scores.AsSpan().CopyTo(scores);
    }

    /// <summary>Ends ONNX Runtime's profiling (a session created with profiling on) and returns the JSON trace's path.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var v in _outputValues) v.Dispose();
        foreach (var v in _inputValues) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
