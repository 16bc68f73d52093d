using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using MobileNetGen.Generator.Model;
using MobileNetGen.Model;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        /// <summary>
        /// Resolves a request to weights, checks them against the architecture, folds BatchNorm into the kernels and packs
        /// every layer into the layout its kernel reads. The expensive step: it runs only when the request or the weights change.
        /// </summary>
        internal static class Planner
        {
            /// <summary>Floats per alignment unit: every packed block starts on a 64-byte boundary.</summary>
            private const int AlignFloats = 16;
            private const int PanelWidth = 16;

            public static PlanResult Plan(ClassRequest request, ImmutableArray<WeightsSource> weights, CancellationToken ct)
            {
                var problems = new List<PlanProblem>();
                void Problem(Microsoft.CodeAnalysis.DiagnosticDescriptor d, params string[] args) =>
                    problems.Add(new PlanProblem(d.Id, new EquatableArray<string>(args)));
                PlanResult Fail() => new PlanResult(request, null, new EquatableArray<PlanProblem>(problems.ToArray()));

                if (!VariantName.TryParse(request.VariantText, out var variant))
                {
                    Problem(DiagnosticDescriptors.UnknownVariant, request.VariantText);
                    return Fail();
                }
                string name = request.WeightsName ?? variant.FileStem;
                try
                {
                    SafeTensorsFile file;
                    if (request.Synthetic)
                    {
                        file = SyntheticWeights.Create(variant);
                        Problem(DiagnosticDescriptors.SyntheticWeights, request.ClassName, variant.ToString(), SyntheticWeights.DefaultSeed.ToString(CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        WeightsSource? source = null;
                        foreach (var w in weights)
                        {
                            if (!string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase)) continue;
                            if (source == null) source = w;
                            else Problem(DiagnosticDescriptors.DuplicateWeights, name, source.Path, w.Path);
                        }
                        if (source == null)
                        {
                            string hint = variant.Alpha == 1.0
                                ? " (no published weights exist for α = 1.0 here: set Synthetic = true to measure its speed with synthetic weights)"
                                : " (or set Synthetic = true for speed measurements only)";
                            Problem(DiagnosticDescriptors.WeightsNotFound, name, variant.ToString(), hint);
                            return Fail();
                        }
                        if (source.Base64Text == null)
                        {
                            Problem(DiagnosticDescriptors.MalformedWeights, source.Path, "the file could not be read");
                            return Fail();
                        }
                        byte[] bytes;
                        try { bytes = Convert.FromBase64String(source.Base64Text); }
                        catch (FormatException) { Problem(DiagnosticDescriptors.MalformedWeights, source.Path, "it is not base64 text (it should come from the MobileNetWeights build step)"); return Fail(); }
                        try { file = SafeTensorsFile.Read(bytes); }
                        catch (WeightsFormatException e) { Problem(DiagnosticDescriptors.MalformedWeights, source.Path, e.Message); return Fail(); }
                    }
                    ct.ThrowIfCancellationRequested();

                    MobileNetV1Architecture arch;
                    try { arch = CanonicalWeights.ArchitectureOf(file); }
                    catch (WeightsFormatException e) { Problem(DiagnosticDescriptors.MalformedWeights, name, e.Message); return Fail(); }
                    if (arch.Alpha != variant.Alpha || arch.Resolution != variant.Resolution)
                    {
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(),
                            $"the file is for α = {arch.Alpha.ToString(CultureInfo.InvariantCulture)} at {arch.Resolution} px");
                        return Fail();
                    }
                    var invalid = CanonicalWeights.Validate(file, arch);
                    if (invalid.Count > 0)
                    {
                        string list = string.Join("; ", invalid.GetRange(0, Math.Min(3, invalid.Count)));
                        if (invalid.Count > 3) list += $"; and {invalid.Count - 3} more";
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(), list);
                        return Fail();
                    }
                    string[]? labels;
                    try { labels = CanonicalWeights.LabelsOf(file, arch); }
                    catch (WeightsFormatException e)
                    {
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, variant.ToString(), e.Message);
                        return Fail();
                    }
                    ct.ThrowIfCancellationRequested();
                    var plan = Pack(request, name, variant, file, arch, labels, ct);
                    return new PlanResult(request, plan, new EquatableArray<PlanProblem>(problems.ToArray()));
                }
                catch (OperationCanceledException) { throw; }
                catch (Exception e)
                {
                    Problem(DiagnosticDescriptors.InternalError, request.ClassName, e.GetType().Name + ": " + e.Message);
                    return Fail();
                }
            }

            private static NetworkPlan Pack(ClassRequest request, string name, VariantName variant, SafeTensorsFile file, MobileNetV1Architecture arch, string[]? labels, CancellationToken ct)
            {
                var layers = new List<LayerPlan>();
                var blobs = new List<WeightBlob>();
                long offset = 0;
                foreach (var l in arch.Layers)
                {
                    ct.ThrowIfCancellationRequested();
                    if (l.Kind == LayerKind.GlobalAveragePool)
                    {
                        layers.Add(Layer(l, 0, 0, 0, "none"));
                        continue;
                    }
                    string method = l.SlimName.Replace('/', '_');
                    var kernel = file.Find(CanonicalWeights.Kernel(l))!;
                    float[]? scale = l.HasBatchNorm ? Values(file, CanonicalWeights.Scale(l)) : null;
                    float[] bias = Values(file, CanonicalWeights.Bias(l));
                    long weightOffset = offset;
                    long count = kernel.ElementCount;
                    long biasOffset = weightOffset + Align(count);
                    offset = biasOffset + Align(bias.Length);
                    string packing;
                    // 8-bit kernels whose BatchNorm scale is already folded (Google's quantize_weights graphs) stay 8-bit:
                    // packing only permutes them, and the kernel dequantizes once at load.
                    bool keep8Bit = kernel.DType == TensorDType.U8 && (scale == null || AllOnes(scale))
                        && (l.Kind == LayerKind.Pointwise || l.Kind == LayerKind.Logits);
                    if (keep8Bit)
                    {
                        float min = Values(file, CanonicalWeights.KernelMin(l))[0];
                        float max = Values(file, CanonicalWeights.KernelMax(l))[0];
                        CanonicalWeights.QuantizationParameters(min, max, out double qOffset, out double qStep);
                        byte[] packed = l.Kind == LayerKind.Pointwise ? PackPointwise(kernel.Data, l.InC, l.OutC) : kernel.Data;
                        packing = (l.Kind == LayerKind.Pointwise ? $"panels of {PanelWidth} output channels [Cout/{PanelWidth}][Cin][{PanelWidth}]" : "[C][classes] as imported")
                            + ", 8-bit (MIN_FIRST, dequantized at load)";
                        blobs.Add(new WeightBlob(method, $"{l.SlimName}: {count:N0} 8-bit weights, {packing}", Convert.ToBase64String(packed), weightOffset, count, true, qOffset, qStep));
                    }
                    else
                    {
                        float[] values = CanonicalWeights.KernelValues(file, l);
                        switch (l.Kind)
                        {
                            case LayerKind.Conv3x3:
                                values = FoldPerOutput(values, scale!, l.OutC);
                                packing = "HWIO [3][3][3][Cout], BatchNorm scale folded";
                                break;
                            case LayerKind.Depthwise3x3:
                                values = FoldPerOutput(values, scale!, l.OutC);
                                packing = "tap-major [9][C], BatchNorm scale folded";
                                break;
                            case LayerKind.Pointwise:
                                values = PackPointwise(FoldPerOutput(values, scale!, l.OutC), l.InC, l.OutC);
                                packing = $"panels of {PanelWidth} output channels [Cout/{PanelWidth}][Cin][{PanelWidth}], BatchNorm scale folded";
                                break;
                            default:
                                packing = "[C][classes] as imported";
                                break;
                        }
                        blobs.Add(new WeightBlob(method, $"{l.SlimName}: {count:N0} weights, {packing}", Base64(values), weightOffset, count, false, 0, 0));
                    }
                    blobs.Add(new WeightBlob(method + "_bias", $"{l.SlimName}: {bias.Length} biases (BatchNorm shift)", Base64(bias), biasOffset, bias.Length, false, 0, 0));
                    layers.Add(Layer(l, weightOffset, count, biasOffset, packing));
                }
                string kind = file.GetMetadata(CanonicalWeights.Keys.Weights) ?? CanonicalWeights.GenuineFloat;
                // ImageNet outputs only when the metadata says so (or, for files without the key, a 1000/1001 head without
                // labels): a custom head with exactly 1000 classes must not be mapped to ImageNet indices.
                string labelsKind = file.GetMetadata(CanonicalWeights.Keys.Labels)
                    ?? (labels == null && arch.NumClasses is 1000 or 1001 ? CanonicalWeights.ImageNetLabels : CanonicalWeights.CustomLabels);
                bool imagenetLabels = labelsKind == CanonicalWeights.ImageNetLabels && labels == null && (arch.NumClasses == 1000 || arch.NumClasses == 1001);
                return new NetworkPlan(
                    request, name, variant.ToString(), variant.AlphaText, arch.Resolution, arch.NumClasses,
                    BackgroundClass: imagenetLabels && (file.GetMetadata(CanonicalWeights.Keys.BackgroundClass) ?? (arch.NumClasses == 1001 ? "true" : "false")) == "true",
                    ImageNetLabels: imagenetLabels,
                    Labels: labels == null ? EquatableArray<string>.Empty : new EquatableArray<string>(labels),
                    WeightsKind: kind,
                    Source: file.GetMetadata(CanonicalWeights.Keys.Source) ?? "",
                    SourceSha256: file.GetMetadata(CanonicalWeights.Keys.SourceSha256) ?? "",
                    Provenance: file.GetMetadata(CanonicalWeights.Keys.Note) ?? "",
                    Macs: arch.Macs, Parameters: arch.Parameters, FeatureSize: arch.FeatureSize,
                    MaxActivation: arch.MaxActivationElements, TotalFloats: offset,
                    Layers: new EquatableArray<LayerPlan>(layers.ToArray()),
                    Blobs: new EquatableArray<WeightBlob>(blobs.ToArray()));
            }

            private static bool AllOnes(float[] values)
            {
                foreach (float v in values) if (v != 1f) return false;
                return true;
            }

            private static string Base64(float[] values)
            {
                var bytes = new byte[values.Length * 4];
                Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
                return Convert.ToBase64String(bytes);
            }

            private static LayerPlan Layer(LayerSpec l, long weightOffset, long weightCount, long biasOffset, string packing) =>
                new LayerPlan(l.Index, l.Name, l.SlimName, l.Kind.ToString(), l.InH, l.InW, l.InC, l.OutH, l.OutW, l.OutC, l.Stride,
                    l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, l.Macs, l.Parameters, weightOffset, weightCount, biasOffset, packing,
                    ThreadSplit(l));

            /// <summary>
            /// How a layer is shared between threads. Convolutions over an image split by output rows. A pointwise layer
            /// splits by pixel tiles while its activations outweigh its weights (each thread then reads all weights, which
            /// are small), and by panels of output channels once the weights are larger (late 14×14 and 7×7 layers: each
            /// thread then streams only its share of the weights). Head layers are small and run on one thread.
            /// </summary>
            internal static string ThreadSplit(LayerSpec l) => l.Kind switch
            {
                LayerKind.Conv3x3 or LayerKind.Depthwise3x3 => "rows",
                LayerKind.Pointwise => (long)l.OutH * l.OutW >= l.OutC ? "pixels" : "panels",
                _ => "none",
            };

            private static long Align(long n) => (n + AlignFloats - 1) / AlignFloats * AlignFloats;

            /// <summary>A pointwise → stride-2 depthwise pair is fused from this activation size between them (1 MiB).</summary>
            internal const long FuseFromActivationFloats = 256 * 1024;

            /// <summary>Most floats of pointwise output one band of a fused pair holds (256 KiB: half a core's L2).</summary>
            internal const long FusedBandFloats = 64 * 1024;

            /// <summary>
            /// How many depthwise output rows one band of the fused pair <paramref name="pw"/> → <paramref name="dw"/> covers
            /// (<c>FusedKernels.PointwiseThenDepthwise</c>, used when one thread runs the network), or 0 when the pair is not
            /// fused. Fused: a pointwise layer whose output is at least 1 MiB and that feeds a stride-2 depthwise layer. Below
            /// that size the activation stays in cache without help; a stride-1 depthwise layer after a pointwise one measured
            /// no gain (its input is as large as its output).
            /// </summary>
            internal static int FusedBandOutRows(LayerPlan pw, LayerPlan dw)
            {
                if (pw.Kind != nameof(LayerKind.Pointwise) || dw.Kind != nameof(LayerKind.Depthwise3x3) || dw.Stride != 2) return 0;
                long rowFloats = (long)dw.InW * dw.InC;
                if (rowFloats * dw.InH < FuseFromActivationFloats) return 0;
                long rows = FusedBandFloats / rowFloats; // band rows = (R − 1)·2 + 3
                return (int)Math.Min(dw.OutH, Math.Max(1, (rows - 3) / 2 + 1));
            }

            /// <summary>Where a fused pair's band starts in its output buffer (after the depthwise output) and its length.</summary>
            internal static (long Offset, long Floats) FusedBand(LayerPlan dw, int outRows) =>
                (Align((long)dw.OutH * dw.OutW * dw.OutC),
                 (long)Math.Min(dw.InH, (outRows - 1) * dw.Stride + 3) * dw.InW * dw.InC);

            private static float[] Values(SafeTensorsFile file, string tensor) =>
                (file.Find(tensor) ?? throw new WeightsFormatException($"tensor '{tensor}' is missing")).ToFloats();

            /// <summary>Multiplies each kernel value by its output channel's BatchNorm scale (the output channel is the innermost HWIO axis).</summary>
            private static float[] FoldPerOutput(float[] kernel, float[] scale, int outC)
            {
                var r = new float[kernel.Length];
                for (int i = 0; i < kernel.Length; i++) r[i] = kernel[i] * scale[i % outC];
                return r;
            }

            /// <summary>[Cin][Cout] → panels of 16 output channels: packed[(panel·Cin + ci)·16 + j] = W[ci, panel·16 + j].</summary>
            internal static T[] PackPointwise<T>(T[] w, int cin, int cout)
            {
                if (cout % PanelWidth != 0) throw new InvalidOperationException($"pointwise width {cout} is not a multiple of {PanelWidth}");
                var packed = new T[w.Length];
                int panels = cout / PanelWidth;
                for (int panel = 0; panel < panels; panel++)
                    for (int ci = 0; ci < cin; ci++)
                        for (int j = 0; j < PanelWidth; j++)
                            packed[((long)panel * cin + ci) * PanelWidth + j] = w[(long)ci * cout + panel * PanelWidth + j];
                return packed;
            }
        }
    }
}
