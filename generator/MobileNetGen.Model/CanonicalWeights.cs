using System;
using System.Collections.Generic;
using System.Globalization;

namespace MobileNetGen.Model
{
    /// <summary>
    /// The canonical MobileNetGen weights: a safetensors file with, per layer (names from <see cref="LayerSpec.Name"/>):
    /// <list type="bullet">
    /// <item><c>{layer}.weight</c>: the kernel in TensorFlow HWIO layout (conv0 [3,3,3,C], depthwise [3,3,C,1],
    /// pointwise and logits [1,1,Cin,Cout]); F32, or U8 for Google's 8-bit-weight graphs, in which case
    /// <c>{layer}.weight.min</c> and <c>{layer}.weight.max</c> (F32 [1]) give the range for TF's MIN_FIRST dequantization.</item>
    /// <item><c>{layer}.scale</c> and <c>{layer}.bias</c> (F32 [C]): BatchNorm in inference form, y = conv(x)·scale + bias,
    /// i.e. scale = γ/√(σ²+ε), bias = β − μ·scale (computed in double by the importer); scale is 1 where the source already folded it.</item>
    /// <item><c>logits.weight</c> and <c>logits.bias</c>: the classifier, no activation.</item>
    /// </list>
    /// Metadata (<c>__metadata__</c>, all strings) is described by the constants below; see weights/README.md.
    /// </summary>
    public static partial class CanonicalWeights
    {
        public const string FormatVersion = "mobilenetgen/1";

        public static class Keys
        {
            public const string Format = "format";
            public const string Architecture = "architecture";       // "mobilenet_v1"
            public const string Name = "name";                       // entry name, e.g. mobilenet_v1_0.25_224
            public const string Variant = "variant";                 // 0.25_224 (or "custom" for a non-ImageNet head, see alpha/resolution)
            public const string Alpha = "alpha";                     // 0.25
            public const string Resolution = "resolution";           // 224
            public const string NumClasses = "num_classes";          // 1001
            public const string BackgroundClass = "background_class"; // "true": output 0 is background (slim); "false": Keras (1000)
            public const string Weights = "weights";                 // genuine-float | genuine-8bit | synthetic
            public const string Source = "source";                   // path of the published file under shared/models, or "synthetic"
            public const string SourceFormat = "source_format";      // tf-graphdef | tfjs-layers | tflite | synthetic
            public const string SourceSha256 = "source_sha256";
            public const string Release = "release";                 // e.g. slim-2017, tflite-2018
            public const string Labels = "labels";                   // imagenet | custom
            public const string LabelsJson = "labels_json";          // custom heads: JSON array of num_classes strings (output order)
            public const string Seed = "synthetic_seed";
            public const string Note = "note";
            public const string Precision = "precision";             // uint8 for the fully quantized networks; absent = float32
            public const string Quantization = "quantization";       // uint8 files: every tensor's scale and zero point (JSON, see CanonicalWeights.Quantized.cs)
            public const string HeadSource = "head_source";          // a network imported from two files (backbone + head): the head's source path
            public const string HeadSourceSha256 = "head_source_sha256";
        }

        public const string GenuineFloat = "genuine-float";
        public const string Genuine8Bit = "genuine-8bit";
        public const string Synthetic = "synthetic";
        /// <summary>Metadata <c>weights</c> of Google's fully quantized (uint8 activations and weights, int32 biases) networks.</summary>
        public const string GenuineUInt8 = "genuine-uint8";

        /// <summary>How a weights kind is shown in lists and tables: "genuine float", "genuine 8-bit weights", "SYNTHETIC (speed only)".</summary>
        public static string KindLabel(string kind) => kind switch
        {
            Genuine8Bit => "genuine 8-bit weights",
            GenuineUInt8 => "genuine uint8 (integer)",
            Synthetic => "SYNTHETIC (speed only)",
            _ => "genuine float",
        };

        /// <summary>A sentence on a weights kind, for documentation comments and help text.</summary>
        public static string DescribeKind(string kind) => kind switch
        {
            Genuine8Bit => "Google's published 8-bit weights (8-bit in the binary, dequantized with TensorFlow's MIN_FIRST rule when first loaded)",
            GenuineUInt8 => "Google's quantization-aware-trained uint8 network (uint8 activations and weights, int32 biases), run in integer arithmetic exactly as TensorFlow Lite's reference kernels",
            Synthetic => "SYNTHETIC (deterministic, for speed and size only)",
            _ => "Google's published float32 weights",
        };

        /// <summary>Metadata <c>labels</c> value of Google's ImageNet heads.</summary>
        public const string ImageNetLabels = "imagenet";
        /// <summary>Metadata <c>labels</c> value of a custom (fine-tuned) head.</summary>
        public const string CustomLabels = "custom";

        /// <summary>The <c>labels_json</c> value: a JSON array of strings.</summary>
        public static string LabelsToJson(IReadOnlyList<string> labels)
        {
            var sb = new System.Text.StringBuilder();
            sb.Append('[');
            for (int i = 0; i < labels.Count; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(MiniJson.Quote(labels[i]));
            }
            return sb.Append(']').ToString();
        }

