using System;
using System.Globalization;

namespace MobileNetGen.Model
{
    /// <summary>
    /// A MobileNet v1 variant: width multiplier α (1.0, 0.75, 0.50, 0.25), input resolution (224, 192, 160, 128) and whether
    /// it is Google's fully quantized uint8 network (<see cref="Quantized"/>) rather than a float one.
    /// Canonical spelling is the seed table's: <c>1.0_224</c>, <c>0.75_160</c>, <c>0.50_128</c>, <c>0.25_192</c>; a quantized
    /// variant adds <c>_quant</c> (<c>1.0_224_quant</c>, file stem <c>mobilenet_v1_1.0_224_quant</c>).
    /// </summary>
    public readonly struct VariantName : IEquatable<VariantName>
    {
        public static readonly double[] Alphas = { 1.0, 0.75, 0.5, 0.25 };
        public static readonly int[] Resolutions = { 224, 192, 160, 128 };

        /// <summary>The suffix of a quantized variant's name (<c>1.0_224_quant</c>).</summary>
        public const string QuantSuffix = "_quant";

        public VariantName(double alpha, int resolution) : this(alpha, resolution, false) { }

        public VariantName(double alpha, int resolution, bool quantized)
        {
            Alpha = alpha;
            Resolution = resolution;
            Quantized = quantized;
        }

        public double Alpha { get; }
        public int Resolution { get; }

        /// <summary>
        /// True for the fully quantized uint8 network (uint8 activations and weights, int32 biases; weights/README.md,
        /// "Quantized (uint8) entries"); false for the float network (float or 8-bit-weight files).
        /// </summary>
        public bool Quantized { get; }

        /// <summary>α as the seed table writes it: 1.0, 0.75, 0.50, 0.25.</summary>
        public string AlphaText => Alpha == 1.0 ? "1.0" : Alpha.ToString("0.00", CultureInfo.InvariantCulture);

        public override string ToString() => AlphaText + "_" + Resolution.ToString(CultureInfo.InvariantCulture) + (Quantized ? QuantSuffix : "");

        /// <summary>The canonical weights file stem, e.g. <c>mobilenet_v1_0.25_224</c>, <c>mobilenet_v1_1.0_224_quant</c>.</summary>
        public string FileStem => "mobilenet_v1_" + ToString();

        /// <summary>The same α and resolution as a float variant (this one when it is not quantized).</summary>
        public VariantName AsFloat => new VariantName(Alpha, Resolution, false);

        /// <summary>The same α and resolution as a quantized variant.</summary>
        public VariantName AsQuantized => new VariantName(Alpha, Resolution, true);

        /// <summary>All 16 float variants, widest and largest first (the seed table's order).</summary>
        public static VariantName[] All
        {
            get
            {
                var all = new VariantName[16];
                int i = 0;
                foreach (double a in Alphas)
                    foreach (int r in Resolutions)
                        all[i++] = new VariantName(a, r);
                return all;
            }
        }

        /// <summary>
        /// The quantized variants whose genuine Google uint8 networks exist in <c>shared/models/tflite-quant-2018</c> (the
        /// architecture admits all 16; Google published these among them): 1.0_224, 0.75_192, 0.50_160, 0.25_224, 0.25_128,
        /// widest and largest first.
        /// </summary>
        public static VariantName[] PublishedQuantized => new[]
        {
            new VariantName(1.0, 224, true),
            new VariantName(0.75, 192, true),
            new VariantName(0.5, 160, true),
            new VariantName(0.25, 224, true),
            new VariantName(0.25, 128, true),
        };

        /// <summary>
        /// Accepts <c>1.0_224</c>, <c>1_224</c>, <c>0.5_128</c>, <c>0.50_128</c>, any of those with a <c>mobilenet_v1_</c> prefix
        /// and any of those with a <c>_quant</c> suffix (<c>1.0_224_quant</c>, <c>mobilenet_v1_0.5_160_quant</c>), case-insensitive.
        /// Only the 16 published α × resolution combinations parse (quantized or not).
        /// </summary>
        public static bool TryParse(string? text, out VariantName variant)
        {
            variant = default;
            if (text == null) return false;
            string s = text.Trim();
            if (s.StartsWith("mobilenet_v1_", StringComparison.OrdinalIgnoreCase)) s = s.Substring("mobilenet_v1_".Length);
            bool quantized = false;
            if (s.EndsWith(QuantSuffix, StringComparison.OrdinalIgnoreCase))
            {
                quantized = true;
                s = s.Substring(0, s.Length - QuantSuffix.Length);
            }
            int sep = s.IndexOf('_');
            if (sep <= 0 || sep == s.Length - 1) return false;
            if (!double.TryParse(s.Substring(0, sep), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double alpha)) return false;
            if (!int.TryParse(s.Substring(sep + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int res)) return false;
            if (Array.IndexOf(Alphas, alpha) < 0 || Array.IndexOf(Resolutions, res) < 0) return false;
            variant = new VariantName(alpha, res, quantized);
            return true;
        }

        public static VariantName Parse(string text) =>
            TryParse(text, out var v) ? v : throw new FormatException(
                $"'{text}' is not a MobileNet v1 variant. Expected α_resolution with α in 1.0, 0.75, 0.50, 0.25 and resolution in 224, 192, 160, 128 (e.g. 0.25_224), optionally with _quant for the uint8-quantized network (e.g. 1.0_224_quant).");

        public bool Equals(VariantName other) => Alpha == other.Alpha && Resolution == other.Resolution && Quantized == other.Quantized;
        public override bool Equals(object? obj) => obj is VariantName v && Equals(v);
        public override int GetHashCode()
        {
            int h = Alpha.GetHashCode() * 397 ^ Resolution; // the float variants keep their earlier hash
            return Quantized ? ~h : h;
        }
        public static bool operator ==(VariantName a, VariantName b) => a.Equals(b);
        public static bool operator !=(VariantName a, VariantName b) => !a.Equals(b);
    }
}
