using System;

namespace MobileNetGen.Model
{
    /// <summary>
    /// The rules the generator and the runtime kernels must agree on, in one place: compiled into the generator (as
    /// source, like the rest of this folder) and into the runtime (through the MobileNetGen.Model assembly). The
    /// generator plans offsets, workspace sizes and thread splits from these numbers; the kernels read and write exactly
    /// what they imply.
    /// </summary>
    public static class KernelContract
    {
        /// <summary>Output channels per packed pointwise weight panel: <c>packed[(panel·Cin + ci)·16 + j] = W[ci, panel·16 + j]</c>.
        /// One panel is one Vector512, two Vector256 or four Vector128, so one packing serves every SIMD width.</summary>
        public const int PanelWidth = 16;

        /// <summary>Floats per alignment unit: every packed block and workspace buffer starts on a 64-byte boundary.</summary>
        public const int AlignFloats = 16;

        /// <summary>The most threads one inference is split across.</summary>
        public const int MaxThreads = 64;

        /// <summary>Pixels per register tile of the Vector512 and Vector256 pointwise kernels (6 × 2 accumulators).</summary>
        public const int PointwiseTilePixelsX64 = 6;

        /// <summary>Pixels per register tile of the Vector128 (NEON) pointwise kernel (4 × 4 accumulators).</summary>
        public const int PointwiseTilePixelsNeon = 4;

        /// <summary>
        /// Grain of a pointwise layer split by pixels between threads: a multiple of every path's tile (12 = lcm(6, 4)), so
        /// that no thread's share ends in a ragged tile on any path (a ragged tile costs a chain of dependent multiply-adds).
        /// </summary>
        public const int PointwisePixelGrain = 12;

        /// <summary>Grain of a pointwise layer split by weight panels: the Vector512 kernel takes panels in pairs.</summary>
        public const int PointwisePanelGrain = 2;

        /// <summary>Grain of a stem or depthwise layer split by output rows.</summary>
        public const int RowGrain = 1;

        /// <summary>Chunks per thread each layer is cut into (threads take chunks from a shared counter).</summary>
        public const int ChunksPerThread = 4;

        /// <summary>
        /// A layer that costs less than this many (pointwise) multiply-accumulates is run whole by one thread when several share an inference, and
        /// consecutive such layers run one after another with no barrier between them. Splitting a layer saves at most half
        /// its time on two threads, and costs a barrier (a few µs on a virtual machine) plus its input moving between the
        /// cores' caches: below about 2 M MACs (some 10-20 µs on one core) that cost is larger than the saving. Measured on
        /// AMD Zen 5 (EPYC family 26): 0.25_128 and 0.25_160 took 1.4× as long on two threads as on one with every layer split.
        /// </summary>
        public const long MinSplitMacs = 2_000_000;

        /// <summary>What a depthwise MAC costs against a pointwise one, for <see cref="SplitsAcrossThreads"/>: the depthwise
        /// kernels run at 17-37 % of the FMA peak where the pointwise ones run at 60-85 % (the profile, Intel AVX-512 and
        /// AMD Zen 5), so a depthwise layer takes about three times as long as a pointwise layer of the same MACs.</summary>
        public const int DepthwiseCostPerMac = 3;

        /// <summary>Whether a layer of <paramref name="macs"/> is split between threads: its cost, in pointwise MACs
        /// (<see cref="DepthwiseCostPerMac"/>), reaches <see cref="MinSplitMacs"/>.</summary>
        public static bool SplitsAcrossThreads(long macs, bool depthwise) => macs * (depthwise ? DepthwiseCostPerMac : 1) >= MinSplitMacs;

        /// <summary>A pointwise → stride-2 depthwise pair is fused from this activation size between them (1 MiB of floats).</summary>
        public const long FuseFromActivationFloats = 256 * 1024;

        /// <summary>Most floats of pointwise output one band of a fused pair holds (256 KiB: half a core's L2 on Zen 1).</summary>
        public const long FusedBandFloats = 64 * 1024;

        /// <summary>Rows of the pointwise output a band holds for <paramref name="outRowsPerBand"/> depthwise output rows (3×3 window).</summary>
        public static int FusedBandRows(int outRowsPerBand, int stride) => (outRowsPerBand - 1) * stride + 3;

