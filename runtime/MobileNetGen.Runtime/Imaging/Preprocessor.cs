using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Runtime.Imaging;

/// <summary>
/// TF-slim <c>inception_preprocessing.preprocess_for_eval</c>, bit for bit in float32, fused into one allocation-free pass:
/// <list type="number">
/// <item><c>tf.image.convert_image_dtype(uint8 → float32)</c>: <c>v * (float)(1.0 / 255)</c>.</item>
/// <item><c>tf.image.central_crop(image, 0.875)</c>: <c>start = int((h − h·0.875) / 2)</c> computed in double, which is
/// exactly <c>h / 16</c> (integer division, because 0.875 and 0.0625 are exact binary fractions); crop size
/// <c>h − 2·start</c>. Same for the width.</item>
/// <item><c>tf.image.resize_bilinear(align_corners=False)</c>, TF1 legacy coordinates (no half-pixel centres, no
/// antialiasing): <c>scale = (float)cropSize / size</c>; for output index <c>i</c>: <c>in = i * scale</c> (float),
/// <c>lo = (int)in</c>, <c>hi = min(lo + 1, cropSize − 1)</c>, <c>lerp = in − lo</c>;
/// <c>top = tl + (tr − tl)·xLerp</c>, <c>bottom = bl + (br − bl)·xLerp</c>, <c>value = top + (bottom − top)·yLerp</c>.</item>
/// <item><c>(value − 0.5) × 2</c>.</item>
/// </list>
/// The output is NHWC, RGB order, <c>size × size × 3</c> floats in [−1, 1].
/// </summary>
public static class Preprocessor
{
    /// <summary>Largest accepted source width or height.</summary>
    public const int MaxSourceDimension = 32768;

    /// <summary>Largest accepted output side.</summary>
    public const int MaxSize = 1024;

    /// <summary>TF-slim's eval crop: the central 87.5 % of each side.</summary>
    public const double CentralFraction = 0.875;

    // tf.image.convert_image_dtype: cast(uint8) * (1. / 255) with the Python double scale rounded to float32.
    private const float ByteToUnit = (float)(1.0 / 255.0);

