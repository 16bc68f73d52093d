using MobileNetGen.Generator.Model;
using MobileNetGen.Model;

namespace MobileNetGen.Generator
{
    public sealed partial class MobileNetGenerator
    {
        internal static partial class Emitter
        {
            /// <summary>
            /// The weights: a nested <c>Weights</c> class whose first use opens the embedded weights file (or makes the synthetic
            /// one) and packs each layer into the shared aligned block, one packing call per tensor, at the offsets the plan gives.
            /// </summary>
            public static string EmitWeights(NetworkPlan plan)
            {
                var m = plan.Model;
                var o = plan.Origin;
                var w = new SourceWriter();
                WriteFileStart(w, plan, "the weights");
                w.Line($"unsafe partial class {plan.Request.ClassName}");
                w.Open();
                bool integer = plan.Precision == Precision.UInt8;
                w.Line("/// <summary>");
                if (integer)
                    w.Line($"/// The packed weights: {Group(plan.PackedBytes)} bytes ({Group(plan.PackedBytes / 1024)} KiB), each layer in the layout its integer kernel reads,");
                else
                    w.Line($"/// The packed weights: {Group(plan.PackedFloats)} floats ({Group(plan.PackedFloats * 4 / 1024)} KiB), each layer in the layout its kernel reads,");
                w.Line(integer
                    ? "/// zero points folded into the int32 biases, every block 64-byte aligned; packed once per process on first use and shared by every instance."
                    : "/// BatchNorm folded, every block 64-byte aligned; packed once per process on first use and shared by every instance.");
                if (o.Resource != null)
                    w.Line($"/// Read from the embedded weights file (manifest resource <c>{Xml(o.Resource)}</c>, {Group(o.FileLength)} bytes of safetensors).");
                else
                    w.Line($"/// Made from SYNTHETIC weights (SplitMix64, seed {o.SyntheticSeed}): for speed and size measurements only; nothing is embedded.");
                w.Line("/// </summary>");
                w.Line("private static class Weights");
                w.Open();
                if (integer)
                {
                    w.Line($"public const long PackedBytes = {plan.PackedBytes};");
                    w.Line();
                    WriteQuantizedLayouts(w);
                }
                else
                {
                    w.Line($"public const long PackedFloats = {plan.PackedFloats};");
                    w.Line();
                    w.Line("public static readonly float* Data = Load();");
                    w.Line();
                    w.Line("private static float* Load()");
                }
                w.Open();
                if (o.Resource != null)
                    w.Line($"using var file = {KernelsAlias}.WeightsFile.OpenResource(typeof({plan.Request.ClassName}).Assembly, {Str(o.Resource)}, length: {o.FileLength}, headerLength: {o.HeaderLength});");
                else
                    w.Line($"using var file = {KernelsAlias}.WeightsFile.Synthetic({Str(m.Variant)}, seed: {o.SyntheticSeed}, length: {o.FileLength}, headerLength: {o.HeaderLength});");
                if (integer) w.Line($"byte* w = {KernelsAlias}.PackedWeights.AllocateBytes(PackedBytes);");
                else w.Line($"float* w = {KernelsAlias}.PackedWeights.Allocate(PackedFloats);");
                foreach (var l in plan.Layers)
                {
                    if (l.Weights is not LayerWeights lw) continue;
                    if (integer)
                    {
                        WriteQuantizedPacking(w, l, lw);
                        continue;
                    }
                    w.Line();
                    w.Line($"// Layer {l.Index}: {l.SlimName}, {lw.Kernel.Name} {TensorEntry.DTypeName(lw.Kernel.DType)} → {PackingText(lw)}");
                    string kernel = Tensor(lw.Kernel, lw.KernelMin, lw.KernelMax);
                    string scale = lw.Scale is TensorSlice s ? Tensor(s, null, null) : "";
                    switch (lw.Packing)
                    {
                        case Packing.StemHwio:
                            w.Line($"{KernelsAlias}.WeightPacking.StemHwio({kernel}, scale: {scale}, cout: {l.OutC}, w + {lw.KernelAt});");
                            break;
                        case Packing.DepthwiseTapMajor:
                            w.Line($"{KernelsAlias}.WeightPacking.DepthwiseTapMajor({kernel}, scale: {scale}, channels: {l.OutC}, w + {lw.KernelAt});");
                            break;
                        case Packing.PointwisePanels:
                            w.Line($"{KernelsAlias}.WeightPacking.PointwisePanels({kernel}, scale: {scale}, cin: {l.InC}, cout: {l.OutC}, w + {lw.KernelAt});");
                            break;
                        default:
                            w.Line($"{KernelsAlias}.WeightPacking.LogitsAsImported({kernel}, w + {lw.KernelAt});");
                            break;
                    }
                    w.Line($"{KernelsAlias}.WeightPacking.Bias({Tensor(lw.Bias, null, null)}, w + {lw.BiasAt});");
                }
                w.Line("return w;");
                w.Close();
                w.Close();
                w.Close();
                WriteFileEnd(w, plan);
                return w.ToString();
            }

