namespace MobileNetGen.Tests.ObjectDetection.Reference;

/// <summary>
/// What the TFLite Task Library does to resize an RGB frame (<c>ResizeRgb</c>, <c>utils/libyuv_frame_buffer_utils.cc</c> in
/// tensorflow/tflite-support): RGB → ARGB, <c>libyuv::ARGBScale(…, kFilterBilinear)</c>, ARGB → RGB; with libyuv's scaler
/// transcribed in its own form — byte offsets into ARGB rows, 32-bit <c>int</c> 16.16 positions, the clipped row buffer of
/// <c>ScaleARGBBilinearDown</c> and the two cached rows of <c>ScaleARGBBilinearUp</c> — from <c>source/scale_argb.cc</c>
/// (<c>ScaleARGB</c>, <c>ScaleARGBDown2</c>, <c>ScaleARGBDownEven</c>, <c>ScaleARGBBilinearDown</c>, <c>ScaleARGBBilinearUp</c>,
/// <c>ScaleARGBSimple</c>) and <c>source/scale_common.cc</c> (<c>ScaleARGBRowDown2Box_C</c>, <c>ScaleARGBRowDownEvenBox_C</c>,
/// <c>ScaleARGBFilterCols_C</c>, <c>ScaleARGBCols_C</c>, <c>ScalePlaneVertical</c>, <c>ScaleFilterReduce</c>, <c>ScaleSlope</c>,
/// <c>FixedDiv_C</c>, <c>FixedDiv1_C</c>), <c>InterpolateRow_C</c> from <c>source/row_common.cc</c>. C row functions only.
/// The oracle for <see cref="Runtime.Detection.DetectorPreprocessor"/>, which resizes the three channels directly.
/// </summary>
internal static class LibyuvArgbScaleReference
{
    private const int FilterNone = 0, FilterLinear = 1, FilterBilinear = 2;

    /// <summary>Which of libyuv's row functions a build runs (libyuv picks them at run time with <c>TestCpuFlag</c>).</summary>
    public enum RowFunctions
    {
        /// <summary>The portable C row functions (<c>scale_common.cc</c>); NEON's box filters round the same way.</summary>
        C,
        /// <summary>
        /// An x86-64 build: the 2×2 box row functions are <c>ScaleARGBRowDown2Box_SSE2</c> and <c>ScaleARGBRowDownEvenBox_SSE2</c>
        /// (<c>source/scale_gcc.cc</c>): <c>pavgb</c> of the two rows, then <c>pavgb</c> of the two columns, each rounding up —
        /// <c>avg(avg(a, c), avg(b, d))</c> instead of C's <c>(a + b + c + d + 2) &gt;&gt; 2</c>. Only these two are transcribed:
        /// other geometries (bilinear column filters, SSSE3/AVX2 paths) throw <see cref="NotSupportedException"/>.
        /// </summary>
        X86Sse2,
    }

    public static byte[] ResizeRgb(byte[] rgb, int srcWidth, int srcHeight, int dstWidth, int dstHeight) =>
        ResizeRgb(rgb, srcWidth, srcHeight, dstWidth, dstHeight, RowFunctions.C);


    /// <summary><c>_mm_avg_epu8</c> (<c>pavgb</c>): (a + b + 1) &gt;&gt; 1.</summary>
    private static int Pavgb(int a, int b) => (a + b + 1) >> 1;

    /// <summary>The 2×2 box of the two box row functions: C or SSE2 rounding (see <see cref="RowFunctions"/>).</summary>
    private static byte Box(RowFunctions rows, int topLeft, int topRight, int bottomLeft, int bottomRight) => rows == RowFunctions.X86Sse2
        ? (byte)Pavgb(Pavgb(topLeft, bottomLeft), Pavgb(topRight, bottomRight))
        : (byte)((topLeft + topRight + bottomLeft + bottomRight + 2) >> 2);

    private static void RequireC(RowFunctions rows, string path)
    {
        if (rows != RowFunctions.C) throw new NotSupportedException($"libyuv's x86 row functions of {path} are not transcribed here (only the 2×2 box filters)");
    }

