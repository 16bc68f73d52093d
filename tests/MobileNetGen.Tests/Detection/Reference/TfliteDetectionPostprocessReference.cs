using MobileNetGen.Runtime.Detection;

namespace MobileNetGen.Tests.ObjectDetection.Reference;

/// <summary>
/// A plain transcription of TFLite's <c>TFLite_Detection_PostProcess</c> for uint8 box encodings, class predictions and
/// anchors: <c>tensorflow/lite/kernels/detection_postprocess.cc</c> (tensorflow/tensorflow), function by function, with
/// TFLite's names, vectors allocated per call as TFLite does, and its four output tensors. It is the oracle the product
/// (<see cref="DetectionPostprocess"/>) is compared against, so it follows the C++ text rather than any optimization.
/// </summary>
/// <remarks>
/// Numeric types follow the C++ exactly: <c>Dequantizer</c> subtracts an <c>int</c> zero point from a <c>float</c> and
/// multiplies by a <c>float</c> scale; <c>DequantizeClassPredictions</c> goes through <c>DequantizationParams</c>, whose
/// scale is a <c>double</c> (<c>reference_ops::Dequantize</c>: <c>static_cast&lt;float&gt;(scale * (val - zero_point))</c>);
/// <c>DecodeCenterSizeBoxes</c> computes in double and stores floats; <c>ComputeIntersectionOverUnion</c> is float.
/// <c>DecreasingArgSort</c> is <c>std::stable_sort</c> (here: LINQ's OrderByDescending, which is stable);
/// <c>DecreasingPartialArgSort</c> is <c>ArgMaxVector</c> (first maximum) for one value, else <c>std::partial_sort</c>
/// (<see cref="StdPartialSort"/>, libstdc++'s order for ties).
/// </remarks>
internal static class TfliteDetectionPostprocessReference
{
    /// <summary>The four output tensors (<c>kOutputTensorDetectionBoxes</c> … <c>kOutputTensorNumDetections</c>).</summary>
    public sealed class Outputs
    {
        public required float[] DetectionBoxes { get; init; }    // [1, num_detected_boxes, 4]
        public required float[] DetectionClasses { get; init; }  // [1, num_detected_boxes]
        public required float[] DetectionScores { get; init; }   // [1, num_detected_boxes]
        public float NumDetections { get; set; }                 // [1]
        public required float[] DecodedBoxes { get; init; }      // the temporary tensor, for tests
    }

    /// <summary>TFLite returned an error status (TF_LITE_ENSURE failed); the message names the check.</summary>
    public sealed class TfliteErrorException(string message) : Exception(message);

    private static void Ensure(bool condition, string what)
    {
        if (!condition) throw new TfliteErrorException(what);
    }

    public static Outputs Eval(DetectionPostprocessOptions op, byte[] boxEncodings, Quantization boxQ, int numBoxes, int boxCodeLength,
                               byte[] classPredictions, Quantization classQ, int numClassesWithBackground, byte[] anchors, Quantization anchorQ)
    {
        // Prepare: num_detected_boxes = max_detections * max_classes_per_detection; outputs sized from it.
        int numDetectedBoxes = op.MaxDetections * op.MaxClassesPerDetection;
        Ensure(boxEncodings.Length == numBoxes * boxCodeLength && boxCodeLength >= 4, "input_box_encodings->dims->data[2] >= kNumCoordBox");
        Ensure(anchors.Length == numBoxes * 4, "anchors [num_boxes, 4]");
        var outputs = new Outputs
        {
            DetectionBoxes = new float[numDetectedBoxes * 4],
            DetectionClasses = new float[numDetectedBoxes],
            DetectionScores = new float[numDetectedBoxes],
            DecodedBoxes = new float[numBoxes * 4],
        };
        DecodeCenterSizeBoxes(op, boxEncodings, boxQ, numBoxes, boxCodeLength, anchors, anchorQ, outputs.DecodedBoxes);
        NonMaxSuppressionMultiClass(op, numBoxes, classPredictions, classQ, numClassesWithBackground, outputs);
        return outputs;
    }

    // class Dequantizer { float operator()(uint8 x) { return (static_cast<float>(x) - zero_point_) * scale_; } int zero_point_; float scale_; }
    private static float Dequantize(byte x, int zeroPoint, float scale) => ((float)x - zeroPoint) * scale;

