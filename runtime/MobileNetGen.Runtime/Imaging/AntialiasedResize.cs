using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Runtime.Imaging;

/// <summary>How the central crop is scaled to the model's resolution.</summary>
public enum ResizeMethod
{
    /// <summary>TensorFlow 1 <c>resize_bilinear</c> (align_corners=False, no antialiasing): TF-slim's evaluation
    /// preprocessing, bit-exact. The default.</summary>
    TensorFlowBilinear,

    /// <summary>Antialiased bilinear (a triangle filter whose support grows with the scale factor when shrinking), as
    /// Pillow's <c>Image.resize(BILINEAR)</c> does. Smoother on large camera frames, and what the reference accuracies
    /// in the shared data were measured with.</summary>
    Antialiased,
}

/// <summary>
/// The <see cref="ResizeMethod.Antialiased"/> path: central crop (87.5 % of each side, as TF-slim), then a separable
/// triangle-filter resize (Pillow's ImagingResample bilinear: filter support = max(scale, 1), weights normalized per
/// output pixel), then [−1, 1]. Vertical pass into one row buffer, then horizontal. Buffers come from the shared
/// <see cref="ArrayPool{T}"/>, so steady-state calls allocate nothing.
/// </summary>
public static class AntialiasedResize
{
    public static void Rgb24ToInput(ReadOnlySpan<byte> pixels, int width, int height, int stride, int size, Span<float> destination)
        => FromBuffer(pixels, width, height, stride, 3, swapRB: false, size, destination);

    public static void Bgra32ToInput(ReadOnlySpan<byte> pixels, int width, int height, int stride, int size, Span<float> destination)
        => FromBuffer(pixels, width, height, stride, 4, swapRB: true, size, destination);

