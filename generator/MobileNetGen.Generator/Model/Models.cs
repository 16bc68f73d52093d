using System;
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
    /// without code, the default thread count (−1: one per processor) and whether label text is embedded.
    /// </summary>
    internal sealed record BuildSettings(ClassRequest? MsBuildClass, int DefaultThreads, bool IncludeLabels, EquatableArray<PlanProblem> Problems)
    {
        public static readonly BuildSettings Default = new BuildSettings(null, 1, true, EquatableArray<PlanProblem>.Empty);
    }

    /// <summary>A source location reduced to plain values.</summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
        public static LocationInfo? From(Location? l) =>
            l == null || l.SourceTree == null ? null : new LocationInfo(l.SourceTree.FilePath, l.SourceSpan, l.GetLineSpan().Span);
    }

    /// <summary>A diagnostic to report, as plain values.</summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Args);

    /// <summary>The parser's result for one attributed class.</summary>
    internal sealed record ParsedClass(ClassRequest? Request, LocationInfo? Location, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// One weights file as the generator sees it: the base64 text of a canonical .safetensors produced by the MSBuild step.
    /// Equality is by name and content hash only, so the (large) text is never compared.
    /// </summary>
    internal sealed class WeightsSource : IEquatable<WeightsSource>
    {
        public WeightsSource(string name, string path, string contentHash, string? base64Text)
        { Name = name; Path = path; ContentHash = contentHash; Base64Text = base64Text; }
        public string Name { get; }
        public string Path { get; }
        public string ContentHash { get; }
        public string? Base64Text { get; }
        public bool Equals(WeightsSource? other) => other != null && Name == other.Name && Path == other.Path && ContentHash == other.ContentHash;
        public override bool Equals(object? obj) => Equals(obj as WeightsSource);
        public override int GetHashCode() => (Name.GetHashCode() * 397) ^ ContentHash.GetHashCode();
    }

    /// <summary>A problem the planner found, reported later at the class's location.</summary>
    internal sealed record PlanProblem(string Id, EquatableArray<string> Args);

    /// <summary>One layer of the plan: shapes, padding, where its packed weights sit, the kernel it calls and how threads share it
    /// (<see cref="ThreadSplit"/>: rows, pixels, panels or none).</summary>
    internal sealed record LayerPlan(
        int Index, string Name, string SlimName, string Kind,
        int InH, int InW, int InC, int OutH, int OutW, int OutC, int Stride, int PadTop, int PadLeft, int PadBottom, int PadRight,
        long Macs, long Parameters, long WeightOffset, long WeightCount, long BiasOffset, string Packing, string ThreadSplit);

    /// <summary>
    /// Everything the emitter needs for one class: the network with fixed shapes and its packed weights.
    /// <see cref="ImageNetLabels"/>: outputs are Google's ImageNet classes (metadata labels = imagenet); <see cref="Labels"/>: the
    /// custom head's labels from <c>labels_json</c> (empty when the file has none).
    /// </summary>
    internal sealed record NetworkPlan(
        ClassRequest Request,
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
        long MaxActivation,
        long TotalFloats,
        EquatableArray<LayerPlan> Layers,
        EquatableArray<WeightBlob> Blobs);

    /// <summary>
    /// One embedded block of packed weights: base64 of float32 values, or of 8-bit values that are dequantized at load
    /// (value = (float)(QuantOffset + q·QuantStep), TF's MIN_FIRST rule) so 8-bit weights ship at a quarter of the size.
    /// </summary>
    internal sealed record WeightBlob(string Name, string Comment, string Base64, long FloatOffset, long Count, bool Is8Bit, double QuantOffset, double QuantStep);

    /// <summary>The planner's result: a plan, or the problems that prevented one.</summary>
    internal sealed record PlanResult(ClassRequest Request, NetworkPlan? Plan, EquatableArray<PlanProblem> Problems);
}
