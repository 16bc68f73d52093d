using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace MobileNetGen.Runtime.Imaging;

/// <summary>An image could not be loaded: missing, unreadable, corrupt, of an unsupported format or too large.</summary>
public sealed class ImageLoadException : Exception
{
    public ImageLoadException(string message) : base(message) { }

    public ImageLoadException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// Decodes JPEG, PNG and BMP into <see cref="Image{Rgb24}"/> defensively: the format is sniffed from the content (the
/// file extension is ignored), only those three decoders are registered, the header is identified first and images of
/// more than <see cref="MaxPixels"/> pixels are refused before any pixel memory is allocated, EXIF orientation is
/// applied, and grayscale, palette, 16-bit, alpha (dropped, as TF's <c>decode_png(channels=3)</c>) and CMYK/YCCK
/// sources all come out as 8-bit RGB. Every failure is an <see cref="ImageLoadException"/> naming the source and the
/// reason, with the underlying exception as its inner exception.
/// </summary>
public static class ImageLoader
{
    private static long _maxPixels = 50_000_000;

    // Non-seekable streams are buffered in memory first; refuse absurd encoded sizes.
    private const long MaxEncodedBytes = 1L << 30;

    private static readonly Configuration DecodeConfiguration = CreateConfiguration();

    // NativeAOT: ImageSharp 2.1's EXIF reader (BaseExifReader.ReadValue -> EnumUtils.Parse<ExifDataType>) calls
    // Enum.GetValues(typeof(ExifDataType)), which needs the ExifDataType[] type in the native image (trim warning IL3050
    // in ImageSharp). Enum.GetValues<T>() constructs that array type, so the reflection call finds it at run time.
    private static readonly SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifDataType[] AotExifDataTypes =
        Enum.GetValues<SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifDataType>();