        /// <summary>
        /// Depthwise output rows per band of a fused pointwise → depthwise pair whose depthwise layer reads
        /// <paramref name="inH"/> × <paramref name="inW"/> × <paramref name="channels"/> and writes <paramref name="outH"/>
        /// rows at <paramref name="stride"/>; 0 when the pair is not fused. Fused: the pointwise output is at least
        /// <see cref="FuseFromActivationFloats"/> and the depthwise layer has stride 2 (below that size the activation stays
        /// in cache without help; a stride-1 depthwise layer after a pointwise one measured no gain).
        /// </summary>
        public static int FusedBandOutRows(int inH, int inW, int channels, int outH, int stride)
        {
            if (stride != 2) return 0;
            long rowFloats = (long)inW * channels;
            if (rowFloats * inH < FuseFromActivationFloats) return 0;
            long rows = FusedBandFloats / rowFloats; // band rows = (R − 1)·stride + 3
            return (int)Math.Min(outH, Math.Max(1, (rows - 3) / stride + 1));
        }

        /// <summary>Rounds a float count up to whole 64-byte units.</summary>
        public static long Align(long floats) => (floats + AlignFloats - 1) / AlignFloats * AlignFloats;
        // ---- uint8 kernels (runtime/MobileNetGen.Runtime/Kernels/Quantized): the bytes of each packed block, which the
        // generator plans at build time and QuantizedPacking fills at load. Every size is a multiple of 64, so blocks laid
        // one after another stay 64-byte aligned. Layouts: see QuantizedPacking and each kernel's remarks.

        /// <summary>Bytes per alignment unit of the uint8 packed blocks.</summary>
        public const int QuantizedAlignBytes = 64;

        /// <summary>Rounds a byte count up to whole 64-byte units.</summary>
        public static long AlignBytes(long bytes) => (bytes + QuantizedAlignBytes - 1) / QuantizedAlignBytes * QuantizedAlignBytes;

        /// <summary>Stem weights: int16 <c>[3 kernel rows][5 pairs][Cout][2]</c> (the 9 values of a kernel row and a zero).</summary>
        public static long QuantizedStemWeightBytes(int cout) => AlignBytes(3L * 5 * cout * 2 * 2);

        /// <summary>Stem bias: int32 <c>[Cout]</c>.</summary>
        public static long QuantizedStemBiasBytes(int cout) => AlignBytes(4L * cout);

        /// <summary>Depthwise weights: int16 <c>[9 taps][C]</c>.</summary>
        public static long QuantizedDepthwiseWeightBytes(int channels) => AlignBytes(9L * channels * 2);

        /// <summary>Depthwise bias: int32 <c>[C]</c>.</summary>
        public static long QuantizedDepthwiseBiasBytes(int channels) => AlignBytes(4L * channels);

        /// <summary>
        /// Pointwise weights: the largest of the layouts (int16 pairs or AVX-512's octets of them, 2·Cin·Cout; the uint8 quads
        /// of the Dp and VNNI ISAs use the first Cin·Cout of it), so that the plan does not depend on the CPU.
        /// </summary>
        public static long QuantizedPointwiseWeightBytes(int cin, int cout) => AlignBytes(2L * cin * cout);

        /// <summary>Pointwise bias: int32 <c>[Cout]</c>.</summary>
        public static long QuantizedPointwiseBiasBytes(int cout) => AlignBytes(4L * cout);

        /// <summary>The logits' classes rounded up to whole panels (1001 → 1008): the padding has zero weights and bias.</summary>
        public static int QuantizedLogitsPaddedClasses(int classes) => (classes + PanelWidth - 1) / PanelWidth * PanelWidth;

        /// <summary>Logits weights: the pointwise layout of the padded [C][classes] matrix.</summary>
        public static long QuantizedLogitsWeightBytes(int channels, int classes) => AlignBytes(2L * channels * QuantizedLogitsPaddedClasses(classes));

        /// <summary>Logits bias: int32 <c>[padded classes]</c>.</summary>
        public static long QuantizedLogitsBiasBytes(int classes) => AlignBytes(4L * QuantizedLogitsPaddedClasses(classes));
    }
}
