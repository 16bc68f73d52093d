using System.Linq;
using System.Collections.Generic;
using MobileNetGen.Generator.Model;
using MobileNetGen.Model;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        internal static partial class Emitter
        {
            /// <summary>The classifier: its facts, constructor, <c>Forward</c>, the schedules as switches, one method per layer and fused pair.</summary>
            public static string EmitClassifier(NetworkPlan plan, BuildSettings settings)
            {
                var m = plan.Model;
                var r = plan.Request;
                var w = new SourceWriter();
                WriteFileStart(w, plan, "the network");
                w.Line($"/// <summary>MobileNet v1 {m.Variant} image classifier ({m.NumClasses} classes), generated at build time with its weights embedded.</summary>");
                w.Line("/// <remarks>");
                w.Line($"/// Width α = {m.AlphaText}, input {m.Resolution}×{m.Resolution}×3 (NHWC, RGB in [−1, 1]), {Group(m.Macs)} multiply-accumulates and");
                w.Line($"/// {Group(m.Parameters)} parameters per image. Weights: {Xml(CanonicalWeights.DescribeKind(m.WeightsKind))}, from <c>{Xml(m.Source)}</c>.");
                if (m.Provenance.Length > 0) w.Line($"/// {Xml(m.Provenance)}");
                w.Line("/// An instance is not thread-safe (it owns its workspace); instances share the weights.");
                w.Line("/// </remarks>");
                w.Line($"[GeneratedCode(\"MobileNetGen.Generator\", \"{Version}\")]");
                bool integer = plan.Precision == Precision.UInt8;
                w.Line($"unsafe partial class {r.ClassName} : {RuntimeAlias}.{(integer ? "QuantizedMobileNetClassifier" : "MobileNetClassifier")}");
                w.Open();
                WriteModelInfo(w, plan);
                WriteLabels(w, plan, settings);
                WriteDefaultThreads(w, settings);
                if (integer)
                {
                    WriteQuantizedNetwork(w, plan);
                    w.Close();
                    WriteFileEnd(w, plan);
                    return w.ToString();
                }
                WriteConstruction(w, plan);
                WriteForward(w, plan);
                WriteSchedule(w, plan, plan.Layered, "RunLayer", "layer",
                    "Part <paramref name=\"part\"/> of <paramref name=\"parts\"/> of convolution layer <paramref name=\"layer\"/>.");
                if (plan.OneThread != null)
                {
                    w.Line();
                    WriteSchedule(w, plan, plan.OneThread, "RunStep", "step",
                        "Step <paramref name=\"step\"/> of the network on one thread (<paramref name=\"parts\"/> is 1): a layer, or a fused pair.");
                }
                foreach (var l in plan.Layers)
                {
                    w.Line();
                    WriteLayer(w, l);
                }
                if (plan.OneThread != null)
                    foreach (var step in plan.OneThread.Steps)
                    {
                        if (step.Second is not int second) continue;
                        w.Line();
                        WriteFused(w, plan.Layers[step.Layer], plan.Layers[second], step.Band!);
                    }
                w.Close();
                WriteFileEnd(w, plan);
                return w.ToString();
            }

            private static void WriteModelInfo(SourceWriter w, NetworkPlan plan)
            {
                var m = plan.Model;
                w.Line("/// <summary>Build-time facts about this model.</summary>");
                w.Line($"public static {RuntimeAlias}.MobileNetModelInfo ModelInfo {{ get; }} = new {RuntimeAlias}.MobileNetModelInfo(");
                w.Indent();
                w.Line($"Name: {Str(m.EntryName)}, Variant: {Str(m.Variant)}, Alpha: {m.AlphaText}, Resolution: {m.Resolution},");
                w.Line($"NumClasses: {m.NumClasses}, BackgroundClass: {Bool(m.BackgroundClass)}, Weights: {RuntimeAlias}.WeightsKind.{WeightsEnum(m.WeightsKind)},");
                w.Line($"Source: {Str(m.Source)}, SourceSha256: {Str(m.SourceSha256)},");
                w.Line($"Macs: {m.Macs}, Parameters: {m.Parameters}, FeatureSize: {m.FeatureSize}, WeightBytes: {m.WeightBytes},");
                w.Line($"ImageNetLabels: {Bool(m.ImageNetLabels)}, WeightsResource: {(plan.Origin.Resource is string res ? Str(res) : "null")});");
                w.Dedent();
                w.Line();
            }

            private static void WriteLabels(SourceWriter w, NetworkPlan plan, BuildSettings settings)
            {
                var m = plan.Model;
                if (m.Labels.Count > 0 && settings.IncludeLabels)
                {
                    w.Line("/// <summary>The custom head's labels, in output order (weights metadata <c>labels_json</c>).</summary>");
                    w.Line("private static readonly string[] s_labels =");
                    w.Open();
                    foreach (var label in m.Labels) w.Line($"{Str(label)},");
                    w.Close("};");
                    w.Line();
                    w.Line("/// <summary>The custom head's labels, in output order.</summary>");
                    w.Line("public static global::System.Collections.Generic.IReadOnlyList<string> Labels => s_labels;");
                    w.Line();
                    w.Line("/// <inheritdoc/>");
                    w.Line("public override string LabelOf(int outputIndex) =>");
                    w.Line("    (uint)outputIndex < (uint)s_labels.Length ? s_labels[outputIndex] : base.LabelOf(outputIndex);");
                    w.Line();
                }
                else if (!settings.IncludeLabels)
                {
                    w.Line("/// <summary>MSBuild <c>MobileNetIncludeLabels</c> = false: no label text in this class; every output is \"class N\".</summary>");
                    w.Line("public override string LabelOf(int outputIndex) => NumberedLabel(outputIndex);");
                    w.Line();
                }
            }

            private static void WriteDefaultThreads(SourceWriter w, BuildSettings settings)
            {
                bool auto = settings.DefaultThreads == BuildSettings.AutoThreads;
                w.Line($"/// <summary>Threads per inference when <see cref=\"{RuntimeAlias}.MobileNetOptions.Threads\"/> is 0 (MSBuild <c>MobileNetThreads</c>{(auto ? " = auto: one per processor" : "")}).</summary>");
                if (auto)
                    w.Line($"public static int DefaultThreads => global::System.Math.Min(global::System.Environment.ProcessorCount, {KernelsAlias}.LayerRunner.MaxThreads);");
                else
                    w.Line($"public const int DefaultThreads = {settings.DefaultThreads};");
                w.Line();
            }

            private static void WriteConstruction(SourceWriter w, NetworkPlan plan)
            {
                w.Line($"/// <summary>Largest activation between two layers{(plan.OneThread != null ? " (or fused pair's output and band)" : "")}, in floats: sizes each ping-pong buffer of the workspace.</summary>");
                w.Line($"private const long ActivationElements = {plan.ActivationFloats};");
                w.Line();
                w.Line($"/// <summary>Creates a classifier with its own workspace ({Int(plan.ActivationFloats * 2 * 4 / 1024)} KiB of activations).</summary>");
                w.Line($"public {plan.Request.ClassName}() : this(null) {{ }}");
                w.Line();
                w.Line("/// <summary>Creates a classifier with its own workspace; <paramref name=\"options\"/> chooses the SIMD path, threads and resize.</summary>");
                w.Line($"public {plan.Request.ClassName}({RuntimeAlias}.MobileNetOptions? options) : base(ModelInfo, ActivationElements, options, DefaultThreads) {{ }}");
                w.Line();
            }

            /// <summary>Forward: the convolutions through the runner (one schedule per thread count), then the head on this thread.</summary>
            private static void WriteForward(SourceWriter w, NetworkPlan plan)
            {
                var layered = plan.Layered;
                int convs = layered.Steps.Count;
                w.Line("/// <inheritdoc/>");
                w.Line($"protected override void Forward(float* input, float* logits, float* embeddings, float* bufferA, float* bufferB, {RuntimeAlias}.SimdPath path, {KernelsAlias}.LayerRunner runner)");
                w.Open();
                string features = BufferName(layered.Result);
                string split = $"layers 0-{convs - 1}, the large ones split across runner.Threads, the runs of small ones on this thread ({WholeLayersName})";
                if (layered.AllWhole)
                {
                    var steps = plan.OneThread ?? layered;
                    string name = plan.OneThread != null ? "RunStep" : "RunLayer";
                    w.Line(AllWholeComment);
                    w.Line($"runner.RunHere(&{name}, {steps.Steps.Count}, input, bufferA, bufferB, path); // layers 0-{convs - 1} on this thread{(plan.OneThread != null ? $" in {steps.Steps.Count} steps, fused pairs as one" : "")}");
                    features = BufferName(steps.Result);
                }
                else if (plan.OneThread is Schedule one)
                {
                    features = "features";
                    w.Line("float* features;");
                    w.Line("if (runner.TakeAlone()) // one thread, or several when the caller alone has lately been the faster");
                    w.Open();
                    w.Line($"runner.RunHere(&RunStep, {one.Steps.Count}, input, bufferA, bufferB, path); // one thread: layers 0-{convs - 1} in {one.Steps.Count} steps, fused pairs as one");
                    w.Line($"features = {BufferName(one.Result)};");
                    w.Close();
                    w.Line("else");
                    w.Open();
                    w.Line($"runner.Run(&RunLayer, {convs}, {WholeLayersName}, input, bufferA, bufferB, path); // {split}");
                    w.Line($"features = {BufferName(layered.Result)};");
                    w.Close();
                }
                else
                    w.Line($"runner.Run(&RunLayer, {convs}, {WholeLayersName}, input, bufferA, bufferB, path); // {split}");
                w.Line("float* w = Weights.Data;");
                w.Line($"{plan.Layers[plan.PoolLayer].MethodName}(path, {features}, embeddings);");
                w.Line("runner.Lap(); // the head's steps, for Profile (nothing otherwise)");
                w.Line($"{plan.Layers[plan.LogitsLayer].MethodName}(path, embeddings, logits, w);");
                w.Line("runner.Lap();");
                w.Close();
                w.Line();
                WriteSteps(w, plan);
            }

            /// <summary>
            /// The schedules as data (<c>MobileNetClassifier.Steps</c>, <c>Profile</c>): one entry per step the runner times,
            /// the head's two included, with its MACs and the bytes it must move at the least.
            /// </summary>
            private static void WriteSteps(SourceWriter w, NetworkPlan plan)
            {
                int bytesPerValue = plan.Precision == Precision.UInt8 ? 1 : 4; // activations and weights: uint8 or float32
                long WeightBytes(LayerPlan l) => l.Weights is LayerWeights lw ? (lw.Kernel.Elements + lw.Bias.Elements) * bytesPerValue : 0;
                long InBytes(LayerPlan l) => (long)l.InH * l.InW * l.InC * bytesPerValue;
                string StepLine(Step s)
                {
                    var l = plan.Layers[s.Layer];
                    if (s.Second is int second)
                    {
                        var d = plan.Layers[second];
                        return $"new({Str(l.SlimName + " + " + d.SlimName)}, {Str("pointwise 1×1 + depthwise 3×3/" + d.Stride + ", fused")}, {Str($"{l.InH}x{l.InW}x{l.InC} -> {d.OutH}x{d.OutW}x{d.OutC}")}, " +
                               $"Macs: {l.Macs + d.Macs}, BytesMoved: {InBytes(l) + d.OutElements * bytesPerValue + WeightBytes(l) + WeightBytes(d)}),";
                    }
                    return LayerLine(l);
                }
                string LayerLine(LayerPlan l) =>
                    $"new({Str(l.SlimName)}, {Str(StepKind(l))}, {Str($"{l.InH}x{l.InW}x{l.InC} -> {l.OutH}x{l.OutW}x{l.OutC}")}, " +
                    $"Macs: {l.Macs}, BytesMoved: {InBytes(l) + l.OutElements * bytesPerValue + WeightBytes(l)}),";
                void Table(string name, Schedule schedule, string summary)
                {
                    w.Line($"/// <summary>{summary}</summary>");
                    w.Line($"private static readonly {RuntimeAlias}.NetworkStep[] {name} =");
                    w.Open();
                    foreach (var s in schedule.Steps) w.Line(StepLine(s));
                    w.Line(LayerLine(plan.Layers[plan.PoolLayer]));
                    w.Line(LayerLine(plan.Layers[plan.LogitsLayer]));
                    w.Close("};");
                    w.Line();
                }
                w.Line("/// <inheritdoc/>");
                w.Line(plan.OneThread == null
                    ? $"protected override global::System.Collections.Generic.IReadOnlyList<{RuntimeAlias}.NetworkStep> ScheduleSteps(int threads) => LayeredSteps;"
                    : plan.Layered.AllWhole
                        ? $"protected override global::System.Collections.Generic.IReadOnlyList<{RuntimeAlias}.NetworkStep> ScheduleSteps(int threads) => OneThreadSteps; // on any thread count"
                        : $"protected override global::System.Collections.Generic.IReadOnlyList<{RuntimeAlias}.NetworkStep> ScheduleSteps(int threads) => threads == 1 ? OneThreadSteps : LayeredSteps;");
                w.Line();
                Table("LayeredSteps", plan.Layered, "The steps when several threads share each layer (and with one thread when nothing fuses).");
                if (!plan.Layered.AllWhole) WriteWholeLayers(w, plan.Layered, plan);
                if (plan.OneThread != null) Table("OneThreadSteps", plan.OneThread, "The steps on one thread: the fused pairs as one step each.");
            }

            private const string WholeLayersName = "WholeLayers";

            /// <summary>The layers the calling thread runs whole when several threads share an inference (the planner's
            /// <see cref="Step.Whole"/>), one line per layer with its MACs.</summary>
            private static void WriteWholeLayers(SourceWriter w, Schedule layered, NetworkPlan plan) =>
                WriteWholeTable(w, WholeLayersName, new[]
                {
                    $"/// <summary>With several threads, which layers this thread runs whole: below KernelContract.MinSplitMacs = {Group(KernelContract.MinSplitMacs)} MACs (a depthwise MAC counts {KernelContract.DepthwiseCostPerMac}) a",
                    "/// split costs more (a barrier, activations moving between cores) than it saves; a run of them has no barrier inside.</summary>",
                }, layered.Steps.Select(s => (s.Whole, $"{plan.Layers[s.Layer].SlimName}, {Group(plan.Layers[s.Layer].Macs)} MACs")));

            private static string StepKind(LayerPlan l) => l.Kind switch
            {
                LayerKind.Conv3x3 => $"conv 3×3/{l.Stride}",
                LayerKind.Depthwise3x3 => $"depthwise 3×3/{l.Stride}",
                LayerKind.Pointwise => "pointwise 1×1",
                LayerKind.GlobalAveragePool => "average pool",
                _ => "logits",
            };

            /// <summary>A <c>Run…(int n, part, parts, input, bufferA, bufferB, path)</c> method: a switch of one call per step.</summary>
            private static void WriteSchedule(SourceWriter w, NetworkPlan plan, Schedule schedule, string name, string parameter, string summary)
            {
                w.Line($"/// <summary>{summary}</summary>");
                w.Line($"private static void {name}(int {parameter}, int part, int parts, float* input, float* bufferA, float* bufferB, {RuntimeAlias}.SimdPath path)");
                w.Open();
                w.Line("float* w = Weights.Data;");
                w.Line($"switch ({parameter})");
                w.Open();
                for (int n = 0; n < schedule.Steps.Count; n++)
                {
                    var s = schedule.Steps[n];
                    var l = plan.Layers[s.Layer];
                    string call = s.Second is int second
                        ? $"{FusedMethodName(l, plan.Layers[second])}(path, {BufferName(s.From)}, {BufferName(s.To)}, w)"
                        : $"{l.MethodName}(path, {BufferName(s.From)}, {BufferName(s.To)}, w, part, parts)";
                    w.Line($"case {n}: {call}; break;");
                }
                w.Close();
                w.Close();
            }

            private static void WriteLayer(SourceWriter w, LayerPlan l)
            {
                string what = l.Kind switch
                {
                    LayerKind.Conv3x3 => $"conv 3×3/{l.Stride} + BatchNorm + ReLU6",
                    LayerKind.Depthwise3x3 => $"depthwise 3×3/{l.Stride} + BatchNorm + ReLU6",
                    LayerKind.Pointwise => "pointwise 1×1 + BatchNorm + ReLU6",
                    LayerKind.GlobalAveragePool => "global average pool → embeddings",
                    _ => "logits 1×1 + bias",
                };
                w.Line($"// Layer {l.Index}: {l.SlimName} ({l.Name}), {what}");
                w.Line($"//   {l.InH}x{l.InW}x{l.InC} -> {l.OutH}x{l.OutW}x{l.OutC}, {Group(l.Macs)} MACs, {Group(l.Parameters)} parameters");
                if (l.Kind == LayerKind.Conv3x3 || l.Kind == LayerKind.Depthwise3x3)
                    w.Line($"//   TensorFlow SAME padding: top {l.PadTop}, bottom {l.PadBottom}, left {l.PadLeft}, right {l.PadRight}");
                if (l.Weights is LayerWeights weights)
                    w.Line($"//   weights: {Group(weights.Kernel.Elements)} floats at {weights.KernelAt}, {PackingText(weights)}; bias at {weights.BiasAt}");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                string signature = $"private static void {l.MethodName}({RuntimeAlias}.SimdPath path, float* input, float* output, float* w, int part, int parts)";
                switch (l.Kind)
                {
                    case LayerKind.Conv3x3:
                    case LayerKind.Depthwise3x3:
                    {
                        var lw = l.Weights!;
                        bool stem = l.Kind == LayerKind.Conv3x3;
                        w.Line(signature);
                        w.Open();
                        w.Line($"{KernelsAlias}.Partition.Split({l.OutH}, {KernelContract.RowGrain}, part, parts, out int row0, out int row1); // threads share output rows");
                        w.Line($"{KernelsAlias}.{(stem ? "StemKernels" : "DepthwiseKernels")}.Run<{l.MethodName}_Shape>(path, input, output, w + {lw.KernelAt}, w + {lw.BiasAt}, rowStart: row0, rowEnd: row1);");
                        w.Close();
                        w.Line();
                        if (stem)
                            WriteShape(w, l.MethodName, "IStemShape", ("InH", l.InH), ("InW", l.InW), ("OutH", l.OutH), ("OutW", l.OutW),
                                ("Cout", l.OutC), ("Stride", l.Stride), ("PadTop", l.PadTop), ("PadLeft", l.PadLeft));
                        else
                            WriteShape(w, l.MethodName, "IDepthwiseShape", ("InH", l.InH), ("InW", l.InW), ("Channels", l.InC), ("OutH", l.OutH),
                                ("OutW", l.OutW), ("Stride", l.Stride), ("PadTop", l.PadTop), ("PadLeft", l.PadLeft));
                        break;
                    }
                    case LayerKind.Pointwise:
                    {
                        var lw = l.Weights!;
                        int panels = l.OutC / KernelContract.PanelWidth;
                        w.Line(signature);
                        w.Open();
                        if (l.Split == ThreadSplit.PixelTiles)
                        {
                            w.Line($"{KernelsAlias}.Partition.Split({l.OutPixels}, {KernelContract.PointwisePixelGrain}, part, parts, out int p0, out int p1); // threads share {KernelContract.PointwisePixelGrain}-pixel runs of whole tiles");
                            w.Line($"{KernelsAlias}.PointwiseKernels.Run(path, input + (long)p0 * {l.InC}, output + (long)p0 * {l.OutC}, w + {lw.KernelAt}, w + {lw.BiasAt},");
                            w.Line($"    pixels: p1 - p0, cin: {l.InC}, cout: {l.OutC}, panelStart: 0, panelEnd: {panels});");
                        }
                        else
                        {
                            w.Line($"{KernelsAlias}.Partition.Split({panels}, {KernelContract.PointwisePanelGrain}, part, parts, out int q0, out int q1); // threads share pairs of {KernelContract.PanelWidth}-channel weight panels");
                            w.Line($"{KernelsAlias}.PointwiseKernels.Run(path, input, output, w + {lw.KernelAt}, w + {lw.BiasAt},");
                            w.Line($"    pixels: {l.OutPixels}, cin: {l.InC}, cout: {l.OutC}, panelStart: q0, panelEnd: q1);");
                        }
                        w.Close();
                        break;
                    }
                    case LayerKind.GlobalAveragePool:
                        w.Line($"private static void {l.MethodName}({RuntimeAlias}.SimdPath path, float* input, float* embeddings) =>");
                        w.Line($"    {KernelsAlias}.HeadKernels.GlobalAveragePool(path, input, embeddings, pixels: {l.InH * l.InW}, channels: {l.InC});");
                        break;
                    default:
                    {
                        var lw = l.Weights!;
                        w.Line($"private static void {l.MethodName}({RuntimeAlias}.SimdPath path, float* embeddings, float* logits, float* w) =>");
                        w.Line($"    {KernelsAlias}.HeadKernels.Logits(path, embeddings, logits, w + {lw.KernelAt}, w + {lw.BiasAt}, channels: {l.InC}, classes: {l.OutC});");
                        break;
                    }
                }
            }

            private static string FusedMethodName(LayerPlan pw, LayerPlan dw) => pw.MethodName + "_then_" + dw.MethodName;

            /// <summary>A pointwise layer and the stride-2 depthwise layer it feeds, band by band (one thread).</summary>
            private static void WriteFused(SourceWriter w, LayerPlan pw, LayerPlan dw, FusedBand band)
            {
                var pww = pw.Weights!;
                var dww = dw.Weights!;
                w.Line($"// Layers {pw.Index} + {dw.Index} fused (one thread): {pw.SlimName} writes bands of {band.Rows} rows");
                w.Line($"//   ({Group(band.Floats * 4 / 1024)} KiB) that {dw.SlimName} reads while they are in cache, {band.OutRows} output rows a band, instead of");
                w.Line($"//   its whole {Group(pw.OutElements * 4 / 1024)} KiB output. Same kernels, same sums: bit-identical to the two layers.");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                w.Line($"private static void {FusedMethodName(pw, dw)}({RuntimeAlias}.SimdPath path, float* input, float* output, float* w) =>");
                w.Line($"    {KernelsAlias}.FusedKernels.PointwiseThenDepthwise<{dw.MethodName}_Shape>(path, input, output, band: output + {band.Offset}, outRowsPerBand: {band.OutRows},");
                w.Line($"        w + {pww.KernelAt}, w + {pww.BiasAt}, cin: {pw.InC}, w + {dww.KernelAt}, w + {dww.BiasAt});");
            }

            /// <summary>A layer's shape as a struct of constants, so that its kernel is compiled for exactly this layer.</summary>
            private static void WriteShape(SourceWriter w, string method, string shapeInterface, params (string Name, int Value)[] values)
            {
                w.Line($"/// <summary>{method}'s shape as constants: the kernel is compiled for exactly this layer.</summary>");
                w.Line($"private readonly struct {method}_Shape : {KernelsAlias}.{shapeInterface}");
                w.Open();
                foreach (var (name, value) in values) w.Line($"public static int {name} => {Int(value)};");
                w.Close();
            }

            private static string PackingText(LayerWeights lw)
            {
                string layout = lw.Packing switch
                {
                    Packing.StemHwio => "HWIO [3][3][3][Cout]",
                    Packing.DepthwiseTapMajor => "tap-major [9][C]",
                    Packing.PointwisePanels => $"panels of {KernelContract.PanelWidth} output channels [Cout/{KernelContract.PanelWidth}][Cin][{KernelContract.PanelWidth}]",
                    Packing.QuantizedStem => "the integer stem layout",
                    Packing.QuantizedDepthwise => "the integer depthwise layout",
                    Packing.QuantizedPointwise => $"the integer pointwise panels of {KernelContract.PanelWidth} output channels",
                    Packing.QuantizedLogits => "the integer logits layout",
                    _ => "[C][classes] as imported",
                };
                if (lw.Packing >= Packing.QuantizedStem) return $"packed in {layout}, zero points folded into the bias";
                string folded = lw.Scale != null ? ", BatchNorm scale folded" : "";
                string bits = lw.KernelMin != null ? "; 8-bit in the binary, dequantized (MIN_FIRST) when packed" : "";
                return $"packed {layout}{folded}{bits}";
            }

            private static string Bool(bool b) => b ? "true" : "false";

            private static string WeightsEnum(string kind) => kind switch
            {
                CanonicalWeights.Genuine8Bit => "Genuine8Bit",
                CanonicalWeights.GenuineUInt8 => "GenuineUInt8",
                CanonicalWeights.Synthetic => "Synthetic",
                _ => "GenuineFloat",
            };
        }
    }
}