    public static byte[] ResizeRgb(byte[] rgb, int srcWidth, int srcHeight, int dstWidth, int dstHeight, RowFunctions rows)
    {
        // ConvertRgbToArgb (libyuv's little-endian ARGB is B, G, R, A in memory; the channel order does not change the math).
        var argb = new byte[srcWidth * srcHeight * 4];
        for (int i = 0; i < srcWidth * srcHeight; i++)
        {
            argb[4 * i] = rgb[3 * i + 2];
            argb[4 * i + 1] = rgb[3 * i + 1];
            argb[4 * i + 2] = rgb[3 * i];
            argb[4 * i + 3] = 255;
        }
        var dst = new byte[dstWidth * dstHeight * 4];
        ScaleARGB(argb, srcWidth * 4, srcWidth, srcHeight, dst, dstWidth * 4, dstWidth, dstHeight, FilterBilinear, rows);
        var result = new byte[dstWidth * dstHeight * 3];
        for (int i = 0; i < dstWidth * dstHeight; i++)
        {
            result[3 * i] = dst[4 * i + 2];
            result[3 * i + 1] = dst[4 * i + 1];
            result[3 * i + 2] = dst[4 * i];
        }
        return result;
    }

    private static int FixedDiv(int num, int div) => (int)(((long)num << 16) / div);
    private static int FixedDiv1(int num, int div) => (int)((((long)num << 16) - 0x00010001) / (div - 1));
    private static int CENTERSTART(int dx, int s) => dx < 0 ? -((-dx >> 1) + s) : (dx >> 1) + s;

    private static int ScaleFilterReduce(int srcWidth, int srcHeight, int dstWidth, int dstHeight, int filtering)
    {
        if (filtering == FilterBilinear)
        {
            if (srcHeight == 1) filtering = FilterLinear;
            if (dstHeight == srcHeight || dstHeight * 3 == srcHeight) filtering = FilterLinear;
            if (srcWidth == 1) filtering = FilterNone;
        }
        if (filtering == FilterLinear)
        {
            if (srcWidth == 1) filtering = FilterNone;
            if (dstWidth == srcWidth || dstWidth * 3 == srcWidth) filtering = FilterNone;
        }
        return filtering;
    }

    private static void ScaleSlope(int srcWidth, int srcHeight, int dstWidth, int dstHeight, int filtering, out int x, out int y, out int dx, out int dy)
    {
        x = y = dx = dy = 0;
        if (dstWidth == 1 && srcWidth >= 32768) dstWidth = srcWidth;
        if (dstHeight == 1 && srcHeight >= 32768) dstHeight = srcHeight;
        if (filtering == FilterBilinear)
        {
            if (dstWidth <= srcWidth) { dx = FixedDiv(srcWidth, dstWidth); x = CENTERSTART(dx, -32768); }
            else if (srcWidth > 1 && dstWidth > 1) { dx = FixedDiv1(srcWidth, dstWidth); x = 0; }
            if (dstHeight <= srcHeight) { dy = FixedDiv(srcHeight, dstHeight); y = CENTERSTART(dy, -32768); }
            else if (srcHeight > 1 && dstHeight > 1) { dy = FixedDiv1(srcHeight, dstHeight); y = 0; }
        }
        else if (filtering == FilterLinear)
        {
            if (dstWidth <= srcWidth) { dx = FixedDiv(srcWidth, dstWidth); x = CENTERSTART(dx, -32768); }
            else if (srcWidth > 1 && dstWidth > 1) { dx = FixedDiv1(srcWidth, dstWidth); x = 0; }
            dy = FixedDiv(srcHeight, dstHeight);
            y = dy >> 1;
        }
        else
        {
            dx = FixedDiv(srcWidth, dstWidth);
            dy = FixedDiv(srcHeight, dstHeight);
            x = CENTERSTART(dx, 0);
            y = CENTERSTART(dy, 0);
        }
    }

    private static void ScaleARGB(byte[] src, int srcStride, int srcWidth, int srcHeight, byte[] dst, int dstStride, int dstWidth, int dstHeight, int filtering, RowFunctions rows)
    {
        filtering = ScaleFilterReduce(srcWidth, srcHeight, dstWidth, dstHeight, filtering);
        ScaleSlope(srcWidth, srcHeight, dstWidth, dstHeight, filtering, out int x, out int y, out int dx, out int dy);
        if (((dx | dy) & 0xffff) == 0)
        {
            if (dx == 0 || dy == 0)
            {
                filtering = FilterNone;
            }
            else
            {
                if ((dx & 0x10000) == 0 && (dy & 0x10000) == 0)
                {
                    if (dx == 0x20000 && dy == 0x20000) { ScaleARGBDown2(src, srcStride, dst, dstStride, dstWidth, dstHeight, x, y, dy, filtering, rows); return; }
                    ScaleARGBDownEven(src, srcStride, dst, dstStride, dstWidth, dstHeight, x, dx, y, dy, filtering, rows);
                    return;
                }
                if ((dx & 0x10000) != 0 && (dy & 0x10000) != 0)
                {
                    filtering = FilterNone;
                    if (dx == 0x10000 && dy == 0x10000)
                    {
                        // ARGBCopy(src + (y >> 16) * src_stride + (x >> 16) * 4, ...)
                        for (int j = 0; j < dstHeight; j++)
                            Array.Copy(src, ((y >> 16) + j) * srcStride + (x >> 16) * 4, dst, j * dstStride, dstWidth * 4);
                        return;
                    }
                }
            }
        }
        // The remaining paths filter with InterpolateRow / ScaleARGBFilterCols, whose x86 versions are not transcribed.
        if (filtering != FilterNone) RequireC(rows, "this geometry");
        if (dx == 0x10000 && (x & 0xffff) == 0) { ScalePlaneVertical(srcHeight, dstWidth, dstHeight, srcStride, dstStride, src, dst, x, y, dy, 4, filtering); return; }
        if (filtering != FilterNone && dy < 65536) { ScaleARGBBilinearUp(srcWidth, srcHeight, dstWidth, dstHeight, srcStride, dstStride, src, dst, x, dx, y, dy, filtering); return; }
        if (filtering != FilterNone) { ScaleARGBBilinearDown(srcWidth, srcHeight, dstWidth, dstHeight, srcStride, dstStride, src, dst, x, dx, y, dy, filtering); return; }
        ScaleARGBSimple(dstWidth, dstHeight, srcStride, dstStride, src, dst, x, dx, y, dy);
    }

