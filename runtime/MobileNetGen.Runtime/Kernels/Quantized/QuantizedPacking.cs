using MobileNetGen.Model;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// Packing of Google's uint8 layers, once per process at load: each routine reads a canonical tensor (HWIO uint8 kernel,
/// int32 bias; weights/README.md, "Quantized (uint8) entries") and writes the layout its kernel reads, with every constant
/// that does not depend on the input folded into the packed bias. Sizes are <see cref="KernelContract"/>'s
/// <c>Quantized*Bytes</c> (multiples of 64, so consecutive blocks stay 64-byte aligned); every destination byte is written
/// (padding with zeros). Bias arithmetic wraps like TFLite's int32 accumulator, so the folded sums are exact modulo 2^32
/// and therefore equal to the reference's whenever its accumulator does not overflow.
/// </summary>
public static unsafe class QuantizedPacking
{
    /// <summary>
    /// Stem kernel <c>[3][3][3][Cout]</c> → int16 pairs <c>w'[((ky·5 + t/2)·Cout + co)·2 + t%2] = w − w_zp</c>, t = kx·3 + ci
    /// (t = 9 is a zero); bias <c>b'[co] = bias[co] − x_zp·Σ w'</c>. One layout for every ISA.
    /// </summary>
    public static void Stem(byte* kernel, int weightZeroPoint, int* bias, int inputZeroPoint, int cout, byte* destWeights, byte* destBias)
    {
        CheckZeroPoints(weightZeroPoint, inputZeroPoint);
        short* w = (short*)destWeights;
        new Span<byte>(destWeights, checked((int)KernelContract.QuantizedStemWeightBytes(cout))).Clear();
        for (int co = 0; co < cout; co++)
        {
            int sum = 0;
            for (int ky = 0; ky < 3; ky++)
                for (int t = 0; t < 9; t++)
                {
                    int v = kernel[(ky * 9 + t) * cout + co] - weightZeroPoint;
                    w[((ky * 5 + t / 2) * cout + co) * 2 + t % 2] = (short)v;
                    sum += v;
                }
            ((int*)destBias)[co] = unchecked(bias[co] - inputZeroPoint * sum);
        }
        ZeroTail(destBias, 4L * cout, KernelContract.QuantizedStemBiasBytes(cout));
    }

    /// <summary>
    /// Depthwise kernel <c>[3][3][C][1]</c> → int16 tap-major <c>w'[(ky·3 + kx)·C + c] = w − w_zp</c>; bias
    /// <c>b'[c] = bias[c] − x_zp·Σ_taps w'</c>. One layout for every ISA.
    /// </summary>
    public static void Depthwise(byte* kernel, int weightZeroPoint, int* bias, int inputZeroPoint, int channels, byte* destWeights, byte* destBias)
    {
        CheckZeroPoints(weightZeroPoint, inputZeroPoint);
        short* w = (short*)destWeights;
        for (int c = 0; c < channels; c++)
        {
            int sum = 0;
            for (int t = 0; t < 9; t++)
            {
                int v = kernel[t * channels + c] - weightZeroPoint;
                w[t * channels + c] = (short)v;
                sum += v;
            }
            ((int*)destBias)[c] = unchecked(bias[c] - inputZeroPoint * sum);
        }
        ZeroTail(destWeights, 18L * channels, KernelContract.QuantizedDepthwiseWeightBytes(channels));
        ZeroTail(destBias, 4L * channels, KernelContract.QuantizedDepthwiseBiasBytes(channels));
    }

    /// <summary>
    /// Pointwise kernel <c>[1][1][Cin][Cout]</c> in <paramref name="layout"/>, the one the kernel's ISA reads (<see cref="QuantizedKernels.LayoutOf"/>;
    /// see <see cref="QPointwiseKernels"/>): Pairs, int16 <c>packed[((panel·Cin/2 + k)·16 + j)·2 + i] = w[2k + i, panel·16 + j] − w_zp</c>;
    /// Quads, uint8 <c>packed[((panel·Cin/4 + k)·16 + j)·4 + i] = w[4k + i, panel·16 + j]</c>; Octets, the Pairs values in
    /// the order of <see cref="OctetIndex"/> where <see cref="QuantizedKernels.UsesOctets"/>, else as Pairs. Bias (all):
    /// <c>b'[co] = bias[co] − x_zp·Σ_ci (w[ci, co] − w_zp)</c>. Cin must be a multiple of 4, Cout of 16.
    /// </summary>
    public static void Pointwise(byte* kernel, int weightZeroPoint, int* bias, int inputZeroPoint, int cin, int cout, byte* destWeights, byte* destBias, QuantizedWeightLayout layout)
    {
        if (cout % KernelContract.PanelWidth != 0) throw new ArgumentException($"pointwise width {cout} is not a multiple of {KernelContract.PanelWidth}", nameof(cout));
        Matrix(kernel, weightZeroPoint, bias, inputZeroPoint, cin, cout, cout, destWeights, destBias, layout);
        ZeroTail(destWeights, PackedMatrixBytes(cin, cout, layout), KernelContract.QuantizedPointwiseWeightBytes(cin, cout));
        ZeroTail(destBias, 4L * cout, KernelContract.QuantizedPointwiseBiasBytes(cout));
    }

