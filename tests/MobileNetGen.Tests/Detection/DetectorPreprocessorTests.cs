using MobileNetGen.Runtime.Detection;
using MobileNetGen.Tests.ObjectDetection.Reference;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

public class DetectorPreprocessorTests
{
    private static byte[] Pattern(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var rgb = new byte[w * h * 3];
        rng.NextBytes(rgb);
        return rgb;
    }

    private static byte[] Run(byte[] rgb, int w, int h, int dw = 300, int dh = 300)
    {
        var pre = new DetectorPreprocessor(dw, dh);
        var output = new byte[pre.OutputLength];
        pre.PreprocessRgb24(rgb, w, h, w * 3, output);
        return output;
    }

    [Fact]
    public void CatsAndDogsGeometry_1200x600_IsA2x2BoxEvery4x2Pixels()
    {
        // libyuv: dx = 4.0, dy = 2.0 (16.16), x0 = dx/2 − ½ = 1.5 → column 1, y0 = 0.5 → row 0; ScaleARGBDownEven with the
        // box row function: output (i, j) = (a + b + c + d + 2) >> 2 over columns 4i+1, 4i+2 and rows 2j, 2j+1.
        const int w = 1200, h = 600;
        byte[] rgb = Pattern(w, h, 1);
        byte[] output = Run(rgb, w, h);
        for (int j = 0; j < 300; j += 7)
            for (int i = 0; i < 300; i += 3)
                for (int c = 0; c < 3; c++)
                {
                    int P(int x, int y) => rgb[(y * w + x) * 3 + c];
                    int expected = (P(4 * i + 1, 2 * j) + P(4 * i + 2, 2 * j) + P(4 * i + 1, 2 * j + 1) + P(4 * i + 2, 2 * j + 1) + 2) >> 2;
                    Assert.Equal(expected, output[(j * 300 + i) * 3 + c]);
                }
    }

    [Fact]
    public void HalfSize_IsThe2x2BoxFromTheCorner()
    {
        byte[] rgb = Pattern(600, 600, 2);
        byte[] output = Run(rgb, 600, 600);
        int P(int x, int y, int c) => rgb[(y * 600 + x) * 3 + c];
        Assert.Equal((P(0, 0, 1) + P(1, 0, 1) + P(0, 1, 1) + P(1, 1, 1) + 2) >> 2, output[1]);
        Assert.Equal((P(598, 598, 2) + P(599, 598, 2) + P(598, 599, 2) + P(599, 599, 2) + 2) >> 2, output[(299 * 300 + 299) * 3 + 2]);
    }

    [Fact]
    public void SameSize_IsACopy_AndEqualWidth_InterpolatesRowPairs()
    {
        byte[] rgb = Pattern(300, 300, 3);
        Assert.Equal(rgb, Run(rgb, 300, 300));
        // 300 × 600: ScalePlaneVertical at y = 0.5 + 2j: (row 2j + row 2j+1 + 1) >> 1.
        byte[] tall = Pattern(300, 600, 4);
        byte[] output = Run(tall, 300, 600);
        Assert.Equal((tall[(10 * 300 + 5) * 3] + tall[(11 * 300 + 5) * 3] + 1) >> 1, output[(5 * 300 + 5) * 3]);
    }

    [Fact]
    public void UniformFrame_StaysUniform_WhereLibyuvsWeightsSumToOne()
    {
        // Box and row interpolation weights sum to 1; the column blender's to 127/128 (libyuv bug 607), so paths that filter
        // columns darken a uniform frame by a 128th (200 → 198).
        foreach (var (w, h) in new[] { (1200, 600), (640, 480), (123, 77), (301, 300) })
        {
            var rgb = Enumerable.Repeat((byte)200, w * h * 3).ToArray();
            Assert.All(Run(rgb, w, h), v => Assert.InRange(v, 198, 200));
        }
    }

