using System.Runtime.CompilerServices;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>A full 3×3 convolution's input geometry, as constants (the generator emits one struct per layer).</summary>
public interface IQIm2ColShape
{
    static abstract int InH { get; }
    static abstract int InW { get; }
    static abstract int Channels { get; }
    static abstract int OutH { get; }
    static abstract int OutW { get; }
    static abstract int Stride { get; }
    static abstract int PadTop { get; }
    static abstract int PadLeft { get; }
    /// <summary>The input's zero point: what a padded tap reads.</summary>
    static abstract int InputZeroPoint { get; }
}

/// <summary>
/// A uint8 3×3 convolution with many input channels (the SSD's extra layers: 192–384 in, stride 2, small maps) as
/// im2col + the pointwise GEMM: each output pixel's 3×3×C window is laid out as one row of 9·C bytes in HWIO order
/// (ky, kx, c), which is exactly the canonical kernel <c>[3][3][C][Cout]</c> read as a <c>[9·C][Cout]</c> matrix, so
/// <see cref="QPointwiseKernels"/> with Cin = 9·C computes the convolution. A tap outside the image reads the input zero
/// point, which contributes nothing once the packing's bias fold (<c>bias − x_zp·Σw'</c>) is applied: TFLite's skipped tap.
/// </summary>
public static unsafe class QIm2ColKernels
{
    /// <summary>Rows of the matrix for output rows <c>[rowStart, rowEnd)</c>: <c>OutW</c> pixels each, 9·C bytes a pixel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TShape>(byte* input, byte* output, int rowStart, int rowEnd) where TShape : struct, IQIm2ColShape
    {
        int c = TShape.Channels, inH = TShape.InH, inW = TShape.InW;
        byte zero = (byte)TShape.InputZeroPoint;
        long rowBytes = 9L * c;
        for (int oy = rowStart; oy < rowEnd; oy++)
            for (int ox = 0; ox < TShape.OutW; ox++)
            {
                byte* row = output + ((long)oy * TShape.OutW + ox) * rowBytes;
                for (int ky = 0; ky < 3; ky++)
                {
                    int iy = oy * TShape.Stride - TShape.PadTop + ky;
                    for (int kx = 0; kx < 3; kx++)
                    {
                        int ix = ox * TShape.Stride - TShape.PadLeft + kx;
                        byte* tap = row + (ky * 3 + kx) * (long)c;
                        if ((uint)iy < (uint)inH && (uint)ix < (uint)inW)
                            Buffer.MemoryCopy(input + ((long)iy * inW + ix) * c, tap, c, c);
                        else
                            new Span<byte>(tap, c).Fill(zero);
                    }
                }
            }
    }
}

/// <summary>The SSD's glue between the predictors and post-processing: reshape + concatenation, and LOGISTIC.</summary>
public static unsafe class QDetectorKernels
{
    /// <summary>
    /// One predictor's output into the concatenated tensor: RESHAPE keeps the bytes ([H·W·A, k] rows in pixel order), and
    /// CONCATENATION requantizes each byte to the concatenation's quantization through <paramref name="table"/>
    /// (TFLite's ConcatenationWithScaling, tabulated). The predictor's rows are <paramref name="paddedChannels"/> long (its
    /// output channels rounded up to the GEMM's panel width); the first <paramref name="channels"/> of each are the real ones.
    /// </summary>
    public static void Concatenate(byte* source, int pixels, int paddedChannels, int channels, ReadOnlySpan<byte> table, byte* destination)
    {
        fixed (byte* t = table)
            for (int p = 0; p < pixels; p++)
            {
                byte* from = source + (long)p * paddedChannels;
                byte* to = destination + (long)p * channels;
                for (int j = 0; j < channels; j++) to[j] = t[from[j]];
            }
    }

    /// <summary>TFLite's uint8 LOGISTIC over <paramref name="count"/> bytes through its 256-entry table (<c>QuantizedLogistic</c>).</summary>
    public static void Logistic(byte* source, byte* destination, int count, ReadOnlySpan<byte> table)
    {
        fixed (byte* t = table)
            for (int i = 0; i < count; i++) destination[i] = t[source[i]];
    }
}
