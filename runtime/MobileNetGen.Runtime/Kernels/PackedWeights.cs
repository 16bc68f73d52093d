using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MobileNetGen.Model;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// The packed weights every instance of a generated classifier shares: 64-byte-aligned native memory (on 2 MiB pages where
/// Linux gives them: <see cref="LargePages"/>), filled once per
/// process by the generated <c>Weights.Load</c> from the embedded weights file (<see cref="WeightsFile"/>) through the
/// packing routines of <see cref="WeightPacking"/>, and kept for the life of the process.
/// </summary>
public static unsafe class PackedWeights
{
    /// <summary>Allocates the aligned, zeroed block of <paramref name="totalBytes"/> bytes of an integer network's packed weights (kept for the process).</summary>
    public static byte* AllocateBytes(long totalBytes) => (byte*)LargePages.AllocateZeroed(totalBytes);

    /// <summary>Allocates the aligned, zeroed block for <paramref name="totalFloats"/> floats (never freed: weights live for the process).</summary>
    public static float* Allocate(long totalFloats) => (float*)LargePages.AllocateZeroed(totalFloats * sizeof(float));
}

/// <summary>
/// A canonical weights file (safetensors) as the generated code reads it at first use: the manifest resource the MSBuild
/// step embedded (<c>MobileNetGen.Weights.NAME</c>), or the synthetic weights of a variant made from their seed. The
/// generator planned every tensor's offset from the file's header; <see cref="OpenResource"/> checks that the embedded
/// file has that length and header length, so that a plan and a file that do not belong together fail loudly.
/// </summary>
public sealed unsafe class WeightsFile : IDisposable
{
    private readonly byte* _data;
    private readonly long _dataLength;
    private readonly Stream? _stream;
    private readonly void* _owned;

    private WeightsFile(byte* file, long length, long headerLength, Stream? stream, void* owned)
    {
        _stream = stream;
        _owned = owned;
        _data = file + 8 + headerLength;
        _dataLength = length - 8 - headerLength;
    }