    public static void ImageToInput(Image<Rgb24> image, int size, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.DangerousTryGetSinglePixelMemory(out Memory<Rgb24> memory))
        {
            Rgb24ToInput(MemoryMarshal.AsBytes(memory.Span), image.Width, image.Height, image.Width * 3, size, destination);
            return;
        }
        Preprocessor.Validate(image.Width, image.Height, image.Width * 3, 3, long.MaxValue, size, destination.Length);
        using var work = new Work(image.Width, image.Height, size);
        for (int oy = 0; oy < size; oy++)
        {
            work.ClearRow();
            int count = work.RowTaps(oy, out int first);
            for (int i = 0; i < count; i++)
                work.Accumulate(MemoryMarshal.AsBytes(image.DangerousGetPixelRowMemory(work.CropY + first + i).Span), work.YWeight(i), 3, false);
            work.WriteRow(oy, destination);
        }
    }

    private static void FromBuffer(ReadOnlySpan<byte> pixels, int width, int height, int stride, int bpp, bool swapRB, int size, Span<float> destination)
    {
        Preprocessor.Validate(width, height, stride, bpp, pixels.Length, size, destination.Length);
        using var work = new Work(width, height, size);
        for (int oy = 0; oy < size; oy++)
        {
            work.ClearRow();
            int count = work.RowTaps(oy, out int first);
            for (int i = 0; i < count; i++)
            {
                long start = (long)(work.CropY + first + i) * stride;
                work.Accumulate(pixels.Slice((int)start, width * bpp), work.YWeight(i), bpp, swapRB);
            }
            work.WriteRow(oy, destination);
        }
    }

    /// <summary>Filter taps and the row buffer of one call.</summary>
    private ref struct Work
    {
        private readonly int _size, _cropW, _cropH, _cropX, _maxX, _maxY;
        private readonly float _scaleX, _scaleY, _supportX, _supportY, _filterX, _filterY;
        private readonly float[] _row, _xWeights, _yWeights;
        private readonly int[] _xFirst, _xCount;
        public readonly int CropY;

        public Work(int width, int height, int size)
        {
            _size = size;
            _cropX = Preprocessor.CentralCropStart(width); _cropW = width - 2 * _cropX;
            CropY = Preprocessor.CentralCropStart(height); _cropH = height - 2 * CropY;
            _scaleX = _cropW / (float)size; _scaleY = _cropH / (float)size;
            _filterX = Math.Max(_scaleX, 1f); _filterY = Math.Max(_scaleY, 1f);
            _supportX = _filterX; _supportY = _filterY; // bilinear: support 1, scaled when shrinking
            _maxX = (int)Math.Ceiling(_supportX) * 2 + 1;
            _maxY = (int)Math.Ceiling(_supportY) * 2 + 1;
            _row = ArrayPool<float>.Shared.Rent(_cropW * 3);
            _xWeights = ArrayPool<float>.Shared.Rent(size * _maxX);
            _yWeights = ArrayPool<float>.Shared.Rent(_maxY);
            _xFirst = ArrayPool<int>.Shared.Rent(size);
            _xCount = ArrayPool<int>.Shared.Rent(size);
            for (int ox = 0; ox < size; ox++)
                _xCount[ox] = Taps(ox, _scaleX, _filterX, _supportX, _cropW, _xWeights.AsSpan(ox * _maxX, _maxX), out _xFirst[ox]);
        }

        /// <summary>Pillow's ImagingResample coefficients for output index <paramref name="o"/>: normalized triangle weights.</summary>
        private static int Taps(int o, float scale, float filter, float support, int inSize, Span<float> weights, out int first)
        {
            float center = (o + 0.5f) * scale;
            int min = Math.Max((int)(center - support + 0.5f), 0);
            int max = Math.Min((int)(center + support + 0.5f), inSize);
            int count = Math.Min(max - min, weights.Length);
            float total = 0;
            for (int i = 0; i < count; i++)
            {
                float d = Math.Abs((min + i - center + 0.5f) / filter);
                float w = d < 1f ? 1f - d : 0f;
                weights[i] = w;
                total += w;
            }
            if (total > 0) for (int i = 0; i < count; i++) weights[i] /= total;
            first = min;
            return count;
        }

        public int RowTaps(int oy, out int first) => Taps(oy, _scaleY, _filterY, _supportY, _cropH, _yWeights.AsSpan(0, _maxY), out first);

        public float YWeight(int i) => _yWeights[i];

        public void ClearRow() => _row.AsSpan(0, _cropW * 3).Clear();

        /// <summary>row buffer += weight · (the crop's columns of one source row), as RGB.</summary>
        public void Accumulate(ReadOnlySpan<byte> sourceRow, float weight, int bpp, bool swapRB)
        {
            if (weight == 0) return;
            var row = _row.AsSpan(0, _cropW * 3);
            int r = swapRB ? 2 : 0, b = swapRB ? 0 : 2;
            int p = _cropX * bpp;
            for (int x = 0; x < _cropW; x++, p += bpp)
            {
                row[x * 3] += weight * sourceRow[p + r];
                row[x * 3 + 1] += weight * sourceRow[p + 1];
                row[x * 3 + 2] += weight * sourceRow[p + b];
            }
        }

        /// <summary>Horizontal pass of output row <paramref name="oy"/>, scaled to [−1, 1].</summary>
        public void WriteRow(int oy, Span<float> destination)
        {
            var dst = destination.Slice(oy * _size * 3, _size * 3);
            for (int ox = 0; ox < _size; ox++)
            {
                float sr = 0, sg = 0, sb = 0;
                int first = _xFirst[ox], count = _xCount[ox];
                var w = _xWeights.AsSpan(ox * _maxX, count);
                for (int j = 0; j < count; j++)
                {
                    int x = (first + j) * 3;
                    sr += w[j] * _row[x]; sg += w[j] * _row[x + 1]; sb += w[j] * _row[x + 2];
                }
                dst[ox * 3] = (sr * (1f / 255f) - 0.5f) * 2f;
                dst[ox * 3 + 1] = (sg * (1f / 255f) - 0.5f) * 2f;
                dst[ox * 3 + 2] = (sb * (1f / 255f) - 0.5f) * 2f;
            }
        }

        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(_row);
            ArrayPool<float>.Shared.Return(_xWeights);
            ArrayPool<float>.Shared.Return(_yWeights);
            ArrayPool<int>.Shared.Return(_xFirst);
            ArrayPool<int>.Shared.Return(_xCount);
        }
    }
}
