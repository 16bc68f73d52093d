using MobileNetGen.Runtime.Detection;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// The published detections of Google's <c>coco_ssd_mobilenet_v1_1.0_quant_2018_06_29</c> (our detect.tflite, same weights;
/// tflite-support tests the metadata-carrying copy of it) on <c>cats_and_dogs.jpg</c> (1200 × 600), as data for the
/// end-to-end test that will run once the network runs. Nothing here is computed by MobileNetGen.
/// </summary>
/// <remarks>
/// <para>Sources (tensorflow/tflite-support):</para>
/// <list type="bullet">
/// <item><c>tensorflow_lite_support/python/test/task/vision/object_detector_test.py</c>, <c>_EXPECTED_DETECTIONS</c>, used by
/// <c>test_detect_model</c> with <c>max_results=4</c> and compared with <c>assertProtoEquals</c>: exact equality, boxes in
/// integer pixels and scores as floats (multiples of 1/256, the uint8 sigmoid output). The same values are
/// <c>kExpectResults</c> of the current <c>tensorflow_lite_support/cc/test/task/vision/object_detector_test.cc</c>.
/// → <see cref="Current"/>.</item>
/// <item>An earlier <c>object_detector_test.cc</c> (the version whose <c>DetectTest.Succeeds</c> is stored in full) has
/// slightly different numbers — third box origin_x 260, width 180; fourth width 278; scores 0.64, 0.61, 0.56, 0.5 — and
/// compares with <c>ExpectApproximatelyEqual(result, expected, score_precision = 0.05)</c>, whose box tolerance is
/// <c>bounding_box_tolerance = 3</c> pixels per field (origin_x, origin_y, width, height), class index and name exact.
/// → <see cref="Earlier"/>, <see cref="EarlierScoreTolerance"/>, <see cref="EarlierBoxTolerance"/>.</item>
/// </list>
/// <para>How the Task Library gets there (<c>tensorflow_lite_support/cc/task/vision/object_detector.cc</c>): the whole frame is the
/// region of interest, resized to 300 × 300 by libyuv bilinear (<see cref="DetectorPreprocessor"/>); after
/// <c>TFLite_Detection_PostProcess</c>, <c>Postprocess</c> keeps the first <c>max_results</c> detections with score above the
/// metadata's threshold, takes left/top/right/bottom from TFLite's [ymin, xmin, ymax, xmax] through the metadata's
/// <c>BoundingBoxProperties</c> index (1, 0, 3, 2) (the metadata writer's <c>_BOUNDING_BOX_INDEX</c>), and converts to pixels
/// with <c>OrientAndDenormalizeBoundingBox</c> (see <see cref="ToTaskLibraryBox"/>). The class index is TFLite's (16 = cat,
/// 17 = dog; label = line index + 1 of labelmap.txt, whose first line is "???"). The test image is decoded by stb_image.</para>
/// </remarks>
public static class GoldenDetections
{
    /// <summary>The picture: <c>shared/images/demo/cats_and_dogs.jpg</c>, 1200 × 600.</summary>
    public const string ImageRelativePath = "images/demo/cats_and_dogs.jpg";
    public const int ImageWidth = 1200;
    public const int ImageHeight = 600;

    /// <summary>The Task Library's <c>BoundingBox</c> (integer pixels) and <c>Class</c> of one detection.</summary>
    public readonly record struct Golden(int OriginX, int OriginY, int Width, int Height, int ClassIndex, string ClassName, float Score);

    /// <summary>The current expected results (exact in the Python test), in output order.</summary>
    public static readonly Golden[] Current =
    [
        new(54, 396, 393, 196, 16, "cat", 0.64453125f),
        new(602, 157, 394, 447, 16, "cat", 0.59765625f),
        new(261, 394, 179, 209, 16, "cat", 0.5625f),   // "Actually a dog, but the model gets confused."
        new(389, 197, 276, 409, 17, "dog", 0.51171875f),
    ];

    /// <summary>The earlier C++ test's expected results, compared with the tolerances below.</summary>
    public static readonly Golden[] Earlier =
    [
        new(54, 396, 393, 196, 16, "cat", 0.64f),
        new(602, 157, 394, 447, 16, "cat", 0.61f),
        new(260, 394, 180, 209, 16, "cat", 0.56f),
        new(389, 197, 278, 409, 17, "dog", 0.5f),
    ];