            /// <summary>The uint8 weights' accessors (classifiers and detectors): one packed copy per layout family, each packed on first use.</summary>
            private static void WriteQuantizedLayouts(SourceWriter w)
            {
                w.Line("/// <summary>The weights packed for <paramref name=\"isa\"/>: the pointwise and logits layouts differ between the pmaddwd");
                w.Line("/// ISAs (pairs of int16; octets of them on AVX-512) and the dot-product ones (quads of bytes); each is packed the first");
                w.Line("/// time an instance runs it.</summary>");
                w.Line($"public static byte* For({QuantizedAlias}.QuantizedIsa isa) => {QuantizedAlias}.QuantizedKernels.LayoutOf(isa) switch");
                w.Line("{");
                w.Line($"    {QuantizedAlias}.QuantizedWeightLayout.Quads => Quads.Data,");
                w.Line($"    {QuantizedAlias}.QuantizedWeightLayout.Octets => Octets.Data,");
                w.Line("    _ => Pairs.Data,");
                w.Line("};");
                w.Line();
                w.Line($"private static class Pairs {{ public static readonly byte* Data = Load({QuantizedAlias}.QuantizedWeightLayout.Pairs); }}");
                w.Line($"private static class Quads {{ public static readonly byte* Data = Load({QuantizedAlias}.QuantizedWeightLayout.Quads); }}");
                w.Line($"private static class Octets {{ public static readonly byte* Data = Load({QuantizedAlias}.QuantizedWeightLayout.Octets); }}");
                w.Line();
                w.Line($"private static byte* Load({QuantizedAlias}.QuantizedWeightLayout layout)");
            }

            /// <summary>One uint8 layer's packing call: the uint8 kernel, its zero point, the int32 bias and the input zero point.</summary>
            private static void WriteQuantizedPacking(SourceWriter w, LayerPlan l, LayerWeights lw)
            {
                var q = l.Quant!;
                w.Line();
                w.Line($"// Layer {l.Index}: {l.SlimName}, {lw.Kernel.Name} U8 (zero point {q.WeightZeroPoint}) and {lw.Bias.Name} I32 → {PackingText(lw)}");
                w.Line(QuantizedPackingCall(lw, q, l.InC, l.OutC));
            }

            /// <summary>The <c>QuantizedPacking</c> call of one uint8 layer (its kernel and bias read from <c>file</c>, packed to <c>w</c>).</summary>
            private static string QuantizedPackingCall(LayerWeights lw, QuantizedLayerPlan q, int inC, int outC)
            {
                string kernel = $"file.Bytes({lw.Kernel.Offset}, {lw.Kernel.Elements})";
                string bias = $"file.Int32s({lw.Bias.Offset}, {lw.Bias.Elements})";
                string zeroPoints = $"weightZeroPoint: {q.WeightZeroPoint}, {bias}, inputZeroPoint: {q.InputZeroPoint}";
                string dest = $"w + {lw.KernelAt}, w + {lw.BiasAt}";
                string method = lw.Packing switch
                {
                    Packing.QuantizedStem => $"Stem({kernel}, {zeroPoints}, cout: {outC}, {dest})",
                    Packing.QuantizedDepthwise => $"Depthwise({kernel}, {zeroPoints}, channels: {outC}, {dest})",
                    Packing.QuantizedPointwise => $"Pointwise({kernel}, {zeroPoints}, cin: {inC}, cout: {outC}, {dest}, layout)",
                    _ => $"Logits({kernel}, {zeroPoints}, channels: {inC}, classes: {outC}, {dest}, layout)",
                };
                return $"{QuantizedAlias}.QuantizedPacking.{method};";
            }

            /// <summary>The call that reads one tensor of the file: <c>file.F32(offset, elements)</c> or, for 8-bit kernels, <c>file.U8(…, min, max)</c>.</summary>
            private static string Tensor(TensorSlice t, TensorSlice? min, TensorSlice? max) =>
                t.DType == TensorDType.U8
                    ? $"file.U8({t.Offset}, {t.Elements}, min: {min!.Offset}, max: {max!.Offset})"
                    : $"file.F32({t.Offset}, {t.Elements})";
        }
    }
}
