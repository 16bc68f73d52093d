using System;
using System.Globalization;

namespace MobileNetGen.Model
{
    /// <summary>
    /// A MobileNet v1 variant: width multiplier α (1.0, 0.75, 0.50, 0.25) and input resolution (224, 192, 160, 128).
    /// Canonical spelling is the seed table's: <c>1.0_224</c>, <c>0.75_160</c>, <c>0.50_128</c>, <c>0.25_192</c>.
    /// </summary>
    public readonly struct VariantName : IEquatable<VariantName>
    {
        public static readonly double[] Alphas = { 1.0, 0.75, 0.5, 0.25 };
        public static readonly int[] Resolutions = { 224, 192, 160, 128 };

        public VariantName(double alpha, int resolution)
        {
            Alpha = alpha;
            Resolution = resolution;
        }

        public double Alpha { get; }
        public int Resolution { get; }

        /// <summary>α as the seed table writes it: 1.0, 0.75, 0.50, 0.25.</summary>
        public string AlphaText => Alpha == 1.0 ? "1.0" : Alpha.ToString("0.00", CultureInfo.InvariantCulture);

        public override string ToString() => AlphaText + "_" + Resolution.ToString(CultureInfo.InvariantCulture);

        /// <summary>The canonical weights file stem, e.g. <c>mobilenet_v1_0.25_224</c>.</summary>
        public string FileStem => "mobilenet_v1_" + ToString();

        /// <summary>All 16 variants, widest and largest first (the seed table's order).</summary>
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
        /// Accepts <c>1.0_224</c>, <c>1_224</c>, <c>0.5_128</c>, <c>0.50_128</c>, and any of those with a
        /// <c>mobilenet_v1_</c> prefix (case-insensitive). Only the 16 published variants parse.
        /// </summary>
        public static bool TryParse(string? text, out VariantName variant)
        {
            variant = default;
            if (text == null) return false;
            string s = text.Trim();
            if (s.StartsWith("mobilenet_v1_", StringComparison.OrdinalIgnoreCase)) s = s.Substring("mobilenet_v1_".Length);
            int sep = s.IndexOf('_');
            if (sep <= 0 || sep == s.Length - 1) return false;
            if (!double.TryParse(s.Substring(0, sep), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double alpha)) return false;
            if (!int.TryParse(s.Substring(sep + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int res)) return false;
            if (Array.IndexOf(Alphas, alpha) < 0 || Array.IndexOf(Resolutions, res) < 0) return false;
            variant = new VariantName(alpha, res);
            return true;
        }

        public static VariantName Parse(string text) =>
            TryParse(text, out var v) ? v : throw new FormatException(
                $"'{text}' is not a MobileNet v1 variant. Expected α_resolution with α in 1.0, 0.75, 0.50, 0.25 and resolution in 224, 192, 160, 128 (e.g. 0.25_224).");

        public bool Equals(VariantName other) => Alpha == other.Alpha && Resolution == other.Resolution;
        public override bool Equals(object? obj) => obj is VariantName v && Equals(v);
        public override int GetHashCode() => Alpha.GetHashCode() * 397 ^ Resolution;
        public static bool operator ==(VariantName a, VariantName b) => a.Equals(b);
        public static bool operator !=(VariantName a, VariantName b) => !a.Equals(b);
    }
}