    private static void DecodeCenterSizeBoxes(DetectionPostprocessOptions op, byte[] boxEncodings, Quantization boxQ, int numBoxes, int boxCodeLength,
                                              byte[] anchors, Quantization anchorQ, float[] decodedBoxes)
    {
        for (int idx = 0; idx < numBoxes; ++idx)
        {
            // DequantizeBoxEncodings(input_box_encodings, idx, zero_point, scale, dims[2], &box_centersize)
            int b = boxCodeLength * idx;
            float y = Dequantize(boxEncodings[b + 0], boxQ.ZeroPoint, boxQ.Scale);
            float x = Dequantize(boxEncodings[b + 1], boxQ.ZeroPoint, boxQ.Scale);
            float h = Dequantize(boxEncodings[b + 2], boxQ.ZeroPoint, boxQ.Scale);
            float w = Dequantize(boxEncodings[b + 3], boxQ.ZeroPoint, boxQ.Scale);
            // DequantizeBoxEncodings(input_anchors, idx, ..., kNumCoordBox, &anchor)
            int a = 4 * idx;
            float anchorY = Dequantize(anchors[a + 0], anchorQ.ZeroPoint, anchorQ.Scale);
            float anchorX = Dequantize(anchors[a + 1], anchorQ.ZeroPoint, anchorQ.Scale);
            float anchorH = Dequantize(anchors[a + 2], anchorQ.ZeroPoint, anchorQ.Scale);
            float anchorW = Dequantize(anchors[a + 3], anchorQ.ZeroPoint, anchorQ.Scale);

            float ycenter = (float)((double)y / (double)op.YScale * (double)anchorH + (double)anchorY);
            float xcenter = (float)((double)x / (double)op.XScale * (double)anchorW + (double)anchorX);
            float halfH = (float)(0.5 * Math.Exp((double)h / (double)op.HScale) * (double)anchorH);
            float halfW = (float)(0.5 * Math.Exp((double)w / (double)op.WScale) * (double)anchorW);
            decodedBoxes[4 * idx + 0] = ycenter - halfH; // ymin
            decodedBoxes[4 * idx + 1] = xcenter - halfW; // xmin
            decodedBoxes[4 * idx + 2] = ycenter + halfH; // ymax
            decodedBoxes[4 * idx + 3] = xcenter + halfW; // xmax
        }
    }

    private static void DecreasingPartialArgSort(float[] values, int numValues, int numToSort, int[] indices)
    {
        if (numToSort == 1)
        {
            indices[0] = ArgMaxVector(values, numValues);
        }
        else
        {
            for (int i = 0; i < numValues; i++) indices[i] = i; // std::iota
            StdPartialSort.PartialSort(indices, 0, numToSort, numValues, (i, j) => values[i] > values[j]);
        }
    }

    // optimized_ops::ArgMaxVector<float>
    private static int ArgMaxVector(float[] inputData, int size)
    {
        float maxValue = inputData[0];
        int maxIndex = 0;
        for (int i = 1; i < size; ++i)
        {
            float currValue = inputData[i];
            if (currValue > maxValue)
            {
                maxValue = currValue;
                maxIndex = i;
            }
        }
        return maxIndex;
    }

