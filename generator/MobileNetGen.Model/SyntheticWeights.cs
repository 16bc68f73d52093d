using System;
using System.Collections.Generic;
using System.Globalization;

namespace MobileNetGen.Model
{
    /// <summary>
    /// Deterministic synthetic weights for variants without published weights (α = 1.0). They exist so that speed and
    /// build cost can be measured; they classify nothing. Every tensor comes from one SplitMix64 stream seeded with
    /// <see cref="DefaultSeed"/> (or the caller's seed), drawn in layer order: kernels He-uniform in ±√(6/fan_in)
    /// (variance 2/fan_in, so ReLU activations neither vanish nor explode through 27 layers), BatchNorm scale uniform in
    /// [0.5, 1.5], bias uniform in [−0.1, 0.1]. The same seed gives the same bytes on every machine.
    /// </summary>
    public static class SyntheticWeights
    {
        public const ulong DefaultSeed = 20170417; // the MobileNet paper's arXiv date

        public static SafeTensorsFile Create(VariantName variant, ulong seed = DefaultSeed, int numClasses = 1001)
        {
            var arch = Architecture(variant, numClasses);
            var rng = new SplitMix64(seed);
            var tensors = new List<Tensor>();
            // One stream in layer order: kernel, BatchNorm scale, bias (the order Layout lists them in).
            foreach (var (layer, name, shape) in Tensors(arch))
            {
                long n = 1;
                foreach (int d in shape) n *= d;
                var values = new float[n];
                if (name.EndsWith(".weight", StringComparison.Ordinal))
                {
                    int fanIn = layer.Kind == LayerKind.Depthwise3x3 ? 9 : shape[0] * shape[1] * shape[2];
                    float limit = (float)Math.Sqrt(6.0 / fanIn); // He-uniform: keeps ReLU activations alive through 27 layers
                    for (int i = 0; i < values.Length; i++) values[i] = rng.NextUniform(-limit, limit);
                }
                else if (name.EndsWith(".scale", StringComparison.Ordinal))
                    for (int i = 0; i < values.Length; i++) values[i] = rng.NextUniform(0.5f, 1.5f);
                else
                    for (int i = 0; i < values.Length; i++) values[i] = rng.NextUniform(-0.1f, 0.1f);
                tensors.Add(Tensor.FromFloats(name, shape, values));
            }
            return new SafeTensorsFile(Metadata(variant, seed, numClasses), tensors);
        }

        /// <summary>
        /// The header <see cref="Create"/>'s file has, without making the values (the generator plans synthetic classes from
        /// it; the values are made at run time from the seed).
        /// </summary>
        public static SafeTensorsHeader Header(VariantName variant, ulong seed = DefaultSeed, int numClasses = 1001) =>
            SafeTensorsFile.HeaderOf(Metadata(variant, seed, numClasses), Layout(Architecture(variant, numClasses)));

        private static MobileNetV1Architecture Architecture(VariantName variant, int numClasses)
        {
            // Synthetic weights are float weights: labelling them with a _quant variant would present a float network as
            // the uint8-quantized one.
            if (variant.Quantized)
                throw new ArgumentException($"synthetic weights are float; there are no synthetic weights for the uint8-quantized variant {variant} (use {variant.AsFloat})", nameof(variant));
            return new MobileNetV1Architecture(variant, numClasses);
        }

        /// <summary>The tensors of a synthetic file, in file order: per layer its kernel, BatchNorm scale (convolutions) and bias.</summary>
        private static IEnumerable<(LayerSpec Layer, string Name, int[] Shape)> Tensors(MobileNetV1Architecture arch)
        {
            foreach (var l in arch.Layers)
            {
                if (l.Kind == LayerKind.GlobalAveragePool) continue;
                yield return (l, CanonicalWeights.Kernel(l), l.KernelShape);
                if (l.HasBatchNorm) yield return (l, CanonicalWeights.Scale(l), new[] { l.OutC });
                yield return (l, CanonicalWeights.Bias(l), new[] { l.OutC });
            }
        }

        private static IEnumerable<(string Name, TensorDType DType, int[] Shape)> Layout(MobileNetV1Architecture arch)
        {
            foreach (var (_, name, shape) in Tensors(arch)) yield return (name, TensorDType.F32, shape);
        }

        private static Dictionary<string, string> Metadata(VariantName variant, ulong seed, int numClasses) => new Dictionary<string, string>
        {
            [CanonicalWeights.Keys.Format] = CanonicalWeights.FormatVersion,
            [CanonicalWeights.Keys.Architecture] = "mobilenet_v1",
            [CanonicalWeights.Keys.Name] = variant.FileStem,
            [CanonicalWeights.Keys.Variant] = variant.ToString(),
            [CanonicalWeights.Keys.Alpha] = variant.AlphaText,
            [CanonicalWeights.Keys.Resolution] = variant.Resolution.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.NumClasses] = numClasses.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.BackgroundClass] = numClasses == 1001 ? "true" : "false",
            [CanonicalWeights.Keys.Weights] = CanonicalWeights.Synthetic,
            [CanonicalWeights.Keys.Source] = "synthetic",
            [CanonicalWeights.Keys.SourceFormat] = "synthetic",
            [CanonicalWeights.Keys.Seed] = seed.ToString(CultureInfo.InvariantCulture),
            [CanonicalWeights.Keys.Labels] = "imagenet",
            [CanonicalWeights.Keys.Note] = "SYNTHETIC weights (SplitMix64, seed " + seed.ToString(CultureInfo.InvariantCulture) + "): for speed and size measurements only, not accuracy.",
        };

        /// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified, so any reimplementation reproduces it.</summary>
        public sealed class SplitMix64
        {
            private ulong _state;
            public SplitMix64(ulong seed) { _state = seed; }
            public ulong Next()
            {
                ulong z = _state += 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
            /// <summary>Uniform in [lo, hi) from the top 24 bits (exact in float).</summary>
            public float NextUniform(float lo, float hi) => lo + (hi - lo) * ((Next() >> 40) * (1.0f / 16777216.0f));
        }
    }
}
