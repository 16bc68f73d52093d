using System.Globalization;

namespace MobileNetGen.Runtime.Detection;

/// <summary>
/// TFLite's <c>TFLite_Detection_PostProcess</c> for uint8 inputs, result for result: box decoding against the anchors,
/// score dequantization, then the fast class-agnostic NMS (TFLite's default) or the regular per-class NMS. Configured once;
/// <see cref="Run"/> allocates nothing (every scratch buffer is made here).
/// </summary>
/// <remarks>
/// <para>Source: <c>tensorflow/lite/kernels/detection_postprocess.cc</c> (tensorflow/tensorflow), functions named in the
/// comments below. What is replicated, and how:</para>
/// <list type="bullet">
/// <item>Dequantization: box encodings and anchors with <c>Dequantizer</c>, <c>((float)q − zeroPoint) · scale</c> in
/// float; class scores with <c>DequantizeClassPredictions</c> → <c>Dequantize</c>, <c>(float)(scale · (q − zeroPoint))</c>
/// with the scale widened to double (<c>reference_ops::Dequantize</c>, <c>DequantizationParams.scale</c> is a double).</item>
/// <item><c>DecodeCenterSizeBoxes</c>: centre and half-size in double (<c>std::exp</c> ↔ <see cref="Math.Exp"/>, both the
/// C library's <c>exp</c> on Linux), rounded to float, then corners in float.</item>
/// <item><c>NonMaxSuppressionSingleClassHelper</c>: scores ≥ threshold in anchor order, <c>DecreasingArgSort</c> — a
/// <c>std::stable_sort</c> by decreasing score, so equal scores keep increasing anchor order — then greedy suppression of
/// every later candidate whose <c>ComputeIntersectionOverUnion</c> is &gt; the threshold (boxes of zero area have IoU 0).</item>
/// <item><c>DecreasingPartialArgSort</c>: <c>ArgMaxVector</c> (first maximum) when one value is wanted, otherwise
/// <c>std::partial_sort</c>, which is not stable: ties come out in the order of libstdc++'s heap algorithm
/// (<c>__heap_select</c> + <c>__sort_heap</c>, <c>bits/stl_algo.h</c>, <c>bits/stl_heap.h</c>), replicated step by step in
/// <see cref="PartialSortDecreasing"/>. This matters only for ties among the top classes of an anchor when
/// <c>max_classes_per_detection &gt; 1</c>, and for ties in regular NMS's merge; libc++ (Android) may order such ties
/// differently.</item>
/// </list>
/// <para>Arithmetic is that of an x86-64 build without FMA contraction. Differences from TFLite, on purpose: anchors
/// with a negative height or width are rejected here at construction (TFLite's <c>ValidateBoxes</c> fails every
/// <c>Eval</c> on them), and non-finite anchors too (they cannot come from a uint8 tensor). With
/// <c>max_classes_per_detection &gt; num_classes</c> TFLite leaves unwritten slots between anchors; here detections are
/// written contiguously and the count says how many.</para>
/// <para>Not thread-safe: the scratch buffers belong to the instance; use one instance per thread.</para>
/// </remarks>
public sealed class DetectionPostprocess
{
    private readonly DetectionPostprocessOptions _options;
    private readonly float[] _anchors;          // [N][4]: y, x, h, w (CenterSizeEncoding)
    private readonly string[] _labels;          // per class index 0..NumClasses-1
    private readonly int _numCategoriesPerAnchor;

    // Scratch, sized once.
    private readonly float[] _decoded;          // [N][4]: ymin, xmin, ymax, xmax (BoxCornerEncoding)
    private readonly float[] _scores;           // [N][classesWithBackground]
    private readonly float[] _maxScores;        // fast NMS: best class score per anchor
    private readonly int[] _topClasses;         // fast NMS: [N][numCategoriesPerAnchor]
    private readonly int[] _classOrder;         // fast NMS with > 1 class per anchor: partial sort over the classes
    private readonly float[] _keepScores;       // single-class NMS
    private readonly int[] _keepIndices;
    private readonly int[] _sorted;
    private readonly int[] _mergeScratch;
    private readonly bool[] _active;
    private readonly int[] _selected;
    private readonly float[] _classScores;      // regular NMS
    private readonly int[] _boxIndicesAfterNms;
    private readonly float[] _scoresAfterNms;
    private readonly int[] _sortedIndices;
    private readonly float[] _sortedValues;