    private static int[] DecreasingArgSort(List<float> values)
    {
        // std::iota + std::stable_sort(..., values[i] > values[j]).
        return Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).ToArray();
    }

    private static void SelectDetectionsAboveScoreThreshold(float[] values, float threshold, List<float> keepValues, List<int> keepIndices)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] >= threshold)
            {
                keepValues.Add(values[i]);
                keepIndices.Add(i);
            }
        }
    }

    private static bool ValidateBoxes(float[] decodedBoxes, int numBoxes)
    {
        for (int i = 0; i < numBoxes; ++i)
        {
            if (decodedBoxes[4 * i] > decodedBoxes[4 * i + 2] || decodedBoxes[4 * i + 1] > decodedBoxes[4 * i + 3]) return false;
        }
        return true;
    }

    // std::max<float>(a, b) = (a < b) ? b : a; std::min<float>(a, b) = (b < a) ? b : a.
    private static float StdMax(float a, float b) => a < b ? b : a;
    private static float StdMin(float a, float b) => b < a ? b : a;

    private static float ComputeIntersectionOverUnion(float[] d, int i, int j)
    {
        float areaI = (d[4 * i + 2] - d[4 * i]) * (d[4 * i + 3] - d[4 * i + 1]);
        float areaJ = (d[4 * j + 2] - d[4 * j]) * (d[4 * j + 3] - d[4 * j + 1]);
        if (areaI <= 0 || areaJ <= 0) return 0.0f;
        float intersectionYMin = StdMax(d[4 * i], d[4 * j]);
        float intersectionXMin = StdMax(d[4 * i + 1], d[4 * j + 1]);
        float intersectionYMax = StdMin(d[4 * i + 2], d[4 * j + 2]);
        float intersectionXMax = StdMin(d[4 * i + 3], d[4 * j + 3]);
        float intersectionArea = StdMax(intersectionYMax - intersectionYMin, 0.0f) * StdMax(intersectionXMax - intersectionXMin, 0.0f);
        return intersectionArea / (areaI + areaJ - intersectionArea);
    }

    private static List<int> NonMaxSuppressionSingleClassHelper(DetectionPostprocessOptions op, float[] decodedBoxes, int numBoxes, float[] scores, int maxDetections)
    {
        Ensure(maxDetections >= 0, "max_detections >= 0");
        Ensure(op.NmsIouThreshold > 0.0f && op.NmsIouThreshold <= 1.0f, "0 < intersection_over_union_threshold <= 1");
        Ensure(ValidateBoxes(decodedBoxes, numBoxes), "ValidateBoxes(decoded_boxes, num_boxes)");

        var keepIndices = new List<int>();
        var keepScores = new List<float>();
        SelectDetectionsAboveScoreThreshold(scores, op.NmsScoreThreshold, keepScores, keepIndices);
        int numScoresKept = keepScores.Count;
        int[] sortedIndices = DecreasingArgSort(keepScores);

        int numBoxesKept = numScoresKept;
        int outputSize = Math.Min(numBoxesKept, maxDetections);
        var selected = new List<int>();
        var activeBoxCandidate = new byte[numBoxes];
        int numActiveCandidate = numBoxesKept;
        for (int row = 0; row < numBoxesKept; row++) activeBoxCandidate[row] = 1;

        for (int i = 0; i < numBoxesKept; ++i)
        {
            if (numActiveCandidate == 0 || selected.Count >= outputSize) break;
            if (activeBoxCandidate[i] == 1)
            {
                selected.Add(keepIndices[sortedIndices[i]]);
                activeBoxCandidate[i] = 0;
                numActiveCandidate--;
            }
            else
            {
                continue;
            }
            for (int j = i + 1; j < numBoxesKept; ++j)
            {
                if (activeBoxCandidate[j] == 1)
                {
                    float intersectionOverUnion = ComputeIntersectionOverUnion(decodedBoxes, keepIndices[sortedIndices[i]], keepIndices[sortedIndices[j]]);
                    if (intersectionOverUnion > op.NmsIouThreshold)
                    {
                        activeBoxCandidate[j] = 0;
                        numActiveCandidate--;
                    }
                }
            }
        }
        return selected;
    }

    private static void NonMaxSuppressionMultiClassRegularHelper(DetectionPostprocessOptions op, int numBoxes, float[] scores, int numClassesWithBackground, Outputs o)
    {
        int numClasses = op.NumClasses;
        int numDetectionsPerClass = op.DetectionsPerClass;
        int maxDetections = op.MaxDetections;
        int labelOffset = numClassesWithBackground - numClasses;
        Ensure(numDetectionsPerClass > 0, "num_detections_per_class > 0");

        var classScores = new float[numBoxes];
        var boxIndicesAfterRegularNonMaxSuppression = new int[numBoxes + maxDetections];
        var scoresAfterRegularNonMaxSuppression = new float[numBoxes + maxDetections];
        int sizeOfSortedIndices = 0;
        var sortedIndices = new int[numBoxes + maxDetections];
        var sortedValues = new float[maxDetections];

        for (int col = 0; col < numClasses; col++)
        {
            for (int row = 0; row < numBoxes; row++)
                classScores[row] = scores[row * numClassesWithBackground + col + labelOffset];
            List<int> selected = NonMaxSuppressionSingleClassHelper(op, o.DecodedBoxes, numBoxes, classScores, numDetectionsPerClass);
            int outputIndex = sizeOfSortedIndices;
            foreach (int selectedIndex in selected)
            {
                boxIndicesAfterRegularNonMaxSuppression[outputIndex] = selectedIndex * numClassesWithBackground + col + labelOffset;
                scoresAfterRegularNonMaxSuppression[outputIndex] = classScores[selectedIndex];
                outputIndex++;
            }
            int numIndicesToSort = Math.Min(outputIndex, maxDetections);
            DecreasingPartialArgSort(scoresAfterRegularNonMaxSuppression, outputIndex, numIndicesToSort, sortedIndices);
            for (int row = 0; row < numIndicesToSort; row++)
            {
                int temp = sortedIndices[row];
                sortedIndices[row] = boxIndicesAfterRegularNonMaxSuppression[temp];
                sortedValues[row] = scoresAfterRegularNonMaxSuppression[temp];
            }
            for (int row = 0; row < numIndicesToSort; row++)
            {
                boxIndicesAfterRegularNonMaxSuppression[row] = sortedIndices[row];
                scoresAfterRegularNonMaxSuppression[row] = sortedValues[row];
            }
            sizeOfSortedIndices = numIndicesToSort;
        }

        for (int outputBoxIndex = 0; outputBoxIndex < maxDetections; outputBoxIndex++)
        {
            if (outputBoxIndex < sizeOfSortedIndices)
            {
                int anchorIndex = (int)Math.Floor((double)(boxIndicesAfterRegularNonMaxSuppression[outputBoxIndex] / numClassesWithBackground));
                int classIndex = boxIndicesAfterRegularNonMaxSuppression[outputBoxIndex] - anchorIndex * numClassesWithBackground - labelOffset;
                float selectedScore = scoresAfterRegularNonMaxSuppression[outputBoxIndex];
                Array.Copy(o.DecodedBoxes, 4 * anchorIndex, o.DetectionBoxes, 4 * outputBoxIndex, 4);
                o.DetectionClasses[outputBoxIndex] = classIndex;
                o.DetectionScores[outputBoxIndex] = selectedScore;
            }
            else
            {
                Array.Clear(o.DetectionBoxes, 4 * outputBoxIndex, 4);
                o.DetectionClasses[outputBoxIndex] = 0.0f;
                o.DetectionScores[outputBoxIndex] = 0.0f;
            }
        }
        o.NumDetections = sizeOfSortedIndices;
    }

    private static void NonMaxSuppressionMultiClassFastHelper(DetectionPostprocessOptions op, int numBoxes, float[] scores, int numClassesWithBackground, Outputs o)
    {
        int numClasses = op.NumClasses;
        int maxCategoriesPerAnchor = op.MaxClassesPerDetection;
        int labelOffset = numClassesWithBackground - numClasses;
        Ensure(maxCategoriesPerAnchor > 0, "max_categories_per_anchor > 0");
        int numCategoriesPerAnchor = Math.Min(maxCategoriesPerAnchor, numClasses);
        var maxScores = new float[numBoxes];
        var sortedClassIndices = new int[numBoxes * numClasses];
        var boxScores = new float[numClasses];
        for (int row = 0; row < numBoxes; row++)
        {
            Array.Copy(scores, row * numClassesWithBackground + labelOffset, boxScores, 0, numClasses); // box_scores pointer
            var classIndices = new int[numClasses];
            DecreasingPartialArgSort(boxScores, numClasses, numCategoriesPerAnchor, classIndices);
            Array.Copy(classIndices, 0, sortedClassIndices, row * numClasses, numClasses);
            maxScores[row] = boxScores[classIndices[0]];
        }
        List<int> selected = NonMaxSuppressionSingleClassHelper(op, o.DecodedBoxes, numBoxes, maxScores, op.MaxDetections);
        int outputBoxIndex = 0;
        foreach (int selectedIndex in selected)
        {
            int boxScoresStart = selectedIndex * numClassesWithBackground + labelOffset;
            int classIndicesStart = selectedIndex * numClasses;
            for (int col = 0; col < numCategoriesPerAnchor; ++col)
            {
                int boxOffset = maxCategoriesPerAnchor * outputBoxIndex + col;
                Array.Copy(o.DecodedBoxes, 4 * selectedIndex, o.DetectionBoxes, 4 * boxOffset, 4);
                o.DetectionClasses[boxOffset] = sortedClassIndices[classIndicesStart + col];
                o.DetectionScores[boxOffset] = scores[boxScoresStart + sortedClassIndices[classIndicesStart + col]];
            }
            outputBoxIndex++;
        }
        o.NumDetections = outputBoxIndex;
    }

    private static float[] DequantizeClassPredictions(byte[] classPredictions, Quantization q)
    {
        // DequantizationParams { double scale; int32 zero_point; } ← the tensor's float scale and int zero point.
        double scale = q.Scale;
        int zeroPoint = q.ZeroPoint;
        var result = new float[classPredictions.Length];
        for (int i = 0; i < classPredictions.Length; i++)
        {
            int val = classPredictions[i];
            result[i] = (float)(scale * (val - zeroPoint));
        }
        return result;
    }

    private static void NonMaxSuppressionMultiClass(DetectionPostprocessOptions op, int numBoxes, byte[] classPredictions, Quantization classQ,
                                                    int numClassesWithBackground, Outputs o)
    {
        Ensure(classPredictions.Length == numBoxes * numClassesWithBackground, "input_class_predictions->dims->data[1] == num_boxes");
        Ensure(numClassesWithBackground - op.NumClasses <= 1, "num_classes_with_background - num_classes <= 1");
        Ensure(numClassesWithBackground >= op.NumClasses, "num_classes_with_background >= num_classes");
        float[] scores = DequantizeClassPredictions(classPredictions, classQ);
        if (op.UseRegularNms) NonMaxSuppressionMultiClassRegularHelper(op, numBoxes, scores, numClassesWithBackground, o);
        else NonMaxSuppressionMultiClassFastHelper(op, numBoxes, scores, numClassesWithBackground, o);
    }
}
