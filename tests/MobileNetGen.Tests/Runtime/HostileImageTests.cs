using System.Buffers.Binary;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.Cli;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static MobileNetGen.Tests.Runtime.ImageLoaderTests; // Encode, BombPng

namespace MobileNetGen.Tests.Runtime;

/// <summary>
/// The image bullet of the hostile-input issue, beyond <see cref="ImageLoaderTests"/>: CMYK JPEG, 16-bit and
/// grayscale-with-alpha PNG, grayscale JPEG, every EXIF rotation, decompression bombs in JPEG and BMP headers, and the CLI's
/// one-line error for each hostile file.
/// </summary>
public sealed class HostileImageTests : IDisposable
{
    private readonly CliRunner.TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string Write(string name, byte[] bytes)
    {
        string path = _tmp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertNear(Rgb24 expected, Rgb24 actual, int tolerance)
    {
        Assert.True(Math.Abs(expected.R - actual.R) <= tolerance && Math.Abs(expected.G - actual.G) <= tolerance && Math.Abs(expected.B - actual.B) <= tolerance,
            $"expected about {expected}, got {actual}");
    }

    [Fact]
    public void CmykJpegLoadsAsRgb()
    {
        // Fixtures/cmyk.jpg: 16x8 CMYK JPEG written by Pillow (Adobe APP14 marker, inverted CMYK as Photoshop writes it);
        // left half C=0 M=255 Y=255 K=0 (red), right half C=255 M=255 Y=0 K=0 (blue). ImageSharp cannot encode CMYK.
        using var image = ImageLoader.LoadRgb24(CliRunner.Fixture("cmyk.jpg"));
        Assert.Equal(16, image.Width);
        Assert.Equal(8, image.Height);
        AssertNear(new Rgb24(255, 0, 0), image[2, 4], 40);
        AssertNear(new Rgb24(0, 0, 255), image[13, 4], 40);
    }

    [Fact]
    public void Gray16AndGrayAlphaPngLoadAsRgb()
    {
        using var gray16 = new Image<L16>(3, 1);
        gray16[0, 0] = new L16(65535);
        gray16[1, 0] = new L16(257 * 100);
        using (var loaded = ImageLoader.LoadRgb24(Write("gray16.png", Encode(gray16, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 }))))
        {
            Assert.Equal(new Rgb24(255, 255, 255), loaded[0, 0]);
            Assert.Equal(new Rgb24(100, 100, 100), loaded[1, 0]);
            Assert.Equal(new Rgb24(0, 0, 0), loaded[2, 0]);
        }

        using var grayAlpha = new Image<La16>(2, 1);
        grayAlpha[0, 0] = new La16(80, 0);     // transparent: the gray value is kept, not composited
        grayAlpha[1, 0] = new La16(200, 255);
        using var loadedAlpha = ImageLoader.LoadRgb24(Write("gray-alpha.png", Encode(grayAlpha,
            new PngEncoder { ColorType = PngColorType.GrayscaleWithAlpha, TransparentColorMode = PngTransparentColorMode.Preserve })));
        Assert.Equal(new Rgb24(80, 80, 80), loadedAlpha[0, 0]);
        Assert.Equal(new Rgb24(200, 200, 200), loadedAlpha[1, 0]);
    }

    [Fact]
    public void GrayscaleJpegLoadsAsRgb()
    {
        using var gray = new Image<L8>(16, 16);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                gray[x, y] = new L8(x < 8 ? (byte)40 : (byte)220);
        using var loaded = ImageLoader.LoadRgb24(Write("gray.jpg", Encode(gray, new JpegEncoder { Quality = 95, ColorType = JpegColorType.Luminance })));
        var p = loaded[3, 3];
        Assert.Equal(p.R, p.G);
        Assert.Equal(p.G, p.B);
        AssertNear(new Rgb24(40, 40, 40), p, 8);
        AssertNear(new Rgb24(220, 220, 220), loaded[12, 12], 8);
    }

