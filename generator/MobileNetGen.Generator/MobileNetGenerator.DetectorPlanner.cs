using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using MobileNetGen.Generator.Model;
using MobileNetGen.Model;
using Microsoft.CodeAnalysis;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        /// <summary>
        /// Plans a [MobileNetSsd] detector from its weights description: the canonical detector graph (<see cref="DetectorWeights"/>)
        /// becomes a schedule of integer steps — the backbone and extra layers as a chain ping-ponging between two buffers, each
        /// head's box and class predictors run as soon as its feature map exists (into a scratch region), followed by their
        /// RESHAPE + CONCATENATION into the box and class tensors, then LOGISTIC — and a workspace layout. Every integer constant
        /// is computed here as TFLite computes it, from the header alone.
        /// </summary>
        internal static class DetectorPlanner
        {
            public static DetectorPlanResult Plan(DetectorRequest request, ImmutableArray<WeightsSource> weights, CancellationToken ct)
            {
                var problems = new List<DiagnosticInfo>();
                void Problem(DiagnosticDescriptor d, params string[] args) => problems.Add(DiagnosticInfo.Create(d, null, args));
                DetectorPlanResult Fail() => new DetectorPlanResult(request, null, new EquatableArray<DiagnosticInfo>(problems.ToArray()));
                string name = request.WeightsName;
                try
                {
                    var description = Planner.FindDescription(name, "SSD detector", " (import Google's detect.tflite: mobilenetgen import detect.tflite -o weights)", weights, problems);
                    if (description?.Header == null) return Fail();
                    var header = description.Header;
                    if (!DetectorWeights.IsDetector(header))
                    {
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, "SSD detector",
                            $"the file's architecture is '{header.GetMetadata(CanonicalWeights.Keys.Architecture)}', not {DetectorWeights.Architecture} (a classifier is declared with [MobileNet])");
                        return Fail();
                    }
                    var invalid = DetectorWeights.ValidateDetector(header);
                    if (invalid.Count > 0)
                    {
                        string list = string.Join("; ", invalid.GetRange(0, Math.Min(3, invalid.Count)));
                        if (invalid.Count > 3) list += $"; and {invalid.Count - 3} more";
                        Problem(DiagnosticDescriptors.ShapeMismatch, name, "SSD detector", list);
                        return Fail();
                    }
                    var network = DetectorWeights.DetectorOf(header);
                    string[] labels = DetectorWeights.LabelsOf(header, network);
                    ct.ThrowIfCancellationRequested();
                    var origin = new WeightsOrigin(description.Resource, description.Length, header.HeaderLength, null);
                    return new DetectorPlanResult(request, Build(request, header, network, labels, origin), EquatableArray<DiagnosticInfo>.Empty);
                }
                catch (OperationCanceledException) { throw; }
                catch (WeightsFormatException e)
                {
                    Problem(DiagnosticDescriptors.ShapeMismatch, name, "SSD detector", e.Message);
                    return Fail();
                }
                catch (Exception e)
                {
                    Problem(DiagnosticDescriptors.InternalError, request.ClassName, e.GetType().Name + ": " + e.Message);
                    return Fail();
                }
            }

            private static DetectorPlan Build(DetectorRequest request, ITensorDirectory header, DetectorNetwork net, string[] labels, WeightsOrigin origin)
            {
                var heads = new Dictionary<string, DetectorHead>(StringComparer.Ordinal);
                foreach (var h in net.Heads) heads[h.Feature] = h;
                var steps = new List<DetectorStep>();
                var tables = new List<HeadTable>();
                long packed = 0;
                long chainBytes = 0, predictorBytes = 0, im2colBytes = 0;
                var current = DetectorBuffer.Image;
                string? previous = null;
                long parameters = 0;

                LayerWeights Pack(DetectorLayer l, Packing packing, long weightBytes, long biasBytes)
                {
                    var kernel = header.FindEntry(l.WeightTensor) ?? throw new WeightsFormatException($"tensor '{l.WeightTensor}' is missing");
                    var bias = header.FindEntry(l.BiasTensor) ?? throw new WeightsFormatException($"tensor '{l.BiasTensor}' is missing");
                    parameters += kernel.ElementCount + bias.ElementCount;
                    long kernelAt = packed, biasAt = packed + weightBytes;
                    packed = biasAt + biasBytes;
                    return new LayerWeights(packing, TensorSlice.From(kernel), null, null, null, TensorSlice.From(bias), kernelAt, biasAt);
                }

                QuantizedLayerPlan Quant(DetectorLayer l)
                {
                    var q = l.Quantization;
                    double real = QuantizationMath.GetQuantizedConvolutionMultiplier(q.Input.Scale, q.Weight.Scale, q.Output.Scale);
                    var (multiplier, shift) = QuantizationMath.QuantizeMultiplier(real);
                    var (min, max) = QuantizationMath.CalculateActivationRangeUint8(q.Activation, q.Output.Scale, q.Output.ZeroPoint);
                    return new QuantizedLayerPlan(q.Input.ZeroPoint, q.Weight.ZeroPoint, q.Output.ZeroPoint, multiplier, shift, min, max, real,
                        q.Activation == QuantizedActivation.Relu6 ? "ReLU6" : "none");
                }

                DetectorStep Conv(DetectorStepKind kind, DetectorLayer l, DetectorBuffer from, DetectorBuffer to, ThreadSplit split, LayerWeights? w,
                    int inC, int paddedOutC, long macs) =>
                    new DetectorStep(kind, l.Name, MethodOf(l.Name) + (kind == DetectorStepKind.Im2Col ? "_im2col" : ""), l.Role.ToString(),
                        l.InH, l.InW, inC, l.OutH, l.OutW, l.OutC, paddedOutC, l.Stride, l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, macs,
                        from, to, split, Quant(l), w, -1, false, 0, 0, 0);

                foreach (var l in net.Layers)
                {
                    if (l.Role == DetectorLayerRole.BoxPredictor || l.Role == DetectorLayerRole.ClassPredictor) continue; // run with their head
                    if (!(previous == null ? l.Input == DetectorWeights.ImageInput : l.Input == previous))
                        throw new WeightsFormatException($"layer '{l.Name}' reads '{l.Input}': only a chain of backbone and extra layers is supported (it should read '{previous ?? DetectorWeights.ImageInput}')");
                    var to = current == DetectorBuffer.A ? DetectorBuffer.B : DetectorBuffer.A;
                    chainBytes = Math.Max(chainBytes, (long)l.OutH * l.OutW * l.OutC);
                    switch (l.Kind)
                    {
                        case DetectorLayerKind.Conv3x3 when l.InC == 3:
                            steps.Add(Conv(DetectorStepKind.Stem, l, current, to, ThreadSplit.OutputRows,
                                Pack(l, Packing.QuantizedStem, KernelContract.QuantizedStemWeightBytes(l.OutC), KernelContract.QuantizedStemBiasBytes(l.OutC)), l.InC, l.OutC, l.Macs));
                            break;
                        case DetectorLayerKind.Conv3x3:
                        {
                            // im2col rows of 9·C bytes, then the pointwise GEMM on them (the HWIO kernel is the [9·C][Cout] matrix).
                            int k = 9 * l.InC;
                            im2colBytes = Math.Max(im2colBytes, (long)l.OutH * l.OutW * k);
                            var w = Pack(l, Packing.QuantizedPointwise, KernelContract.QuantizedPointwiseWeightBytes(k, l.OutC), KernelContract.QuantizedPointwiseBiasBytes(l.OutC));
                            steps.Add(Conv(DetectorStepKind.Im2Col, l, current, DetectorBuffer.Im2Col, ThreadSplit.OutputRows, null, l.InC, l.OutC, 0));
                            steps.Add(Conv(DetectorStepKind.Conv3x3Gemm, l, DetectorBuffer.Im2Col, to, PixelsOrPanels(l.OutH * l.OutW, l.OutC), w, k, l.OutC, l.Macs));
                            break;
                        }
                        case DetectorLayerKind.Depthwise3x3:
                            steps.Add(Conv(DetectorStepKind.Depthwise, l, current, to, ThreadSplit.OutputRows,
                                Pack(l, Packing.QuantizedDepthwise, KernelContract.QuantizedDepthwiseWeightBytes(l.OutC), KernelContract.QuantizedDepthwiseBiasBytes(l.OutC)), l.InC, l.OutC, l.Macs));
                            break;
                        default:
                            steps.Add(Conv(DetectorStepKind.Pointwise, l, current, to, PixelsOrPanels(l.OutH * l.OutW, l.OutC),
                                Pack(l, Packing.QuantizedPointwise, KernelContract.QuantizedPointwiseWeightBytes(l.InC, l.OutC), KernelContract.QuantizedPointwiseBiasBytes(l.OutC)), l.InC, l.OutC, l.Macs));
                            break;
                    }
                    current = to;
                    previous = l.Name;
                    if (!heads.TryGetValue(l.Name, out var head)) continue;
                    // The head on this feature map, now, while the map is in `current`.
                    foreach (bool boxes in new[] { true, false })
                    {
                        var p = net.Layer(boxes ? head.Box : head.Class);
                        if (p.Kind != DetectorLayerKind.Pointwise || p.Input != l.Name || p.Stride != 1)
                            throw new WeightsFormatException($"predictor '{p.Name}' must be a stride-1 1×1 convolution of '{l.Name}'");
                        int padded = KernelContract.QuantizedLogitsPaddedClasses(p.OutC);
                        int pixels = p.OutH * p.OutW;
                        predictorBytes = Math.Max(predictorBytes, (long)pixels * padded);
                        var w = Pack(p, Packing.QuantizedLogits, KernelContract.QuantizedLogitsWeightBytes(p.InC, p.OutC), KernelContract.QuantizedLogitsBiasBytes(p.OutC));
                        steps.Add(Conv(DetectorStepKind.Predictor, p, current, DetectorBuffer.Predictor, ThreadSplit.PixelTiles, w, p.InC, padded, p.Macs));
                        int columns = boxes ? 4 : net.Classes;
                        tables.Add(new HeadTable(p.Name, p.Quantization.Output.Scale, p.Quantization.Output.ZeroPoint, boxes));
                        steps.Add(new DetectorStep(DetectorStepKind.Concatenate, p.Name, MethodOf(p.Name) + "_concatenate", p.Role.ToString(),
                            p.OutH, p.OutW, p.OutC, p.OutH, p.OutW, p.OutC, padded, 1, 0, 0, 0, 0, 0,
                            DetectorBuffer.Predictor, boxes ? DetectorBuffer.Boxes : DetectorBuffer.Classes, ThreadSplit.None, null, null,
                            tables.Count - 1, boxes, (long)head.RowOffset * columns, pixels, p.OutC));
                    }
                }
                int anchors = net.Anchors.Count;
                steps.Add(new DetectorStep(DetectorStepKind.Logistic, "logistic", "Logistic", "Postprocess", 1, anchors, net.Classes, 1, anchors, net.Classes,
                    net.Classes, 1, 0, 0, 0, 0, 0, DetectorBuffer.Classes, DetectorBuffer.Scores, ThreadSplit.None, null, null, -1, false, 0, anchors, net.Classes));

                // The anchors are copied into the packed block: they are read at construction, after the file is closed.
                var anchorsEntry = header.FindEntry(DetectorWeights.AnchorsTensor) ?? throw new WeightsFormatException("tensor 'anchors' is missing");
                long anchorsAt = packed;
                packed += KernelContract.AlignBytes(anchorsEntry.ElementCount);

                // Workspace: chain A, chain B, predictor scratch, im2col scratch, boxes, classes, scores (each 64-byte aligned).
                long offset = 0;
                long Region(long bytes) { long at = offset; offset += KernelContract.AlignBytes(Math.Max(bytes, 1)); return at; }
                long a = Region(chainBytes), b = Region(chainBytes), pr = Region(predictorBytes), im = Region(im2colBytes);
                long bx = Region((long)anchors * 4), cl = Region((long)anchors * net.Classes), sc = Region((long)anchors * net.Classes);

                var pp = net.Postprocess;
                var postprocess = new PostprocessPlan(pp.MaxDetections, pp.MaxClassesPerDetection, pp.DetectionsPerClass, pp.UseRegularNms,
                    pp.NmsScoreThreshold, pp.NmsIouThreshold, pp.NumClasses, pp.YScale, pp.XScale, pp.HScale, pp.WScale);
                double alpha = double.TryParse(header.GetMetadata(CanonicalWeights.Keys.Alpha), System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out double al) ? al : 0;
                // With several threads the calling thread runs a step whole when it is too small to split (KernelContract.
                // MinSplitMacs): the reshapes and the logistic always, an im2col when its GEMM is.
                for (int n = steps.Count - 1; n >= 0; n--)
                {
                    var s = steps[n];
                    bool whole = s.Split == ThreadSplit.None
                        || (s.Kind == DetectorStepKind.Im2Col ? n + 1 < steps.Count && steps[n + 1].Whole : !KernelContract.SplitsAcrossThreads(s.Macs, s.Kind == DetectorStepKind.Depthwise));
                    steps[n] = s with { Whole = whole };
                }

                return new DetectorPlan(request,
                    request.WeightsName, header.GetMetadata(CanonicalWeights.Keys.Variant) ?? "", alpha,
                    header.GetMetadata(CanonicalWeights.Keys.Source) ?? "", header.GetMetadata(CanonicalWeights.Keys.SourceSha256) ?? "",
                    net.Macs, parameters, origin.FileLength,
                    net.InputShape[0], net.InputShape[1], net.Classes, anchors,
                    net.Input.Scale, net.Input.ZeroPoint, net.BoxConcat.Output.Scale, net.BoxConcat.Output.ZeroPoint,
                    net.ClassConcat.Output.Scale, net.ClassConcat.Output.ZeroPoint,
                    net.Logistic.Input.Scale, net.Logistic.Input.ZeroPoint, net.Logistic.Output.Scale, net.Logistic.Output.ZeroPoint,
                    net.Anchors.Quantization.Scale, net.Anchors.Quantization.ZeroPoint,
                    new EquatableArray<DetectorStep>(steps.ToArray()), new EquatableArray<HeadTable>(tables.ToArray()),
                    a, b, pr, im, bx, cl, sc, offset, anchorsAt, TensorSlice.From(anchorsEntry), packed, origin,
                    postprocess, new EquatableArray<string>(labels));
            }

            private static ThreadSplit PixelsOrPanels(int pixels, int outC) => pixels >= outC ? ThreadSplit.PixelTiles : ThreadSplit.WeightPanels;

            /// <summary>A C# method name for a layer: <c>block11.pointwise</c> → <c>Block11_Pointwise</c>.</summary>
            internal static string MethodOf(string layer)
            {
                var sb = new System.Text.StringBuilder(layer.Length);
                bool upper = true;
                foreach (char c in layer)
                {
                    if (c == '.' || c == '_') { sb.Append('_'); upper = true; continue; }
                    sb.Append(upper ? char.ToUpperInvariant(c) : c);
                    upper = false;
                }
                return sb.ToString();
            }
        }
    }
}