    private static void ScaleARGBDown2(byte[] src, int srcStride, byte[] dst, int dstStride, int dstWidth, int dstHeight, int x, int y, int dy, int filtering, RowFunctions rows)
    {
        int rowStride = srcStride * (dy >> 16);
        int s = filtering == FilterBilinear ? (y >> 16) * srcStride + (x >> 16) * 4 : (y >> 16) * srcStride + ((x >> 16) - 1) * 4;
        int d = 0;
        for (int j = 0; j < dstHeight; ++j)
        {
            // ScaleARGBRowDown2Box_C
            for (int i = 0, sp = s, dp = d; i < dstWidth; ++i, sp += 8, dp += 4)
                for (int c = 0; c < 4; c++)
                    dst[dp + c] = Box(rows, src[sp + c], src[sp + c + 4], src[sp + srcStride + c], src[sp + srcStride + c + 4]);
            s += rowStride;
            d += dstStride;
        }
    }

    private static void ScaleARGBDownEven(byte[] src, int srcStride, byte[] dst, int dstStride, int dstWidth, int dstHeight, int x, int dx, int y, int dy, int filtering, RowFunctions rows)
    {
        int colStep = dx >> 16;
        int rowStride = (dy >> 16) * srcStride;
        int s = (y >> 16) * srcStride + (x >> 16) * 4;
        int stride = filtering == FilterLinear ? 0 : srcStride;
        for (int j = 0, d = 0; j < dstHeight; ++j, s += rowStride, d += dstStride)
        {
            // ScaleARGBRowDownEvenBox_C
            for (int i = 0, sp = s, dp = d; i < dstWidth; ++i, sp += colStep * 4, dp += 4)
                for (int c = 0; c < 4; c++)
                    dst[dp + c] = Box(rows, src[sp + c], src[sp + c + 4], src[sp + stride + c], src[sp + stride + c + 4]);
        }
    }

    // InterpolateRow_C(dst, src, src_stride, width, source_y_fraction)
    private static void InterpolateRow(byte[] dstBuf, int dst, byte[] srcBuf, int src, int srcStride, int width, int fraction)
    {
        int y1 = fraction, y0 = 256 - y1;
        if (y1 == 0) { Array.Copy(srcBuf, src, dstBuf, dst, width); return; }
        if (y1 == 128)
        {
            for (int x = 0; x < width; ++x) dstBuf[dst + x] = (byte)((srcBuf[src + x] + srcBuf[src + srcStride + x] + 1) >> 1); // HalfRow_C
            return;
        }
        for (int x = 0; x < width; ++x) dstBuf[dst + x] = (byte)((srcBuf[src + x] * y0 + srcBuf[src + srcStride + x] * y1 + 128) >> 8);
    }

    // ScaleARGBFilterCols_C with BLENDER(a, b, f) = (a * (0x7f ^ f) + b * f) >> 7 per channel.
    private static void ScaleARGBFilterCols(byte[] dstBuf, int dst, byte[] srcBuf, int src, int dstWidth, int x, int dx)
    {
        for (int j = 0; j < dstWidth; j++)
        {
            int xi = x >> 16;
            int xf = (x >> 9) & 0x7f;
            for (int c = 0; c < 4; c++)
            {
                int a = srcBuf[src + xi * 4 + c], b = srcBuf[src + (xi + 1) * 4 + c];
                dstBuf[dst + j * 4 + c] = (byte)((a * (0x7f ^ xf) + b * xf) >> 7);
            }
            x += dx;
        }
    }

