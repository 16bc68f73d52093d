using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Holds a generated classifier's pre-packed weights: decoded once per process from the base64 UTF-8 literals the
/// generator embeds into 64-byte-aligned native memory that lives as long as the process (shared by every instance).
/// </summary>
public static unsafe class PackedWeights
{

    /// <summary>Allocates the aligned buffer for <paramref name="totalFloats"/> floats (never freed: weights live for the process).</summary>
    public static float* Allocate(long totalFloats)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(totalFloats * sizeof(float)), 64);
        new Span<byte>(p, checked((int)(totalFloats * sizeof(float)))).Clear();
        return p;
    }

    /// <summary>Decodes one base64 literal into exactly <paramref name="bytes"/> bytes at <paramref name="destination"/>.</summary>
    public static void DecodeInto(ReadOnlySpan<byte> base64Utf8, byte* destination, long bytes)
    {
        var dst = new Span<byte>(destination, checked((int)bytes));
        var status = Base64.DecodeFromUtf8(base64Utf8, dst, out _, out int written);
        if (status != OperationStatus.Done || written != dst.Length)
            throw new InvalidOperationException($"embedded weights are corrupt (base64 status {status}, {written} of {dst.Length} bytes)");
    }

    /// <summary>
    /// Decodes one base64 literal of <paramref name="count"/> 8-bit weights and dequantizes them into floats at
    /// <paramref name="destination"/>: value = (float)(offset + q·step), TensorFlow's MIN_FIRST rule evaluated in double,
    /// so the result is bit-identical to dequantizing at build time.
    /// </summary>
    public static void DequantizeInto(ReadOnlySpan<byte> base64Utf8, float* destination, long count, double offset, double step)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(checked((int)count));
        try
        {
            var status = Base64.DecodeFromUtf8(base64Utf8, rented, out _, out int written);
            if (status != OperationStatus.Done || written != count)
                throw new InvalidOperationException($"embedded 8-bit weights are corrupt (base64 status {status}, {written} of {count} bytes)");
            for (int i = 0; i < written; i++) destination[i] = (float)(offset + rented[i] * step);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