        /// <summary>Parses a <c>labels_json</c> value. Throws <see cref="WeightsFormatException"/> unless it is a JSON array of strings.</summary>
        public static string[] ParseLabelsJson(string json)
        {
            object? v;
            try { v = MiniJson.Parse(json); }
            catch (FormatException e) { throw new WeightsFormatException($"metadata '{Keys.LabelsJson}' is not valid JSON: {e.Message}", e); }
            if (!(v is List<object?> list)) throw new WeightsFormatException($"metadata '{Keys.LabelsJson}' is not a JSON array of strings");
            var labels = new string[list.Count];
            for (int i = 0; i < labels.Length; i++)
                labels[i] = list[i] as string ?? throw new WeightsFormatException($"metadata '{Keys.LabelsJson}': entry {i} is not a string");
            return labels;
        }

        /// <summary>
        /// The labels stored in the file (<c>labels_json</c>), or null when it has none. Throws <see cref="WeightsFormatException"/>
        /// when they are malformed or their count differs from <c>num_classes</c>.
        /// </summary>
        public static string[]? LabelsOf(ITensorDirectory file, MobileNetV1Architecture arch)
        {
            string? json = file.GetMetadata(Keys.LabelsJson);
            if (json == null) return null;
            var labels = ParseLabelsJson(json);
            if (labels.Length != arch.NumClasses)
                throw new WeightsFormatException($"metadata '{Keys.LabelsJson}' holds {labels.Length} labels but the model has {arch.NumClasses} classes (num_classes)");
            return labels;
        }

        /// <summary>
        /// True when a label list is Google's ImageNet list (1001 entries starting "background", "tench…", or the 1000 without
        /// background starting "tench…"): such heads keep <c>labels = imagenet</c> and store no <c>labels_json</c>.
        /// </summary>
        public static bool IsImageNetLabelList(IReadOnlyList<string> labels)
        {
            bool Tench(string s) => s.Trim().StartsWith("tench", StringComparison.OrdinalIgnoreCase);
            bool Tissue(string s) => s.Trim().StartsWith("toilet tissue", StringComparison.OrdinalIgnoreCase);
            if (labels.Count == 1001) return labels[0].Trim().Equals("background", StringComparison.OrdinalIgnoreCase) && Tench(labels[1]) && Tissue(labels[1000]);
            if (labels.Count == 1000) return Tench(labels[0]) && Tissue(labels[999]);
            return false;
        }

        public static string Kernel(LayerSpec l) => l.Name + ".weight";
        public static string KernelMin(LayerSpec l) => l.Name + ".weight.min";
        public static string KernelMax(LayerSpec l) => l.Name + ".weight.max";
        public static string Scale(LayerSpec l) => l.Name + ".scale";
        public static string Bias(LayerSpec l) => l.Name + ".bias";

        /// <summary>The architecture the file's metadata describes. Throws <see cref="WeightsFormatException"/> when it is missing or off.</summary>
        public static MobileNetV1Architecture ArchitectureOf(ITensorDirectory file)
        {
            string fmt = file.GetMetadata(Keys.Format) ?? throw new WeightsFormatException($"metadata '{Keys.Format}' is missing (not a MobileNetGen weights file)");
            if (fmt != FormatVersion) throw new WeightsFormatException($"metadata format '{fmt}' is not supported (expected {FormatVersion})");
            string arch = file.GetMetadata(Keys.Architecture) ?? "";
            if (arch != "mobilenet_v1") throw new WeightsFormatException($"architecture '{arch}' is not supported (expected mobilenet_v1)");
            if (!double.TryParse(file.GetMetadata(Keys.Alpha), NumberStyles.Float, CultureInfo.InvariantCulture, out double alpha) || alpha <= 0 || alpha > 4)
                throw new WeightsFormatException($"metadata alpha '{file.GetMetadata(Keys.Alpha)}' is not a width multiplier");
            if (!int.TryParse(file.GetMetadata(Keys.Resolution), NumberStyles.None, CultureInfo.InvariantCulture, out int res) || res < 32 || res > 1024)
                throw new WeightsFormatException($"metadata resolution '{file.GetMetadata(Keys.Resolution)}' is not a resolution in 32..1024");
            if (!int.TryParse(file.GetMetadata(Keys.NumClasses), NumberStyles.None, CultureInfo.InvariantCulture, out int classes) || classes < 1 || classes > 100000)
                throw new WeightsFormatException($"metadata num_classes '{file.GetMetadata(Keys.NumClasses)}' is not a class count in 1..100000");
            return new MobileNetV1Architecture(alpha, res, classes);
        }

        /// <summary>
        /// Every problem with a float file (F32 kernels or 8-bit MIN_FIRST kernels) against the architecture (missing tensors,
        /// wrong shapes or dtypes); empty when it is valid. A uint8-quantized file (<c>precision = uint8</c>, I32 biases) is
        /// reported as such: it is checked by <see cref="ValidateQuantized"/>, not here.
        /// </summary>
        public static List<string> Validate(SafeTensorsFile file, MobileNetV1Architecture arch)
        {
            var problems = ValidateStructure(file, arch);
            if (problems.Count == 0)
                foreach (string name in NonFiniteTensors(file)) problems.Add($"tensor '{name}' holds NaN or infinity");
            return problems;
        }