    /// <summary>
    /// Logits kernel <c>[1][1][C][classes]</c> as <see cref="Pointwise"/> of a matrix padded to
    /// <see cref="KernelContract.QuantizedLogitsPaddedClasses"/> columns (zero weights, zero bias in the padding).
    /// </summary>
    public static void Logits(byte* kernel, int weightZeroPoint, int* bias, int inputZeroPoint, int channels, int classes, byte* destWeights, byte* destBias, QuantizedWeightLayout layout)
    {
        int padded = KernelContract.QuantizedLogitsPaddedClasses(classes);
        Matrix(kernel, weightZeroPoint, bias, inputZeroPoint, channels, classes, padded, destWeights, destBias, layout);
        ZeroTail(destWeights, PackedMatrixBytes(channels, padded, layout), KernelContract.QuantizedLogitsWeightBytes(channels, classes));
        ZeroTail(destBias, 4L * padded, KernelContract.QuantizedLogitsBiasBytes(classes));
    }

    private static long PackedMatrixBytes(int cin, int paddedCout, QuantizedWeightLayout layout) =>
        (layout == QuantizedWeightLayout.Quads ? 1L : 2L) * cin * paddedCout;

    /// <summary>A [cin][cout] uint8 matrix → panels of 16 of <paramref name="paddedCout"/> columns (columns ≥ cout: zero).</summary>
    private static void Matrix(byte* kernel, int weightZeroPoint, int* bias, int inputZeroPoint, int cin, int cout, int paddedCout, byte* destWeights, byte* destBias, QuantizedWeightLayout layout)
    {
        CheckZeroPoints(weightZeroPoint, inputZeroPoint);
        if (cin <= 0 || cin % 4 != 0) throw new ArgumentException($"input channels {cin} must be a positive multiple of 4", nameof(cin));
        const int P = KernelContract.PanelWidth;
        bool octets = QuantizedKernels.UsesOctets(layout, cin), pairs = !octets && layout != QuantizedWeightLayout.Quads;
        for (int co = 0; co < paddedCout; co++)
        {
            int panel = co / P, j = co % P, sum = 0;
            for (int ci = 0; ci < cin; ci++)
            {
                bool real = co < cout;
                int w = real ? kernel[(long)ci * cout + co] : weightZeroPoint;
                sum += w - weightZeroPoint;
                if (octets) ((short*)destWeights)[OctetIndex(cin, panel, ci, j)] = (short)(w - weightZeroPoint);
                else if (pairs) ((short*)destWeights)[(((long)panel * (cin / 2) + ci / 2) * P + j) * 2 + ci % 2] = (short)(w - weightZeroPoint);
                else destWeights[(((long)panel * (cin / 4) + ci / 4) * P + j) * 4 + ci % 4] = real ? (byte)w : (byte)0;
            }
            ((int*)destBias)[co] = co < cout ? unchecked(bias[co] - inputZeroPoint * sum) : 0;
        }
    }

    /// <summary>
    /// Where the Octets layout puts weight (input channel <paramref name="ci"/>, output channel <c>panel·16 + j</c>), in int16:
    /// octet k = ci/8 of the panel is four 512-bit vectors V_0..V_3; in V_q, int32 lane <c>4g + p</c> holds the pair p
    /// (input channels <c>8k + 2p</c>, <c>8k + 2p + 1</c>) of output channel <c>4g + q</c>. A 128-bit broadcast of the pixel's
    /// octet puts pair p in lane <c>4g + p</c> of every 128-bit group g, so <c>pmaddwd(broadcast, V_q)</c> accumulates, in
    /// group g, the four pairs' partial sums of channel <c>4g + q</c>; summing each group's four lanes at the end leaves
    /// channel <c>4g + q</c> in lane q of group g, i.e. the 16 channels in order.
    /// </summary>
    internal static long OctetIndex(int cin, int panel, int ci, int j)
    {
        int k = ci / 8, p = ci % 8 / 2, i = ci % 2, g = j / 4, q = j % 4;
        return ((((long)panel * (cin / 8) + k) * 4 + q) * 16 + 4 * g + p) * 2 + i;
    }

    private static void CheckZeroPoints(int weightZeroPoint, int inputZeroPoint)
    {
        if ((uint)weightZeroPoint > 255) throw new ArgumentOutOfRangeException(nameof(weightZeroPoint), weightZeroPoint, "a uint8 zero point is 0..255");
        if ((uint)inputZeroPoint > 255) throw new ArgumentOutOfRangeException(nameof(inputZeroPoint), inputZeroPoint, "a uint8 zero point is 0..255");
    }

    private static void ZeroTail(byte* block, long used, long size) => new Span<byte>(block + used, checked((int)(size - used))).Clear();
}
