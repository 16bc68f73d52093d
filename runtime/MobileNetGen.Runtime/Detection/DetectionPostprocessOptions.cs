using System.Globalization;

namespace MobileNetGen.Runtime.Detection;

/// <summary>
/// The options of TFLite's custom operator <c>TFLite_Detection_PostProcess</c>, as its <c>Init</c> reads them from the
/// operator's FlexBuffer map (<c>tensorflow/lite/kernels/detection_postprocess.cc</c>, <c>OpData</c>). Defaults are TFLite's for
/// the two optional keys (<c>detections_per_class</c> = 100, <c>use_regular_nms</c> = false); the others have no default in
/// TFLite and must be set (<see cref="Validate"/> says which is wrong).
/// </summary>
public sealed class DetectionPostprocessOptions
{
    /// <summary>TFLite's <c>kNumDetectionsPerClass</c>: <c>detections_per_class</c> when the map lacks it.</summary>
    public const int DefaultDetectionsPerClass = 100;

    /// <summary><c>max_detections</c>: most anchors kept by NMS (fast NMS) or most detections (regular NMS).</summary>
    public int MaxDetections { get; init; }

    /// <summary><c>max_classes_per_detection</c>: classes reported per kept anchor by fast NMS (1 for Google's SSD models).</summary>
    public int MaxClassesPerDetection { get; init; }

    /// <summary><c>detections_per_class</c>: most boxes kept per class by regular NMS.</summary>
    public int DetectionsPerClass { get; init; } = DefaultDetectionsPerClass;

    /// <summary><c>use_regular_nms</c>: per-class NMS (<c>NonMaxSuppressionMultiClassRegularHelper</c>) instead of the fast
    /// class-agnostic one (<c>NonMaxSuppressionMultiClassFastHelper</c>).</summary>
    public bool UseRegularNms { get; init; }

    /// <summary><c>nms_score_threshold</c>: candidates need a score ≥ this.</summary>
    public float NmsScoreThreshold { get; init; }

    /// <summary><c>nms_iou_threshold</c>: a candidate whose IoU with a kept box is &gt; this is suppressed; in (0, 1].</summary>
    public float NmsIouThreshold { get; init; }

    /// <summary><c>num_classes</c>: classes without the background (90 for COCO).</summary>
    public int NumClasses { get; init; }

    /// <summary><c>y_scale</c>, <c>x_scale</c>, <c>h_scale</c>, <c>w_scale</c>: the box coder's scale factors (10, 10, 5, 5 for SSD).</summary>
    public float YScale { get; init; }
    public float XScale { get; init; }
    public float HScale { get; init; }
    public float WScale { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first option TFLite's kernel would reject (or that would make the
    /// decoding divide by zero). TFLite's own checks: <c>max_detections ≥ 0</c>, <c>0 &lt; nms_iou_threshold ≤ 1</c>
    /// (<c>NonMaxSuppressionSingleClassHelper</c>), <c>max_classes_per_detection &gt; 0</c> (fast NMS),
    /// <c>detections_per_class &gt; 0</c> (regular NMS).
    /// </summary>
    public void Validate()
    {
        if (MaxDetections < 0) throw Bad(nameof(MaxDetections), MaxDetections, "must be ≥ 0");
        if (MaxClassesPerDetection <= 0) throw Bad(nameof(MaxClassesPerDetection), MaxClassesPerDetection, "must be > 0");
        if (DetectionsPerClass <= 0) throw Bad(nameof(DetectionsPerClass), DetectionsPerClass, "must be > 0");
        if (NumClasses <= 0) throw Bad(nameof(NumClasses), NumClasses, "must be > 0");
        if (float.IsNaN(NmsScoreThreshold)) throw Bad(nameof(NmsScoreThreshold), NmsScoreThreshold, "must be a number");
        if (!(NmsIouThreshold > 0 && NmsIouThreshold <= 1)) throw Bad(nameof(NmsIouThreshold), NmsIouThreshold, "must be in (0, 1]");
        foreach (var (name, value) in new[] { (nameof(YScale), YScale), (nameof(XScale), XScale), (nameof(HScale), HScale), (nameof(WScale), WScale) })
            if (value == 0 || !float.IsFinite(value)) throw Bad(name, value, "must be finite and non-zero (the box coder divides by it)");
        // Scratch arrays are sized from these; keep them to what a real detector uses.
        if (MaxDetections > 100_000) throw Bad(nameof(MaxDetections), MaxDetections, "is implausibly large (more than 100000)");
        if (NumClasses > 100_000) throw Bad(nameof(NumClasses), NumClasses, "is implausibly large (more than 100000)");
    }

    /// <summary>
    /// The options a canonical detector file records (<see cref="MobileNetGen.Model.DetectorNetwork.Postprocess"/>: the
    /// importer's reading of the operator's FlexBuffer map, as TFLite's <c>Init</c> reads it), validated.
    /// </summary>
    public static DetectionPostprocessOptions From(MobileNetGen.Model.DetectorPostprocess options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = new DetectionPostprocessOptions
        {
            MaxDetections = options.MaxDetections,
            MaxClassesPerDetection = options.MaxClassesPerDetection,
            DetectionsPerClass = options.DetectionsPerClass,
            UseRegularNms = options.UseRegularNms,
            NmsScoreThreshold = options.NmsScoreThreshold,
            NmsIouThreshold = options.NmsIouThreshold,
            NumClasses = options.NumClasses,
            YScale = options.YScale,
            XScale = options.XScale,
            HScale = options.HScale,
            WScale = options.WScale,
        };
        o.Validate();
        return o;
    }

    private static ArgumentException Bad(string name, object value, string what) =>
        new(string.Create(CultureInfo.InvariantCulture, $"TFLite_Detection_PostProcess option {name} = {value} {what}"), name);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"max_detections {MaxDetections}, max_classes_per_detection {MaxClassesPerDetection}, detections_per_class {DetectionsPerClass}, " +
        $"use_regular_nms {UseRegularNms}, nms_score_threshold {NmsScoreThreshold:R}, nms_iou_threshold {NmsIouThreshold:R}, num_classes {NumClasses}, " +
        $"y/x/h/w scale {YScale:R}/{XScale:R}/{HScale:R}/{WScale:R}");
}