    /// <summary>Largest accepted width × height (default 50 megapixels), checked from the header before decoding.</summary>
    public static long MaxPixels
    {
        get => Volatile.Read(ref _maxPixels);
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "MaxPixels must be at least 1");
            Volatile.Write(ref _maxPixels, value);
        }
    }

    private static Configuration CreateConfiguration()
    {
        // Only the three formats the product accepts; ReadOrigin.Current (the default) so a caller's stream is read
        // from its current position.
        return new Configuration(new JpegConfigurationModule(), new PngConfigurationModule(), new BmpConfigurationModule());
    }

    /// <summary>Loads an image file.</summary>
    public static Image<Rgb24> LoadRgb24(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string source = $"'{path}'";
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageLoadException($"Cannot load image {source}: file not found", ex);
        }
        catch (Exception ex)
        {
            throw new ImageLoadException($"Cannot load image {source}: {ex.Message}", ex);
        }

        using (stream)
        {
            return Decode(stream, source);
        }
    }

    /// <summary>Loads an image from a stream (read from its current position; non-seekable streams are buffered).</summary>
    public static Image<Rgb24> LoadRgb24(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string source = "from stream";
        if (stream.CanSeek) return Decode(stream, source);

        MemoryStream buffer;
        try
        {
            buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + read > MaxEncodedBytes)
                    throw new ImageLoadException($"Cannot load image {source}: encoded data exceeds {MaxEncodedBytes} bytes");
                buffer.Write(chunk, 0, read);
            }
            buffer.Position = 0;
        }
        catch (ImageLoadException) { throw; }
        catch (Exception ex)
        {
            throw new ImageLoadException($"Cannot load image {source}: {ex.Message}", ex);
        }

        using (buffer)
        {
            return Decode(buffer, source);
        }
    }

    /// <summary>Loads an image from encoded bytes in memory.</summary>
    public static unsafe Image<Rgb24> LoadRgb24(ReadOnlySpan<byte> encoded)
    {
        const string source = "from memory buffer";
        if (encoded.IsEmpty) throw new ImageLoadException($"Cannot load image {source}: the data is empty");
        fixed (byte* p = encoded)
        {
            using var stream = new UnmanagedMemoryStream(p, encoded.Length);
            return Decode(stream, source);
        }
    }

    private static Image<Rgb24> Decode(Stream stream, string source)
    {
        long start;
        try
        {
            start = stream.Position;
            if (stream.Length - start <= 0)
                throw new ImageLoadException($"Cannot load image {source}: the data is empty (0 bytes)");
        }
        catch (ImageLoadException) { throw; }
        catch (Exception ex)
        {
            throw new ImageLoadException($"Cannot load image {source}: {ex.Message}", ex);
        }

        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(DecodeConfiguration, stream, out format);
        }
        catch (Exception ex)
        {
            throw new ImageLoadException($"Cannot load image {source}: {Describe(ex)}", ex);
        }
        if (info is null || format is null)
            throw new ImageLoadException($"Cannot load image {source}: not a JPEG, PNG or BMP image (unrecognised or unsupported format)");

        long pixels = (long)info.Width * info.Height;
        long max = MaxPixels;
        if (info.Width < 1 || info.Height < 1)
            throw new ImageLoadException($"Cannot load image {source}: invalid dimensions {info.Width}x{info.Height}");
        if (info.Width > Preprocessor.MaxSourceDimension || info.Height > Preprocessor.MaxSourceDimension)
            throw new ImageLoadException($"Cannot load image {source}: {format.Name} of {info.Width}x{info.Height} exceeds the maximum side of {Preprocessor.MaxSourceDimension} pixels");
        if (pixels > max)
            throw new ImageLoadException($"Cannot load image {source}: {format.Name} of {info.Width}x{info.Height} = {pixels} pixels exceeds the limit of {max} pixels (ImageLoader.MaxPixels)");

        string? incomplete;
        try
        {
            stream.Position = start;
            incomplete = format is JpegFormat ? CheckJpegComplete(stream)
                : format is BmpFormat ? CheckBmpComplete(stream, stream.Length - start)
                : null; // ImageSharp's PNG decoder itself fails on truncated data (missing IDAT data, CRC, IEND)
        }
        catch (Exception ex)
        {
            throw new ImageLoadException($"Cannot load image {source}: {Describe(ex)}", ex);
        }
        if (incomplete is not null)
            throw new ImageLoadException($"Cannot load image {source} ({format.Name}): truncated or corrupt image data ({incomplete})");

        Image<Rgb24>? image = null;
        try
        {
            stream.Position = start;
            image = Image.Load<Rgb24>(DecodeConfiguration, stream);
            if (image.Width != info.Width || image.Height != info.Height)
                throw new InvalidImageContentException($"decoded size {image.Width}x{image.Height} differs from the header's {info.Width}x{info.Height}");
            image.Mutate(DecodeConfiguration, x => x.AutoOrient());
            return image;
        }
        catch (Exception ex)
        {
            image?.Dispose();
            throw new ImageLoadException($"Cannot load image {source} ({format.Name}): {Describe(ex)}", ex);
        }
    }

    /// <summary>
    /// ImageSharp decodes truncated JPEGs without complaint (missing blocks come out grey), while TF's decode_jpeg and
    /// PIL refuse them. Walks the marker segments (skipping APPn payloads such as EXIF thumbnails by their length) and
    /// the entropy-coded data (where a real marker is 0xFF followed by anything but 0x00 or RSTn) up to EOI.
    /// Returns null when EOI is reached, otherwise the reason.
    /// </summary>
    private static string? CheckJpegComplete(Stream stream)
    {
        var reader = new ByteReader(stream);
        try
        {
            if (reader.Next() != 0xFF || reader.Next() != 0xD8) return "missing JPEG start-of-image marker";
            int marker = -1;
            while (true)
            {
                if (marker < 0)
                {
                    // Between segments: expect 0xFF (tolerate stray bytes as libjpeg does), skip fill bytes.
                    int b;
                    while ((b = reader.Next()) != 0xFF)
                        if (b < 0) return "unexpected end of data before the end-of-image marker";
                    while ((b = reader.Next()) == 0xFF) { }
                    if (b < 0) return "unexpected end of data before the end-of-image marker";
                    marker = b;
                }

                if (marker == 0xD9) return null; // EOI
                if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x00)
                {
                    marker = -1;
                    continue;
                }

                int hi = reader.Next(), lo = reader.Next();
                if (lo < 0) return "unexpected end of data inside a marker segment";
                int length = (hi << 8) | lo;
                if (length < 2) return $"invalid segment length {length}";
                if (!reader.Skip(length - 2)) return "unexpected end of data inside a marker segment";

                if (marker != 0xDA) // not SOS
                {
                    marker = -1;
                    continue;
                }

                // Entropy-coded data after SOS: runs until a marker other than stuffing (FF 00) or RSTn.
                marker = -1;
                while (marker < 0)
                {
                    int b = reader.Next();
                    if (b < 0) return "unexpected end of data inside the compressed image data";
                    if (b != 0xFF) continue;
                    int n;
                    while ((n = reader.Next()) == 0xFF) { }
                    if (n < 0) return "unexpected end of data inside the compressed image data";
                    if (n == 0x00 || (n >= 0xD0 && n <= 0xD7)) continue;
                    marker = n;
                }
            }
        }
        finally
        {
            reader.Dispose();
        }
    }

    /// <summary>
    /// ImageSharp's BMP decoder fills missing pixel rows with zeros. For uncompressed BMPs (BI_RGB, BI_BITFIELDS,
    /// BI_ALPHABITFIELDS) the pixel data size follows from the header: refuse files shorter than
    /// <c>bfOffBits + rowStride·|height|</c>.
    /// </summary>
    private static string? CheckBmpComplete(Stream stream, long available)
    {
        Span<byte> header = stackalloc byte[34];
        int read = 0;
        while (read < header.Length)
        {
            int n = stream.Read(header[read..]);
            if (n == 0) return "unexpected end of data inside the BMP header";
            read += n;
        }
        uint offBits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header[10..]);
        uint infoSize = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header[14..]);
        if (infoSize < 40) return null; // OS/2 1.x core header: leave it to the decoder
        long width = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(header[18..]);
        long height = Math.Abs((long)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(header[22..]));
        int bitCount = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        uint compression = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header[30..]);
        if (compression is not (0 or 3 or 6) || width <= 0 || bitCount is 0 or > 32) return null;
        long rowStride = (width * bitCount + 31) / 32 * 4;
        long needed = offBits + rowStride * height;
        return available < needed ? $"pixel data needs {needed} bytes, the file has {available}" : null;
    }

    /// <summary>Buffered forward-only byte reader over a stream (pooled buffer).</summary>
    private struct ByteReader(Stream stream) : IDisposable
    {
        private byte[]? _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        private int _position, _count;

        public int Next()
        {
            if (_position == _count)
            {
                _count = stream.Read(_buffer!, 0, _buffer!.Length);
                _position = 0;
                if (_count <= 0) { _count = 0; return -1; }
            }
            return _buffer![_position++];
        }

        public bool Skip(int bytes)
        {
            while (bytes > 0)
            {
                if (_position == _count)
                {
                    _count = stream.Read(_buffer!, 0, _buffer!.Length);
                    _position = 0;
                    if (_count <= 0) { _count = 0; return false; }
                }
                int n = Math.Min(bytes, _count - _position);
                _position += n;
                bytes -= n;
            }
            return true;
        }

        public void Dispose()
        {
            if (_buffer is not null) System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        UnknownImageFormatException => "not a JPEG, PNG or BMP image (unrecognised or unsupported format)",
        InvalidImageContentException or ImageFormatException => $"corrupt or truncated image data ({ex.Message})",
        OutOfMemoryException or SixLabors.ImageSharp.Memory.InvalidMemoryOperationException => $"not enough memory to decode ({ex.Message})",
        EndOfStreamException => "truncated image data (unexpected end of data)",
        // ImageSharp 2.1's decoders fail this way on some malformed headers, chunks and segments (found by fuzzing, see
        // docs/fuzzing.md): the data is corrupt, and the runtime's own message ("Object reference not set...") says nothing.
        NullReferenceException or IndexOutOfRangeException or ArgumentException or DivideByZeroException or InvalidCastException
            or OverflowException or InvalidOperationException => $"corrupt image data (the decoder failed: {ex.GetType().Name})",
        _ => ex.Message,
    };
}