    /// <summary><c>score_precision</c> passed by the earlier C++ <c>DetectTest.Succeeds</c>.</summary>
    public const float EarlierScoreTolerance = 0.05f;

    /// <summary><c>bounding_box_tolerance</c> default of the earlier C++ <c>ExpectApproximatelyEqual</c>, pixels per field.</summary>
    public const int EarlierBoxTolerance = 3;

    /// <summary><c>max_results</c> of both tests.</summary>
    public const int MaxResults = 4;

    /// <summary>
    /// <c>OrientAndDenormalizeBoundingBox</c> (<c>tensorflow_lite_support/cc/task/vision/utils/frame_buffer_common_utils.cc</c>)
    /// for an upright frame: <c>origin_x = from_left · width</c> and <c>origin_y = from_top · height</c> stored in int32 proto
    /// fields (truncation toward zero), <c>width = round(|right − left| · width)</c>, <c>height = round(|bottom − top| · height)</c>,
    /// in float with <c>round</c> half away from zero.
    /// </summary>
    public static (int OriginX, int OriginY, int Width, int Height) ToTaskLibraryBox(NormalizedBox box, int width, int height)
    {
        float left = box.XMin, top = box.YMin, right = box.XMax, bottom = box.YMax; // index (1, 0, 3, 2)
        return ((int)(left * width), (int)(top * height),
                (int)MathF.Round(MathF.Abs(right - left) * width, MidpointRounding.AwayFromZero),
                (int)MathF.Round(MathF.Abs(bottom - top) * height, MidpointRounding.AwayFromZero));
    }
}

public class DetectionGoldenDataTests
{
    [Fact]
    public void GoldenData_IsConsistent()
    {
        Assert.Equal(GoldenDetections.MaxResults, GoldenDetections.Current.Length);
        Assert.Equal(GoldenDetections.Current.Length, GoldenDetections.Earlier.Length);
        for (int i = 0; i < GoldenDetections.Current.Length; i++)
        {
            var now = GoldenDetections.Current[i];
            var then = GoldenDetections.Earlier[i];
            // Scores are uint8 sigmoid outputs: multiples of 1/256.
            Assert.Equal(0, now.Score * 256 % 1);
            Assert.Equal(MobileNetGen.Runtime.Labels.CocoLabels.ForClass(now.ClassIndex), now.ClassName);
            // The two published versions agree within the earlier test's own tolerances.
            Assert.Equal(then.ClassIndex, now.ClassIndex);
            Assert.InRange(now.Score, then.Score - GoldenDetections.EarlierScoreTolerance, then.Score + GoldenDetections.EarlierScoreTolerance);
            Assert.InRange(now.OriginX, then.OriginX - 3, then.OriginX + 3);
            Assert.InRange(now.Width, then.Width - 3, then.Width + 3);
            // Origins lie in the 1200 × 600 picture; boxes are not clamped (the second cat reaches y = 604).
            Assert.InRange(now.OriginX, 0, GoldenDetections.ImageWidth - 1);
            Assert.InRange(now.OriginY, 0, GoldenDetections.ImageHeight - 1);
        }
        Assert.Equal(GoldenDetections.Current.OrderByDescending(g => g.Score), GoldenDetections.Current);
    }

    [Fact]
    public void TaskLibraryBox_TruncatesOriginsAndRoundsSizes()
    {
        // 0.0455 · 1200 = 54.6 → 54 (truncated); 0.66 · 600 = 396.0; width |0.373 − 0.0455| · 1200 = 393.0; height 0.3266 · 600 = 195.96 → 196.
        var box = new NormalizedBox(0.66f, 0.0455f, 0.9866f, 0.373f);
        Assert.Equal((54, 396, 393, 196), GoldenDetections.ToTaskLibraryBox(box, 1200, 600));
    }

    [SharedDataFact]
    public void GoldenImage_HasTheDocumentedSize()
    {
        using var image = SixLabors.ImageSharp.Image.Load(Path.Combine(SharedData.Root!, GoldenDetections.ImageRelativePath));
        Assert.Equal((GoldenDetections.ImageWidth, GoldenDetections.ImageHeight), (image.Width, image.Height));
    }
}
