using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MobileNetGen.Cli.Output;

/// <summary>One prediction of <c>classify --json</c>. <paramref name="Index"/> is the TF-slim ImageNet index 0..1000.</summary>
public sealed record PredictionJson(int Index, string Label, double Probability);

/// <summary>One image of <c>classify --json</c>.</summary>
/// <param name="Weights"><c>genuine-float</c>, <c>genuine-8bit</c> or <c>synthetic</c>.</param>
public sealed record ClassifyJson(string Image, string Variant, string Weights, string Simd, IReadOnlyList<PredictionJson> Predictions);

/// <summary>A detection's box in the image's pixels (<see cref="MobileNetGen.Runtime.Detection.PixelBox"/>: float edges, not
/// rounded or clamped; left and top inclusive, right and bottom the far edges).</summary>
public sealed record PixelBoxJson(float Left, float Top, float Right, float Bottom);

/// <summary>A detection's box normalized to 0..1 in TFLite's order (<c>detection_boxes</c>: ymin, xmin, ymax, xmax; not clamped).</summary>
public sealed record NormalizedBoxJson(float Ymin, float Xmin, float Ymax, float Xmax);

/// <summary>One detection of <c>detect --json</c>: <paramref name="ClassIndex"/> is TFLite's <c>detection_classes</c> value
/// (0-based, background excluded: COCO label map line <c>ClassIndex + 1</c>); <paramref name="Score"/> TFLite's
/// <c>detection_scores</c>. Floats are written exactly (shortest round-trip form), not rounded.</summary>
public sealed record DetectionJson(int ClassIndex, string Label, float Score, PixelBoxJson Box, NormalizedBoxJson Normalized);

/// <summary>One image of <c>detect --json</c>: <paramref name="Detections"/> best first (score ≥ <paramref name="Threshold"/>, at
/// most <c>--max</c>); <paramref name="Drawn"/> the PNG written by <c>--draw</c> (null without it);
/// <paramref name="Milliseconds"/> preprocessing + network + post-processing (not decoding).</summary>
public sealed record DetectJson(string Image, int Width, int Height, string Model, string Simd, int Threads, float Threshold,
    IReadOnlyList<DetectionJson> Detections, string? Drawn, double Milliseconds);

/// <summary>A skipped image of <c>eval --json</c>.</summary>
public sealed record ProblemJson(string File, string Reason);

/// <summary>
/// <c>eval --json</c>. <paramref name="Top1"/> and <paramref name="Top5"/> are fractions 0..1 of the evaluated images, null
/// for synthetic weights (no accuracy is reported for them) or when no image could be evaluated.
/// <paramref name="Missing"/>, <paramref name="Unreadable"/> and <paramref name="Extra"/> (image files in the folder that the
/// ground truth does not list; not evaluated) are counts; the files are listed in <paramref name="MissingFiles"/>,
/// <paramref name="UnreadableFiles"/> and <paramref name="ExtraFiles"/>.
/// </summary>
public sealed record EvalJson(
    string Variant,
    string Weights,
    int Images,
    double? Top1,
    double? Top5,
    int Missing,
    int Unreadable,
    int Extra,
    int Listed,
    int Top1Correct,
    int Top5Correct,
    IReadOnlyList<string> MissingFiles,
    IReadOnlyList<ProblemJson> UnreadableFiles,
    IReadOnlyList<string> ExtraFiles,
    double Seconds,
    int Workers,
    string Simd);

/// <summary>
/// One row of <c>variants --json</c>. <paramref name="Macs"/> and <paramref name="Params"/> are computed from the architecture
/// (1001 classes); the published figures are the TF-slim table's, converted from millions to plain counts.
/// <paramref name="Extra"/> marks entries beyond the 16 variants (the 2018 TFLite re-release, custom models an app registered);
/// <paramref name="Labels"/> is <c>imagenet</c> or <c>custom</c> (a fine-tuned head: MACs and parameters use its class count).
/// <paramref name="Precision"/> is <c>float</c> (float kernels, whatever the file stores) or <c>uint8</c> (the integer network).
/// </summary>
public sealed record VariantJson(
    string Variant,
    string Name,
    bool Extra,
    string Precision,
    double Alpha,
    int Resolution,
    long Macs,
    long Params,
    long? PublishedMacs,
    long? PublishedParams,
    double? Top1Published,
    double? Top5Published,
    bool MacsDifferFromPublished,
    string Weights,
    string Source,
    int NumClasses,
    string Labels,
    long? WeightBytes);

