using MobileNetGen.Importers;
using MobileNetGen.Runtime.Detection;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The SSD's <c>TFLite_Detection_PostProcess</c> options: the FlexBuffer map as TFLite's <c>Init</c> reads it
/// (<c>tensorflow/lite/kernels/detection_postprocess.cc</c>), and a copy of the real map's bytes so that the option tests
/// also run where <c>shared/</c> is absent.
/// </summary>
internal static class SsdOptions
{
    /// <summary>
    /// <c>Operator.custom_options</c> of <c>TFLite_Detection_PostProcess</c> in detect.tflite
    /// (coco_ssd_mobilenet_v1_1.0_quant_2018_06_29, sha256 e4b118e5e4531945de2e659742c7c590f7536f8d0ed26d135abcfe83b4779d13),
    /// 217 bytes, copied verbatim (a test checks the copy against the model).
    /// </summary>
    public const string RealOptionsHex =
        "795f7363616c65005f6f75747075745f7175616e74697a6564006d61785f646574656374696f6e73006e6d735f73636f72655f7468726573686f6c64" +
        "00775f7363616c6500785f7363616c65006e6d735f696f755f7468726573686f6c6400685f7363616c65006d61785f636c61737365735f7065725f" +
        "646574656374696f6e006e756d5f636c6173736573000a86302977456a135851970a000000010000000a000000010000000000a040010000000a00" +
        "00009a99193f77cc2b325a0000000000a04000002041000020416a0e06060e0e060e0e0e322601";

    public static byte[] RealOptionBytes => Convert.FromHexString(RealOptionsHex);

    /// <summary>
    /// TFLite's <c>Init</c>: <c>m["max_detections"].AsInt32()</c> …; <c>detections_per_class</c> and <c>use_regular_nms</c>
    /// fall back to 100 and false when <c>IsNull()</c> (absent keys read as Null, and Null reads as 0 for the others).
    /// </summary>
    public static DetectionPostprocessOptions FromFlexBuffer(byte[] customOptions)
    {
        FlexMap m = FlexBuffers.RootMap(customOptions);
        FlexValue Get(string key) => m.TryGetValue(key, out var v) ? v : default;
        return new DetectionPostprocessOptions
        {
            MaxDetections = Get("max_detections").AsInt32(),
            MaxClassesPerDetection = Get("max_classes_per_detection").AsInt32(),
            DetectionsPerClass = Get("detections_per_class").IsNull ? DetectionPostprocessOptions.DefaultDetectionsPerClass : Get("detections_per_class").AsInt32(),
            UseRegularNms = !Get("use_regular_nms").IsNull && Get("use_regular_nms").AsBool(),
            NmsScoreThreshold = Get("nms_score_threshold").AsSingle(),
            NmsIouThreshold = Get("nms_iou_threshold").AsSingle(),
            NumClasses = Get("num_classes").AsInt32(),
            YScale = Get("y_scale").AsSingle(),
            XScale = Get("x_scale").AsSingle(),
            HScale = Get("h_scale").AsSingle(),
            WScale = Get("w_scale").AsSingle(),
        };
    }

    public static DetectionPostprocessOptions Real => FromFlexBuffer(RealOptionBytes);

    /// <summary>The model's quantization of the three inputs (docs/ssd-graph.md; checked against the model by a test).</summary>
    public static readonly Quantization BoxQuantization = new(0.079027876f, 191);
    public static readonly Quantization ScoreQuantization = new(1f / 256, 0);
    public static readonly Quantization AnchorQuantization = new(0.0064530605f, 0);
}
