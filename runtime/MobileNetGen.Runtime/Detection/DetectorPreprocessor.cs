using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Runtime.Detection;

/// <summary>
/// The SSD detector's input as the TFLite Task Library's <c>ObjectDetector</c> makes it: the <em>whole</em> frame (no crop, no
/// letterbox, aspect ratio not kept) resized to the model's input size with libyuv's <c>ARGBScale(…, kFilterBilinear)</c>, as
/// uint8 RGB, no normalization (the model's uint8 input takes the bytes as they are: scale 1/128, zero point 128).
/// Allocates nothing per frame once its buffers have grown to the largest frame seen.
/// </summary>
/// <remarks>
/// <para>Why libyuv: <c>ObjectDetector::PreInit</c> (tflite-support, <c>tensorflow_lite_support/cc/task/vision/object_detector.cc</c>)
/// selects <c>FrameBufferUtils::ProcessEngine::kLibyuv</c>; <c>Detect</c> uses the whole frame as the region of interest; the
/// resize of an RGB frame is <c>ResizeRgb</c> in <c>utils/libyuv_frame_buffer_utils.cc</c>, which converts RGB to ARGB,
/// calls <c>libyuv::ARGBScale</c> with <c>kFilterBilinear</c> and converts back. Every libyuv step treats the four channels
/// alike and independently, so the channels are resized here directly, without the ARGB round trip.</para>
/// <para>What is replicated (libyuv <c>source/scale_argb.cc</c> <c>ScaleARGB</c>, <c>source/scale_common.cc</c>): the filter
/// reduction (<c>ScaleFilterReduce</c>), the 16.16 fixed-point start and step (<c>ScaleSlope</c>, <c>FixedDiv</c>,
/// <c>FixedDiv1</c>), and the path it picks: even integer factors (1200×600 → 300×300 is 4 × 2) average a 2×2 box at each step
/// (<c>ScaleARGBDownEven</c>/<c>ScaleARGBDown2</c> with <c>ScaleARGBRowDownEvenBox_C</c>, <c>(a+b+c+d+2)&gt;&gt;2</c>); equal
/// widths interpolate rows only (<c>ScalePlaneVertical</c>); otherwise rows are interpolated with 8-bit weights
/// (<c>InterpolateRow_C</c>, <c>(a·(256−f) + b·f + 128)&gt;&gt;8</c>) and columns with libyuv's 7-bit blender
/// (<c>ScaleARGBFilterCols_C</c>, <c>(a·(127−f) + b·f)&gt;&gt;7</c>, weights summing to 127, libyuv bug 607), vertical
/// interpolation first when shrinking vertically (<c>ScaleARGBBilinearDown</c>), column filtering first when enlarging
/// (<c>ScaleARGBBilinearUp</c>); odd integer factors and 1-pixel-wide sources point-sample (<c>ScaleARGBSimple</c>).</para>
/// <para>Known differences: these are libyuv's portable C row functions. On x86 the SSE2 box (<c>ScaleARGBRowDownEvenBox_SSE2</c>)
/// averages with two rounding <c>pavgb</c> steps instead of one rounding of the 4-sum, and NEON and AVX2 row functions may
/// round differently too, so a Task Library build can differ from these bytes by 1 in some pixels. The Task Library decodes
/// JPEGs with stb_image; ImageSharp's decoder (used by callers of <see cref="Preprocess(Image{Rgb24}, Span{byte})"/>) can differ
/// from it by a few levels, so compare end-to-end results with a tolerance.</para>
/// <para>Not thread-safe (the row buffers belong to the instance).</para>
/// </remarks>
public sealed class DetectorPreprocessor
{
    /// <summary>libyuv's <c>ARGBScale</c> rejects sources larger than this on either side.</summary>
    public const int MaxSourceDimension = 32768;

    private enum Filter { None, Linear, Bilinear }

    private byte[] _rowsA = [];   // BilinearUp: column-filtered source rows; Image<Rgb24> copy otherwise
    private byte[] _rowsB = [];