    /// <summary>Top-left 16x8 quadrant red, the rest blue; the EXIF orientation says how to turn it for display.</summary>
    [Theory]
    [InlineData(1, 32, 16, 4, 4)]   // as stored: red top-left
    [InlineData(3, 32, 16, 27, 12)] // 180°: red bottom-right
    [InlineData(6, 16, 32, 12, 4)]  // 90° clockwise: red top-right
    [InlineData(8, 16, 32, 4, 27)]  // 90° counter-clockwise: red bottom-left
    public void ExifOrientationIsApplied(ushort orientation, int width, int height, int redX, int redY)
    {
        using var image = new Image<Rgb24>(32, 16);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 32; x++)
                image[x, y] = x < 16 && y < 8 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
        image.Metadata.ExifProfile = new ExifProfile();
        image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        using var loaded = ImageLoader.LoadRgb24(Write($"exif{orientation}.jpg", Encode(image, new JpegEncoder { Quality = 95 })));
        Assert.Equal(width, loaded.Width);
        Assert.Equal(height, loaded.Height);
        AssertNear(new Rgb24(255, 0, 0), loaded[redX, redY], 60);
        AssertNear(new Rgb24(0, 0, 255), loaded[width - 1 - redX, height - 1 - redY], 60);
    }

    /// <summary>A valid 16x16 baseline JPEG whose SOF0 frame header is patched to claim <paramref name="width"/>×<paramref name="height"/>.</summary>
    private static byte[] JpegClaiming(int width, int height)
    {
        using var image = new Image<Rgb24>(16, 16);
        byte[] jpeg = Encode(image, new JpegEncoder { Quality = 75 });
        for (int i = 2; i + 9 < jpeg.Length; i++)
        {
            if (jpeg[i] != 0xFF || jpeg[i + 1] != 0xC0) continue;
            BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), (ushort)height);
            BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), (ushort)width);
            return jpeg;
        }
        throw new InvalidOperationException("no SOF0 marker");
    }

    /// <summary>A 54-byte BMP header (24-bit, uncompressed) claiming width×height with no pixel data.</summary>
    private static byte[] BmpClaiming(int width, int height)
    {
        var bmp = new byte[54];
        bmp[0] = (byte)'B'; bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        return bmp;
    }

    [Theory]
    [InlineData("bomb.jpg")]
    [InlineData("bomb.bmp")]
    public void DecompressionBombsInJpegAndBmpHeadersAreRefusedBeforeDecoding(string name)
    {
        byte[] bytes = name.EndsWith(".jpg") ? JpegClaiming(60000, 60000) : BmpClaiming(60000, 60000);
        string path = Write(name, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(name, ex.Message);
        Assert.Contains("60000x60000", ex.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes while refusing");
    }

    [Fact]
    public void CraftedBombHelpersDescribeDecodableSizes()
    {
        // The helpers patch real headers: with a small claimed size the JPEG decodes and the BMP is refused only as truncated.
        using (var ok = ImageLoader.LoadRgb24(JpegClaiming(16, 16).AsSpan())) Assert.Equal(16, ok.Width);
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(BmpClaiming(4, 4).AsSpan()));
        Assert.Contains("truncated", ex.Message);
    }

    /// <summary>Every hostile image on the classify command line: one line each on stderr, exit 2, no stack trace; the good images are still classified.</summary>
    [Fact]
    public void ClassifyCommand_HostileImages_OneLineErrorEach()
    {
        var random = new byte[4096];
        new Random(42).NextBytes(random);
        using var noise = new Image<Rgb24>(8, 8);
        var hostile = new[]
        {
            Write("bomb 60000x60000.png", BombPng(60000, 60000)),
            Write("bomb.jpg", JpegClaiming(60000, 60000)),
            Write("bomb.bmp", BmpClaiming(60000, 60000)),
            Write("random bytes.jpg", random),
            Write("animation ü.gif", Encode(noise, new GifEncoder())),
            Write("empty \"quoted\".png", Array.Empty<byte>()),
            Write("truncated.png", Encode(noise, new PngEncoder()).AsSpan(0, 40).ToArray()),
        };
        string wrongExtension = Write("really a png.bmp", Encode(noise, new PngEncoder()));
        string cmyk = CliRunner.Fixture("cmyk.jpg");

        var args = new List<string> { "classify", "--variant", "0.25_128", "--top", "1", "--json" };
        args.AddRange(hostile);
        args.Add(wrongExtension);
        args.Add(cmyk);
        var r = CliRunner.Run(args.ToArray());
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(hostile.Length, r.StderrLines.Length);
        for (int i = 0; i < hostile.Length; i++)
            Assert.StartsWith($"error: {hostile[i]}: ", r.StderrLines[i]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Equal(2, doc.RootElement.GetArrayLength()); // the PNG named .bmp and the CMYK JPEG
    }
}
