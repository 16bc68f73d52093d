using System.Globalization;
using MobileNetGen.Generator.Model;
using MobileNetGen.Model;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        internal static partial class Emitter
        {
            private const string QuantizedAlias = KernelsAlias + ".Quantized";

            /// <summary>
            /// A uint8 network's members: its quantization, construction, <c>ForwardQuantized</c> (the convolutions through the
            /// runner, then the pool and the logits), the layer switch, and one method and shape struct of constants per layer.
            /// </summary>
            private static void WriteQuantizedNetwork(SourceWriter w, NetworkPlan plan)
            {
                var io = plan.Io!;
                var r = plan.Request;
                w.Line("/// <summary>The quantization of the input, the pooled features and the logits (TFLite's numbers, from the weights file).</summary>");
                w.Line($"public static new {RuntimeAlias}.QuantizationInfo Quantization {{ get; }} = new {RuntimeAlias}.QuantizationInfo(");
                w.Line($"    InputScale: {F(io.InputScale)}, InputZeroPoint: {io.InputZeroPoint}, FeatureScale: {F(io.FeatureScale)}, FeatureZeroPoint: {io.FeatureZeroPoint},");
                w.Line($"    LogitsScale: {F(io.LogitsScale)}, LogitsZeroPoint: {io.LogitsZeroPoint});");
                w.Line();
                w.Line("/// <summary>Largest activation between two layers, in bytes (uint8): sizes each ping-pong buffer of the workspace.</summary>");
                w.Line($"private const long ActivationBytes = {plan.ActivationBytes};");
                w.Line();
                w.Line($"/// <summary>Creates a classifier with its own workspace ({Int(plan.ActivationBytes * 2 / 1024)} KiB of uint8 activations).</summary>");
                w.Line($"public {r.ClassName}() : this(null) {{ }}");
                w.Line();
                w.Line("/// <summary>Creates a classifier with its own workspace; <paramref name=\"options\"/> chooses the SIMD path, threads and resize.</summary>");
                w.Line($"public {r.ClassName}({RuntimeAlias}.MobileNetOptions? options) : base(ModelInfo, Quantization, ActivationBytes, options, DefaultThreads) {{ }}");
                w.Line();

                var layered = plan.Layered;
                int convs = layered.Steps.Count;
                w.Line("/// <inheritdoc/>");
                w.Line($"protected override void ForwardQuantized(byte* input, byte* logits, byte* features, byte* bufferA, byte* bufferB, {RuntimeAlias}.SimdPath path, {KernelsAlias}.LayerRunner runner)");
                w.Open();
                if (layered.AllWhole)
                {
                    w.Line(AllWholeComment);
                    w.Line($"runner.RunHere(&RunLayer, {convs}, input, bufferA, bufferB, path); // layers 0-{convs - 1} on this thread");
                }
                else
                    w.Line($"runner.Run(&RunLayer, {convs}, {WholeLayersName}, input, bufferA, bufferB, path); // layers 0-{convs - 1}, the large ones split across runner.Threads, the runs of small ones on this thread ({WholeLayersName})");
                w.Line($"var isa = {QuantizedAlias}.QuantizedKernels.Resolve(path);");
                w.Line("byte* w = Weights.For(isa);");
                w.Line($"{plan.Layers[plan.PoolLayer].MethodName}(isa, {BufferName(layered.Result)}, features);");
                w.Line("runner.Lap(); // the head's steps, for Profile (nothing otherwise)");
                w.Line($"{plan.Layers[plan.LogitsLayer].MethodName}(isa, features, logits, w);");
                w.Line("runner.Lap();");
                w.Close();
                w.Line();
                WriteSteps(w, plan);

                w.Line("/// <summary>Part <paramref name=\"part\"/> of <paramref name=\"parts\"/> of convolution layer <paramref name=\"layer\"/>.</summary>");
                w.Line($"private static void RunLayer(int layer, int part, int parts, byte* input, byte* bufferA, byte* bufferB, {RuntimeAlias}.SimdPath path)");
                w.Open();
                w.Line($"var isa = {QuantizedAlias}.QuantizedKernels.Resolve(path);");
                w.Line("byte* w = Weights.For(isa);");
                w.Line("switch (layer)");
                w.Open();
                for (int n = 0; n < layered.Steps.Count; n++)
                {
                    var s = layered.Steps[n];
                    w.Line($"case {n}: {plan.Layers[s.Layer].MethodName}(isa, {BufferName(s.From)}, {BufferName(s.To)}, w, part, parts); break;");
                }
                w.Close();
                w.Close();

                foreach (var l in plan.Layers)
                {
                    w.Line();
                    WriteQuantizedLayer(w, l);
                }
            }

            private static void WriteQuantizedLayer(SourceWriter w, LayerPlan l)
            {
                var q = l.Quant!;
                string what = l.Kind switch
                {
                    LayerKind.Conv3x3 => $"conv 3×3/{l.Stride}",
                    LayerKind.Depthwise3x3 => $"depthwise 3×3/{l.Stride}",
                    LayerKind.Pointwise => "pointwise 1×1",
                    LayerKind.GlobalAveragePool => "global average pool → features",
                    _ => "logits 1×1",
                };
                w.Line($"// Layer {l.Index}: {l.SlimName} ({l.Name}), uint8 {what}, activation {q.Activation}");
                w.Line($"//   {l.InH}x{l.InW}x{l.InC} -> {l.OutH}x{l.OutW}x{l.OutC}, {Group(l.Macs)} MACs, {Group(l.Parameters)} parameters");
                if (l.Kind == LayerKind.Conv3x3 || l.Kind == LayerKind.Depthwise3x3)
                    w.Line($"//   TensorFlow SAME padding: top {l.PadTop}, bottom {l.PadBottom}, left {l.PadLeft}, right {l.PadRight}");
                if (l.Kind != LayerKind.GlobalAveragePool)
                    w.Line($"//   requantize: input·weight scale / output scale = {q.RealMultiplier.ToString("R", CultureInfo.InvariantCulture)} = {q.Multiplier}·2^-31·2^{q.Shift}; clamp to [{q.ActivationMin}, {q.ActivationMax}]");
                if (l.Weights is LayerWeights weights)
                    w.Line($"//   weights: {Group(weights.Kernel.Elements)} uint8 at byte {weights.KernelAt} ({PackingText(weights)}); int32 bias at byte {weights.BiasAt}");
                w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                string signature = $"private static void {l.MethodName}({QuantizedAlias}.QuantizedIsa isa, byte* input, byte* output, byte* w, int part, int parts)";
                const string isa = "isa";
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
                        w.Line(stem
                            ? $"{QuantizedAlias}.QStemKernels.Run<{l.MethodName}_Shape>({isa}, input, output, (short*)(w + {lw.KernelAt}), (int*)(w + {lw.BiasAt}), rowStart: row0, rowEnd: row1);"
                            : $"{QuantizedAlias}.QDepthwiseKernels.Run<{l.MethodName}_Shape>({isa}, input, output, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}), rowStart: row0, rowEnd: row1);");
                        w.Close();
                        w.Line();
                        if (stem)
                            WriteQuantizedShape(w, l, "IQStemShape", ("InH", l.InH), ("InW", l.InW), ("OutH", l.OutH), ("OutW", l.OutW),
                                ("Cout", l.OutC), ("Stride", l.Stride), ("PadTop", l.PadTop), ("PadLeft", l.PadLeft));
                        else
                            WriteQuantizedShape(w, l, "IQDepthwiseShape", ("InH", l.InH), ("InW", l.InW), ("Channels", l.InC), ("OutH", l.OutH),
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
                            w.Line($"{KernelsAlias}.Partition.Split({l.OutPixels}, {KernelContract.PointwisePixelGrain}, part, parts, out int p0, out int p1); // threads share {KernelContract.PointwisePixelGrain}-pixel runs");
                            w.Line($"{QuantizedAlias}.QPointwiseKernels.Run<{l.MethodName}_Shape>({isa}, input, output, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}),");
                            w.Line($"    pixelStart: p0, pixelEnd: p1, panelStart: 0, panelEnd: {panels});");
                        }
                        else
                        {
                            w.Line($"{KernelsAlias}.Partition.Split({panels}, {KernelContract.PointwisePanelGrain}, part, parts, out int q0, out int q1); // threads share pairs of {KernelContract.PanelWidth}-channel weight panels");
                            w.Line($"{QuantizedAlias}.QPointwiseKernels.Run<{l.MethodName}_Shape>({isa}, input, output, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}),");
                            w.Line($"    pixelStart: 0, pixelEnd: {l.OutPixels}, panelStart: q0, panelEnd: q1);");
                        }
                        w.Close();
                        w.Line();
                        WriteQuantizedShape(w, l, "IQPointwiseShape", ("Cin", l.InC), ("Cout", l.OutC));
                        break;
                    }
                    case LayerKind.GlobalAveragePool:
                        w.Line($"private static void {l.MethodName}({QuantizedAlias}.QuantizedIsa isa, byte* input, byte* features) =>");
                        w.Line($"    {QuantizedAlias}.QHeadKernels.AveragePool<{l.MethodName}_Shape>({isa}, input, features);");
                        w.Line();
                        WriteQuantizedShape(w, l, "IQPoolShape", ("Pixels", l.InH * l.InW), ("Channels", l.InC));
                        break;
                    default:
                    {
                        var lw = l.Weights!;
                        w.Line($"private static void {l.MethodName}({QuantizedAlias}.QuantizedIsa isa, byte* features, byte* logits, byte* w) =>");
                        w.Line($"    {QuantizedAlias}.QHeadKernels.Logits<{l.MethodName}_Shape>({isa}, features, logits, w + {lw.KernelAt}, (int*)(w + {lw.BiasAt}));");
                        w.Line();
                        WriteQuantizedShape(w, l, "IQLogitsShape", ("Channels", l.InC), ("Classes", l.OutC));
                        break;
                    }
                }
            }

            /// <summary>A layer's shape and integer constants as a struct, so that its kernel is compiled for exactly this layer.</summary>
            private static void WriteQuantizedShape(SourceWriter w, LayerPlan l, string shapeInterface, params (string Name, int Value)[] values)
            {
                var q = l.Quant!;
                w.Line($"/// <summary>{l.MethodName}'s shape and quantization as constants: the kernel is compiled for exactly this layer.</summary>");
                w.Line($"private readonly struct {l.MethodName}_Shape : {QuantizedAlias}.{shapeInterface}");
                w.Open();
                foreach (var (name, value) in values) w.Line($"public static int {name} => {Int(value)};");
                if (l.Kind != LayerKind.GlobalAveragePool) // the pool's input and output quantization are equal: only its clamp remains
                {
                    w.Line($"public static int InputZeroPoint => {q.InputZeroPoint};");
                    w.Line($"public static int WeightZeroPoint => {q.WeightZeroPoint};");
                    w.Line($"public static int OutputZeroPoint => {q.OutputZeroPoint};");
                    w.Line($"public static int Multiplier => {q.Multiplier};");
                    w.Line($"public static int Shift => {q.Shift};");
                }
                w.Line($"public static int ActivationMin => {q.ActivationMin};");
                w.Line($"public static int ActivationMax => {q.ActivationMax};");
                w.Close();
            }

            /// <summary>A float literal that round-trips exactly.</summary>
            private static string F(float f) => CanonicalWeights.FloatText(f) + "f";
        }
    }
}