    /// <param name="width">Model input width (300 for the SSD).</param>
    /// <param name="height">Model input height (300 for the SSD).</param>
    public DetectorPreprocessor(int width = 300, int height = 300)
    {
        if (width is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(width), width, "model input width must be in 1..4096");
        if (height is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(height), height, "model input height must be in 1..4096");
        Width = width;
        Height = height;
        _rowsA = new byte[width * 3];
        _rowsB = new byte[width * 3];
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Bytes of one model input: <c>Width · Height · 3</c>.</summary>
    public int OutputLength => Width * Height * 3;

    /// <summary>Resizes a packed RGB24 frame (R, G, B bytes; rows <paramref name="stride"/> bytes apart) into
    /// <paramref name="destination"/> (<see cref="OutputLength"/> bytes, NHWC RGB).</summary>
    public void PreprocessRgb24(ReadOnlySpan<byte> pixels, int width, int height, int stride, Span<byte> destination) =>
        Run(new Source(pixels, width, height, stride, 3, 0, 1, 2), destination);

    /// <summary>Resizes a BGRA32 frame (B, G, R, A bytes, the layout of Windows and Android bitmaps); alpha is ignored.</summary>
    public void PreprocessBgra32(ReadOnlySpan<byte> pixels, int width, int height, int stride, Span<byte> destination) =>
        Run(new Source(pixels, width, height, stride, 4, 2, 1, 0), destination);

    /// <summary>Resizes a decoded image (e.g. from <see cref="Imaging.ImageLoader"/>).</summary>
    public void Preprocess(Image<Rgb24> image, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        int w = image.Width, h = image.Height;
        if (image.DangerousTryGetSinglePixelMemory(out Memory<Rgb24> memory))
        {
            PreprocessRgb24(MemoryMarshal.AsBytes(memory.Span), w, h, w * 3, destination);
            return;
        }
        // ImageSharp keeps large images in several buffers: gather the rows into one reusable buffer.
        long bytes = (long)w * h * 3;
        if (w > MaxSourceDimension || h > MaxSourceDimension) throw new ArgumentException($"image is {w}×{h}; libyuv scales at most {MaxSourceDimension} pixels a side", nameof(image));
        if (_gather.Length < bytes) _gather = new byte[bytes];
        for (int y = 0; y < h; y++)
            MemoryMarshal.AsBytes(image.DangerousGetPixelRowMemory(y).Span).CopyTo(_gather.AsSpan(y * w * 3, w * 3));
        PreprocessRgb24(_gather.AsSpan(0, (int)bytes), w, h, w * 3, destination);
    }

    private byte[] _gather = [];

    /// <summary>A source frame: bytes, geometry and where the R, G and B bytes of a pixel are.</summary>
    private readonly ref struct Source
    {
        public readonly ReadOnlySpan<byte> Pixels;
        public readonly int Width, Height, Stride, Bpp, R, G, B;

        public Source(ReadOnlySpan<byte> pixels, int width, int height, int stride, int bpp, int r, int g, int b)
        {
            Pixels = pixels; Width = width; Height = height; Stride = stride; Bpp = bpp; R = r; G = g; B = b;
        }

        public byte At(int x, int y, int channelOffset) => Pixels[y * Stride + x * Bpp + channelOffset];
    }

    private void Run(Source src, Span<byte> destination)
    {
        if (src.Width < 1 || src.Height < 1) throw new ArgumentOutOfRangeException(nameof(src.Width), $"frame is {src.Width}×{src.Height}; it must be at least 1×1");
        if (src.Width > MaxSourceDimension || src.Height > MaxSourceDimension)
            throw new ArgumentOutOfRangeException(nameof(src.Width), $"frame is {src.Width}×{src.Height}; libyuv scales at most {MaxSourceDimension} pixels a side");
        if (src.Stride < src.Width * src.Bpp) throw new ArgumentOutOfRangeException("stride", src.Stride, $"stride must be at least width × {src.Bpp} = {src.Width * src.Bpp}");
        long needed = (long)src.Stride * (src.Height - 1) + (long)src.Width * src.Bpp;
        if (src.Pixels.Length < needed) throw new ArgumentException($"pixel buffer holds {src.Pixels.Length} bytes; a {src.Width}×{src.Height} frame with stride {src.Stride} needs {needed}", "pixels");
        if (destination.Length < OutputLength) throw new ArgumentException($"destination holds {destination.Length} bytes; the model input needs {OutputLength}", nameof(destination));

        int sw = src.Width, sh = src.Height, dw = Width, dh = Height;
        Filter filter = FilterReduce(sw, sh, dw, dh, Filter.Bilinear);
        Slope(sw, sh, dw, dh, filter, out long x, out long y, out long dx, out long dy);

        if (((dx | dy) & 0xffff) == 0)
        {
            if (dx == 0 || dy == 0)
            {
                filter = Filter.None; // 1 pixel wide and/or tall
            }
            else if ((dx & 0x10000) == 0 && (dy & 0x10000) == 0)
            {
                // ScaleARGBDown2 (dx = dy = 2) and ScaleARGBDownEven: the same 2×2 box at each step (filter is Bilinear here:
                // Linear needs dy = 1 or 3, None needs a 1-pixel source).
                EvenBox(src, destination, (int)(x >> 16), (int)(y >> 16), (int)(dx >> 16), (int)(dy >> 16));
                return;
            }
            else if ((dx & 0x10000) != 0 && (dy & 0x10000) != 0)
            {
                filter = Filter.None; // odd factors: point sampling
                if (dx == 0x10000 && dy == 0x10000)
                {
                    Simple(src, destination, x, dx, y, dy); // ARGBCopy: same size, a straight copy
                    return;
                }
            }
        }
        if (dx == 0x10000 && (x & 0xffff) == 0) Vertical(src, destination, (int)(x >> 16), y, dy, filter);
        else if (filter != Filter.None && dy < 65536) BilinearUp(src, destination, x, dx, y, dy, filter);
        else if (filter != Filter.None) BilinearDown(src, destination, x, dx, y, dy, filter);
        else Simple(src, destination, x, dx, y, dy);
    }

    // ScaleFilterReduce, starting from kFilterBilinear (ARGB has no box filter).
    private static Filter FilterReduce(int sw, int sh, int dw, int dh, Filter filter)
    {
        if (filter == Filter.Bilinear)
        {
            if (sh == 1) filter = Filter.Linear;
            if (dh == sh || dh * 3 == sh) filter = Filter.Linear;
            if (sw == 1) filter = Filter.None;
        }
        if (filter == Filter.Linear)
        {
            if (sw == 1) filter = Filter.None;
            if (dw == sw || dw * 3 == sw) filter = Filter.None;
        }
        return filter;
    }

    private static long FixedDiv(long num, long div) => (num << 16) / div;
    private static long FixedDiv1(long num, long div) => ((num << 16) - 0x00010001) / (div - 1);
    private static long CenterStart(long d, long s) => d < 0 ? -((-d >> 1) + s) : (d >> 1) + s;

    // ScaleSlope (non-negative widths only: frames are never mirrored here).
    private static void Slope(int sw, int sh, int dw, int dh, Filter filter, out long x, out long y, out long dx, out long dy)
    {
        x = y = dx = dy = 0;
        // "Check for 1 pixel and avoid FixedDiv overflow."
        if (dw == 1 && sw >= 32768) dw = sw;
        if (dh == 1 && sh >= 32768) dh = sh;
        if (filter == Filter.Bilinear || filter == Filter.Linear)
        {
            if (dw <= sw)
            {
                dx = FixedDiv(sw, dw);
                x = CenterStart(dx, -32768); // subtract 0.5 to centre the filter
            }
            else if (sw > 1 && dw > 1)
            {
                dx = FixedDiv1(sw, dw);
                x = 0;
            }
        }
        if (filter == Filter.Bilinear)
        {
            if (dh <= sh)
            {
                dy = FixedDiv(sh, dh);
                y = CenterStart(dy, -32768);
            }
            else if (sh > 1 && dh > 1)
            {
                dy = FixedDiv1(sh, dh);
                y = 0;
            }
        }
        else if (filter == Filter.Linear)
        {
            dy = FixedDiv(sh, dh);
            y = dy >> 1;
        }
        else
        {
            dx = FixedDiv(sw, dw);
            dy = FixedDiv(sh, dh);
            x = CenterStart(dx, 0);
            y = CenterStart(dy, 0);
        }
    }

    // ScaleARGBRowDownEvenBox_C / ScaleARGBRowDown2Box_C: (a + b + c + d + 2) >> 2 over columns c, c+1 and rows r, r+1.
    private void EvenBox(Source src, Span<byte> dst, int x0, int y0, int colStep, int rowStep)
    {
        Span<int> channels = [src.R, src.G, src.B];
        for (int j = 0; j < Height; j++)
        {
            int r = y0 + j * rowStep;
            for (int i = 0; i < Width; i++)
            {
                int c = x0 + i * colStep;
                int o = (j * Width + i) * 3;
                for (int k = 0; k < 3; k++)
                {
                    int ch = channels[k];
                    dst[o + k] = (byte)((src.At(c, r, ch) + src.At(c + 1, r, ch) + src.At(c, r + 1, ch) + src.At(c + 1, r + 1, ch) + 2) >> 2);
                }
            }
        }
    }

    // InterpolateRow_C for one value: (a·(256−f) + b·f + 128) >> 8 (f = 0 copies, f = 128 is the same as (a+b+1)>>1).
    private static int Interpolate(int a, int b, int f) => (a * (256 - f) + b * f + 128) >> 8;

    // BLENDER1 of ScaleARGBFilterCols_C: (a·(0x7f ^ f) + b·f) >> 7 with a 7-bit fraction f.
    private static int Blend(int a, int b, int f) => (a * (0x7f ^ f) + b * f) >> 7;

    // ScalePlaneVertical: rows interpolated at each step, no horizontal scaling (equal widths).
    private void Vertical(Source src, Span<byte> dst, int x0, long y, long dy, Filter filter)
    {
        Span<int> channels = [src.R, src.G, src.B];
        long maxY = src.Height > 1 ? ((long)(src.Height - 1) << 16) - 1 : 0;
        for (int j = 0; j < Height; j++)
        {
            if (y > maxY) y = maxY;
            int yi = (int)(y >> 16);
            int yf = filter != Filter.None ? (int)((y >> 8) & 255) : 0;
            int yi1 = Math.Min(yi + 1, src.Height - 1); // only read when yf > 0, which needs a next row (y ≤ maxY)
            for (int i = 0; i < Width; i++)
            {
                int o = (j * Width + i) * 3;
                for (int k = 0; k < 3; k++)
                    dst[o + k] = (byte)Interpolate(src.At(x0 + i, yi, channels[k]), src.At(x0 + i, yi1, channels[k]), yf);
            }
            y += dy;
        }
    }

    // ScaleARGBBilinearDown: per output row, InterpolateRow between source rows yi and yi+1, then ScaleARGBFilterCols.
    private void BilinearDown(Source src, Span<byte> dst, long x, long dx, long y, long dy, Filter filter)
    {
        Span<int> channels = [src.R, src.G, src.B];
        long maxY = (long)(src.Height - 1) << 16;
        if (y > maxY) y = maxY;
        for (int j = 0; j < Height; j++)
        {
            int yi = (int)(y >> 16);
            int yf = filter == Filter.Linear ? 0 : (int)((y >> 8) & 255); // Linear filters the source row alone
            int yi1 = Math.Min(yi + 1, src.Height - 1); // yf > 0 only when y < maxY, so row yi+1 exists
            long xs = x;
            for (int i = 0; i < Width; i++)
            {
                int xi = (int)(xs >> 16);
                int xf = (int)((xs >> 9) & 0x7f);
                // FilterCols reads pixel xi+1; libyuv's start and step keep it inside the row (xi ≤ width − 2 whenever xf > 0).
                int xi1 = Math.Min(xi + 1, src.Width - 1);
                int o = (j * Width + i) * 3;
                for (int k = 0; k < 3; k++)
                {
                    int ch = channels[k];
                    int a = Interpolate(src.At(xi, yi, ch), src.At(xi, yi1, ch), yf);
                    int b = Interpolate(src.At(xi1, yi, ch), src.At(xi1, yi1, ch), yf);
                    dst[o + k] = (byte)Blend(a, b, xf);
                }
                xs += dx;
            }
            y += dy;
            if (y > maxY) y = maxY;
        }
    }

    // ScaleARGBBilinearUp: ScaleARGBFilterCols on source rows yi and yi+1 (libyuv keeps the two filtered rows and refilters
    // one when yi moves on; the bytes are the same as filtering both each time), then InterpolateRow between them. Past the
    // last source row both rows are the last one, where any fraction gives that row back.
    private void BilinearUp(Source src, Span<byte> dst, long x, long dx, long y, long dy, Filter filter)
    {
        Span<int> channels = [src.R, src.G, src.B];
        long maxY = (long)(src.Height - 1) << 16;
        if (y > maxY) y = maxY;
        byte[] row0 = _rowsA, row1 = _rowsB;
        for (int j = 0; j < Height; j++)
        {
            long yc = y > maxY ? maxY : y;
            int yi = (int)(yc >> 16);
            int yi1 = Math.Min(yi + 1, src.Height - 1);
            FilterCols(src, yi, x, dx, channels, row0);
            FilterCols(src, yi1, x, dx, channels, row1);
            int yf = filter == Filter.Linear ? 0 : (int)((y >> 8) & 255);
            int o = j * Width * 3;
            for (int i = 0; i < Width * 3; i++) dst[o + i] = (byte)Interpolate(row0[i], row1[i], yf);
            y += dy;
        }
    }

    private void FilterCols(Source src, int row, long x, long dx, ReadOnlySpan<int> channels, byte[] output)
    {
        for (int i = 0; i < Width; i++)
        {
            int xi = (int)(x >> 16);
            int xf = (int)((x >> 9) & 0x7f);
            int xi1 = Math.Min(xi + 1, src.Width - 1); // see BilinearDown
            for (int k = 0; k < 3; k++)
                output[i * 3 + k] = (byte)Blend(src.At(xi, row, channels[k]), src.At(xi1, row, channels[k]), xf);
            x += dx;
        }
    }

    // ScaleARGBSimple / ScaleARGBCols_C: point sampling at x >> 16, y >> 16.
    private void Simple(Source src, Span<byte> dst, long x, long dx, long y, long dy)
    {
        Span<int> channels = [src.R, src.G, src.B];
        for (int j = 0; j < Height; j++)
        {
            int yi = (int)Math.Min(y >> 16, src.Height - 1);
            long xs = x;
            for (int i = 0; i < Width; i++)
            {
                int xi = (int)Math.Min(xs >> 16, src.Width - 1);
                int o = (j * Width + i) * 3;
                for (int k = 0; k < 3; k++) dst[o + k] = src.At(xi, yi, channels[k]);
                xs += dx;
            }
            y += dy;
        }
    }
}