    /// <summary>
    /// Opens the embedded weights file <paramref name="resource"/> of <paramref name="assembly"/>. The resource is read in
    /// place where the runtime maps it (an <see cref="UnmanagedMemoryStream"/>); otherwise it is copied once.
    /// </summary>
    public static WeightsFile OpenResource(Assembly assembly, string resource, long length, long headerLength)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var stream = assembly.GetManifestResourceStream(resource) ?? throw new InvalidOperationException(
            $"the weights resource '{resource}' is missing from {assembly.GetName().Name}: the MobileNetWeights build step did not embed it");
        try
        {
            if (stream.Length != length)
                throw new InvalidOperationException($"the weights resource '{resource}' holds {stream.Length} bytes, the generated code expects {length} (rebuild the project)");
            byte* file;
            void* owned = null;
            if (stream is UnmanagedMemoryStream mapped) file = mapped.PositionPointer;
            else
            {
                owned = NativeMemory.Alloc((nuint)length);
                stream.ReadExactly(new Span<byte>(owned, checked((int)length)));
                file = (byte*)owned;
            }
            if (Unsafe.ReadUnaligned<ulong>(file) != (ulong)headerLength)
            {
                if (owned != null) NativeMemory.Free(owned);
                throw new InvalidOperationException($"the weights resource '{resource}' has a header of {Unsafe.ReadUnaligned<ulong>(file)} bytes, the generated code expects {headerLength} (rebuild the project)");
            }
            return new WeightsFile(file, length, headerLength, stream, owned);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The deterministic synthetic weights of <paramref name="variant"/> (<see cref="SyntheticWeights"/>, SplitMix64 from
    /// <paramref name="seed"/>), serialized exactly as the generator planned them (<paramref name="length"/>,
    /// <paramref name="headerLength"/>). For speed and size measurements only.
    /// </summary>
    public static WeightsFile Synthetic(string variant, ulong seed, long length, long headerLength)
    {
        byte[] bytes = SyntheticWeights.Create(VariantName.Parse(variant), seed).Write();
        if (bytes.LongLength != length || BitConverter.ToUInt64(bytes, 0) != (ulong)headerLength)
            throw new InvalidOperationException($"the synthetic weights of {variant} are {bytes.LongLength} bytes with a {BitConverter.ToUInt64(bytes, 0)}-byte header; the generated code expects {length} and {headerLength} (rebuild the project)");
        void* owned = NativeMemory.Alloc((nuint)bytes.LongLength);
        bytes.CopyTo(new Span<byte>(owned, bytes.Length));
        return new WeightsFile((byte*)owned, length, headerLength, null, owned);
    }

    /// <summary>The F32 tensor of <paramref name="elements"/> values at byte <paramref name="offset"/> of the data section.</summary>
    public WeightTensor F32(long offset, long elements) => new(At(offset, elements * 4), elements, 0, 0, is8Bit: false);

    /// <summary>
    /// The 8-bit tensor of <paramref name="elements"/> values at byte <paramref name="offset"/>, with the F32 scalars of its
    /// range at <paramref name="min"/> and <paramref name="max"/>: its values are TensorFlow's MIN_FIRST dequantization.
    /// </summary>
    public WeightTensor U8(long offset, long elements, long min, long max)
    {
        float lo = Unsafe.ReadUnaligned<float>(At(min, 4)), hi = Unsafe.ReadUnaligned<float>(At(max, 4));
        CanonicalWeights.QuantizationParameters(lo, hi, out double quantOffset, out double quantStep);
        return new WeightTensor(At(offset, elements), elements, quantOffset, quantStep, is8Bit: true);
    }

    /// <summary>The <paramref name="count"/> raw bytes at byte <paramref name="offset"/> of the data section (a uint8 tensor).</summary>
    public byte* Bytes(long offset, long count) => At(offset, count);

    /// <summary>The <paramref name="count"/> int32 values at byte <paramref name="offset"/> (an I32 tensor, little-endian as
    /// safetensors stores it; the pointer may be unaligned, which x64 and ARM64 scalar loads allow).</summary>
    public int* Int32s(long offset, long count)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I32 tensors are little-endian");
        if (count < 0 || count > long.MaxValue / 4) throw new InvalidOperationException($"a planned tensor of {count} int32 values is not a valid size (rebuild the project)");
        return (int*)At(offset, count * 4);
    }

    private byte* At(long offset, long bytes)
    {
        if (offset < 0 || bytes < 0 || offset + bytes > _dataLength)
            throw new InvalidOperationException($"a planned tensor (bytes {offset}..{offset + bytes}) lies outside the weights file's {_dataLength} data bytes (rebuild the project)");
        return _data + offset;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        if (_owned != null) NativeMemory.Free(_owned);
    }
}

/// <summary>One tensor of a <see cref="WeightsFile"/>: float32 values, or 8-bit values with their MIN_FIRST affine map.</summary>
public readonly unsafe struct WeightTensor
{
    private readonly byte* _data;
    private readonly double _quantOffset, _quantStep;
    private readonly bool _is8Bit;

    internal WeightTensor(byte* data, long elements, double quantOffset, double quantStep, bool is8Bit)
    {
        _data = data; Elements = elements; _quantOffset = quantOffset; _quantStep = quantStep; _is8Bit = is8Bit;
    }

    public long Elements { get; }

    /// <summary>Writes the tensor's float values to <paramref name="destination"/>: F32 as stored; 8-bit as
    /// <c>(float)(offset + q·step)</c>, TensorFlow's MIN_FIRST rule evaluated in double (as the importer and the tests do).</summary>
    public void ReadFloats(float* destination)
    {
        if (!_is8Bit)
        {
            Buffer.MemoryCopy(_data, destination, Elements * 4, Elements * 4);
            return;
        }
        float* table = stackalloc float[256];
        DequantizationTable(table);
        for (long i = 0; i < Elements; i++) destination[i] = table[_data[i]];
    }

    /// <summary>The F32 values in place (unaligned), or null for an 8-bit tensor.</summary>
    public float* Floats => _is8Bit ? null : (float*)_data;

    /// <summary>The 8-bit values, or null for an F32 tensor.</summary>
    public byte* Bytes => _is8Bit ? _data : null;

    /// <summary>The value of each of the 256 bytes of an 8-bit tensor (there are only 256: dequantize each once, then look up).</summary>
    public void DequantizationTable(float* table)
    {
        for (int q = 0; q < 256; q++) table[q] = (float)(_quantOffset + (byte)q * _quantStep);
    }
}