/// <summary>
/// One row of <c>bench --json</c>: one engine on one variant. <paramref name="Engine"/> is <c>mobilenetgen</c> or
/// <c>onnxruntime</c>; <paramref name="AllocatedBytes"/> is managed bytes per inference on the measuring thread (for ONNX
/// Runtime the managed wrapper only, not its native heap); <paramref name="Threads"/> the threads the engine really used.
/// <paramref name="Gflops"/> is 2 × MACs / median; <paramref name="PercentOfPeak"/> relates it to <paramref name="FmaPeakGflops"/>
/// (this core's fused multiply-add peak, measured in the same run) times the threads; <paramref name="Cpu"/> is the CPU model.
/// For uint8 networks <paramref name="PercentOfPeak"/> is null: <paramref name="IntegerPeakGops"/> is this core's peak for
/// the integer multiply-accumulate instructions of our pointwise kernels (<paramref name="IntegerPeakInstructions"/>, measured
/// in the same run; null when no uint8 network was measured) and <paramref name="PercentOfIntegerPeak"/> our integer
/// network's GOP/s against it times the threads (null for float rows and for ONNX Runtime, whose instructions differ).
/// <paramref name="AloneShare"/>: on our several-thread row, the share of the classifier's inferences it ran on the calling
/// thread alone (<c>MobileNetOptions.AdaptiveThreads</c>: that had lately been the faster, or was being checked again).
/// </summary>
public sealed record BenchJson(
    string Variant,
    string Engine,
    int Threads,
    double MedianMs,
    double P10Ms,
    double P90Ms,
    long AllocatedBytes,
    long Macs,
    string Weights,
    int Iterations,
    double Gflops,
    double? PercentOfPeak,
    double FmaPeakGflops,
    string FmaPeakSimd,
    string Cpu,
    double? IntegerPeakGops,
    string? IntegerPeakInstructions,
    double? PercentOfIntegerPeak,
    double? AloneShare = null);

/// <summary>One step of <c>profile --json</c>: <paramref name="Gops"/> is 2 × MACs / median (GFLOP/s for float networks),
/// <paramref name="PercentOfPeak"/> its share of the peak of the threads used: the FMA peak for float networks, the integer
/// multiply-accumulate peak of the pointwise kernels' instructions for uint8 ones.</summary>
public sealed record ProfileStepJson(string Name, string Kind, string Shape, double MedianMs, double P10Ms, double P90Ms, long Macs,
    double Gops, double? PercentOfPeak, long BytesMoved, double GbytesPerSecond);

/// <summary><c>profile --json</c>: one variant's steps, the machine and this run's FMA peak (and, for a uint8 network, its
/// integer multiply-accumulate peak; null for float ones).</summary>
public sealed record ProfileJson(string Variant, string Weights, int Threads, string Simd, string Cpu, double FmaPeakGflops, string FmaPeakSimd,
    double TotalMedianMs, int Iterations, IReadOnlyList<ProfileStepJson> Steps, double? IntegerPeakGops = null, string? IntegerPeakInstructions = null);

/// <summary>One variant of <c>choose --json</c>. <paramref name="Top1Measured"/> is a fraction 0..1 (null without --images and for synthetic weights); the published figures are percent.</summary>
public sealed record ChooseVariantJson(
    string Variant,
    double MedianMs,
    double P10Ms,
    double P90Ms,
    long Macs,
    long Params,
    long SizeBytes,
    double? Top1Published,
    double? Top5Published,
    double? Top1Measured,
    string Weights,
    bool ParetoFront);

