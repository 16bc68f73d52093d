using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MobileNetGen.Importers.Exporters;
using MobileNetGen.Model;

namespace MobileNetGen.OnnxBaseline;

/// <summary>
/// ONNX Runtime running a uint8 MobileNet v1 exported by <see cref="QuantizedOnnxExporter"/> with its integer kernels
/// (QLinearConv, QLinearGlobalAveragePool): the peer of the generated integer classifiers. As <see cref="OnnxBaseline"/>,
/// input and output buffers are pinned arrays wrapped once in <see cref="OrtValue"/>s and bound by name on every
/// <see cref="Run"/>, so a run allocates (almost) nothing on the managed heap. Layer outputs (an export with
/// <see cref="QuantizedOnnxExportOptions.LayerOutputs"/>) are bound too and readable after a run. Not thread-safe.
/// </summary>
public sealed class QuantizedOnnxBaseline : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly byte[] _input;
    private readonly byte[] _logits;
    private readonly byte[]? _embeddings;
    private readonly Dictionary<string, byte[]> _layers = new(StringComparer.Ordinal);
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private bool _disposed;

    /// <summary>Loads an exported model for <paramref name="threads"/> intra-op threads (session options as <see cref="OnnxBaseline.CreateSessionOptions"/>).</summary>
    public QuantizedOnnxBaseline(byte[] model, int threads) : this(model, OnnxBaseline.CreateSessionOptions(threads), threads) { }

    /// <summary>Loads an exported model with the caller's session options (e.g. profiling on); the options are not disposed here.</summary>
    public QuantizedOnnxBaseline(byte[] model, SessionOptions options, int threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _session = new InferenceSession(model, options);
        try
        {
            if (!_session.InputMetadata.TryGetValue(QuantizedOnnxExporter.InputName, out var inMeta) || inMeta.ElementDataType != TensorElementType.UInt8)
                throw new ArgumentException($"the model has no uint8 input '{QuantizedOnnxExporter.InputName}' (not a MobileNetGen uint8 export)", nameof(model));
            if (!_session.OutputMetadata.TryGetValue(QuantizedOnnxExporter.LogitsName, out var outMeta) || outMeta.ElementDataType != TensorElementType.UInt8)
                throw new ArgumentException($"the model has no uint8 output '{QuantizedOnnxExporter.LogitsName}' (not a MobileNetGen uint8 export)", nameof(model));
            int[] inDims = inMeta.Dimensions;
            if (inDims.Length != 4 || inDims[0] != 1 || inDims[1] <= 0 || inDims[1] != inDims[2] || inDims[3] != 3)
                throw new ArgumentException($"input '{QuantizedOnnxExporter.InputName}' has shape [{string.Join(",", inDims)}], expected [1,R,R,3]", nameof(model));
            int[] outDims = outMeta.Dimensions;
            if (outDims.Length != 2 || outDims[0] != 1 || outDims[1] <= 0)
                throw new ArgumentException($"output '{QuantizedOnnxExporter.LogitsName}' has shape [{string.Join(",", outDims)}], expected [1,N]", nameof(model));
            Resolution = inDims[1];
            NumClasses = outDims[1];
            _input = GC.AllocateArray<byte>(InputLength, pinned: true);
            _logits = GC.AllocateArray<byte>(NumClasses, pinned: true);
            var outputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(_logits, new long[] { 1, NumClasses }) };
            var outputNames = new List<string> { QuantizedOnnxExporter.LogitsName };
            foreach (var (name, buffer) in UInt8Outputs.BindOthers(_session, outputNames.ToArray(), outputs, outputNames))
            {
                if (name == QuantizedOnnxExporter.EmbeddingsName)
                {
                    FeatureSize = buffer.Length;
                    _embeddings = buffer;
                }
                else _layers[name] = buffer;
            }
            _inputValues = new[] { OrtValue.CreateTensorValueFromMemory(_input, new long[] { 1, Resolution, Resolution, 3 }) };
            _outputValues = outputs.ToArray();
            _inputNames = new[] { QuantizedOnnxExporter.InputName };
            _outputNames = outputNames.ToArray();
            _runOptions = new RunOptions();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Exports <paramref name="weights"/> with <see cref="QuantizedOnnxExporter"/> and loads the model.</summary>
    public static QuantizedOnnxBaseline FromWeights(SafeTensorsFile weights, int threads, QuantizedOnnxExportOptions? export = null) =>
        new QuantizedOnnxBaseline(QuantizedOnnxExporter.Export(weights, export), threads);

    public int Threads { get; }
    /// <summary>Input side R: the input is uint8 [1,R,R,3] NHWC, the quantized image.</summary>
    public int Resolution { get; }
    public int InputLength => Resolution * Resolution * 3;
    public int NumClasses { get; }
    /// <summary>Length of the uint8 pooled features (1024·α); 0 when the model was exported without them.</summary>
    public int FeatureSize { get; }

    /// <summary>The uint8 logits of the last <see cref="Run"/>.</summary>
    public ReadOnlySpan<byte> Logits => _logits;

    /// <summary>The uint8 pooled features of the last <see cref="Run"/> (empty without an <c>embeddings</c> output).</summary>
    public ReadOnlySpan<byte> Embeddings => _embeddings;

    /// <summary>The layers whose outputs the model exposes (an export with <see cref="QuantizedOnnxExportOptions.LayerOutputs"/>).</summary>
    public IReadOnlyCollection<string> LayerNames => _layers.Keys;

    /// <summary>A layer's uint8 output of the last <see cref="Run"/>, NCHW as ONNX computes it.</summary>
    public ReadOnlySpan<byte> LayerOutput(string name) =>
        _layers.TryGetValue(name, out var b) ? b : throw new KeyNotFoundException($"the model exposes no layer output '{name}'");

    /// <summary>Runs the model on a uint8 image (<see cref="InputLength"/> bytes, NHWC) and writes <see cref="NumClasses"/> uint8 logits.</summary>
    public void Run(ReadOnlySpan<byte> input, Span<byte> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (input.Length != _input.Length) throw new ArgumentException($"input has {input.Length} bytes, the model takes {_input.Length} ([1,{Resolution},{Resolution},3])", nameof(input));
        if (logits.Length < _logits.Length) throw new ArgumentException($"logits has room for {logits.Length} bytes, the model writes {_logits.Length}", nameof(logits));
        input.CopyTo(_input);
        _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);
        _logits.AsSpan().CopyTo(logits);
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