    private static void ScalePlaneVertical(int srcHeight, int dstWidth, int dstHeight, int srcStride, int dstStride, byte[] src, byte[] dst,
                                           int x, int y, int dy, int bpp, int filtering)
    {
        int dstWidthBytes = dstWidth * bpp;
        int maxY = srcHeight > 1 ? ((srcHeight - 1) << 16) - 1 : 0;
        int s = (x >> 16) * bpp;
        for (int j = 0; j < dstHeight; ++j)
        {
            if (y > maxY) y = maxY;
            int yi = y >> 16;
            int yf = filtering != FilterNone ? (y >> 8) & 255 : 0;
            InterpolateRow(dst, j * dstStride, src, s + yi * srcStride, srcStride, dstWidthBytes, yf);
            y += dy;
        }
    }

    private static void ScaleARGBBilinearDown(int srcWidth, int srcHeight, int dstWidth, int dstHeight, int srcStride, int dstStride,
                                              byte[] src, byte[] dst, int x, int dx, int y, int dy, int filtering)
    {
        long xlast = x + (long)(dstWidth - 1) * dx;
        long xl = dx >= 0 ? x : xlast;
        long xr = dx >= 0 ? xlast : x;
        xl = (xl >> 16) & ~3;
        xr = (xr >> 16) + 1;
        xr = (xr + 1 + 3) & ~3;
        if (xr > srcWidth) xr = srcWidth;
        int clipSrcWidth = (int)(xr - xl) * 4;
        int srcArgb = (int)xl * 4;
        x -= (int)(xl << 16);
        var row = new byte[clipSrcWidth + 4]; // libyuv allocates more; FilterCols may read the pixel after the last one used
        int maxY = (srcHeight - 1) << 16;
        if (y > maxY) y = maxY;
        for (int j = 0; j < dstHeight; ++j)
        {
            int yi = y >> 16;
            int s = srcArgb + yi * srcStride;
            if (filtering == FilterLinear)
            {
                ScaleARGBFilterCols(dst, j * dstStride, src, s, dstWidth, x, dx);
            }
            else
            {
                int yf = (y >> 8) & 255;
                InterpolateRow(row, 0, src, s, srcStride, clipSrcWidth, yf);
                ScaleARGBFilterCols(dst, j * dstStride, row, 0, dstWidth, x, dx);
            }
            y += dy;
            if (y > maxY) y = maxY;
        }
    }

    private static void ScaleARGBBilinearUp(int srcWidth, int srcHeight, int dstWidth, int dstHeight, int srcStride, int dstStride,
                                            byte[] src, byte[] dst, int x, int dx, int y, int dy, int filtering)
    {
        int maxY = (srcHeight - 1) << 16;
        if (y > maxY) y = maxY;
        int yi = y >> 16;
        int s = yi * srcStride;
        int rowSize = (dstWidth * 4 + 31) & ~31;
        var row = new byte[rowSize * 2];
        int rowptr = 0, rowstride = rowSize, lasty = yi;
        ScaleARGBFilterCols(row, rowptr, src, s, dstWidth, x, dx);
        if (srcHeight > 1) s += srcStride;
        ScaleARGBFilterCols(row, rowptr + rowstride, src, s, dstWidth, x, dx);
        if (srcHeight > 2) s += srcStride;
        for (int j = 0; j < dstHeight; ++j)
        {
            yi = y >> 16;
            if (yi != lasty)
            {
                if (y > maxY)
                {
                    y = maxY;
                    yi = y >> 16;
                    s = yi * srcStride;
                }
                if (yi != lasty)
                {
                    ScaleARGBFilterCols(row, rowptr, src, s, dstWidth, x, dx);
                    rowptr += rowstride;
                    rowstride = -rowstride;
                    lasty = yi;
                    if (y + 65536 < maxY) s += srcStride;
                }
            }
            if (filtering == FilterLinear) InterpolateRow(dst, j * dstStride, row, rowptr, 0, dstWidth * 4, 0);
            else InterpolateRow(dst, j * dstStride, row, rowptr, rowstride, dstWidth * 4, (y >> 8) & 255);
            y += dy;
        }
    }

    private static void ScaleARGBSimple(int dstWidth, int dstHeight, int srcStride, int dstStride, byte[] src, byte[] dst, int x, int dx, int y, int dy)
    {
        for (int j = 0; j < dstHeight; ++j)
        {
            int s = (y >> 16) * srcStride;
            int xx = x;
            for (int i = 0; i < dstWidth; i++, xx += dx) Array.Copy(src, s + (xx >> 16) * 4, dst, j * dstStride + i * 4, 4); // ScaleARGBCols_C
            y += dy;
        }
    }
}
