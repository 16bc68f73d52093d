using System.Linq;
using System.Collections.Generic;
using System.Globalization;
using MobileNetGen.Generator.Model;
using MobileNetGen.Model;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        internal static partial class Emitter
        {
            private const string DetectionAlias = RuntimeAlias + ".Detection";

            public static string DetectorHintName(DetectorRequest r, string suffix) => HintName(r.Namespace, r.ClassName, suffix);

            private static void WriteDetectorFileStart(SourceWriter w, DetectorPlan plan, string what) =>
                WriteFileStart(w, $"{what} of the SSD detector '{plan.EntryName}' (uint8, integer arithmetic)", CanonicalWeights.GenuineUInt8, plan.Source, plan.SourceSha256, plan.Request.Namespace);

            private static string Region(DetectorPlan p, DetectorBuffer b) => b switch
            {
                DetectorBuffer.Image => "image",
                DetectorBuffer.A => "ws + OffsetA",
                DetectorBuffer.B => "ws + OffsetB",
                DetectorBuffer.Predictor => "ws + OffsetPredictor",
                DetectorBuffer.Im2Col => "ws + OffsetIm2Col",
                DetectorBuffer.Boxes => "ws + OffsetBoxes",
                DetectorBuffer.Classes => "ws + OffsetClasses",
                _ => "ws + OffsetScores",
            };

            /// <summary>The detector: facts, quantization, options, labels, construction, the schedule and one method per step.</summary>
            public static string EmitDetector(DetectorPlan plan, BuildSettings settings)
            {
                var r = plan.Request;
                var w = new SourceWriter();
                WriteDetectorFileStart(w, plan, "the network");
                w.Line($"/// <summary>SSD MobileNet v1 object detector ({plan.Classes - 1} COCO classes), generated at build time with its weights embedded.</summary>");
                w.Line("/// <remarks>");
                w.Line($"/// Input {plan.InputW}×{plan.InputH}×3 uint8 (the whole frame resized, as TensorFlow Lite's Task Library does), {Group(plan.Macs)} multiply-accumulates,");
                w.Line($"/// {plan.Anchors} anchors, TFLite_Detection_PostProcess with class-agnostic fast NMS. Every uint8 output equals TFLite's reference kernels.");
                w.Line("/// An instance is not thread-safe (it owns its workspace); instances share the weights.");
                w.Line("/// </remarks>");
                w.Line($"[GeneratedCode(\"MobileNetGen.Generator\", \"{Version}\")]");
                w.Line($"unsafe partial class {r.ClassName} : {DetectionAlias}.MobileNetDetector");
                w.Open();
                w.Line("/// <summary>Build-time facts about this model.</summary>");
                w.Line($"public static {DetectionAlias}.DetectorModelInfo ModelInfo {{ get; }} = new {DetectionAlias}.DetectorModelInfo(");
                w.Line($"    Name: {Str(plan.EntryName)}, Variant: {Str(plan.Variant)}, Alpha: {plan.Alpha.ToString("R", CultureInfo.InvariantCulture)}, InputWidth: {plan.InputW}, InputHeight: {plan.InputH},");
                w.Line($"    Classes: {plan.Classes}, Anchors: {plan.Anchors}, Source: {Str(plan.Source)}, SourceSha256: {Str(plan.SourceSha256)},");
                w.Line($"    Macs: {plan.Macs}, Parameters: {plan.Parameters}, WeightBytes: {plan.WeightBytes}, WeightsResource: {(plan.Origin.Resource is string res ? Str(res) : "null")});");
                w.Line();
                w.Line("/// <summary>The quantization of the input and of the tensors post-processing reads (TFLite's numbers).</summary>");
                w.Line($"public static new {DetectionAlias}.DetectorQuantization Quantization {{ get; }} = new {DetectionAlias}.DetectorQuantization(");
                w.Line($"    Input: new({F(plan.InputScale)}, {plan.InputZeroPoint}), Boxes: new({F(plan.BoxScale)}, {plan.BoxZeroPoint}),");
                w.Line($"    Scores: new({F(plan.ScoreScale)}, {plan.ScoreZeroPoint}), Anchors: new({F(plan.AnchorScale)}, {plan.AnchorZeroPoint}));");
                w.Line();
                var pp = plan.Postprocess;
                w.Line("/// <summary>The post-processing options the model carries (TFLite_Detection_PostProcess's custom options).</summary>");
                w.Line($"public static new {DetectionAlias}.DetectionPostprocessOptions PostprocessOptions {{ get; }} = new()");
                w.Open();
                w.Line($"MaxDetections = {pp.MaxDetections}, MaxClassesPerDetection = {pp.MaxClassesPerDetection}, DetectionsPerClass = {pp.DetectionsPerClass},");
                w.Line($"UseRegularNms = {Bool(pp.UseRegularNms)}, NmsScoreThreshold = {F(pp.NmsScoreThreshold)}, NmsIouThreshold = {F(pp.NmsIouThreshold)}, NumClasses = {pp.NumClasses},");
                w.Line($"YScale = {F(pp.YScale)}, XScale = {F(pp.XScale)}, HScale = {F(pp.HScale)}, WScale = {F(pp.WScale)},");
                w.Close("};");
                w.Line();
                w.Line("/// <summary>The label of each class column (background first), from the weights file.</summary>");
                w.Line("private static readonly string[] s_labels =");
                w.Open();
                foreach (var label in plan.Labels) w.Line($"{Str(label)},");
                w.Close("};");
                w.Line();
                w.Line("/// <summary>The label of each class column, background first.</summary>");
                w.Line("public static global::System.Collections.Generic.IReadOnlyList<string> Labels => s_labels;");
                w.Line();
                WriteDefaultThreads(w, settings);
                w.Line("// The workspace: two chain buffers, the predictor and im2col scratch, the box, class and score tensors (bytes).");
                w.Line($"private const long OffsetA = {plan.OffsetA}, OffsetB = {plan.OffsetB}, OffsetPredictor = {plan.OffsetPredictor}, OffsetIm2Col = {plan.OffsetIm2Col};");
                w.Line($"private const long OffsetBoxes = {plan.OffsetBoxes}, OffsetClasses = {plan.OffsetClasses}, OffsetScores = {plan.OffsetScores}, NetworkBytes = {plan.WorkspaceBytes};");
                w.Line();
                w.Line($"/// <summary>Creates a detector with its own workspace ({Int(plan.WorkspaceBytes / 1024)} KiB).</summary>");
                w.Line($"public {r.ClassName}() : this(null) {{ }}");
                w.Line();
                w.Line("/// <summary>Creates a detector with its own workspace; <paramref name=\"options\"/> chooses the SIMD path and threads.</summary>");
                w.Line($"public {r.ClassName}({RuntimeAlias}.MobileNetOptions? options)");
                w.Line("    : base(ModelInfo, Quantization, PostprocessOptions, s_labels, NetworkBytes, OffsetBoxes, OffsetScores, options, DefaultThreads) { }");
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Line($"protected override global::System.ReadOnlySpan<byte> RawAnchors => new(Weights.For({QuantizedAlias}.QuantizedKernels.Resolve(SimdPath)) + {plan.AnchorsAt}, {plan.AnchorsTensor.Elements});");
                w.Line();
                w.Line("/// <inheritdoc/>");
                w.Line($"protected override void ForwardQuantized(byte* image, byte* ws, {RuntimeAlias}.SimdPath path, {KernelsAlias}.LayerRunner runner) =>");
                w.Line($"    runner.Run(&RunStep, {plan.Steps.Count}, WholeSteps, image, ws, null, path); // steps 0-{plan.Steps.Count - 1}, the large convolutions split across runner.Threads, the runs of small steps on this thread");
                w.Line();
                WriteWholeTable(w, "WholeSteps", new[]
                {
                    "/// <summary>With several threads, which steps this thread runs whole: the reshapes, the logistic and the convolutions below",
                    $"/// KernelContract.MinSplitMacs = {Group(KernelContract.MinSplitMacs)} MACs (a depthwise MAC counts {KernelContract.DepthwiseCostPerMac}; a split costs more than it saves); a run of them has no barrier inside.</summary>",
                }, plan.Steps.Select(s => (s.Whole, $"{s.Name} ({s.Kind}), {Group(s.Macs)} MACs")));
                WriteDetectorTables(w, plan);
                WriteDetectorSwitch(w, plan);
                WriteDetectorSteps(w, plan);
                foreach (var s in plan.Steps)
                {
                    w.Line();
                    WriteDetectorStep(w, plan, s);
                }
                w.Close();
                if (plan.Request.Namespace != null) w.Close();
                return w.ToString();
            }

            private static void WriteDetectorTables(SourceWriter w, DetectorPlan plan)
            {
                w.Line("// RESHAPE + CONCATENATION: each predictor's bytes requantized to the concatenation's quantization (ConcatenationWithScaling, tabulated).");
                for (int i = 0; i < plan.Tables.Count; i++)
                {
                    var t = plan.Tables[i];
                    w.Line($"private static readonly byte[] s_{DetectorPlanner.MethodOf(t.Name)}Table = {DetectionAlias}.QuantizedConcatenation.RequantizationTable(new({F(t.Scale)}, {t.ZeroPoint}), " +
                           $"new({F(t.Boxes ? plan.BoxScale : plan.ClassScale)}, {(t.Boxes ? plan.BoxZeroPoint : plan.ClassZeroPoint)}));");
                }
                w.Line("// LOGISTIC, uint8: TFLite's 256-entry table.");
                w.Line($"private static readonly byte[] s_logisticTable = new {DetectionAlias}.QuantizedLogistic(new({F(plan.LogisticInScale)}, {plan.LogisticInZeroPoint}), " +
                       $"new({F(plan.ScoreScale)}, {plan.ScoreZeroPoint})).Table.ToArray();");
                w.Line();
            }

            private static void WriteDetectorSwitch(SourceWriter w, DetectorPlan plan)
            {
                w.Line("/// <summary>Part <paramref name=\"part\"/> of <paramref name=\"parts\"/> of step <paramref name=\"step\"/> (one thread's share; the serial steps run in part 0).</summary>");
                w.Line($"private static void RunStep(int step, int part, int parts, byte* image, byte* ws, byte* unused, {RuntimeAlias}.SimdPath path)");
                w.Open();
                w.Line($"var isa = {QuantizedAlias}.QuantizedKernels.Resolve(path);");
                w.Line("byte* w = Weights.For(isa);");
                w.Line("switch (step)");
                w.Open();
                for (int n = 0; n < plan.Steps.Count; n++)
                {
                    var s = plan.Steps[n];
                    string call = s.Kind switch
                    {
                        DetectorStepKind.Concatenate => $"if (part == 0) {s.Method}({Region(plan, s.From)}, {Region(plan, s.To)} + {s.DestinationOffset})",
                        DetectorStepKind.Logistic => $"if (part == 0) {s.Method}({Region(plan, s.From)}, {Region(plan, s.To)})",
                        DetectorStepKind.Im2Col => $"{s.Method}({Region(plan, s.From)}, {Region(plan, s.To)}, part, parts)",
                        _ => $"{s.Method}(isa, {Region(plan, s.From)}, {Region(plan, s.To)}, w, part, parts)",
                    };
                    w.Line($"case {n}: {call}; break;");
                }
                w.Close();
                w.Close();
                w.Line();
            }

            private static void WriteDetectorSteps(SourceWriter w, DetectorPlan plan)
            {
                w.Line("/// <inheritdoc/>");
                w.Line($"protected override global::System.Collections.Generic.IReadOnlyList<{RuntimeAlias}.NetworkStep> ScheduleSteps() => s_steps;");
                w.Line();
                w.Line("/// <summary>The steps the runner times (the stage first in each kind: backbone, heads or post-processing).</summary>");
                w.Line($"private static readonly {RuntimeAlias}.NetworkStep[] s_steps =");
                w.Open();
                foreach (var s in plan.Steps)
                {
                    string stage = s.Role == "Backbone" || s.Role == "Extra" ? "backbone" : s.Kind == DetectorStepKind.Logistic ? "post-processing" : "heads";
                    string kind = $"{stage}: " + s.Kind switch
                    {
                        DetectorStepKind.Stem => $"conv 3×3/{s.Stride}",
                        DetectorStepKind.Depthwise => $"depthwise 3×3/{s.Stride}",
                        DetectorStepKind.Im2Col => "im2col for conv 3×3/" + s.Stride,
                        DetectorStepKind.Conv3x3Gemm => $"conv 3×3/{s.Stride} (GEMM)",
                        DetectorStepKind.Pointwise => "pointwise 1×1",
                        DetectorStepKind.Predictor => "predictor 1×1",
                        DetectorStepKind.Concatenate => "reshape + concatenation",
                        _ => "logistic",
                    };
                    long bytes = s.Kind switch
                    {
                        DetectorStepKind.Concatenate => 2L * s.Pixels * s.Channels,
                        DetectorStepKind.Logistic => 2L * s.Pixels * s.Channels,
                        DetectorStepKind.Im2Col => (long)s.InH * s.InW * s.InC + (long)s.OutH * s.OutW * 9 * s.InC,
                        _ => (long)s.InH * s.InW * s.InC + (long)s.OutH * s.OutW * s.PaddedOutC + (s.Weights is LayerWeights lw ? lw.Kernel.Elements + 4 * lw.Bias.Elements : 0),
                    };
                    string inShape = s.Kind == DetectorStepKind.Conv3x3Gemm ? $"{s.OutH}x{s.OutW}x{s.InC}" : $"{s.InH}x{s.InW}x{s.InC}";
                    w.Line($"new({Str(s.Name)}, {Str(kind)}, {Str($"{inShape} -> {s.OutH}x{s.OutW}x{s.OutC}")}, Macs: {s.Macs}, BytesMoved: {bytes}),");
                }
                w.Close("};");
            }

            private static void WriteDetectorStep(SourceWriter w, DetectorPlan plan, DetectorStep s)
            {
                var q = s.Quant;
                string isaParam = $"{QuantizedAlias}.QuantizedIsa isa";
                switch (s.Kind)
                {
                    case DetectorStepKind.Concatenate:
                        w.Line($"// {s.Name}: RESHAPE [{s.OutH},{s.OutW},{s.OutC}] -> [{s.Pixels * s.OutC / (s.Boxes ? 4 : plan.Classes)},{(s.Boxes ? 4 : plan.Classes)}], CONCATENATION into the {(s.Boxes ? "box encodings" : "class logits")} at byte {s.DestinationOffset}");
                        w.Line($"private static void {s.Method}(byte* predictor, byte* destination) =>");
                        w.Line($"    {QuantizedAlias}.QDetectorKernels.Concatenate(predictor, pixels: {s.Pixels}, paddedChannels: {s.PaddedOutC}, channels: {s.Channels}, s_{DetectorPlanner.MethodOf(s.Name)}Table, destination);");
                        return;
                    case DetectorStepKind.Logistic:
                        w.Line($"// LOGISTIC over the {plan.Anchors}×{plan.Classes} class logits → scores (scale 1/256)");
                        w.Line($"private static void {s.Method}(byte* classes, byte* scores) =>");
                        w.Line($"    {QuantizedAlias}.QDetectorKernels.Logistic(classes, scores, {(long)plan.Anchors * plan.Classes}, s_logisticTable);");
                        return;
                    case DetectorStepKind.Im2Col:
                        w.Line($"// {s.Name} (3×3/{s.Stride}, {s.InC} channels): windows as rows of 9·{s.InC} = {9 * s.InC} bytes for the GEMM; padding reads the input zero point");
                        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                        w.Line($"private static void {s.Method}(byte* input, byte* output, int part, int parts)");
                        w.Open();
                        w.Line($"{KernelsAlias}.Partition.Split({s.OutH}, {KernelContract.RowGrain}, part, parts, out int row0, out int row1);");
                        w.Line($"{QuantizedAlias}.QIm2ColKernels.Run<{s.Method}_Shape>(input, output, row0, row1);");
                        w.Close();
                        w.Line();
                        w.Line($"private readonly struct {s.Method}_Shape : {QuantizedAlias}.IQIm2ColShape");
                        w.Open();
                        foreach (var (n, v) in new[] { ("InH", s.InH), ("InW", s.InW), ("Channels", s.InC), ("OutH", s.OutH), ("OutW", s.OutW), ("Stride", s.Stride), ("PadTop", s.PadTop), ("PadLeft", s.PadLeft), ("InputZeroPoint", q!.InputZeroPoint) })
                            w.Line($"public static int {n} => {Int(v)};");
                        w.Close();
                        return;
                }
                string what = s.Kind switch
                {
                    DetectorStepKind.Stem => $"conv 3×3/{s.Stride}",
                    DetectorStepKind.Depthwise => $"depthwise 3×3/{s.Stride}",
                    DetectorStepKind.Predictor => $"predictor 1×1 ({s.OutC} channels, padded to {s.PaddedOutC})",
                    DetectorStepKind.Conv3x3Gemm => $"conv 3×3/{s.Stride} as a GEMM on its im2col rows",
                    _ => "pointwise 1×1",
                };
                var lw = s.Weights!;
                w.Line($"// {s.Name} ({s.Role}), uint8 {what}, activation {q!.Activation}");
                w.Line($"//   {s.InH}x{s.InW}x{(s.Kind == DetectorStepKind.Conv3x3Gemm ? s.InC / 9 : s.InC)} -> {s.OutH}x{s.OutW}x{s.OutC}, {Group(s.Macs)} MACs");
                if (s.Kind == DetectorStepKind.Stem || s.Kind == DetectorStepKind.Depthwise)
                    w.Line($"//   TensorFlow SAME padding: top {s.PadTop}, bottom {s.PadBottom}, left {s.PadLeft}, right {s.PadRight}");
                w.Line($"//   requantize: {q.RealMultiplier.ToString("R", CultureInfo.InvariantCulture)} = {q.Multiplier}·2^-31·2^{q.Shift}; clamp to [{q.ActivationMin}, {q.ActivationMax}]");
                w.Line($"//   weights: {Group(lw.Kernel.Elements)} uint8 at byte {lw.KernelAt}; int32 bias at byte {lw.BiasAt}");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                w.Line($"private static void {s.Method}({isaParam}, byte* input, byte* output, byte* w, int part, int parts)");
                w.Open();
                int pixels = s.OutH * s.OutW, panels = s.PaddedOutC / KernelContract.PanelWidth;
                switch (s.Kind)
                {
                    case DetectorStepKind.Stem:
                        w.Line($"{KernelsAlias}.Partition.Split({s.OutH}, {KernelContract.RowGrain}, part, parts, out int row0, out int row1);");
                        w.Line($"{QuantizedAlias}.QStemKernels.Run<{s.Method}_Shape>(isa, input, output, (short*)(w + {lw.KernelAt}), (int*)(w + {lw.BiasAt}), rowStart: row0, rowEnd: row1);");
                        break;
                    case DetectorStepKind.Depthwise:
                        w.Line($"{KernelsAlias}.Partition.Split({s.OutH}, {KernelContract.RowGrain}, part, parts, out int row0, out int row1);");
                        w.Line($"{QuantizedAlias}.QDepthwiseKernels.Run<{s.Method}_Shape>(isa, input, output, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}), rowStart: row0, rowEnd: row1);");
                        break;
                    default:
                        if (s.Split == ThreadSplit.WeightPanels)
                        {
                            w.Line($"{KernelsAlias}.Partition.Split({panels}, {KernelContract.PointwisePanelGrain}, part, parts, out int q0, out int q1);");
                            w.Line($"{QuantizedAlias}.QPointwiseKernels.Run<{s.Method}_Shape>(isa, input, output, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}), pixelStart: 0, pixelEnd: {pixels}, panelStart: q0, panelEnd: q1);");
                        }
                        else
                        {
                            w.Line($"{KernelsAlias}.Partition.Split({pixels}, {KernelContract.PointwisePixelGrain}, part, parts, out int p0, out int p1);");
                            w.Line($"{QuantizedAlias}.QPointwiseKernels.Run<{s.Method}_Shape>(isa, input, output, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}), pixelStart: p0, pixelEnd: p1, panelStart: 0, panelEnd: {panels});");
                        }
                        break;
                }
                w.Close();
                w.Line();
                w.Line($"/// <summary>{s.Method}'s shape and quantization as constants.</summary>");
                string iface = s.Kind switch { DetectorStepKind.Stem => "IQStemShape", DetectorStepKind.Depthwise => "IQDepthwiseShape", _ => "IQPointwiseShape" };
                w.Line($"private readonly struct {s.Method}_Shape : {QuantizedAlias}.{iface}");
                w.Open();
                var values = s.Kind switch
                {
                    DetectorStepKind.Stem => new[] { ("InH", s.InH), ("InW", s.InW), ("OutH", s.OutH), ("OutW", s.OutW), ("Cout", s.OutC), ("Stride", s.Stride), ("PadTop", s.PadTop), ("PadLeft", s.PadLeft) },
                    DetectorStepKind.Depthwise => new[] { ("InH", s.InH), ("InW", s.InW), ("Channels", s.InC), ("OutH", s.OutH), ("OutW", s.OutW), ("Stride", s.Stride), ("PadTop", s.PadTop), ("PadLeft", s.PadLeft) },
                    _ => new[] { ("Cin", s.InC), ("Cout", s.PaddedOutC) },
                };
                foreach (var (n, v) in values) w.Line($"public static int {n} => {Int(v)};");
                w.Line($"public static int InputZeroPoint => {q.InputZeroPoint};");
                w.Line($"public static int WeightZeroPoint => {q.WeightZeroPoint};");
                w.Line($"public static int OutputZeroPoint => {q.OutputZeroPoint};");
                w.Line($"public static int Multiplier => {q.Multiplier};");
                w.Line($"public static int Shift => {q.Shift};");
                w.Line($"public static int ActivationMin => {q.ActivationMin};");
                w.Line($"public static int ActivationMax => {q.ActivationMax};");
                w.Close();
            }

            /// <summary>The detector's weights: packed per layout family on first use, anchors copied beside them.</summary>
            public static string EmitDetectorWeights(DetectorPlan plan)
            {
                var o = plan.Origin;
                var w = new SourceWriter();
                WriteDetectorFileStart(w, plan, "the weights");
                w.Line($"unsafe partial class {plan.Request.ClassName}");
                w.Open();
                w.Line("/// <summary>");
                w.Line($"/// The packed weights: {Group(plan.PackedBytes)} bytes, each layer in the layout its integer kernel reads, zero points folded into the");
                w.Line($"/// int32 biases, and the {plan.Anchors} anchors; read from the embedded weights file (manifest resource <c>{Xml(o.Resource ?? "")}</c>) on first use.");
                w.Line("/// </summary>");
                w.Line("private static class Weights");
                w.Open();
                w.Line($"public const long PackedBytes = {plan.PackedBytes};");
                w.Line();
                WriteQuantizedLayouts(w);
                w.Open();
                w.Line($"using var file = {KernelsAlias}.WeightsFile.OpenResource(typeof({plan.Request.ClassName}).Assembly, {Str(o.Resource ?? "")}, length: {o.FileLength}, headerLength: {o.HeaderLength});");
                w.Line($"byte* w = {KernelsAlias}.PackedWeights.AllocateBytes(PackedBytes);");
                foreach (var s in plan.Steps)
                {
                    if (s.Weights is not LayerWeights lw) continue;
                    var q = s.Quant!;
                    w.Line();
                    w.Line($"// {s.Name}: {lw.Kernel.Name} U8 (zero point {q.WeightZeroPoint}) and {lw.Bias.Name} I32");
                    w.Line(QuantizedPackingCall(lw, q, s.InC, s.OutC));
                }
                w.Line();
                w.Line($"// anchors: U8 [{plan.Anchors},4] (y, x, h, w), read by the post-processing");
                w.Line($"global::System.Buffer.MemoryCopy(file.Bytes({plan.AnchorsTensor.Offset}, {plan.AnchorsTensor.Elements}), w + {plan.AnchorsAt}, {plan.AnchorsTensor.Elements}, {plan.AnchorsTensor.Elements});");
                w.Line("return w;");
                w.Close();
                w.Close();
                w.Close();
                if (plan.Request.Namespace != null) w.Close();
                return w.ToString();
            }
        }
    }
}
