using BenchmarkDotNet.Attributes;
using MobileNetGen.Measurement;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Detection;
using MobileNetGen.Variants;

namespace MobileNetGen.Benchmarks;

/// <summary>
/// The SSD detector (<see cref="SsdMobileNetV1Coco"/>) on one and two threads: a 640 × 480 RGB24 frame end to end
/// (<see cref="MobileNetDetector.DetectRgb24"/>: resize, uint8 network, post-processing), against ONNX Runtime 1.31.1 running the
/// same uint8 network on the same 300 × 300 input (the baseline; our resize, no post-processing), in the same run.
/// </summary>
[MemoryDiagnoser]
public class DetectorBenchmarks
{
    private const int Width = 640, Height = 480;
    private SsdMobileNetV1Coco _detector = null!;
    private OnnxBaseline.DetectorOnnxBaseline _onnx = null!;
    private DetectorPreprocessor _preprocessor = null!;
    private byte[] _frame = null!, _input = null!, _boxes = null!, _scores = null!;
    private Detection[] _found = null!;

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    private void SetupCommon()
    {
        _frame = new byte[Width * Height * 3];
        new Random(20180629).NextBytes(_frame);
        _preprocessor = new DetectorPreprocessor(300, 300);
        _input = new byte[_preprocessor.OutputLength];
    }

    [GlobalSetup(Target = nameof(MobileNetGen))]
    public void SetupMobileNetGen()
    {
        SetupCommon();
        _detector = new SsdMobileNetV1Coco(new MobileNetOptions { Threads = Threads });
        _found = new Detection[_detector.MaxDetections];
        MobileNetGen();
    }

    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOnnxRuntime()
    {
        SetupCommon();
        using var detector = new SsdMobileNetV1Coco();
        _onnx = OnnxBaseline.DetectorOnnxBaseline.FromWeights(CanonicalWeightsSource.For(detector), Threads);
        _boxes = new byte[detector.Info.Anchors * 4];
        _scores = new byte[detector.Info.Anchors * detector.Info.Classes];
        OnnxRuntime();
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime 1.31.1 (resize + network)")]
    public byte OnnxRuntime()
    {
        _preprocessor.PreprocessRgb24(_frame, Width, Height, Width * 3, _input);
        _onnx.Run(_input, _boxes, _scores);
        return _scores[0];
    }

    [Benchmark(Description = "MobileNetGen DetectRgb24 (resize + network + post-processing)")]
    public int MobileNetGen() => _detector.DetectRgb24(_frame, Width, Height, Width * 3, _found);

    [GlobalCleanup]
    public void Cleanup()
    {
        _detector?.Dispose();
        _onnx?.Dispose();
    }
}
