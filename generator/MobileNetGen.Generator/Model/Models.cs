using System;
using MobileNetGen.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

// The pipeline's models. They hold no ISymbol, Compilation, SyntaxNode or AdditionalText: incremental caching compares
// them by value between runs, and anything tied to one compilation would make every run look new (and keep old
// compilations alive). Locations travel separately (LocationInfo) so that moving code does not re-run the planner.
namespace MobileNetGen.Generator.Model
{
    /// <summary>What one [MobileNet] class asks for; the planner's input. No location: edits that only move the class re-plan nothing.</summary>
    internal sealed record ClassRequest(
        string? Namespace,
        string ClassName,
        string Accessibility,
        string VariantText,
        string? WeightsName,
        bool Synthetic);

    /// <summary>
    /// The app's MSBuild choices (<c>MobileNetVariant</c> and friends, see <c>BuildSettingsReader</c>): a classifier declared
    /// without code, the default thread count (<see cref="AutoThreads"/>: one per processor) and whether label text is embedded.
    /// </summary>
    internal sealed record BuildSettings(ClassRequest? MsBuildClass, int DefaultThreads, bool IncludeLabels, EquatableArray<DiagnosticInfo> Problems)
    {
        /// <summary>Threads value meaning "one per processor", resolved at run time.</summary>
        public const int AutoThreads = -1;

        public static readonly BuildSettings Default = new BuildSettings(null, 1, true, EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>A source location reduced to plain values.</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
        public static LocationInfo? From(Location? l) =>
            l == null || l.SourceTree == null ? null : new LocationInfo(l.SourceTree.FilePath, l.SourceSpan, l.GetLineSpan().Span);
    }

    /// <summary>
    /// A diagnostic to report, as plain values: its descriptor (from <c>DiagnosticDescriptors</c>, equatable by value), the
    /// message arguments and, when known, where. Planner problems carry no location; they are placed at the class that asked.
    /// </summary>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Args)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] args) =>
            new DiagnosticInfo(descriptor, location, new EquatableArray<string>(args));

        public Diagnostic ToDiagnostic(LocationInfo? fallback = null)
        {
            var a = new object[Args.Count];
            for (int i = 0; i < a.Length; i++) a[i] = Args[i];
            return Diagnostic.Create(Descriptor, (Location ?? fallback)?.ToLocation(), a);
        }
    }