    /// <summary>
    /// Start of TF's <c>central_crop(…, 0.875)</c> along one axis of <paramref name="length"/> pixels:
    /// <c>int((length − length·0.875) / 2)</c> (double arithmetic, truncation) = <c>length / 16</c>.
    /// </summary>
    public static int CentralCropStart(int length)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "length must be at least 1");
        double d = length;
        return (int)((d - d * CentralFraction) / 2);
    }

    /// <summary>Size of TF's central crop along one axis: <c>length − 2·start</c>.</summary>
    public static int CentralCropSize(int length) => length - 2 * CentralCropStart(length);

    /// <summary>Preprocesses a packed RGB24 buffer (3 bytes per pixel, R,G,B; rows <paramref name="stride"/> bytes apart).</summary>
    /// <param name="pixels">Source pixels; at least <c>stride·(height−1) + width·3</c> bytes.</param>
    /// <param name="width">Source width in pixels (1..32768).</param>
    /// <param name="height">Source height in pixels (1..32768).</param>
    /// <param name="stride">Bytes from one row to the next (≥ width·3; padding is ignored).</param>
    /// <param name="size">Output side (1..1024), the model's resolution.</param>
    /// <param name="destination">At least <c>size·size·3</c> floats; NHWC RGB in [−1, 1].</param>
    public static void Rgb24ToInput(ReadOnlySpan<byte> pixels, int width, int height, int stride, int size, Span<float> destination)
        => Convert<Rgb24Layout>(pixels, width, height, stride, size, destination);

    /// <summary>Preprocesses a packed BGRA32 buffer (4 bytes per pixel, B,G,R,A; alpha ignored). See <see cref="Rgb24ToInput"/>.</summary>
    public static void Bgra32ToInput(ReadOnlySpan<byte> pixels, int width, int height, int stride, int size, Span<float> destination)
        => Convert<Bgra32Layout>(pixels, width, height, stride, size, destination);

    /// <summary>Preprocesses a decoded image (its root frame). Allocates nothing.</summary>
    public static unsafe void ImageToInput(Image<Rgb24> image, int size, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        int width = image.Width, height = image.Height;
        if (image.DangerousTryGetSinglePixelMemory(out Memory<Rgb24> memory))
        {
            Rgb24ToInput(MemoryMarshal.AsBytes(memory.Span), width, height, width * 3, size, destination);
            return;
        }

        // Large images may live in several discontiguous buffers: fetch the two source rows of each output row.
        ValidateCommon(width, height, size, destination.Length);
        int cropY = CentralCropStart(height), cropH = height - 2 * cropY;
        int cropX = CentralCropStart(width), cropW = width - 2 * cropX;
        Tap* taps = stackalloc Tap[size];
        BuildAxis(cropX, cropW, size, Rgb24Layout.Bpp, taps);
        float yScale = cropH / (float)size;
        fixed (float* dst = destination)
        {
            for (int y = 0; y < size; y++)
            {
                Axis(y, yScale, cropH, out int y0, out int y1, out float yLerp);
                Span<byte> top = MemoryMarshal.AsBytes(image.DangerousGetPixelRowMemory(cropY + y0).Span);
                Span<byte> bottom = MemoryMarshal.AsBytes(image.DangerousGetPixelRowMemory(cropY + y1).Span);
                fixed (byte* pTop = top)
                fixed (byte* pBottom = bottom)
                {
                    RowDispatch<Rgb24Layout>(pTop, top.Length, pBottom, bottom.Length, yLerp, taps, size, dst + (long)y * size * 3, y == size - 1);
                }
            }
        }
    }

    private static unsafe void Convert<TLayout>(ReadOnlySpan<byte> pixels, int width, int height, int stride, int size, Span<float> destination)
        where TLayout : struct, IPixelLayout
    {
        int bpp = TLayout.Bpp;
        Validate(width, height, stride, bpp, pixels.Length, size, destination.Length);

        int cropY = CentralCropStart(height), cropH = height - 2 * cropY;
        int cropX = CentralCropStart(width), cropW = width - 2 * cropX;
        Tap* taps = stackalloc Tap[size];
        BuildAxis(cropX, cropW, size, bpp, taps);
        float yScale = cropH / (float)size;

        fixed (byte* src = pixels)
        fixed (float* dst = destination)
        {
            for (int y = 0; y < size; y++)
            {
                Axis(y, yScale, cropH, out int y0, out int y1, out float yLerp);
                long topStart = (long)(cropY + y0) * stride, bottomStart = (long)(cropY + y1) * stride;
                RowDispatch<TLayout>(src + topStart, pixels.Length - topStart, src + bottomStart, pixels.Length - bottomStart,
                    yLerp, taps, size, dst + (long)y * size * 3, y == size - 1);
            }
        }
    }

    /// <summary>Checks a raw buffer's dimensions, stride and length against what the preprocessing will read.</summary>
    internal static void Validate(int width, int height, int stride, int bpp, long pixelsLength, int size, int destinationLength)
    {
        ValidateCommon(width, height, size, destinationLength);
        long rowBytes = (long)width * bpp;
        if (stride < rowBytes)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"stride must be at least width*{bpp} = {rowBytes} bytes");
        long needed = (long)stride * (height - 1) + rowBytes;
        if (pixelsLength < needed)
            throw new ArgumentException($"pixels must hold at least stride*(height-1)+width*{bpp} = {needed} bytes for a {width}x{height} image with stride {stride}, got {pixelsLength}", "pixels");
    }

    private static void ValidateCommon(int width, int height, int size, int destinationLength)
    {
        if (width < 1 || width > MaxSourceDimension)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be in 1..{MaxSourceDimension}");
        if (height < 1 || height > MaxSourceDimension)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be in 1..{MaxSourceDimension}");
        if (size < 1 || size > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"size must be in 1..{MaxSize}");
        int needed = size * size * 3;
        if (destinationLength < needed)
            throw new ArgumentException($"destination must hold at least size*size*3 = {needed} floats, got {destinationLength}", "destination");
    }

    /// <summary>TF1 legacy resize_bilinear source coordinate of output index <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axis(int i, float scale, int inSize, out int lo, out int hi, out float lerp)
    {
        float inF = i * scale;
        int l = (int)inF;           // in ≥ 0, so truncation = floor
        if (l > inSize - 1) l = inSize - 1; // cannot happen for in < inSize; keeps reads in bounds regardless
        lo = l;
        hi = Math.Min(l + 1, inSize - 1);
        lerp = inF - l;
    }

    /// <summary>Horizontal taps of one output column: byte offsets of the left/right source pixels and the weight.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Tap
    {
        public int Left, Right;
        public float Lerp;
    }

    private static unsafe void BuildAxis(int cropStart, int cropSize, int size, int bpp, Tap* taps)
    {
        float scale = cropSize / (float)size;
        for (int x = 0; x < size; x++)
        {
            Axis(x, scale, cropSize, out int lo, out int hi, out float l);
            taps[x].Left = (cropStart + lo) * bpp;
            taps[x].Right = (cropStart + hi) * bpp;
            taps[x].Lerp = l;
        }
    }

    /// <summary>Picks the row kernel: 4-byte pixel loads everywhere, unless the last tap of the row is within 4 bytes
    /// of the end of readable memory (only possible for RGB24 at the very end of a buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowDispatch<TLayout>(byte* top, long topLimit, byte* bottom, long bottomLimit, float yLerp, Tap* taps, int size, float* dst, bool lastRow)
        where TLayout : struct, IPixelLayout
    {
        long needed = (long)taps[size - 1].Right + 4; // Right is the largest offset of the row
        if (topLimit >= needed && bottomLimit >= needed)
            Row<TLayout, Unchecked>(top, topLimit, bottom, bottomLimit, yLerp, taps, size, dst, lastRow);
        else
            Row<TLayout, Checked>(top, topLimit, bottom, bottomLimit, yLerp, taps, size, dst, lastRow);
    }

    /// <summary>
    /// One output row. Each pixel is one Vector128 of (R, G, B, x) or (B, G, R, A) lanes: the four taps are widened
    /// from bytes, scaled by 1/255 and interpolated lane-wise with exactly TF's float operations (no FMA contraction),
    /// so the result is bit-identical to the scalar formula.
    /// </summary>
    private static unsafe void Row<TLayout, TCheck>(byte* top, long topLimit, byte* bottom, long bottomLimit, float yLerp, Tap* taps, int size, float* dst, bool lastRow)
        where TLayout : struct, IPixelLayout
        where TCheck : struct, ICheck
    {
        Vector128<float> scale = Vector128.Create(ByteToUnit);
        Vector128<float> yl = Vector128.Create(yLerp);
        Vector128<float> half = Vector128.Create(0.5f);
        Vector128<float> two = Vector128.Create(2.0f);
        // A 4-lane store writes one float past the pixel; that slot belongs to the next pixel (written afterwards),
        // except for the very last pixel of the destination, which is stored lane by lane.
        int vectorCount = lastRow ? size - 1 : size;
        for (int x = 0; x < size; x++)
        {
            Tap tap = taps[x];
            Vector128<float> xl = Vector128.Create(tap.Lerp);
            Vector128<float> tl = TLayout.Load<TCheck>(top, tap.Left, topLimit) * scale;
            Vector128<float> tr = TLayout.Load<TCheck>(top, tap.Right, topLimit) * scale;
            Vector128<float> bl = TLayout.Load<TCheck>(bottom, tap.Left, bottomLimit) * scale;
            Vector128<float> br = TLayout.Load<TCheck>(bottom, tap.Right, bottomLimit) * scale;
            Vector128<float> t = tl + (tr - tl) * xl;
            Vector128<float> b = bl + (br - bl) * xl;
            Vector128<float> v = t + (b - t) * yl;
            v = (v - half) * two;
            if (TLayout.SwapRB) v = Vector128.Shuffle(v, Vector128.Create(2, 1, 0, 3));
            if (x < vectorCount)
            {
                v.Store(dst);
            }
            else
            {
                dst[0] = v.GetElement(0);
                dst[1] = v.GetElement(1);
                dst[2] = v.GetElement(2);
            }
            dst += 3;
        }
    }

    private interface ICheck
    {
        static abstract bool Enabled { get; }
    }

    private struct Checked : ICheck
    {
        public static bool Enabled => true;
    }

    private struct Unchecked : ICheck
    {
        public static bool Enabled => false;
    }

    private interface IPixelLayout
    {
        static abstract int Bpp { get; }

        /// <summary>Whether <see cref="Load"/> yields B,G,R lanes that must be reordered to R,G,B.</summary>
        static abstract bool SwapRB { get; }

        /// <summary>The pixel at <paramref name="row"/> + <paramref name="offset"/> as floats (lanes beyond the
        /// channels are don't-care); never reads at or past <paramref name="row"/> + <paramref name="limit"/>.</summary>
        static abstract unsafe Vector128<float> Load<TCheck>(byte* row, int offset, long limit) where TCheck : struct, ICheck;
    }

    private struct Rgb24Layout : IPixelLayout
    {
        public static int Bpp => 3;
        public static bool SwapRB => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector128<float> Load<TCheck>(byte* row, int offset, long limit) where TCheck : struct, ICheck
        {
            byte* p = row + offset;
            // A 4-byte read takes one byte of the next pixel (a don't-care lane); at the very end of the readable
            // memory read exactly the 3 bytes instead.
            uint packed = !TCheck.Enabled || offset + 4 <= limit
                ? Unsafe.ReadUnaligned<uint>(p)
                : Unsafe.ReadUnaligned<ushort>(p) | ((uint)p[2] << 16);
            return Widen(Vector128.CreateScalarUnsafe(packed).AsByte());
        }
    }

    private struct Bgra32Layout : IPixelLayout
    {
        public static int Bpp => 4;
        public static bool SwapRB => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector128<float> Load<TCheck>(byte* row, int offset, long limit) where TCheck : struct, ICheck
            => Widen(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(row + offset)).AsByte());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Widen(Vector128<byte> bytes)
    {
        if (Sse41.IsSupported) return Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(bytes));
        Vector128<ushort> words = Vector128.WidenLower(bytes);
        return Vector128.ConvertToSingle(Vector128.WidenLower(words).AsInt32());
    }
}
