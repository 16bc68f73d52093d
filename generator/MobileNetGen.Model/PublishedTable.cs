using System;

namespace MobileNetGen.Model
{
    /// <summary>One row of the TF-slim MobileNet v1 table (mobilenet_v1.md, 2017_06_14 checkpoints): the seed's figures.</summary>
    public sealed class PublishedRow
    {
        public PublishedRow(string variant, int millionMacs, double millionParams, double top1, double top5)
        { Variant = variant; MillionMacs = millionMacs; MillionParams = millionParams; Top1 = top1; Top5 = top5; }
        public string Variant { get; }
        public int MillionMacs { get; }
        public double MillionParams { get; }
        /// <summary>ImageNet validation top-1, percent, single center crop.</summary>
        public double Top1 { get; }
        public double Top5 { get; }
    }

    public static class PublishedTable
    {
        public static readonly PublishedRow[] Rows =
        {
            new PublishedRow("1.0_224", 569, 4.24, 70.7, 89.5),
            new PublishedRow("1.0_192", 418, 4.24, 69.3, 88.9),
            new PublishedRow("1.0_160", 291, 4.24, 67.2, 87.5),
            new PublishedRow("1.0_128", 186, 4.24, 64.1, 85.3),
            new PublishedRow("0.75_224", 317, 2.59, 68.4, 88.2),
            new PublishedRow("0.75_192", 233, 2.59, 67.4, 87.3),
            new PublishedRow("0.75_160", 162, 2.59, 65.2, 86.1),
            new PublishedRow("0.75_128", 104, 2.59, 61.8, 83.6),
            new PublishedRow("0.50_224", 150, 1.34, 64.0, 85.4),
            new PublishedRow("0.50_192", 110, 1.34, 62.1, 84.0),
            new PublishedRow("0.50_160", 77, 1.34, 59.9, 82.5),
            new PublishedRow("0.50_128", 49, 1.34, 56.2, 79.6),
            new PublishedRow("0.25_224", 41, 0.47, 50.6, 75.0),
            new PublishedRow("0.25_192", 34, 0.47, 49.0, 73.6),
            new PublishedRow("0.25_160", 21, 0.47, 46.0, 70.7),
            new PublishedRow("0.25_128", 14, 0.47, 41.3, 66.2),
        };

        /// <summary>
        /// Google's uint8 quantization-aware-trained networks (TFLite hosted models, 2018_08_02; ImageNet validation): their
        /// own accuracy, not the float checkpoints'. Same MACs and parameters as the float variant.
        /// </summary>
        public static readonly PublishedRow[] QuantizedRows =
        {
            new PublishedRow("1.0_224_quant", 569, 4.24, 70.0, 89.0),
            new PublishedRow("0.75_192_quant", 233, 2.59, 66.1, 86.2),
            new PublishedRow("0.50_160_quant", 77, 1.34, 57.2, 80.5),
            new PublishedRow("0.25_224_quant", 41, 0.47, 48.2, 72.8),
            new PublishedRow("0.25_128_quant", 14, 0.47, 39.5, 64.4),
        };

        /// <summary>The published row of a variant (its uint8 row for a <c>_quant</c> one); null when none was published.</summary>
        public static PublishedRow? For(VariantName v) => Array.Find(v.Quantized ? QuantizedRows : Rows, r => r.Variant == v.ToString());
    }
}
