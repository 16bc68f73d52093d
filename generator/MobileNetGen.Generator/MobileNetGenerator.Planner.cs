using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using MobileNetGen.Generator.Model;
using MobileNetGen.Model;
using Microsoft.CodeAnalysis;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        /// <summary>
        /// Resolves a request to a weights description, checks the weights against the architecture and makes every decision
        /// about the generated code: each layer's packed layout and offsets, how threads share it, the schedules (per layer
        /// for threads, with fused pairs for one thread), the workspace size. It reads only the weights' header, never their
        /// values: those are embedded as a resource and packed when the class is first used.
        /// </summary>
        internal static class Planner
        {
            /// <summary>
            /// The weights description named <paramref name="name"/> (classifiers and detectors alike), its header read; null after
            /// adding the problem: not found (MNG0002, with <paramref name="what"/> and <paramref name="hint"/>), unreadable or
            /// malformed (MNG0003). A second file of the same name is MNG0008 and the first is used.
            /// </summary>
            public static WeightsDescription? FindDescription(string name, string what, string hint, ImmutableArray<WeightsSource> weights, List<DiagnosticInfo> problems)
            {
                void Problem(DiagnosticDescriptor d, params string[] args) => problems.Add(DiagnosticInfo.Create(d, null, args));
                WeightsSource? source = null;
                foreach (var w in weights)
                {
                    if (!string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase)) continue;
                    if (source == null) source = w;
                    else Problem(DiagnosticDescriptors.DuplicateWeights, name, source.Path, w.Path);
                }
                if (source == null)
                {
                    Problem(DiagnosticDescriptors.WeightsNotFound, name, what, hint);
                    return null;
                }
                if (source.Text == null)
                {
                    Problem(DiagnosticDescriptors.MalformedWeights, source.Path, "the file could not be read");
                    return null;
                }
                WeightsDescription description;
                try { description = WeightsDescription.Parse(source.Text); }
                catch (WeightsFormatException e) { Problem(DiagnosticDescriptors.MalformedWeights, source.Path, e.Message); return null; }
                if (description.Error != null || description.Header == null)
                {
                    Problem(DiagnosticDescriptors.MalformedWeights, description.FilePath, description.Error ?? "no header");
                    return null;
                }
                return description;
            }

            public static PlanResult Plan(ClassRequest request, ImmutableArray<WeightsSource> weights, CancellationToken ct)
            {
                var problems = new List<DiagnosticInfo>();
                void Problem(DiagnosticDescriptor d, params string[] args) => problems.Add(DiagnosticInfo.Create(d, null, args));
                PlanResult Fail() => new PlanResult(request, null, new EquatableArray<DiagnosticInfo>(problems.ToArray()));

                if (!VariantName.TryParse(request.VariantText, out var variant))
                {
                    Problem(DiagnosticDescriptors.UnknownVariant, request.VariantText);
                    return Fail();
                }
                string name = request.WeightsName ?? variant.FileStem;
                if (request.Synthetic && variant.Quantized)
                {
                    Problem(DiagnosticDescriptors.UnsupportedOption, request.ClassName,
                        $"Synthetic = true makes float weights; {variant} is Google's uint8-quantized network, whose weights are its own (the {variant.FileStem} entry)");
                    return Fail();
                }
                try
                {
                    ITensorDirectory header;
                    WeightsOrigin origin;
                    if (request.Synthetic)
                    {
                        var synthetic = SyntheticWeights.Header(variant);
                        header = synthetic;
                        origin = new WeightsOrigin(null, synthetic.FileLength, synthetic.HeaderLength, SyntheticWeights.DefaultSeed);
                        Problem(DiagnosticDescriptors.SyntheticWeights, request.ClassName, variant.ToString(), SyntheticWeights.DefaultSeed.ToString(CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        string hint = variant.Alpha == 1.0
                            ? " (no published weights exist for α = 1.0 here: set Synthetic = true to measure its speed with synthetic weights)"
                            : " (or set Synthetic = true for speed measurements only)";
                        var description = FindDescription(name, variant.ToString(), hint, weights, problems);
                        if (description?.Header == null) return Fail();
                        header = description.Header;
                        origin = new WeightsOrigin(description.Resource, description.Length, description.Header.HeaderLength, null);
                        if (description.NonFinite.Count > 0)
                        {
                            Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(),
                                string.Join("; ", description.NonFinite.ConvertAll(t => $"tensor '{t}' holds NaN or infinity")));
                            return Fail();
                        }
                    }
                    ct.ThrowIfCancellationRequested();

                    MobileNetV1Architecture arch;
                    try { arch = CanonicalWeights.ArchitectureOf(header); }
                    catch (WeightsFormatException e) { Problem(DiagnosticDescriptors.MalformedWeights, name, e.Message); return Fail(); }
                    if (arch.Alpha != variant.Alpha || arch.Resolution != variant.Resolution)
                    {
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(),
                            $"the file is for α = {arch.Alpha.ToString(CultureInfo.InvariantCulture)} at {arch.Resolution} px");
                        return Fail();
                    }
                    bool quantizedFile = CanonicalWeights.IsQuantized(header);
                    if (quantizedFile != variant.Quantized)
                    {
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(), quantizedFile
                            ? $"the file is Google's uint8-quantized network (precision uint8): declare it as [MobileNet(\"{variant.AsQuantized}\")]"
                            : $"{variant} is the uint8-quantized network, and the file holds float weights: use a uint8 file (mobilenetgen import mobilenet_v1_{variant.AlphaText}_{variant.Resolution}_quant.tflite)");
                        return Fail();
                    }
                    var invalid = variant.Quantized ? CanonicalWeights.ValidateQuantized(header, arch) : CanonicalWeights.ValidateStructure(header, arch);
                    if (invalid.Count > 0)
                    {
                        string list = string.Join("; ", invalid.GetRange(0, Math.Min(3, invalid.Count)));
                        if (invalid.Count > 3) list += $"; and {invalid.Count - 3} more";
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(), list);
                        return Fail();
                    }
                    string[]? labels;
                    try { labels = CanonicalWeights.LabelsOf(header, arch); }
                    catch (WeightsFormatException e)
                    {
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(), e.Message);
                        return Fail();
                    }
                    ct.ThrowIfCancellationRequested();
                    var plan = variant.Quantized
                        ? BuildQuantized(request, name, variant, header, origin, arch, labels, CanonicalWeights.QuantizationOf(header))
                        : Build(request, name, variant, header, origin, arch, labels);
                    return new PlanResult(request, plan, new EquatableArray<DiagnosticInfo>(problems.ToArray()));
                }
                catch (OperationCanceledException) { throw; }
                catch (Exception e)
                {
                    Problem(DiagnosticDescriptors.InternalError, request.ClassName, e.GetType().Name + ": " + e.Message);
                    return Fail();
                }
            }

            private static NetworkPlan Build(ClassRequest request, string name, VariantName variant, ITensorDirectory header, WeightsOrigin origin,
                MobileNetV1Architecture arch, string[]? labels)
            {
                var layers = new List<LayerPlan>();
                long offset = 0;
                int pool = -1, logits = -1;
                foreach (var l in arch.Layers)
                {
                    LayerWeights? w = null;
                    if (l.Kind != LayerKind.GlobalAveragePool)
                    {
                        var kernel = Entry(header, CanonicalWeights.Kernel(l));
                        bool u8 = kernel.DType == TensorDType.U8;
                        long kernelAt = offset;
                        long biasAt = kernelAt + KernelContract.Align(kernel.ElementCount);
                        offset = biasAt + KernelContract.Align(l.OutC);
                        w = new LayerWeights(
                            PackingOf(l.Kind), TensorSlice.From(kernel),
                            u8 ? TensorSlice.From(Entry(header, CanonicalWeights.KernelMin(l))) : null,
                            u8 ? TensorSlice.From(Entry(header, CanonicalWeights.KernelMax(l))) : null,
                            l.HasBatchNorm ? TensorSlice.From(Entry(header, CanonicalWeights.Scale(l))) : null,
                            TensorSlice.From(Entry(header, CanonicalWeights.Bias(l))),
                            kernelAt, biasAt);
                    }
                    if (l.Kind == LayerKind.GlobalAveragePool) pool = l.Index;
                    if (l.Kind == LayerKind.Logits) logits = l.Index;
                    layers.Add(new LayerPlan(l.Index, l.Name, l.SlimName, l.Kind, l.InH, l.InW, l.InC, l.OutH, l.OutW, l.OutC, l.Stride,
                        l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, l.Macs, l.Parameters, w, SplitOf(l)));
                }

                var convs = layers.FindAll(l => l.Split != ThreadSplit.None);
                var layered = new List<Step>();
                var fused = new List<Step>();
                long activation = arch.MaxActivationElements;
                var last = ActivationBuffer.Input;
                foreach (var l in convs)
                {
                    var to = layered.Count % 2 == 0 ? ActivationBuffer.A : ActivationBuffer.B;
                    layered.Add(new Step(l.Index, null, last, to, null, Whole: !KernelContract.SplitsAcrossThreads(l.Macs, l.Kind == LayerKind.Depthwise3x3)));
                    last = to;
                }
                // One thread: the same layers, each fused pointwise → depthwise pair as one step whose band sits in the step's
                // output buffer after the depthwise output. Steps ping-pong between the buffers as layers do.
                var lastFused = ActivationBuffer.Input;
                for (int n = 0; n < convs.Count; n++)
                {
                    var l = convs[n];
                    var to = fused.Count % 2 == 0 ? ActivationBuffer.A : ActivationBuffer.B;
                    var next = n + 1 < convs.Count ? convs[n + 1] : null;
                    int outRows = next != null && l.Kind == LayerKind.Pointwise && next.Kind == LayerKind.Depthwise3x3
                        ? KernelContract.FusedBandOutRows(next.InH, next.InW, next.InC, next.OutH, next.Stride) : 0;
                    if (outRows > 0)
                    {
                        int rows = Math.Min(next!.InH, KernelContract.FusedBandRows(outRows, next.Stride));
                        var band = new FusedBand(outRows, rows, KernelContract.Align(next.OutElements), (long)rows * next.InW * next.InC);
                        activation = Math.Max(activation, band.Offset + band.Floats);
                        fused.Add(new Step(l.Index, next.Index, lastFused, to, band));
                        n++;
                    }
                    else fused.Add(new Step(l.Index, null, lastFused, to, null));
                    lastFused = to;
                }

                var facts = Facts(name, variant, header, origin, arch, labels);
                var oneThread = fused.Count < layered.Count ? new Schedule(new EquatableArray<Step>(fused.ToArray()), lastFused) : null;
                return new NetworkPlan(request, facts, new EquatableArray<LayerPlan>(layers.ToArray()),
                    new Schedule(new EquatableArray<Step>(layered.ToArray()), last), oneThread, pool, logits, activation, offset, origin,
                    PackedBytes: offset * sizeof(float));
            }

            /// <summary>
            /// The plan of Google's uint8 network: the same layers and thread splits, integer kernels, each layer's requantization
            /// computed here as TFLite computes it; activations and packed weights counted in bytes. No fused schedule: the
            /// band fusion exists for the float kernels, whose activations are four times larger.
            /// </summary>
            private static NetworkPlan BuildQuantized(ClassRequest request, string name, VariantName variant, ITensorDirectory header, WeightsOrigin origin,
                MobileNetV1Architecture arch, string[]? labels, QuantizedNetwork q)
            {
                var layers = new List<LayerPlan>();
                long offset = 0;
                int pool = -1, logits = -1;
                foreach (var l in arch.Layers)
                {
                    LayerWeights? w = null;
                    QuantizedLayerPlan quant;
                    if (l.Kind == LayerKind.GlobalAveragePool)
                    {
                        pool = l.Index;
                        var (min, max) = QuantizationMath.CalculateActivationRangeUint8(q.Pool.Activation, q.Pool.Output.Scale, q.Pool.Output.ZeroPoint);
                        quant = new QuantizedLayerPlan(q.Pool.Input.ZeroPoint, 0, q.Pool.Output.ZeroPoint, 0, 0, min, max, 1.0, ActivationName(q.Pool.Activation));
                    }
                    else
                    {
                        if (l.Kind == LayerKind.Logits) logits = l.Index;
                        var c = q.Layer(l.Name);
                        double real = QuantizationMath.GetQuantizedConvolutionMultiplier(c.Input.Scale, c.Weight.Scale, c.Output.Scale);
                        var (multiplier, shift) = QuantizationMath.QuantizeMultiplier(real);
                        var (min, max) = QuantizationMath.CalculateActivationRangeUint8(c.Activation, c.Output.Scale, c.Output.ZeroPoint);
                        quant = new QuantizedLayerPlan(c.Input.ZeroPoint, c.Weight.ZeroPoint, c.Output.ZeroPoint, multiplier, shift, min, max, real, ActivationName(c.Activation));
                        var kernel = Entry(header, CanonicalWeights.Kernel(l));
                        var packing = QuantizedPackingOf(l.Kind);
                        long kernelAt = offset;
                        var (weightBytes, biasBytes) = QuantizedBlockBytes(l);
                        long biasAt = kernelAt + weightBytes;
                        offset = biasAt + biasBytes;
                        w = new LayerWeights(packing, TensorSlice.From(kernel), null, null, null,
                            TensorSlice.From(Entry(header, CanonicalWeights.Bias(l))), kernelAt, biasAt);
                    }
                    layers.Add(new LayerPlan(l.Index, l.Name, l.SlimName, l.Kind, l.InH, l.InW, l.InC, l.OutH, l.OutW, l.OutC, l.Stride,
                        l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, l.Macs, l.Parameters, w, SplitOf(l), quant));
                }
                var layered = new List<Step>();
                var last = ActivationBuffer.Input;
                foreach (var l in layers)
                {
                    if (l.Split == ThreadSplit.None) continue;
                    var to = layered.Count % 2 == 0 ? ActivationBuffer.A : ActivationBuffer.B;
                    layered.Add(new Step(l.Index, null, last, to, null, Whole: !KernelContract.SplitsAcrossThreads(l.Macs, l.Kind == LayerKind.Depthwise3x3)));
                    last = to;
                }
                var io = new QuantizedIo(q.Input.Scale, q.Input.ZeroPoint, q.Pool.Output.Scale, q.Pool.Output.ZeroPoint, q.Logits.Output.Scale, q.Logits.Output.ZeroPoint);
                long activationBytes = arch.MaxActivationElements;
                return new NetworkPlan(request, Facts(name, variant, header, origin, arch, labels), new EquatableArray<LayerPlan>(layers.ToArray()),
                    new Schedule(new EquatableArray<Step>(layered.ToArray()), last), null, pool, logits,
                    ActivationFloats: (activationBytes + 3) / 4, PackedFloats: 0, origin,
                    Precision.UInt8, ActivationBytes: activationBytes, PackedBytes: offset, Io: io);
            }

            /// <summary>The packed sizes of a uint8 layer's weights and bias (KernelContract: the same formulas the packing uses).</summary>
            private static (long Weights, long Bias) QuantizedBlockBytes(LayerSpec l) => l.Kind switch
            {
                LayerKind.Conv3x3 => (KernelContract.QuantizedStemWeightBytes(l.OutC), KernelContract.QuantizedStemBiasBytes(l.OutC)),
                LayerKind.Depthwise3x3 => (KernelContract.QuantizedDepthwiseWeightBytes(l.OutC), KernelContract.QuantizedDepthwiseBiasBytes(l.OutC)),
                LayerKind.Pointwise => (KernelContract.QuantizedPointwiseWeightBytes(l.InC, l.OutC), KernelContract.QuantizedPointwiseBiasBytes(l.OutC)),
                _ => (KernelContract.QuantizedLogitsWeightBytes(l.InC, l.OutC), KernelContract.QuantizedLogitsBiasBytes(l.OutC)),
            };

            private static string ActivationName(QuantizedActivation a) => a == QuantizedActivation.Relu6 ? "ReLU6" : "none";

            private static Packing QuantizedPackingOf(LayerKind kind) => kind switch
            {
                LayerKind.Conv3x3 => Packing.QuantizedStem,
                LayerKind.Depthwise3x3 => Packing.QuantizedDepthwise,
                LayerKind.Pointwise => Packing.QuantizedPointwise,
                _ => Packing.QuantizedLogits,
            };

            /// <summary>What the plan says about the model, for ModelInfo and the documentation comments.</summary>
            private static ModelFacts Facts(string name, VariantName variant, ITensorDirectory header, WeightsOrigin origin, MobileNetV1Architecture arch, string[]? labels)
            {
                string kind = header.GetMetadata(CanonicalWeights.Keys.Weights) ?? CanonicalWeights.GenuineFloat;
                // ImageNet outputs only when the metadata says so (or, for files without the key, a 1000/1001 head without
                // labels): a custom head with exactly 1000 classes must not be mapped to ImageNet indices.
                string labelsKind = header.GetMetadata(CanonicalWeights.Keys.Labels)
                    ?? (labels == null && arch.NumClasses is 1000 or 1001 ? CanonicalWeights.ImageNetLabels : CanonicalWeights.CustomLabels);
                bool imagenetLabels = labelsKind == CanonicalWeights.ImageNetLabels && labels == null && (arch.NumClasses == 1000 || arch.NumClasses == 1001);
                var facts = new ModelFacts(
                    name, variant.ToString(), variant.AlphaText, arch.Resolution, arch.NumClasses,
                    BackgroundClass: imagenetLabels && (header.GetMetadata(CanonicalWeights.Keys.BackgroundClass) ?? (arch.NumClasses == 1001 ? "true" : "false")) == "true",
                    ImageNetLabels: imagenetLabels,
                    Labels: labels == null ? EquatableArray<string>.Empty : new EquatableArray<string>(labels),
                    WeightsKind: kind,
                    Source: header.GetMetadata(CanonicalWeights.Keys.Source) ?? "",
                    SourceSha256: header.GetMetadata(CanonicalWeights.Keys.SourceSha256) ?? "",
                    Provenance: header.GetMetadata(CanonicalWeights.Keys.Note) ?? "",
                    Macs: arch.Macs, Parameters: arch.Parameters, FeatureSize: arch.FeatureSize,
                    // What an app ships for this model: the embedded file (for synthetic weights, made at load, the size genuine
                    // weights of the same shape would add).
                    WeightBytes: origin.FileLength);
                return facts;
            }

            private static TensorEntry Entry(ITensorDirectory header, string tensor) =>
                header.FindEntry(tensor) ?? throw new WeightsFormatException($"tensor '{tensor}' is missing");

            private static Packing PackingOf(LayerKind kind) => kind switch
            {
                LayerKind.Conv3x3 => Packing.StemHwio,
                LayerKind.Depthwise3x3 => Packing.DepthwiseTapMajor,
                LayerKind.Pointwise => Packing.PointwisePanels,
                _ => Packing.LogitsAsImported,
            };

            /// <summary>
            /// How a layer is shared between threads. Convolutions over an image split by output rows. A pointwise layer
            /// splits by pixel tiles while its activations outweigh its weights (each thread then reads all weights, which
            /// are small), and by panels of output channels once the weights are larger (late 14×14 and 7×7 layers: each
            /// thread then streams only its share of the weights). Head layers are small and run on one thread.
            /// </summary>
            internal static ThreadSplit SplitOf(LayerSpec l) => l.Kind switch
            {
                LayerKind.Conv3x3 or LayerKind.Depthwise3x3 => ThreadSplit.OutputRows,
                LayerKind.Pointwise => (long)l.OutH * l.OutW >= l.OutC ? ThreadSplit.PixelTiles : ThreadSplit.WeightPanels,
                _ => ThreadSplit.None,
            };
        }
    }
}
