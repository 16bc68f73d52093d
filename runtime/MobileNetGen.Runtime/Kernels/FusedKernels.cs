namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// A pointwise layer feeding a depthwise layer band by band, so that the activation between them never leaves the cache.
/// </summary>
/// <remarks>
/// Unfused, a pointwise layer writes its whole output (3.1 MiB after 1.0_224's first pointwise layer) and the stride-2
/// depthwise layer after it reads it back, by then from L3 or memory: that depthwise layer took 0.45 ms in the network
/// against 0.25 ms with its input in cache. Here the pointwise layer writes only the rows that the next
/// <c>outRowsPerBand</c> depthwise output rows read, into a small band buffer; the depthwise layer reads them at once;
/// the rows the next band shares with this one (the last row at stride 2) are moved to the front of the band instead
/// of being computed again. The kernels are the unfused ones on the same sums, so the output is bit for bit the same.
/// The generated code calls this when one thread runs the network (threads would need a barrier per band).
/// </remarks>
public static unsafe class FusedKernels
{
    /// <summary>Rows of the pointwise output a band holds for <paramref name="outRowsPerBand"/> depthwise output rows.</summary>
    public static int BandRows(int outRowsPerBand, int stride) => MobileNetGen.Model.KernelContract.FusedBandRows(outRowsPerBand, stride);

    /// <summary>
    /// Pointwise (<paramref name="cin"/> → <c>TShape.Channels</c>) then depthwise (<typeparamref name="TShape"/>), from
    /// <paramref name="input"/> (the pointwise input, <c>InH × InW × cin</c>) to <paramref name="output"/> (the depthwise
    /// output). <paramref name="band"/> holds <see cref="BandRows"/> rows of <c>InW × Channels</c> floats and must not
    /// overlap either.
    /// </summary>
    public static void PointwiseThenDepthwise<TShape>(SimdPath path, float* input, float* output, float* band, int outRowsPerBand,
        float* pointwisePacked, float* pointwiseBias, int cin, float* depthwisePacked, float* depthwiseBias)
        where TShape : struct, IDepthwiseShape
    {
        int channels = TShape.Channels, width = TShape.InW, stride = TShape.Stride;
        long rowFloats = (long)width * channels;
        int heldBegin = 0, heldEnd = 0; // the band holds pointwise rows [heldBegin, heldEnd), from the band before
        for (int y0 = 0; y0 < TShape.OutH; y0 += outRowsPerBand)
        {
            int y1 = Math.Min(y0 + outRowsPerBand, TShape.OutH);
            int rowBegin = Math.Max(0, y0 * stride - TShape.PadTop);
            int rowEnd = Math.Min(TShape.InH, (y1 - 1) * stride - TShape.PadTop + 3);
            int first = Math.Max(rowBegin, heldEnd); // rows [rowBegin, first) are in the band already: move them to its front
            if (first > rowBegin)
            {
                long shared = (long)(first - rowBegin) * rowFloats * sizeof(float);
                Buffer.MemoryCopy(band + (rowBegin - heldBegin) * rowFloats, band, shared, shared); // a memmove
            }
            PointwiseKernels.Run(path, input + (long)first * width * cin, band + (first - rowBegin) * rowFloats, pointwisePacked,
                pointwiseBias, pixels: (rowEnd - first) * width, cin: cin, cout: channels, panelStart: 0,
                panelEnd: channels / PointwiseKernels.PanelWidth);
            // The depthwise kernel addresses input row r at (r · InW · C): shift the band so that row rowBegin is its start.
            DepthwiseKernels.Run<TShape>(path, band - rowBegin * rowFloats, output, depthwisePacked, depthwiseBias, y0, y1);
            heldBegin = rowBegin;
            heldEnd = rowEnd;
        }
    }
}
