using MobileNetGen.Model;

// The detector's pipeline models: equatable records, like the classifier's (see Models.cs).
namespace MobileNetGen.Generator.Model
{
    /// <summary>What one [MobileNetSsd] class asks for.</summary>
    internal sealed record DetectorRequest(string? Namespace, string ClassName, string Accessibility, string WeightsName);

    /// <summary>The parser's result for one [MobileNetSsd] class.</summary>
    internal sealed record ParsedDetector(DetectorRequest? Request, LocationInfo? Location, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>What a detector step runs.</summary>
    internal enum DetectorStepKind
    {
        /// <summary>The 3-channel stem (QStemKernels).</summary>
        Stem,
        /// <summary>A depthwise 3×3 (QDepthwiseKernels).</summary>
        Depthwise,
        /// <summary>A 1×1 convolution (QPointwiseKernels), or a 3×3 one after its <see cref="Im2Col"/> step (Cin = 9·C).</summary>
        Pointwise,
        /// <summary>A full 3×3 convolution with many input channels as the pointwise GEMM on its <see cref="Im2Col"/> rows (Cin = 9·C).</summary>
        Conv3x3Gemm,
        /// <summary>Lays out a full 3×3 convolution's windows as rows (QIm2ColKernels) for the pointwise GEMM after it.</summary>
        Im2Col,
        /// <summary>A box or class predictor (1×1, output channels padded to the panel width) into the predictor scratch.</summary>
        Predictor,
        /// <summary>RESHAPE + CONCATENATION of one predictor's output into the box or class tensor (one thread).</summary>
        Concatenate,
        /// <summary>LOGISTIC over the class tensor into the scores (one thread).</summary>
        Logistic,
    }

    /// <summary>The regions of a detector's workspace a step reads or writes (offsets in <see cref="DetectorPlan"/>).</summary>
    internal enum DetectorBuffer { Image, A, B, Predictor, Im2Col, Boxes, Classes, Scores }

    /// <summary>
    /// One step of the detector's schedule, in execution order. Convolution steps carry the layer's shapes, integer constants
    /// and weights; a predictor's output channels are padded to <see cref="PaddedOutC"/>; a concatenation names the head
    /// (<see cref="Head"/>), whether it writes boxes or classes, and the byte offset its rows start at.
    /// </summary>
    internal sealed record DetectorStep(
        DetectorStepKind Kind, string Name, string Method, string Role,
        int InH, int InW, int InC, int OutH, int OutW, int OutC, int PaddedOutC, int Stride, int PadTop, int PadLeft, int PadBottom, int PadRight,
        long Macs, DetectorBuffer From, DetectorBuffer To, ThreadSplit Split, QuantizedLayerPlan? Quant, LayerWeights? Weights,
        int Head, bool Boxes, long DestinationOffset, int Pixels, int Channels, bool Whole = false);

    /// <summary>A predictor's output quantization, for its concatenation table.</summary>
    internal sealed record HeadTable(string Name, float Scale, int ZeroPoint, bool Boxes);

    /// <summary>The post-processing options as the file gives them.</summary>
    internal sealed record PostprocessPlan(
        int MaxDetections, int MaxClassesPerDetection, int DetectionsPerClass, bool UseRegularNms, float NmsScoreThreshold, float NmsIouThreshold,
        int NumClasses, float YScale, float XScale, float HScale, float WScale);

    /// <summary>
    /// The whole plan of one detector: the steps, the workspace layout (every region's offset and size), the quantization of
    /// the tensors post-processing reads, the anchors' place in the packed weights, the options, the labels.
    /// </summary>
    internal sealed record DetectorPlan(
        DetectorRequest Request,
        string EntryName, string Variant, double Alpha, string Source, string SourceSha256, long Macs, long Parameters, long WeightBytes,
        int InputH, int InputW, int Classes, int Anchors,
        float InputScale, int InputZeroPoint, float BoxScale, int BoxZeroPoint, float ClassScale, int ClassZeroPoint,
        float LogisticInScale, int LogisticInZeroPoint, float ScoreScale, int ScoreZeroPoint, float AnchorScale, int AnchorZeroPoint,
        EquatableArray<DetectorStep> Steps, EquatableArray<HeadTable> Tables,
        long OffsetA, long OffsetB, long OffsetPredictor, long OffsetIm2Col, long OffsetBoxes, long OffsetClasses, long OffsetScores, long WorkspaceBytes,
        long AnchorsAt, TensorSlice AnchorsTensor, long PackedBytes, WeightsOrigin Origin,
        PostprocessPlan Postprocess, EquatableArray<string> Labels);

    /// <summary>The planner's result for a detector.</summary>
    internal sealed record DetectorPlanResult(DetectorRequest Request, DetectorPlan? Plan, EquatableArray<DiagnosticInfo> Problems);
}
