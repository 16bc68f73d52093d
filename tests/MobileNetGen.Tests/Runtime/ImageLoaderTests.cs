using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using MobileNetGen.Runtime.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

public sealed class ImageLoaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mng-imageloader-" + Guid.NewGuid().ToString("N"));

    public ImageLoaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string Write(string name, byte[] bytes)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    internal static byte[] Encode<TPixel>(Image<TPixel> image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using var ms = new MemoryStream();
        image.Save(ms, encoder);
        return ms.ToArray();
    }

    private static Image<Rgb24> Noise(int w, int h, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[w * h * 3];
        random.NextBytes(bytes);
        return Image.LoadPixelData<Rgb24>(bytes, w, h);
    }

    // ---- PNG crafting -------------------------------------------------------------------------------------------

    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A syntactically valid PNG whose IHDR claims width×height RGB8 pixels, with a tiny IDAT (one zero row).</summary>
    internal static byte[] BombPng(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type RGB
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
            z.Write(new byte[1 + 3 * 1024]); // the first filtered row(s), zeros: compresses to a few bytes
        var png = new MemoryStream();
        png.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        png.Write(Chunk("IHDR", ihdr));
        png.Write(Chunk("IDAT", idat.ToArray()));
        png.Write(Chunk("IEND", Array.Empty<byte>()));
        return png.ToArray();
    }

    [Fact]
    public void CraftedPngIsValid()
    {
        // Sanity check of the crafting helper: a small claimed size decodes.
        using var image = ImageLoader.LoadRgb24(BombPng(32, 1));
        Assert.Equal(32, image.Width);
        Assert.Equal(1, image.Height);
    }

    [Fact]
    public void DecompressionBombIsRefusedBeforeDecoding()
    {
        string path = Write("bomb.png", BombPng(60000, 60000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("bomb.png", ex.Message);
        Assert.Contains("60000x60000", ex.Message);
        Assert.Contains("exceeds", ex.Message);
        Assert.True(allocated < 16 << 20, $"allocated {allocated} bytes while refusing");

        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(BombPng(60000, 60000).AsSpan()));
        using var ms = new MemoryStream(BombPng(10000, 5001));
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(ms)); // 50.01 MP > 50 MP default
    }

    [Fact]
    public void SidesLongerThanThePreprocessorAcceptsAreRefused()
    {
        // 40000×10 is only 0.4 MP, but wider than Preprocessor.MaxSourceDimension (32768).
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(BombPng(40000, 10).AsSpan()));
        Assert.Contains("40000x10", ex.Message);
    }

    [Fact]
    public void MaxPixelsDefaultsToFiftyMegapixelsAndRejectsNonPositive()
    {
        Assert.Equal(50_000_000, ImageLoader.MaxPixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageLoader.MaxPixels = 0);
        Assert.Equal(50_000_000, ImageLoader.MaxPixels);
    }

    [Fact]
    public void MissingFileIsImageLoadException()
    {
        string path = PathOf("does not exist.jpg");
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        Assert.Contains(path, ex.Message);
        Assert.IsType<FileNotFoundException>(ex.InnerException);
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(PathOf("no-dir/x.png")));
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(_dir)); // a directory
    }

    [Fact]
    public void EmptyFileIsImageLoadException()
    {
        string path = Write("empty.png", Array.Empty<byte>());
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        Assert.Contains("empty.png", ex.Message);
        Assert.Contains("empty", ex.Message);
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(ReadOnlySpan<byte>.Empty));
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(new MemoryStream()));
    }

    [Fact]
    public void RandomBytesAreImageLoadException()
    {
        var bytes = new byte[4096];
        new Random(1).NextBytes(bytes);
        string path = Write("random.jpg", bytes);
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        Assert.Contains("random.jpg", ex.Message);
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(bytes.AsSpan()));
    }

    [Fact]
    public void TextFileWithImageExtensionIsImageLoadException()
    {
        string path = Write("notes.png", Encoding.UTF8.GetBytes("this is not an image\n"));
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        Assert.Contains("not a JPEG, PNG or BMP", ex.Message);
    }

    [Fact]
    public void UnsupportedFormatIsImageLoadException()
    {
        using var image = Noise(16, 16, 2);
        string path = Write("animation.gif", Encode(image, new GifEncoder()));
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        Assert.Contains("animation.gif", ex.Message);
    }

    [Fact]
    public void ContentDecidesTheFormatNotTheExtension()
    {
        using var image = Noise(20, 10, 3);
        string path = Write("really-a-png.jpg", Encode(image, new PngEncoder()));
        using var loaded = ImageLoader.LoadRgb24(path);
        Assert.Equal(20, loaded.Width);
        Assert.Equal(image[7, 3], loaded[7, 3]);
    }

    [Theory]
    [InlineData("png", 0.05)]
    [InlineData("png", 0.5)]
    [InlineData("png", 0.9)]
    [InlineData("png", 0.99)]
    [InlineData("jpg", 0.02)]
    [InlineData("jpg", 0.5)]
    [InlineData("jpg", 0.9)]
    [InlineData("bmp", 0.01)]
    [InlineData("bmp", 0.5)]
    [InlineData("bmp", 0.99)]
    public void TruncatedFileIsImageLoadException(string kind, double keep)
    {
        using var image = Noise(64, 64, 4);
        byte[] full = Encode(image, kind switch
        {
            "png" => new PngEncoder(),
            "jpg" => new JpegEncoder(),
            _ => (SixLabors.ImageSharp.Formats.IImageEncoder)new BmpEncoder(),
        });
        string path = Write($"truncated.{kind}", full.AsSpan(0, (int)(full.Length * keep)).ToArray());
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(path));
        Assert.Contains($"truncated.{kind}", ex.Message);
        Assert.Contains("truncated", ex.Message.Replace($"truncated.{kind}", ""));
    }

    [Fact]
    public void GrayscalePngLoadsAsRgb24()
    {
        using var gray = new Image<L8>(5, 3);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++)
                gray[x, y] = new L8((byte)(x * 50 + y));
        string path = Write("gray.png", Encode(gray, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 }));
        using var loaded = ImageLoader.LoadRgb24(path);
        Assert.Equal(5, loaded.Width);
        Assert.Equal(3, loaded.Height);
        Assert.Equal(new Rgb24(201, 201, 201), loaded[4, 1]);
        Assert.Equal(new Rgb24(52, 52, 52), loaded[1, 2]);
    }

    [Fact]
    public void RgbaPngDropsAlphaWithoutCompositing()
    {
        using var rgba = new Image<Rgba32>(2, 2);
        rgba[0, 0] = new Rgba32(200, 100, 50, 0);   // fully transparent: colour kept, not blackened
        rgba[1, 0] = new Rgba32(10, 20, 30, 128);
        rgba[0, 1] = new Rgba32(255, 255, 255, 255);
        rgba[1, 1] = new Rgba32(1, 2, 3, 7);
        string path = Write("alpha.png", Encode(rgba, new PngEncoder { ColorType = PngColorType.RgbWithAlpha, TransparentColorMode = PngTransparentColorMode.Preserve }));
        using var loaded = ImageLoader.LoadRgb24(path);
        Assert.Equal(new Rgb24(200, 100, 50), loaded[0, 0]);
        Assert.Equal(new Rgb24(10, 20, 30), loaded[1, 0]);
        Assert.Equal(new Rgb24(255, 255, 255), loaded[0, 1]);
        Assert.Equal(new Rgb24(1, 2, 3), loaded[1, 1]);
    }

    [Fact]
    public void PalettePngAnd16BitPngLoadAsRgb24()
    {
        using var image = new Image<Rgb24>(4, 4);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                image[x, y] = (x + y) % 2 == 0 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
        string palette = Write("palette.png", Encode(image, new PngEncoder { ColorType = PngColorType.Palette }));
        using (var loaded = ImageLoader.LoadRgb24(palette))
        {
            Assert.Equal(new Rgb24(255, 0, 0), loaded[0, 0]);
            Assert.Equal(new Rgb24(0, 0, 255), loaded[1, 0]);
        }

        using var deep = new Image<Rgb48>(3, 1);
        deep[0, 0] = new Rgb48(65535, 0, 32896);
        deep[1, 0] = new Rgb48(257 * 10, 257 * 20, 257 * 30);
        string path16 = Write("deep.png", Encode(deep, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 }));
        using var loaded16 = ImageLoader.LoadRgb24(path16);
        Assert.Equal(new Rgb24(255, 0, 128), loaded16[0, 0]);
        Assert.Equal(new Rgb24(10, 20, 30), loaded16[1, 0]);
    }

    [Fact]
    public void BmpAndJpegLoad()
    {
        using var image = new Image<Rgb24>(32, 16);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 32; x++)
                image[x, y] = new Rgb24(30, 160, 90);
        using (var bmp = ImageLoader.LoadRgb24(Write("flat.bmp", Encode(image, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }))))
            Assert.Equal(new Rgb24(30, 160, 90), bmp[31, 15]);
        using var jpeg = ImageLoader.LoadRgb24(Write("flat.jpeg", Encode(image, new JpegEncoder { Quality = 95 })));
        Rgb24 p = jpeg[10, 10];
        Assert.InRange(p.R, 25, 35);
        Assert.InRange(p.G, 155, 165);
        Assert.InRange(p.B, 85, 95);
    }

    [Fact]
    public void ExifOrientationIsApplied()
    {
        using var image = new Image<Rgb24>(40, 16);
        image.Metadata.ExifProfile = new ExifProfile();
        image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6); // rotate 90° clockwise to display
        using var loaded = ImageLoader.LoadRgb24(Write("rotated.jpg", Encode(image, new JpegEncoder())));
        Assert.Equal(16, loaded.Width);
        Assert.Equal(40, loaded.Height);
    }

    [Fact]
    public void NamesWithSpacesAndNonAsciiWork()
    {
        using var image = Noise(9, 7, 5);
        string path = Write("grüne Ärmel – 猫 photo.png", Encode(image, new PngEncoder()));
        using var loaded = ImageLoader.LoadRgb24(path);
        Assert.Equal(image[8, 6], loaded[8, 6]);

        string broken = Write("kaputt ß 图.png", new byte[] { 1, 2, 3 });
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(broken));
        Assert.Contains("kaputt ß 图.png", ex.Message);
    }

    [Fact]
    public void StreamAndSpanOverloadsWork()
    {
        using var image = Noise(12, 8, 6);
        byte[] png = Encode(image, new PngEncoder());
        using (var fromSpan = ImageLoader.LoadRgb24(png.AsSpan()))
            Assert.Equal(image[11, 7], fromSpan[11, 7]);
        using (var fromStream = ImageLoader.LoadRgb24(new MemoryStream(png)))
            Assert.Equal(image[3, 2], fromStream[3, 2]);
        using (var fromPipe = ImageLoader.LoadRgb24(new NonSeekableStream(png)))
            Assert.Equal(image[5, 5], fromPipe[5, 5]);
        Assert.Throws<ImageLoadException>(() => ImageLoader.LoadRgb24(new NonSeekableStream(new byte[] { 0x89, 0x50 })));
    }

    [SharedDataFact]
    public void EverySharedPhotoLoads()
    {
        // Real JPEG/PNG/BMP files (including grayscale JPEGs and files with EXIF data) must pass the defensive checks.
        int loaded = 0;
        foreach (string dir in new[] { "images/demo", "images/imagenet-sample-dev" })
        {
            string full = Path.Combine(SharedData.Root!, dir);
            if (!Directory.Exists(full)) continue;
            foreach (string file in Directory.EnumerateFiles(full))
            {
                string ext = Path.GetExtension(file).ToLowerInvariant();
                if (ext is not (".jpg" or ".jpeg" or ".png" or ".bmp")) continue;
                using var image = ImageLoader.LoadRgb24(file);
                Assert.True(image.Width > 0 && image.Height > 0, file);
                loaded++;
            }
        }
        Assert.True(loaded > 0);
    }

    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 7), data.Length - _position); // small reads on purpose
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