    /// <summary>The parser's result for one attributed class.</summary>
    internal sealed record ParsedClass(ClassRequest? Request, LocationInfo? Location, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// One weights description (<see cref="WeightsDescription"/>, written by the MSBuild step) as the generator sees it.
    /// Equality is by name, path and a hash of the text: the few kilobytes of text are parsed only by the planner.
    /// </summary>
    internal sealed class WeightsSource : IEquatable<WeightsSource>
    {
        public WeightsSource(string name, string path, string contentHash, string? text)
        { Name = name; Path = path; ContentHash = contentHash; Text = text; }
        public string Name { get; }
        public string Path { get; }
        public string ContentHash { get; }
        /// <summary>The description's text; null when the additional file could not be read.</summary>
        public string? Text { get; }
        public bool Equals(WeightsSource? other) => other != null && Name == other.Name && Path == other.Path && ContentHash == other.ContentHash;
        public override bool Equals(object? obj) => Equals(obj as WeightsSource);
        public override int GetHashCode() => (Name.GetHashCode() * 397) ^ ContentHash.GetHashCode();
    }

    /// <summary>How a layer is shared between threads (the grain of each is in <see cref="KernelContract"/>).</summary>
    internal enum ThreadSplit
    {
        /// <summary>Run by one thread (the pool and the logits: small).</summary>
        None,
        /// <summary>By output rows (stem, depthwise).</summary>
        OutputRows,
        /// <summary>By pixel tiles, every thread reading all the (small) weights: pointwise layers whose activations outweigh their weights.</summary>
        PixelTiles,
        /// <summary>By 16-channel weight panels, each thread streaming its share of the weights: late pointwise layers.</summary>
        WeightPanels,
    }

    /// <summary>The layout a layer's kernel reads its weights in: the load-time packing routine the weights file emits for it.</summary>
    internal enum Packing
    {
        /// <summary>Stem: HWIO <c>[3][3][3][Cout]</c> as imported, BatchNorm scale folded per output channel.</summary>
        StemHwio,
        /// <summary>Depthwise: <c>[3][3][C]</c> (HWIO with one multiplier is tap-major), BatchNorm scale folded.</summary>
        DepthwiseTapMajor,
        /// <summary>Pointwise: panels of 16 output channels <c>[Cout/16][Cin][16]</c>, BatchNorm scale folded.</summary>
        PointwisePanels,
        /// <summary>Logits: <c>[C][classes]</c> as imported.</summary>
        LogitsAsImported,
        /// <summary>uint8 network, stem: the integer kernels' stem layout (zero points folded, see <c>QuantizedPacking</c>).</summary>
        QuantizedStem,
        /// <summary>uint8 network, depthwise layout.</summary>
        QuantizedDepthwise,
        /// <summary>uint8 network, pointwise panels.</summary>
        QuantizedPointwise,
        /// <summary>uint8 network, logits.</summary>
        QuantizedLogits,
    }

    /// <summary>What a network computes in: float32 (Google's float and 8-bit-weight files) or uint8 (the quantized files).</summary>
    internal enum Precision { Float32, UInt8 }

    /// <summary>
    /// One integer layer's constants, computed at build time from the file's scales and zero points exactly as TFLite does
    /// (<c>QuantizationMath</c>): the requantization multiplier and shift, the zero points and the activation's clamp.
    /// </summary>
    internal sealed record QuantizedLayerPlan(
        int InputZeroPoint, int WeightZeroPoint, int OutputZeroPoint, int Multiplier, int Shift, int ActivationMin, int ActivationMax,
        double RealMultiplier, string Activation);

    /// <summary>The quantization of a uint8 network's input, pooled features and logits (for quantizing and dequantizing).</summary>
    internal sealed record QuantizedIo(float InputScale, int InputZeroPoint, float FeatureScale, int FeatureZeroPoint, float LogitsScale, int LogitsZeroPoint);

    /// <summary>One tensor of the weights file: where its bytes lie in the data section, and its dtype.</summary>
    internal sealed record TensorSlice(string Name, TensorDType DType, long Offset, long Elements)
    {
        public static TensorSlice From(TensorEntry e) => new TensorSlice(e.Name, e.DType, e.DataBegin, e.ElementCount);
    }

    /// <summary>
    /// Where a layer's weights come from and go: the kernel (with, for Google's 8-bit kernels, the F32 scalars of its
    /// MIN_FIRST range), the BatchNorm scale to fold (none for the logits), the bias; and the float offsets of the packed
    /// kernel and bias in the aligned block every instance shares.
    /// </summary>
    internal sealed record LayerWeights(
        Packing Packing, TensorSlice Kernel, TensorSlice? KernelMin, TensorSlice? KernelMax, TensorSlice? Scale, TensorSlice Bias,
        long KernelAt, long BiasAt);

    /// <summary>One layer with every extent fixed, its cost, its weights (none for the pool) and how threads share it.</summary>
    internal sealed record LayerPlan(
        int Index, string Name, string SlimName, LayerKind Kind,
        int InH, int InW, int InC, int OutH, int OutW, int OutC, int Stride, int PadTop, int PadLeft, int PadBottom, int PadRight,
        long Macs, long Parameters, LayerWeights? Weights, ThreadSplit Split, QuantizedLayerPlan? Quant = null)
    {
        /// <summary>The C# name of the layer's method: the TF-slim scope with '/' as '_'.</summary>
        public string MethodName => SlimName.Replace('/', '_');
        public int OutPixels => OutH * OutW;
        public long OutElements => (long)OutH * OutW * OutC;
    }

    /// <summary>The activation buffers of the workspace a step reads and writes (<c>input</c> is the caller's).</summary>
    internal enum ActivationBuffer { Input, A, B }

    /// <summary>
    /// One step of a schedule: a layer (<see cref="Second"/> null), or a pointwise layer fused with the stride-2 depthwise
    /// layer it feeds (<see cref="FusedBand"/>: the band the pointwise layer writes, inside the step's output buffer).
    /// </summary>
    /// <remarks><see cref="Whole"/>: with several threads, the calling thread runs the step whole (too small to split:
    /// <c>KernelContract.MinSplitMacs</c>), with no barrier before the next step when that one is whole too.</remarks>
    internal sealed record Step(int Layer, int? Second, ActivationBuffer From, ActivationBuffer To, FusedBand? Band, bool Whole = false);

    /// <summary>
    /// The band of a fused pair: <see cref="OutRows"/> depthwise output rows per band, read from <see cref="Rows"/> rows of
    /// pointwise output held at float <see cref="Offset"/> of the output buffer (after the depthwise output) for
    /// <see cref="Floats"/> floats.
    /// </summary>
    internal sealed record FusedBand(int OutRows, int Rows, long Offset, long Floats);

    /// <summary>
    /// The convolutions in order, as steps the layer runner executes one after another with a barrier between them; the
    /// activations ping-pong between buffers A and B and the last step's output (<see cref="Result"/>) feeds the head.
    /// </summary>
    internal sealed record Schedule(EquatableArray<Step> Steps, ActivationBuffer Result)
    {
        /// <summary>Whether every step runs whole: then no step is worth a second thread.</summary>
        public bool AllWhole
        {
            get { foreach (var s in Steps) if (!s.Whole) return false; return true; }
        }

        public bool HasFusedSteps
        {
            get { foreach (var s in Steps) if (s.Second != null) return true; return false; }
        }
    }

    /// <summary>Where the weights come from at run time: the embedded file (resource) or the synthetic generator (seed).</summary>
    internal sealed record WeightsOrigin(string? Resource, long FileLength, long HeaderLength, ulong? SyntheticSeed);

    /// <summary>What is known about the model, for its <c>ModelInfo</c> and documentation comments.</summary>
    internal sealed record ModelFacts(
        string EntryName,
        string Variant,
        string AlphaText,
        int Resolution,
        int NumClasses,
        bool BackgroundClass,
        bool ImageNetLabels,
        EquatableArray<string> Labels,
        string WeightsKind,
        string Source,
        string SourceSha256,
        string Provenance,
        long Macs,
        long Parameters,
        int FeatureSize,
        long WeightBytes);

    /// <summary>
    /// The whole plan of one class, everything the emitter writes and nothing it has to work out: the layers with their
    /// weights, the per-layer schedule for threads (<see cref="Layered"/>), the one-thread schedule with fused pairs
    /// (<see cref="OneThread"/>, null when nothing fuses), the size of each ping-pong buffer, and the packed weights' size
    /// and origin. A uint8 network (<see cref="Precision.UInt8"/>) counts its activations and packed weights in bytes
    /// (<see cref="ActivationBytes"/>, <see cref="PackedBytes"/>) and carries the quantization of its ends (<see cref="Io"/>).
    /// </summary>
    internal sealed record NetworkPlan(
        ClassRequest Request,
        ModelFacts Model,
        EquatableArray<LayerPlan> Layers,
        Schedule Layered,
        Schedule? OneThread,
        int PoolLayer,
        int LogitsLayer,
        long ActivationFloats,
        long PackedFloats,
        WeightsOrigin Origin,
        Precision Precision = Precision.Float32,
        long ActivationBytes = 0,
        long PackedBytes = 0,
        QuantizedIo? Io = null);

    /// <summary>The planner's result: a plan, or the problems that prevented one (and notes such as MNG0007 beside a plan).</summary>
    internal sealed record PlanResult(ClassRequest Request, NetworkPlan? Plan, EquatableArray<DiagnosticInfo> Problems);
}
