using MobileNetGen.Runtime.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

public class PreprocessorTests
{
    // (v/255 − 0.5)·2 in double: what the hand-computed expectations are compared against (tolerance 1e-5).
    private static double Norm(double v) => (v / 255.0 - 0.5) * 2.0;

    private static byte[] MakeRgb(int w, int h, Func<int, int, int, byte> value, int stride = -1, byte padding = 0)
    {
        if (stride < 0) stride = w * 3;
        var buffer = new byte[stride * (h - 1) + w * 3];
        buffer.AsSpan().Fill(padding);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    buffer[y * stride + x * 3 + c] = value(x, y, c);
        return buffer;
    }

    private static byte[] RgbToBgra(byte[] rgb, int w, int h)
    {
        var bgra = new byte[w * h * 4];
        for (int i = 0; i < w * h; i++)
        {
            bgra[i * 4 + 0] = rgb[i * 3 + 2];
            bgra[i * 4 + 1] = rgb[i * 3 + 1];
            bgra[i * 4 + 2] = rgb[i * 3 + 0];
            bgra[i * 4 + 3] = (byte)(i * 37); // alpha must be ignored
        }
        return bgra;
    }

    private static float[] Run(byte[] rgb, int w, int h, int size, int stride = -1)
    {
        var dst = new float[size * size * 3];
        Preprocessor.Rgb24ToInput(rgb, w, h, stride < 0 ? w * 3 : stride, size, dst);
        return dst;
    }

    private static float At(float[] output, int size, int y, int x, int c) => output[(y * size + x) * 3 + c];