    /// <param name="options">The operator's options (validated here).</param>
    /// <param name="anchors">The anchors, dequantized, <c>[N][4]</c> as (ycenter, xcenter, height, width) — see
    /// <see cref="DequantizeAnchors"/>.</param>
    /// <param name="classesWithBackground">The class tensor's last dimension: <c>NumClasses</c> or <c>NumClasses + 1</c>
    /// (a background column first, TFLite's <c>label_offset</c>).</param>
    /// <param name="boxCodeLength">The box tensor's last dimension (≥ 4; TFLite reads the first 4 values of each row).</param>
    /// <param name="labelMap">Label map lines for the class tensor's columns (background lines included, as
    /// <see cref="Labels.CocoLabels.All"/>); null labels classes "class N".</param>
    public DetectionPostprocess(DetectionPostprocessOptions options, ReadOnlySpan<float> anchors, int classesWithBackground,
                                int boxCodeLength = 4, IReadOnlyList<string>? labelMap = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        if (anchors.Length == 0 || anchors.Length % 4 != 0)
            throw new ArgumentException($"anchors must hold 4 values (y, x, h, w) per anchor; got {anchors.Length} values", nameof(anchors));
        AnchorCount = anchors.Length / 4;
        // NonMaxSuppressionMultiClass: TF_LITE_ENSURE(num_classes_with_background - num_classes <= 1) and (>= num_classes).
        int labelOffset = classesWithBackground - options.NumClasses;
        if (labelOffset is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(classesWithBackground), classesWithBackground,
                $"the class tensor must have num_classes ({options.NumClasses}) or num_classes + 1 columns");
        if (boxCodeLength < 4 || boxCodeLength > 1024)
            throw new ArgumentOutOfRangeException(nameof(boxCodeLength), boxCodeLength, "box code length must be in 4..1024 (TFLite reads the first 4)");
        ClassesWithBackground = classesWithBackground;
        LabelOffset = labelOffset;
        BoxCodeLength = boxCodeLength;

        _anchors = anchors.ToArray();
        for (int i = 0; i < AnchorCount; i++)
        {
            for (int k = 0; k < 4; k++)
                if (!float.IsFinite(_anchors[4 * i + k]))
                    throw new ArgumentException($"anchor {i} value {k} is {_anchors[4 * i + k]}; anchors must be finite", nameof(anchors));
            // A negative height or width decodes to ymin > ymax: TFLite's ValidateBoxes fails every Eval on it.
            if (_anchors[4 * i + 2] < 0 || _anchors[4 * i + 3] < 0)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"anchor {i} has height {_anchors[4 * i + 2]} and width {_anchors[4 * i + 3]}; TFLite rejects negative sizes (ValidateBoxes)"), nameof(anchors));
        }

        _labels = new string[options.NumClasses];
        if (labelMap != null && labelMap.Count != classesWithBackground && labelMap.Count != options.NumClasses + 1 && labelMap.Count != options.NumClasses)
            throw new ArgumentException($"label map has {labelMap.Count} lines; expected {classesWithBackground} (one per class column)", nameof(labelMap));
        // A label map with a background line is indexed class + 1, one without it class + 0.
        int mapOffset = labelMap != null && labelMap.Count == options.NumClasses ? 0 : 1;
        for (int c = 0; c < options.NumClasses; c++)
            _labels[c] = labelMap != null ? labelMap[c + mapOffset] : "class " + c.ToString(CultureInfo.InvariantCulture);

        int n = AnchorCount;
        _numCategoriesPerAnchor = Math.Min(options.MaxClassesPerDetection, options.NumClasses);
        MaxDetectionCount = options.UseRegularNms ? options.MaxDetections : options.MaxDetections * _numCategoriesPerAnchor;
        _decoded = new float[n * 4];
        _scores = new float[checked(n * classesWithBackground)];
        _keepScores = new float[n];
        _keepIndices = new int[n];
        _sorted = new int[n];
        _mergeScratch = new int[n];
        _active = new bool[n];
        _selected = new int[n];
        if (options.UseRegularNms)
        {
            _maxScores = null!;
            _topClasses = _classOrder = null!;
            _classScores = new float[n];
            _boxIndicesAfterNms = new int[n + options.MaxDetections];
            _scoresAfterNms = new float[n + options.MaxDetections];
            _sortedIndices = new int[n + options.MaxDetections];
            _sortedValues = new float[options.MaxDetections];
        }
        else
        {
            _maxScores = new float[n];
            _topClasses = new int[checked(n * _numCategoriesPerAnchor)];
            _classOrder = new int[options.NumClasses];
            _classScores = _scoresAfterNms = _sortedValues = null!;
            _boxIndicesAfterNms = _sortedIndices = null!;
        }
    }

    public DetectionPostprocessOptions Options => _options;
    public int AnchorCount { get; }
    public int ClassesWithBackground { get; }
    public int LabelOffset { get; }
    public int BoxCodeLength { get; }

    /// <summary>Most detections one <see cref="Run"/> writes: the output span must hold this many.</summary>
    public int MaxDetectionCount { get; }

    /// <summary>Dequantizes a uint8 anchor tensor <c>[N][4]</c> as TFLite does: <c>((float)q − zeroPoint) · scale</c> in float.</summary>
    public static float[] DequantizeAnchors(ReadOnlySpan<byte> anchors, Quantization quantization)
    {
        Quantization.Require(quantization, nameof(quantization));
        var result = new float[anchors.Length];
        for (int i = 0; i < anchors.Length; i++) result[i] = DequantizeFloat(anchors[i], quantization);
        return result;
    }

    /// <summary>
    /// Post-processes one inference: <paramref name="boxEncodings"/> <c>[N][BoxCodeLength]</c> (ty, tx, th, tw per anchor) and
    /// <paramref name="classScores"/> <c>[N][ClassesWithBackground]</c> (the LOGISTIC output), both uint8. Writes the detections
    /// in TFLite's output order (decreasing score) and returns how many; allocates nothing.
    /// </summary>
    /// <param name="imageWidth">Width of the frame the boxes are mapped to, for <see cref="Detection.Pixels"/>.</param>
    /// <param name="imageHeight">Height of that frame.</param>
    /// <param name="output">At least <see cref="MaxDetectionCount"/> elements.</param>
    public int Run(ReadOnlySpan<byte> boxEncodings, Quantization boxQuantization, ReadOnlySpan<byte> classScores, Quantization scoreQuantization,
                   int imageWidth, int imageHeight, Span<Detection> output)
    {
        Quantization.Require(boxQuantization, nameof(boxQuantization));
        Quantization.Require(scoreQuantization, nameof(scoreQuantization));
        if (boxEncodings.Length != AnchorCount * BoxCodeLength)
            throw new ArgumentException($"box encodings hold {boxEncodings.Length} values; expected {AnchorCount} anchors × {BoxCodeLength}", nameof(boxEncodings));
        if (classScores.Length != _scores.Length)
            throw new ArgumentException($"class scores hold {classScores.Length} values; expected {AnchorCount} anchors × {ClassesWithBackground} classes", nameof(classScores));
        if (imageWidth < 1 || imageHeight < 1)
            throw new ArgumentOutOfRangeException(imageWidth < 1 ? nameof(imageWidth) : nameof(imageHeight), "image size must be at least 1×1");
        if (output.Length < MaxDetectionCount)
            throw new ArgumentException($"output holds {output.Length} detections; this detector can write {MaxDetectionCount}", nameof(output));

        DecodeCenterSizeBoxes(boxEncodings, boxQuantization);
        DequantizeClassPredictions(classScores, scoreQuantization);
        return _options.UseRegularNms
            ? MultiClassRegular(imageWidth, imageHeight, output)
            : MultiClassFast(imageWidth, imageHeight, output);
    }

    // Dequantizer::operator(): (static_cast<float>(x) - zero_point_) * scale_, zero_point_ an int.
    private static float DequantizeFloat(byte q, Quantization p) => ((float)q - p.ZeroPoint) * p.Scale;

    // DecodeCenterSizeBoxes.
    private void DecodeCenterSizeBoxes(ReadOnlySpan<byte> boxEncodings, Quantization q)
    {
        double yScale = _options.YScale, xScale = _options.XScale, hScale = _options.HScale, wScale = _options.WScale;
        for (int idx = 0; idx < AnchorCount; idx++)
        {
            int e = idx * BoxCodeLength;
            float y = DequantizeFloat(boxEncodings[e], q), x = DequantizeFloat(boxEncodings[e + 1], q);
            float h = DequantizeFloat(boxEncodings[e + 2], q), w = DequantizeFloat(boxEncodings[e + 3], q);
            double ay = _anchors[4 * idx], ax = _anchors[4 * idx + 1], ah = _anchors[4 * idx + 2], aw = _anchors[4 * idx + 3];
            float ycenter = (float)((double)y / yScale * ah + ay);
            float xcenter = (float)((double)x / xScale * aw + ax);
            float halfH = (float)(0.5 * Math.Exp((double)h / hScale) * ah);
            float halfW = (float)(0.5 * Math.Exp((double)w / wScale) * aw);
            _decoded[4 * idx] = ycenter - halfH;
            _decoded[4 * idx + 1] = xcenter - halfW;
            _decoded[4 * idx + 2] = ycenter + halfH;
            _decoded[4 * idx + 3] = xcenter + halfW;
        }
    }

    // DequantizeClassPredictions → reference_ops::Dequantize: static_cast<float>(double scale * (val - zero_point)).
    private void DequantizeClassPredictions(ReadOnlySpan<byte> classScores, Quantization q)
    {
        double scale = q.Scale;
        int zeroPoint = q.ZeroPoint;
        for (int i = 0; i < classScores.Length; i++) _scores[i] = (float)(scale * (classScores[i] - zeroPoint));
    }

    // ComputeIntersectionOverUnion. std::max<float>(a, b) is (a < b) ? b : a, written out so that signed zeros and NaN
    // behave as in C++.
    private float IntersectionOverUnion(int i, int j)
    {
        float iYMin = _decoded[4 * i], iXMin = _decoded[4 * i + 1], iYMax = _decoded[4 * i + 2], iXMax = _decoded[4 * i + 3];
        float jYMin = _decoded[4 * j], jXMin = _decoded[4 * j + 1], jYMax = _decoded[4 * j + 2], jXMax = _decoded[4 * j + 3];
        float areaI = (iYMax - iYMin) * (iXMax - iXMin);
        float areaJ = (jYMax - jYMin) * (jXMax - jXMin);
        if (areaI <= 0 || areaJ <= 0) return 0;
        float yMin = iYMin < jYMin ? jYMin : iYMin;
        float xMin = iXMin < jXMin ? jXMin : iXMin;
        float yMax = jYMax < iYMax ? jYMax : iYMax;
        float xMax = jXMax < iXMax ? jXMax : iXMax;
        float dy = yMax - yMin, dx = xMax - xMin;
        float intersection = (dy < 0 ? 0 : dy) * (dx < 0 ? 0 : dx);
        return intersection / (areaI + areaJ - intersection);
    }

    /// <summary>NonMaxSuppressionSingleClassHelper over <paramref name="scores"/> (one per anchor); indices into <see cref="_selected"/>.</summary>
    private int SingleClassNms(ReadOnlySpan<float> scores, int maxDetections)
    {
        float threshold = _options.NmsScoreThreshold, iouThreshold = _options.NmsIouThreshold;
        // SelectDetectionsAboveScoreThreshold.
        int kept = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (scores[i] >= threshold)
            {
                _keepScores[kept] = scores[i];
                _keepIndices[kept] = i;
                kept++;
            }
        }
        StableSortDecreasing(kept);
        int outputSize = Math.Min(kept, maxDetections);
        int selectedCount = 0;
        Array.Fill(_active, true, 0, kept);
        int numActive = kept;
        for (int i = 0; i < kept; i++)
        {
            if (numActive == 0 || selectedCount >= outputSize) break;
            if (!_active[i]) continue;
            int boxI = _keepIndices[_sorted[i]];
            _selected[selectedCount++] = boxI;
            _active[i] = false;
            numActive--;
            for (int j = i + 1; j < kept; j++)
            {
                if (_active[j] && IntersectionOverUnion(boxI, _keepIndices[_sorted[j]]) > iouThreshold)
                {
                    _active[j] = false;
                    numActive--;
                }
            }
        }
        return selectedCount;
    }

    /// <summary>
    /// DecreasingArgSort: <c>_sorted[0..count)</c> = positions into <c>_keepScores</c> ordered by decreasing score, equal scores
    /// in increasing position (<c>std::stable_sort</c>). A bottom-up merge sort, which is stable and needs only the
    /// preallocated scratch.
    /// </summary>
    private void StableSortDecreasing(int count)
    {
        int[] a = _sorted, b = _mergeScratch;
        for (int i = 0; i < count; i++) a[i] = i;
        for (int width = 1; width < count; width *= 2)
        {
            for (int lo = 0; lo < count; lo += 2 * width)
            {
                int mid = Math.Min(lo + width, count), hi = Math.Min(lo + 2 * width, count);
                int l = lo, r = mid, o = lo;
                // Take from the right run only when strictly greater: ties keep the left (earlier) element first.
                while (l < mid && r < hi) b[o++] = _keepScores[a[r]] > _keepScores[a[l]] ? a[r++] : a[l++];
                while (l < mid) b[o++] = a[l++];
                while (r < hi) b[o++] = a[r++];
            }
            (a, b) = (b, a);
        }
        if (!ReferenceEquals(a, _sorted)) Array.Copy(a, _sorted, count);
    }

    // NonMaxSuppressionMultiClassFastHelper.
    private int MultiClassFast(int imageWidth, int imageHeight, Span<Detection> output)
    {
        int numClasses = _options.NumClasses, k = _numCategoriesPerAnchor, cwb = ClassesWithBackground;
        for (int row = 0; row < AnchorCount; row++)
        {
            ReadOnlySpan<float> boxScores = _scores.AsSpan(row * cwb + LabelOffset, numClasses);
            Span<int> classIndices = _topClasses.AsSpan(row * k, k);
            // DecreasingPartialArgSort(box_scores, num_classes, num_categories_per_anchor, class_indices).
            if (k == 1)
            {
                classIndices[0] = ArgMax(boxScores);
            }
            else
            {
                PartialSortDecreasing(boxScores, _classOrder.AsSpan(0, numClasses), k);
                _classOrder.AsSpan(0, k).CopyTo(classIndices);
            }
            _maxScores[row] = boxScores[classIndices[0]];
        }
        int selected = SingleClassNms(_maxScores, _options.MaxDetections);
        int written = 0;
        for (int s = 0; s < selected; s++)
        {
            int anchor = _selected[s];
            for (int col = 0; col < k; col++)
            {
                int cls = _topClasses[anchor * k + col];
                output[written++] = MakeDetection(anchor, cls, _scores[anchor * cwb + LabelOffset + cls], imageWidth, imageHeight);
            }
        }
        return written;
    }

    // NonMaxSuppressionMultiClassRegularHelper.
    private int MultiClassRegular(int imageWidth, int imageHeight, Span<Detection> output)
    {
        int numClasses = _options.NumClasses, cwb = ClassesWithBackground, maxDetections = _options.MaxDetections;
        int sizeOfSorted = 0;
        for (int col = 0; col < numClasses; col++)
        {
            for (int row = 0; row < AnchorCount; row++) _classScores[row] = _scores[row * cwb + col + LabelOffset];
            int selected = SingleClassNms(_classScores, _options.DetectionsPerClass);
            int outputIndex = sizeOfSorted;
            for (int s = 0; s < selected; s++)
            {
                int anchor = _selected[s];
                _boxIndicesAfterNms[outputIndex] = anchor * cwb + col + LabelOffset;
                _scoresAfterNms[outputIndex] = _classScores[anchor];
                outputIndex++;
            }
            int toSort = Math.Min(outputIndex, maxDetections);
            // DecreasingPartialArgSort(scores_after, output_index, num_indices_to_sort, sorted_indices).
            if (toSort == 1) _sortedIndices[0] = ArgMax(_scoresAfterNms.AsSpan(0, outputIndex));
            else PartialSortDecreasing(_scoresAfterNms.AsSpan(0, outputIndex), _sortedIndices.AsSpan(0, outputIndex), toSort);
            for (int r = 0; r < toSort; r++)
            {
                int temp = _sortedIndices[r];
                _sortedIndices[r] = _boxIndicesAfterNms[temp];
                _sortedValues[r] = _scoresAfterNms[temp];
            }
            for (int r = 0; r < toSort; r++)
            {
                _boxIndicesAfterNms[r] = _sortedIndices[r];
                _scoresAfterNms[r] = _sortedValues[r];
            }
            sizeOfSorted = toSort;
        }
        for (int i = 0; i < sizeOfSorted; i++)
        {
            int boxIndex = _boxIndicesAfterNms[i];
            int anchor = boxIndex / cwb; // floor: indices are non-negative
            int cls = boxIndex - anchor * cwb - LabelOffset;
            output[i] = MakeDetection(anchor, cls, _scoresAfterNms[i], imageWidth, imageHeight);
        }
        return sizeOfSorted;
    }

    private Detection MakeDetection(int anchor, int cls, float score, int imageWidth, int imageHeight)
    {
        var box = new NormalizedBox(_decoded[4 * anchor], _decoded[4 * anchor + 1], _decoded[4 * anchor + 2], _decoded[4 * anchor + 3]);
        return new Detection(box, PixelBox.FromNormalized(box, imageWidth, imageHeight), cls, _labels[cls], score);
    }

    /// <summary>optimized_ops::ArgMaxVector: the first index of the maximum (strictly greater replaces).</summary>
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        float max = values[0];
        int index = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > max)
            {
                max = values[i];
                index = i;
            }
        }
        return index;
    }

    /// <summary>
    /// <c>std::iota(indices, indices + n, 0); std::partial_sort(indices, indices + middle, indices + n, comp)</c> with
    /// <c>comp(i, j) = values[i] &gt; values[j]</c>, as libstdc++ implements it: <c>__heap_select</c> (make a heap of the first
    /// <paramref name="middle"/> indices, then replace its top by every later index that compares before it) and
    /// <c>__sort_heap</c>. The heap keeps the "largest" element under <c>comp</c> — here the lowest score — on top.
    /// </summary>
    internal static void PartialSortDecreasing(ReadOnlySpan<float> values, Span<int> indices, int middle)
    {
        int n = indices.Length;
        for (int i = 0; i < n; i++) indices[i] = i;
        if (middle <= 0) return;
        // __make_heap(first, middle).
        if (middle >= 2)
        {
            for (int parent = (middle - 2) / 2; ; parent--)
            {
                AdjustHeap(values, indices, parent, middle, indices[parent]);
                if (parent == 0) break;
            }
        }
        // __heap_select: for i in [middle, last): if comp(i, first) → __pop_heap(first, middle, i).
        for (int i = middle; i < n; i++)
        {
            if (values[indices[i]] > values[indices[0]])
            {
                int value = indices[i];
                indices[i] = indices[0];
                AdjustHeap(values, indices, 0, middle, value);
            }
        }
        // __sort_heap(first, middle): while (last - first > 1) { --last; __pop_heap(first, last, last); }
        for (int last = middle; last > 1;)
        {
            last--;
            int value = indices[last];
            indices[last] = indices[0];
            AdjustHeap(values, indices, 0, last, value);
        }
    }

    /// <summary>libstdc++ <c>__adjust_heap</c> (sift the hole down to a leaf, then <c>__push_heap</c> the value back up).</summary>
    private static void AdjustHeap(ReadOnlySpan<float> values, Span<int> heap, int holeIndex, int len, int value)
    {
        int topIndex = holeIndex;
        int secondChild = holeIndex;
        while (secondChild < (len - 1) / 2)
        {
            secondChild = 2 * (secondChild + 1);
            if (values[heap[secondChild]] > values[heap[secondChild - 1]]) secondChild--;
            heap[holeIndex] = heap[secondChild];
            holeIndex = secondChild;
        }
        if ((len & 1) == 0 && secondChild == (len - 2) / 2)
        {
            secondChild = 2 * (secondChild + 1);
            heap[holeIndex] = heap[secondChild - 1];
            holeIndex = secondChild - 1;
        }
        // __push_heap(first, holeIndex, topIndex, value): parent moves down while comp(parent, value).
        int parentIndex = (holeIndex - 1) / 2;
        while (holeIndex > topIndex && values[heap[parentIndex]] > values[value])
        {
            heap[holeIndex] = heap[parentIndex];
            holeIndex = parentIndex;
            parentIndex = (holeIndex - 1) / 2;
        }
        heap[holeIndex] = value;
    }
}
