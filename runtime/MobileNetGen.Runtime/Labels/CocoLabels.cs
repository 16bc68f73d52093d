namespace MobileNetGen.Runtime.Labels;

/// <summary>
/// The COCO label map of Google's TFLite SSD detectors: 91 lines, line 0 <c>???</c> (background), then the 90 COCO
/// category names by COCO id, with <c>???</c> for the ten ids COCO leaves unused (12, 26, 29, 30, 45, 66, 68, 69, 71, 83).
/// </summary>
/// <remarks>
/// Provenance: <c>Labels/coco_labelmap_91.txt</c> is <c>labelmap.txt</c> of
/// <c>coco_ssd_mobilenet_v1_1.0_quant_2018_06_29</c> as shipped in <c>../shared/models/ssd-mobilenet-v1-coco-quant/</c>,
/// byte for byte (sha256 c7e79c855f73cbba9f33d649d60e1676eb0a974021a41696d1ac0d4b7f7e0211), Apache-2.0.
/// <para>TFLite's <c>TFLite_Detection_PostProcess</c> reports class indices without the background row
/// (<c>label_offset = 1</c> in <c>tensorflow/lite/kernels/detection_postprocess.cc</c>), so detection class <c>c</c> is
/// line <c>c + 1</c> here: class 16 is "cat", as in tflite-support's object detector test, whose metadata label file is this
/// file without its first line.</para>
/// </remarks>
public static class CocoLabels
{
    private const string ResourceName = "MobileNetGen.Runtime.coco_labelmap_91.txt";

    /// <summary>Lines in the label map, background included: 91.</summary>
    public const int Count = 91;

    /// <summary>Rows of the label map before the first detection class: the background line.</summary>
    public const int LabelOffset = 1;

    private static readonly string[] Lines = Load();

    /// <summary>All 91 lines, line 0 = background. Loaded once from the embedded resource; do not modify.</summary>
    public static string[] All => Lines;

    /// <summary>The label of a detection class index as TFLite outputs it (0..89): line <c>classIndex + 1</c>.</summary>
    public static string ForClass(int classIndex)
    {
        if ((uint)classIndex >= (uint)(Lines.Length - LabelOffset))
            throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"COCO detection class index must be in 0..{Lines.Length - LabelOffset - 1}");
        return Lines[classIndex + LabelOffset];
    }

    private static string[] Load() => LabelFile.LoadEmbedded(ResourceName, Count);
}