/// <summary>
/// The recommendation of <c>choose --json</c>. <paramref name="Variant"/> is null when nothing fits; then
/// <paramref name="Closest"/> names the nearest miss and <paramref name="ConstraintFailed"/> says which constraint(s) it
/// fails (<c>latency</c>, <c>max-size</c>, <c>min-top1</c>, comma-separated). <paramref name="AppLine"/> generates the
/// recommended variant, or the closest when nothing fits.
/// </summary>
public sealed record RecommendationJson(
    string? Variant,
    string Reason,
    bool Fits,
    string? Closest,
    string? ConstraintFailed,
    string RankedBy,
    string? AppLine,
    string? WeightsItem,
    string? Note);

/// <summary>The constraints of <c>choose</c> as given (<paramref name="MaxSizeMb"/> in 10⁶ bytes; <paramref name="MinTop1"/> percent).</summary>
public sealed record ChooseConstraintsJson(double BudgetMs, double? MaxSizeMb, double? MinTop1, int Threads, int Iterations);

/// <summary><c>choose --json</c>.</summary>
public sealed record ChooseJson(
    List<ChooseVariantJson> Variants,
    RecommendationJson Recommendation,
    ChooseConstraintsJson Constraints,
    MobileNetGen.Measurement.MachineInfo Machine);

/// <summary>
/// One row of <c>bench --detector --json</c>: the detector on a <paramref name="FrameWidth"/> × <paramref name="FrameHeight"/> RGB24
/// frame with <paramref name="Threads"/> threads; end-to-end medians, the stages' medians (resize, backbone, heads, post-processing),
/// managed bytes per inference (<paramref name="Simd"/>: the integer kernels' ISA, e.g. Vector256Vnni), and ONNX Runtime's median on the same uint8 network (null with <c>--no-onnx</c>) with the count of
/// its output bytes that differ from ours.
/// </summary>
public sealed record DetectorBenchJson(
    string Detector,
    int Threads,
    string Simd,
    int FrameWidth,
    int FrameHeight,
    double MedianMs,
    double P10Ms,
    double P90Ms,
    long AllocatedBytes,
    long Macs,
    double ResizeMs,
    double BackboneMs,
    double HeadsMs,
    double PostprocessingMs,
    double? OnnxRuntimeMedianMs,
    int? OnnxRuntimeBytesDiffering,
    int Iterations,
    string Cpu);

/// <summary>Source-generated System.Text.Json metadata (no reflection: trimming and NativeAOT safe), snake_case names.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(List<ClassifyJson>))]
[JsonSerializable(typeof(List<DetectJson>))]
[JsonSerializable(typeof(EvalJson))]
[JsonSerializable(typeof(List<VariantJson>))]
[JsonSerializable(typeof(List<BenchJson>))]
[JsonSerializable(typeof(ChooseJson))]
[JsonSerializable(typeof(ProfileJson))]
[JsonSerializable(typeof(List<DetectorBenchJson>))]
public sealed partial class CliJsonContext : JsonSerializerContext
{
}

/// <summary>Writes the CLI's JSON documents.</summary>
public static class Json
{
    /// <summary>Non-ASCII file names and labels stay readable (the output is UTF-8); HTML-sensitive characters are not escaped.</summary>
    public static readonly CliJsonContext Context = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static string Serialize(List<ClassifyJson> value) => JsonSerializer.Serialize(value, Context.ListClassifyJson);
    public static string Serialize(List<DetectJson> value) => JsonSerializer.Serialize(value, Context.ListDetectJson);
    public static string Serialize(EvalJson value) => JsonSerializer.Serialize(value, Context.EvalJson);
    public static string Serialize(List<VariantJson> value) => JsonSerializer.Serialize(value, Context.ListVariantJson);
    public static string Serialize(List<BenchJson> value) => JsonSerializer.Serialize(value, Context.ListBenchJson);
    public static string Serialize(ChooseJson value) => JsonSerializer.Serialize(value, Context.ChooseJson);
    public static string Serialize(ProfileJson value) => JsonSerializer.Serialize(value, Context.ProfileJson);
    public static string Serialize(List<DetectorBenchJson> value) => JsonSerializer.Serialize(value, Context.ListDetectorBenchJson);

    /// <summary>Rounds a probability or fraction for output (6 decimals: no float-to-double noise).</summary>
    public static double Round(double value) => Math.Round(value, 6);
}
