using Microsoft.ML.OnnxRuntime;
using MobileNetGen.Importers.Exporters;
using MobileNetGen.Model;

namespace MobileNetGen.OnnxBaseline;

/// <summary>
/// ONNX Runtime running a MobileNet v1 model exported by <see cref="OnnxExporter"/>: a correctness and speed baseline for
/// the generated classifiers. Input and output buffers are pinned arrays wrapped once in <see cref="OrtValue"/>s, and
/// <see cref="Run"/> binds them through <c>InferenceSession.Run(RunOptions, names, values, names, values)</c>, so a run
/// allocates (almost) nothing on the managed heap. Not thread-safe: one instance per thread.
/// </summary>
public sealed class OnnxBaseline : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly float[] _input;
    private readonly float[] _logits;
    private readonly float[]? _embeddings;
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private bool _disposed;

    /// <summary>Loads an exported model (<see cref="OnnxExporter.Export"/>) for <paramref name="threads"/> intra-op threads.</summary>
    public OnnxBaseline(byte[] model, int threads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        using (var options = CreateSessionOptions(threads))
            _session = new InferenceSession(model, options);
        try
        {
            if (!_session.InputMetadata.TryGetValue(OnnxExporter.InputName, out var inMeta))
                throw new ArgumentException($"the model has no input '{OnnxExporter.InputName}' (not a MobileNetGen export)", nameof(model));
            if (!_session.OutputMetadata.TryGetValue(OnnxExporter.LogitsName, out var outMeta))
                throw new ArgumentException($"the model has no output '{OnnxExporter.LogitsName}' (not a MobileNetGen export)", nameof(model));
            int[] inDims = inMeta.Dimensions;
            if (inDims.Length != 4 || inDims[0] != 1 || inDims[1] <= 0 || inDims[1] != inDims[2] || inDims[3] != 3)
                throw new ArgumentException($"input '{OnnxExporter.InputName}' has shape [{string.Join(",", inDims)}], expected [1,R,R,3]", nameof(model));
            int[] outDims = outMeta.Dimensions;
            if (outDims.Length != 2 || outDims[0] != 1 || outDims[1] <= 0)
                throw new ArgumentException($"output '{OnnxExporter.LogitsName}' has shape [{string.Join(",", outDims)}], expected [1,N]", nameof(model));

            Resolution = inDims[1];
            NumClasses = outDims[1];
            _input = GC.AllocateArray<float>(InputLength, pinned: true);
            _logits = GC.AllocateArray<float>(NumClasses, pinned: true);
            var inputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(_input, new long[] { 1, Resolution, Resolution, 3 }) };
            var outputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(_logits, new long[] { 1, NumClasses }) };
            var outputNames = new List<string> { OnnxExporter.LogitsName };
            if (_session.OutputMetadata.TryGetValue(OnnxExporter.EmbeddingsName, out var embMeta) && embMeta.Dimensions.Length == 2 && embMeta.Dimensions[1] > 0)
            {
                FeatureSize = embMeta.Dimensions[1];
                _embeddings = GC.AllocateArray<float>(FeatureSize, pinned: true);
                outputs.Add(OrtValue.CreateTensorValueFromMemory(_embeddings, new long[] { 1, FeatureSize }));
                outputNames.Add(OnnxExporter.EmbeddingsName);
            }
            _inputValues = inputs.ToArray();
            _outputValues = outputs.ToArray();
            _inputNames = new[] { OnnxExporter.InputName };
            _outputNames = outputNames.ToArray();
            _runOptions = new RunOptions();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Exports <paramref name="weights"/> with <see cref="OnnxExporter"/> and loads the model.</summary>
    public static OnnxBaseline FromWeights(SafeTensorsFile weights, int threads) => new OnnxBaseline(OnnxExporter.Export(weights), threads);

    /// <summary>
    /// The session options of a speed run: <paramref name="threads"/> intra-op threads without spinning, one inter-op
    /// thread, sequential execution, every graph optimization.
    /// </summary>
    public static SessionOptions CreateSessionOptions(int threads)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    public int Threads { get; }
    /// <summary>Input side R: the input is [1,R,R,3] NHWC, preprocessed to [−1, 1].</summary>
    public int Resolution { get; }
    public int InputLength => Resolution * Resolution * 3;
    public int NumClasses { get; }
    /// <summary>Length of the embeddings (1024·α); 0 when the model was exported without them.</summary>
    public int FeatureSize { get; }

    /// <summary>The pooled features of the last <see cref="Run"/> (empty when the model has no <c>embeddings</c> output).</summary>
    public ReadOnlySpan<float> Embeddings => _embeddings;

    /// <summary>The logits of the last <see cref="Run"/>.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>Runs the model on <see cref="InputLength"/> preprocessed floats (NHWC) and writes <see cref="NumClasses"/> logits.</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (input.Length != _input.Length) throw new ArgumentException($"input has {input.Length} floats, the model takes {_input.Length} ([1,{Resolution},{Resolution},3])", nameof(input));
        if (logits.Length < _logits.Length) throw new ArgumentException($"logits has room for {logits.Length} floats, the model writes {_logits.Length}", nameof(logits));
        input.CopyTo(_input);
        _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);
        _logits.AsSpan().CopyTo(logits);
    }

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