    public static TheoryData<int, int, int, int> Sizes() => new()
    {
        { 1200, 600, 300, 300 }, { 640, 480, 300, 300 }, { 1920, 1080, 300, 300 }, { 600, 600, 300, 300 }, { 900, 900, 300, 300 },
        { 300, 600, 300, 300 }, { 300, 300, 300, 300 }, { 123, 77, 300, 300 }, { 150, 600, 300, 300 }, { 600, 150, 300, 300 },
        { 1, 1, 300, 300 }, { 1, 500, 300, 300 }, { 500, 1, 300, 300 }, { 299, 301, 300, 300 }, { 1200, 900, 300, 300 },
        { 2, 2, 7, 5 }, { 1000, 3, 10, 1 }, { 96, 96, 300, 300 }, { 4000, 3000, 300, 300 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void EveryPath_EqualsTheLibyuvArgbTranscription(int w, int h, int dw, int dh)
    {
        byte[] rgb = Pattern(w, h, w * 31 + h);
        Assert.Equal(LibyuvArgbScaleReference.ResizeRgb(rgb, w, h, dw, dh), Run(rgb, w, h, dw, dh));
    }

    [Fact]
    public void Bgra32_Rgb24_AndImageRgb24_GiveTheSameBytes()
    {
        const int w = 333, h = 250;
        byte[] rgb = Pattern(w, h, 5);
        var bgra = new byte[w * h * 4 + 4 * h]; // with row padding
        int stride = w * 4 + 4;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int s = (y * w + x) * 3, d = y * stride + x * 4;
                bgra[d] = rgb[s + 2]; bgra[d + 1] = rgb[s + 1]; bgra[d + 2] = rgb[s]; bgra[d + 3] = 17;
            }
        var pre = new DetectorPreprocessor();
        var a = new byte[pre.OutputLength];
        var b = new byte[pre.OutputLength];
        var c = new byte[pre.OutputLength];
        pre.PreprocessRgb24(rgb, w, h, w * 3, a);
        pre.PreprocessBgra32(bgra, w, h, stride, b);
        using (var image = Image.LoadPixelData<Rgb24>(rgb, w, h)) pre.Preprocess(image, c);
        Assert.Equal(a, b);
        Assert.Equal(a, c);
    }

    [Fact]
    public void Frames_AllocateNothing()
    {
        byte[] rgb = Pattern(640, 480, 6);
        var pre = new DetectorPreprocessor();
        var output = new byte[pre.OutputLength];
        byte[] up = Pattern(100, 100, 7);
        pre.PreprocessRgb24(rgb, 640, 480, 640 * 3, output);
        pre.PreprocessRgb24(up, 100, 100, 300, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        pre.PreprocessRgb24(rgb, 640, 480, 640 * 3, output);
        pre.PreprocessRgb24(up, 100, 100, 300, output);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BadFrames_AreClearExceptions()
    {
        var pre = new DetectorPreprocessor();
        var output = new byte[pre.OutputLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => pre.PreprocessRgb24(new byte[30], 0, 10, 3, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => pre.PreprocessRgb24(new byte[30], 10, 1, 29, output));      // stride < width·3
        Assert.Throws<ArgumentException>(() => pre.PreprocessRgb24(new byte[29], 10, 1, 30, output));                // buffer short
        Assert.Throws<ArgumentException>(() => pre.PreprocessRgb24(new byte[30], 10, 1, 30, new byte[10]));          // destination short
        Assert.Throws<ArgumentOutOfRangeException>(() => pre.PreprocessRgb24(new byte[3], 40000, 1, 120000, output)); // > 32768
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorPreprocessor(0, 300));
        Assert.Throws<ArgumentNullException>(() => pre.Preprocess(null!, output));
    }

    [SharedDataFact]
    public void CatsAndDogs_Preprocesses_AsTheTranscriptionDoes()
    {
        using var image = Image.Load<Rgb24>(Path.Combine(SharedData.Root!, GoldenDetections.ImageRelativePath));
        var rgb = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(rgb);
        var pre = new DetectorPreprocessor();
        var output = new byte[pre.OutputLength];
        pre.Preprocess(image, output);
        Assert.Equal(LibyuvArgbScaleReference.ResizeRgb(rgb, image.Width, image.Height, 300, 300), output);
    }
}
