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
                w.Line("/// <summary>");
                w.Line($"/// The packed weights: {Group(plan.PackedFloats)} floats ({Group(plan.PackedFloats * 4 / 1024)} KiB), each layer in the layout its kernel reads,");
                w.Line("/// BatchNorm folded, every block 64-byte aligned; packed once per process on first use and shared by every instance.");
                if (o.Resource != null)
                    w.Line($"/// Read from the embedded weights file (manifest resource <c>{Xml(o.Resource)}</c>, {Group(o.FileLength)} bytes of safetensors).");
                else
                    w.Line($"/// Made from SYNTHETIC weights (SplitMix64, seed {o.SyntheticSeed}): for speed and size measurements only; nothing is embedded.");
                w.Line("/// </summary>");
                w.Line("private static class Weights");
                w.Open();
                w.Line($"public const long PackedFloats = {plan.PackedFloats};");
                w.Line();
                w.Line("public static readonly float* Data = Load();");
                w.Line();
                w.Line("private static float* Load()");
                w.Open();
                if (o.Resource != null)
                    w.Line($"using var file = {KernelsAlias}.WeightsFile.OpenResource(typeof({plan.Request.ClassName}).Assembly, {Str(o.Resource)}, length: {o.FileLength}, headerLength: {o.HeaderLength});");
                else
                    w.Line($"using var file = {KernelsAlias}.WeightsFile.Synthetic({Str(m.Variant)}, seed: {o.SyntheticSeed}, length: {o.FileLength}, headerLength: {o.HeaderLength});");
                w.Line($"float* w = {KernelsAlias}.PackedWeights.Allocate(PackedFloats);");
                foreach (var l in plan.Layers)
                {
                    if (l.Weights is not LayerWeights lw) continue;
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

            /// <summary>The call that reads one tensor of the file: <c>file.F32(offset, elements)</c> or, for 8-bit kernels, <c>file.U8(…, min, max)</c>.</summary>
            private static string Tensor(TensorSlice t, TensorSlice? min, TensorSlice? max) =>
                t.DType == TensorDType.U8
                    ? $"file.U8({t.Offset}, {t.Elements}, min: {min!.Offset}, max: {max!.Offset})"
                    : $"file.F32({t.Offset}, {t.Elements})";
        }
    }
}