        /// <summary>
        /// The checks that need only the header (<see cref="SafeTensorsHeader"/>: what the generator sees): every tensor the
        /// architecture needs is present with its shape and an allowed dtype, and 8-bit kernels carry their range.
        /// </summary>
        public static List<string> ValidateStructure(ITensorDirectory file, MobileNetV1Architecture arch)
        {
            var problems = new List<string>();
            string? precision = file.GetMetadata(Keys.Precision);
            if (precision != null && precision != PrecisionFloat32)
                problems.Add($"metadata precision is '{precision}': this is not a float weights file" +
                             (precision == PrecisionUInt8 ? " but a uint8-quantized one (see CanonicalWeights.ValidateQuantized)" : ""));
            void Check(string name, int[] shape, bool allowU8)
            {
                var t = file.FindEntry(name);
                if (t == null) { problems.Add($"tensor '{name}' is missing (expected shape [{string.Join(",", shape)}])"); return; }
                if (!SameShape(t.Shape, shape)) problems.Add($"tensor '{name}' has shape {t.ShapeText}, the architecture needs [{string.Join(",", shape)}]");
                if (t.DType == TensorDType.U8 && !allowU8) problems.Add($"tensor '{name}' is U8; only kernels may be 8-bit");
                if (t.DType == TensorDType.I32) problems.Add($"tensor '{name}' is I32; float weights files hold F32 (and U8 kernels) only");
                if (t.DType == TensorDType.U8)
                {
                    foreach (var mm in new[] { name + ".min", name + ".max" })
                    {
                        var m = file.FindEntry(mm);
                        if (m == null || m.DType != TensorDType.F32 || m.ElementCount != 1) problems.Add($"8-bit tensor '{name}' needs an F32 scalar '{mm}'");
                    }
                }
            }
            foreach (var l in arch.Layers)
            {
                if (l.Kind == LayerKind.GlobalAveragePool) continue;
                Check(Kernel(l), l.KernelShape, allowU8: true);
                if (l.HasBatchNorm) Check(Scale(l), new[] { l.OutC }, false);
                Check(Bias(l), new[] { l.OutC }, false);
            }
            return problems;
        }

        /// <summary>Names of the F32 tensors that hold NaN or infinity, in file order (the build step reports them to the generator).</summary>
        public static List<string> NonFiniteTensors(SafeTensorsFile file)
        {
            var names = new List<string>();
            foreach (var t in file.Tensors)
            {
                if (t.DType != TensorDType.F32) continue;
                for (int i = 0; i + 4 <= t.Data.Length; i += 4)
                {
                    float v = BitConverter.ToSingle(t.Data, i);
                    if (float.IsNaN(v) || float.IsInfinity(v)) { names.Add(t.Name); break; }
                }
            }
            return names;
        }

        internal static bool SameShape(int[] a, int[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }

        /// <summary>
        /// A kernel's values as float: F32 as stored; U8 by TensorFlow's MIN_FIRST rule
        /// (step = (max − min)/255; value = round(min/step)·step + q·step, round half away from zero).
        /// </summary>
        public static float[] KernelValues(SafeTensorsFile file, LayerSpec layer)
        {
            var t = file.Find(Kernel(layer)) ?? throw new WeightsFormatException($"tensor '{Kernel(layer)}' is missing");
            if (t.DType == TensorDType.F32) return t.ToFloats();
            float min = (file.Find(KernelMin(layer)) ?? throw new WeightsFormatException($"'{KernelMin(layer)}' is missing")).ToFloats()[0];
            float max = (file.Find(KernelMax(layer)) ?? throw new WeightsFormatException($"'{KernelMax(layer)}' is missing")).ToFloats()[0];
            return Dequantize(t.Data, min, max);
        }

        /// <summary>TensorFlow's MIN_FIRST dequantization of quint8 (QuantizedToFloat in quantization_utils.h).</summary>
        public static float[] Dequantize(byte[] q, float min, float max)
        {
            QuantizationParameters(min, max, out double offset, out double step);
            var result = new float[q.Length];
            for (int i = 0; i < q.Length; i++) result[i] = Dequantize(q[i], offset, step);
            return result;
        }

        /// <summary>MIN_FIRST as an affine map: value = (float)(offset + q·step), evaluated in double (as TensorFlow does).</summary>
        public static void QuantizationParameters(float min, float max, out double offset, out double step)
        {
            if (min == max) { offset = min; step = 0; return; }
            double rangeScale = ((double)max - min) / 255.0;
            offset = Math.Round(min / (float)rangeScale, MidpointRounding.AwayFromZero) * (float)rangeScale;
            step = rangeScale;
        }

        public static float Dequantize(byte q, double offset, double step) => (float)(offset + q * step);
    }
}