    /// <summary>
    /// Independent, deliberately naive transcription of TF-slim preprocess_for_eval: materialise the float image,
    /// crop it (tf.image.central_crop), resize it (TF1 ResizeBilinear, legacy coordinates), normalise.
    /// </summary>
    private static float[] Reference(byte[] rgb, int w, int h, int stride, int size)
    {
        var image = new float[h, w, 3];
        float scale255 = (float)(1.0 / 255.0);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    image[y, x, c] = rgb[y * stride + x * 3 + c] * scale255;

        int hs = (int)((h - h * 0.875) / 2), ws = (int)((w - w * 0.875) / 2);
        int ch = h - 2 * hs, cw = w - 2 * ws;
        float hScale = ch / (float)size, wScale = cw / (float)size;
        var result = new float[size * size * 3];
        for (int oy = 0; oy < size; oy++)
        {
            float inY = oy * hScale;
            int y0 = (int)Math.Floor(inY), y1 = Math.Min(y0 + 1, ch - 1);
            float yl = inY - y0;
            for (int ox = 0; ox < size; ox++)
            {
                float inX = ox * wScale;
                int x0 = (int)Math.Floor(inX), x1 = Math.Min(x0 + 1, cw - 1);
                float xl = inX - x0;
                for (int c = 0; c < 3; c++)
                {
                    float tl = image[hs + y0, ws + x0, c], tr = image[hs + y0, ws + x1, c];
                    float bl = image[hs + y1, ws + x0, c], br = image[hs + y1, ws + x1, c];
                    float top = tl + (tr - tl) * xl;
                    float bottom = bl + (br - bl) * xl;
                    float v = top + (bottom - top) * yl;
                    v -= 0.5f;
                    v *= 2.0f;
                    result[(oy * size + ox) * 3 + c] = v;
                }
            }
        }
        return result;
    }

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(8, 0, 8)]
    [InlineData(15, 0, 15)]
    [InlineData(16, 1, 14)]
    [InlineData(17, 1, 15)]
    [InlineData(31, 1, 29)]
    [InlineData(33, 2, 29)]
    [InlineData(224, 14, 196)]
    [InlineData(256, 16, 224)]
    [InlineData(257, 16, 225)]
    [InlineData(375, 23, 329)]
    [InlineData(500, 31, 438)]
    [InlineData(1080, 67, 946)]
    [InlineData(1920, 120, 1680)]
    public void CentralCropMatchesTensorFlowFormula(int length, int start, int size)
    {
        Assert.Equal(start, Preprocessor.CentralCropStart(length));
        Assert.Equal(size, Preprocessor.CentralCropSize(length));
    }

    [Fact]
    public void CentralCropEqualsTfFormulaForAllLengths()
    {
        for (int n = 1; n <= 32768; n++)
        {
            double d = n;
            int tf = (int)((d - d * 0.875) / 2);
            Assert.Equal(tf, Preprocessor.CentralCropStart(n));
            Assert.Equal(n / 16, tf); // 2017 TF: fraction_offset = int(1 / ((1 - 0.875) / 2)) = 16; start = h // 16
        }
    }

    [Fact]
    public void Gradient8x8To4SamplesEveryOtherPixel()
    {
        // 8 px: crop start 8/16 = 0, crop 8; scale 8/4 = 2 → source coordinates 0, 2, 4, 6 with lerp 0.
        byte[] rgb = MakeRgb(8, 8, (x, y, c) => c switch { 0 => (byte)(16 * x), 1 => (byte)(30 * y), _ => 200 });
        float[] output = Run(rgb, 8, 8, 4);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
            {
                Assert.Equal(Norm(16 * 2 * x), At(output, 4, y, x, 0), 1e-5);
                Assert.Equal(Norm(30 * 2 * y), At(output, 4, y, x, 1), 1e-5);
                Assert.Equal(Norm(200), At(output, 4, y, x, 2), 1e-5);
            }
        // Hand values: R at x = 1 is pixel 2 = 32 → 32/255·2 − 1 = −0.749019...
        Assert.Equal(-0.7490196, At(output, 4, 0, 1, 0), 1e-5);
        Assert.Equal(-1.0f, At(output, 4, 0, 0, 0));
    }

    [Fact]
    public void Gradient8x8To3InterpolatesWithLegacyCoordinates()
    {
        // scale = 8/3: x_in = 0, 2.6667, 5.3333 → R (16·x) = 0, 32 + 16·(2/3) = 42.667, 80 + 16·(1/3) = 85.333.
        byte[] rgb = MakeRgb(8, 8, (x, y, c) => c switch { 0 => (byte)(16 * x), 1 => (byte)(30 * y), _ => 7 });
        float[] output = Run(rgb, 8, 8, 3);
        double[] r = { 0, 32 + 16 * (2.0 / 3), 80 + 16 * (1.0 / 3) };
        double[] g = { 0, 60 + 30 * (2.0 / 3), 150 + 30 * (1.0 / 3) };
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
            {
                Assert.Equal(Norm(r[x]), At(output, 3, y, x, 0), 1e-5);
                Assert.Equal(Norm(g[y]), At(output, 3, y, x, 1), 1e-5);
                Assert.Equal(Norm(7), At(output, 3, y, x, 2), 1e-5);
            }
        Assert.Equal(-0.6653595, At(output, 3, 0, 1, 0), 1e-5); // 42.667/255·2 − 1
    }

    [Fact]
    public void UpscaleUsesLegacyNotHalfPixelCentres()
    {
        // 2×2 → 4: scale 0.5, x_in = 0, 0.5, 1, 1.5 → lo 0,0,1,1; hi 1,1,1,1; lerp 0, .5, 0, .5.
        // Legacy TF1 gives 0, 127.5, 255, 255 (the last column replicates); half-pixel centres would give 0, 63.75, 191.25, 255.
        byte[] rgb = MakeRgb(2, 2, (x, y, c) => (byte)(x * 255));
        float[] output = Run(rgb, 2, 2, 4);
        float[] expected = { -1f, 0f, 1f, 1f };
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(expected[x], At(output, 4, y, x, c), 1e-6);
    }

    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(1, 1, 224, 128)]
    [InlineData(300, 200, 224, 255)]
    [InlineData(640, 480, 128, 77)]
    [InlineData(5, 900, 160, 1)]
    public void ConstantImageGivesConstantOutput(int w, int h, int size, byte value)
    {
        byte[] rgb = MakeRgb(w, h, (_, _, _) => value);
        float[] output = Run(rgb, w, h, size);
        float expected = (value * (float)(1.0 / 255.0) - 0.5f) * 2f;
        Assert.All(output, v => Assert.Equal(expected, v));
        Assert.Equal(Norm(value), expected, 1e-6);
    }

    [Fact]
    public void ExtremesMapToMinusOneAndOne()
    {
        Assert.All(Run(MakeRgb(10, 10, (_, _, _) => 0), 10, 10, 7), v => Assert.Equal(-1f, v));
        Assert.All(Run(MakeRgb(10, 10, (_, _, _) => 255), 10, 10, 7), v => Assert.Equal(1f, v));
    }

    [Theory]
    [InlineData(35, 35, 31, 2)] // crop start 2, crop 31: output = crop pixel for pixel
    [InlineData(17, 17, 15, 1)]
    [InlineData(15, 15, 15, 0)]
    public void OddSizesCropAtTensorFlowOffsets(int w, int h, int size, int start)
    {
        byte[] rgb = MakeRgb(w, h, (x, y, c) => (byte)(c == 0 ? x * 7 : c == 1 ? y * 7 : (x + y) % 256));
        float[] output = Run(rgb, w, h, size);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int c = 0; c < 3; c++)
                {
                    byte source = rgb[((y + start) * w + x + start) * 3 + c];
                    Assert.Equal((source * (float)(1.0 / 255.0) - 0.5f) * 2f, At(output, size, y, x, c));
                }
    }

    [Fact]
    public void NonSquareCropUsesEachSideSeparately()
    {
        // 48×33: width crop starts at 3 (size 42), height crop at 2 (size 29). Output 29: rows map 1:1.
        int w = 48, h = 33, size = 29;
        byte[] rgb = MakeRgb(w, h, (x, y, c) => (byte)(c == 0 ? x * 5 : c == 1 ? y * 7 : 99));
        float[] output = Run(rgb, w, h, size);
        for (int y = 0; y < size; y++)
            Assert.Equal(Norm((y + 2) * 7), At(output, size, y, 5, 1), 1e-5);
        Assert.Equal(Norm(3 * 5), At(output, size, 0, 0, 0), 1e-5); // first column = source column 3
        // column 1: x_in = 42/29 = 1.448 → between source columns 4 and 5 (values 20, 25): 22.24
        Assert.Equal(Norm(20 + 5 * (42f / 29f - 1)), At(output, size, 0, 1, 0), 1e-5);
    }

    [Theory]
    [InlineData(8, 8, 4)]
    [InlineData(33, 17, 8)]
    [InlineData(97, 61, 32)]
    [InlineData(250, 333, 224)]
    [InlineData(500, 375, 192)]
    [InlineData(20, 30, 160)] // upscaling
    [InlineData(1, 1, 3)]
    [InlineData(1, 50, 11)]
    public void MatchesNaiveTensorFlowReferenceExactly(int w, int h, int size)
    {
        var random = new Random(w * 1000 + h * 10 + size);
        byte[] rgb = MakeRgb(w, h, (_, _, _) => (byte)random.Next(256));
        Assert.Equal(Reference(rgb, w, h, w * 3, size), Run(rgb, w, h, size));
    }

    [Fact]
    public void RandomShapesStridesAndLayoutsMatchReferenceExactly()
    {
        var random = new Random(2024);
        for (int trial = 0; trial < 60; trial++)
        {
            int w = random.Next(1, 120), h = random.Next(1, 120), size = random.Next(1, 100);
            int stride = w * 3 + random.Next(0, 9);
            byte[] rgb = MakeRgb(w, h, (_, _, _) => (byte)random.Next(256), stride, (byte)random.Next(256));
            float[] expected = Reference(rgb, w, h, stride, size);
            Assert.Equal(expected, Run(rgb, w, h, size, stride));

            int bgraStride = w * 4 + 4 * random.Next(0, 3);
            var bgra = new byte[bgraStride * (h - 1) + w * 4];
            random.NextBytes(bgra); // padding and alpha are noise
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++)
                        bgra[y * bgraStride + x * 4 + (2 - c)] = rgb[y * stride + x * 3 + c];
            var fromBgra = new float[size * size * 3];
            Preprocessor.Bgra32ToInput(bgra, w, h, bgraStride, size, fromBgra);
            Assert.Equal(expected, fromBgra);
        }
    }

    [Theory]
    [InlineData(97, 61, 32)]
    [InlineData(64, 64, 56)]
    [InlineData(3, 5, 7)]
    public void Rgb24Bgra32AndImagePathsAgreeExactly(int w, int h, int size)
    {
        var random = new Random(42);
        byte[] rgb = MakeRgb(w, h, (_, _, _) => (byte)random.Next(256));
        float[] fromRgb = Run(rgb, w, h, size);

        var fromBgra = new float[size * size * 3];
        Preprocessor.Bgra32ToInput(RgbToBgra(rgb, w, h), w, h, w * 4, size, fromBgra);

        var fromImage = new float[size * size * 3];
        using (var image = Image.LoadPixelData<Rgb24>(rgb, w, h))
            Preprocessor.ImageToInput(image, size, fromImage);

        Assert.Equal(fromRgb, fromBgra);
        Assert.Equal(fromRgb, fromImage);
    }

    [Fact]
    public void StridePaddingIsIgnored()
    {
        int w = 37, h = 29, size = 24;
        var random = new Random(7);
        byte[] pixels = new byte[w * h * 3];
        random.NextBytes(pixels);
        float[] packed = Run(pixels, w, h, size);

        foreach (byte pad in new byte[] { 0, 255 })
        {
            int stride = w * 3 + 13;
            byte[] padded = MakeRgb(w, h, (x, y, c) => pixels[(y * w + x) * 3 + c], stride, pad);
            Assert.Equal(packed, Run(padded, w, h, size, stride));

            int bgraStride = w * 4 + 8;
            byte[] bgra = RgbToBgra(pixels, w, h);
            var paddedBgra = new byte[bgraStride * (h - 1) + w * 4];
            paddedBgra.AsSpan().Fill(pad);
            for (int y = 0; y < h; y++) bgra.AsSpan(y * w * 4, w * 4).CopyTo(paddedBgra.AsSpan(y * bgraStride));
            var fromBgra = new float[size * size * 3];
            Preprocessor.Bgra32ToInput(paddedBgra, w, h, bgraStride, size, fromBgra);
            Assert.Equal(packed, fromBgra);
        }
    }

    [Fact]
    public void ReadsNothingOutsideTheDeclaredImage()
    {
        // The image sits inside a larger buffer full of 255; a span cut to exactly stride·(h−1)+w·3 must give the
        // same result as a clean copy, so no byte outside the image influences the result.
        int w = 41, h = 23, size = 64, stride = w * 3 + 5;
        var random = new Random(3);
        byte[] pixels = new byte[w * h * 3];
        random.NextBytes(pixels);
        float[] expected = Run(pixels, w, h, size);

        var big = new byte[stride * h + 100];
        big.AsSpan().Fill(255);
        int offset = 50;
        for (int y = 0; y < h; y++) pixels.AsSpan(y * w * 3, w * 3).CopyTo(big.AsSpan(offset + y * stride));
        var dst = new float[size * size * 3];
        Preprocessor.Rgb24ToInput(big.AsSpan(offset, stride * (h - 1) + w * 3), w, h, stride, size, dst);
        Assert.Equal(expected, dst);
    }

    [Fact]
    public void DestinationLongerThanNeededIsWrittenOnlyAtTheStart()
    {
        byte[] rgb = MakeRgb(4, 4, (_, _, _) => 255);
        var dst = new float[4 * 4 * 3 + 10];
        dst.AsSpan().Fill(-7f);
        Preprocessor.Rgb24ToInput(rgb, 4, 4, 12, 4, dst);
        Assert.All(dst.AsSpan(0, 48).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(dst.AsSpan(48).ToArray(), v => Assert.Equal(-7f, v));
    }

    [Fact]
    public void DiscontiguousImageUsesRowPathAndAgrees()
    {
        // Large enough for ImageSharp's pooled allocator to split the pixel buffer into several blocks.
        int w = 3000, h = 2000, size = 96;
        var random = new Random(11);
        byte[] rgb = new byte[w * h * 3];
        random.NextBytes(rgb);
        using var image = Image.LoadPixelData<Rgb24>(rgb, w, h);
        var fromImage = new float[size * size * 3];
        Preprocessor.ImageToInput(image, size, fromImage);
        Assert.Equal(Run(rgb, w, h, size), fromImage);
        // Record which path ran (not asserted: it depends on the allocator's block size).
        _ = image.DangerousTryGetSinglePixelMemory(out _);
    }

    [Fact]
    public void ArgumentsAreValidated()
    {
        var pixels = new byte[10 * 10 * 3];
        var dst = new float[4 * 4 * 3];
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 0, 10, 30, 4, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 10, 0, 30, 4, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, -1, 10, 30, 4, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 32769, 1, 32769 * 3, 4, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 1, 32769, 3, 4, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 10, 10, 29, 4, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 10, 10, 30, 0, dst));
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Rgb24ToInput(pixels, 10, 10, 30, 1025, new float[1025 * 1025 * 3]));
        Assert.Throws<ArgumentException>(() => Preprocessor.Rgb24ToInput(pixels, 10, 10, 30, 5, dst)); // destination too short
        Assert.Throws<ArgumentException>(() => Preprocessor.Rgb24ToInput(pixels.AsSpan(1), 10, 10, 30, 4, dst)); // pixels one byte short
        Assert.Throws<ArgumentException>(() => Preprocessor.Rgb24ToInput(pixels, 10, 10, 31, 4, dst)); // stride makes it too short
        Assert.Throws<ArgumentException>(() => Preprocessor.Rgb24ToInput(ReadOnlySpan<byte>.Empty, 1, 1, 3, 1, new float[3]));
        Assert.Throws<ArgumentException>(() => Preprocessor.Bgra32ToInput(pixels, 10, 10, 40, 4, dst)); // 300 bytes < 9·40+40
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.Bgra32ToInput(new byte[400], 10, 10, 39, 4, dst));
        Assert.Throws<ArgumentNullException>(() => Preprocessor.ImageToInput(null!, 4, dst));
        using var image = new Image<Rgb24>(3, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessor.ImageToInput(image, 0, dst));
        Assert.Throws<ArgumentException>(() => Preprocessor.ImageToInput(image, 5, dst));

        // The exact minimum is accepted: stride·(h−1) + w·bpp, the last row without padding.
        Preprocessor.Rgb24ToInput(new byte[31 * 9 + 30], 10, 10, 31, 4, dst);
        Preprocessor.Bgra32ToInput(new byte[41 * 9 + 40], 10, 10, 41, 4, dst);
        Preprocessor.Rgb24ToInput(new byte[3], 1, 1, 3, 1024, new float[1024 * 1024 * 3]);
    }
}
