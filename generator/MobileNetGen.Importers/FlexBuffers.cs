using System;
using System.Collections.Generic;
using System.Text;

namespace MobileNetGen.Importers;

/// <summary>
/// A small, bounds-checked reader for FlexBuffers (the schema-less sibling of FlatBuffers) — enough to read the custom
/// options of a TFLite custom operator such as <c>TFLite_Detection_PostProcess</c>, which TFLite stores as a FlexBuffer map
/// (<c>Operator.custom_options</c>, <c>custom_options_format = FLEXBUFFERS</c>). No NuGet package for FlexBuffers exists here.
/// </summary>
/// <remarks>
/// <para>Layout, as read by the reference reader <c>include/flatbuffers/flexbuffers.h</c> (google/flatbuffers):</para>
/// <list type="bullet">
/// <item>The root is at the end: the last byte is the root's byte width W, the byte before it the root's packed type
/// (<c>type &lt;&lt; 2 | bit-width code</c>, width code 0..3 = 1, 2, 4, 8 bytes); the root value itself is the W bytes before
/// those two (<c>GetRoot</c>).</item>
/// <item>Scalars (NULL, INT, UINT, FLOAT, BOOL) are stored inline in their parent's width; everything else (strings, keys,
/// maps, vectors, indirect scalars) is an unsigned offset, in the parent's width, counted <em>backwards</em> from the slot that
/// holds it (<c>Reference::Indirect</c>).</item>
/// <item>A map of N entries with element width B: at <c>data − 3B</c> the (backwards) offset to the sorted keys vector,
/// at <c>data − 2B</c> that vector's element width, at <c>data − B</c> N; then N values of B bytes at <c>data</c>, then N
/// packed-type bytes (<c>Map::Keys</c>, <c>Vector::operator[]</c>).</item>
/// <item>A key is a NUL-terminated UTF-8 string; the keys vector holds backwards offsets to them.</item>
/// </list>
/// <para>Every read is checked against the buffer: a malformed buffer raises <see cref="ImportException"/>, never an
/// index exception or a read of unrelated bytes. Plain C# with no span APIs, so that it also compiles for netstandard2.0.</para>
/// </remarks>
internal static class FlexBuffers
{
    /// <summary>The root value of <paramref name="buffer"/> (<c>flexbuffers::GetRoot</c>).</summary>
    public static FlexValue Root(byte[] buffer)
    {
        if (buffer == null) throw new ArgumentNullException(nameof(buffer));
        if (buffer.Length < 3) throw new ImportException($"FlexBuffer: {buffer.Length} bytes is too short (a root needs a value, its type and its width)");
        int rootWidth = buffer[buffer.Length - 1];
        if (rootWidth != 1 && rootWidth != 2 && rootWidth != 4 && rootWidth != 8)
            throw new ImportException($"FlexBuffer: root byte width {rootWidth} is not 1, 2, 4 or 8");
        int packed = buffer[buffer.Length - 2];
        int data = buffer.Length - 2 - rootWidth;
        if (data < 0) throw new ImportException($"FlexBuffer: the root value ({rootWidth} bytes) does not fit in {buffer.Length} bytes");
        return new FlexValue(buffer, data, rootWidth, packed);
    }

    /// <summary>The root of <paramref name="buffer"/> as a map; throws when it is not one.</summary>
    public static FlexMap RootMap(byte[] buffer) => Root(buffer).AsMap();

    // Little-endian reads of 1, 2, 4 or 8 bytes at pos, checked.
    internal static ulong ReadUInt(byte[] b, int pos, int width)
    {
        if (width != 1 && width != 2 && width != 4 && width != 8) throw new ImportException($"FlexBuffer: byte width {width} is not 1, 2, 4 or 8");
        if (pos < 0 || pos > b.Length - width) throw new ImportException($"FlexBuffer: a {width}-byte read at offset {pos} is outside the {b.Length}-byte buffer");
        ulong v = 0;
        for (int i = width - 1; i >= 0; i--) v = (v << 8) | b[pos + i];
        return v;
    }

    internal static long ReadInt(byte[] b, int pos, int width)
    {
        ulong u = ReadUInt(b, pos, width);
        int shift = 64 - 8 * width;
        return (long)(u << shift) >> shift; // sign-extend from the stored width
    }

    internal static double ReadFloat(byte[] b, int pos, int width)
    {
        if (width == 4)
        {
            uint bits = (uint)ReadUInt(b, pos, 4);
            byte[] tmp = BitConverter.GetBytes(bits); // host order, which is what ToSingle reads
            return BitConverter.ToSingle(tmp, 0);
        }
        if (width == 8) return BitConverter.Int64BitsToDouble((long)ReadUInt(b, pos, 8));
        // flexbuffers.h ReadDouble: 2-byte floats are half precision, which TFLite never writes for these options.
        throw new ImportException($"FlexBuffer: a float of {width} bytes at offset {pos} is not supported (only 4 and 8)");
    }

    /// <summary>Target of a backwards offset of <paramref name="width"/> bytes stored at <paramref name="pos"/>.</summary>
    internal static int Indirect(byte[] b, int pos, int width, string what)
    {
        ulong offset = ReadUInt(b, pos, width);
        if (offset > (ulong)pos) throw new ImportException($"FlexBuffer: {what} at offset {pos} points {offset} bytes back, before the start of the buffer");
        return pos - (int)offset;
    }
}

/// <summary>FlexBuffer value types (<c>flexbuffers::Type</c>); numbers are the wire values.</summary>
internal enum FlexType
{
    Null = 0, Int = 1, UInt = 2, Float = 3, Key = 4, String = 5, IndirectInt = 6, IndirectUInt = 7, IndirectFloat = 8,
    Map = 9, Vector = 10, VectorInt = 11, VectorUInt = 12, VectorFloat = 13, VectorKey = 14, VectorStringDeprecated = 15,
    VectorInt2 = 16, VectorUInt2 = 17, VectorFloat2 = 18, VectorInt3 = 19, VectorUInt3 = 20, VectorFloat3 = 21,
    VectorInt4 = 22, VectorUInt4 = 23, VectorFloat4 = 24, Blob = 25, Bool = 26, VectorBool = 36,
}

/// <summary>
/// One FlexBuffer value: where it is stored, the width of the slot that holds it (its parent's width) and its packed type
/// (<c>flexbuffers::Reference</c>). Conversions follow <c>Reference::AsInt64 / AsDouble / AsBool</c>: a number of another
/// kind converts, NULL reads as 0, anything else is an error here (flexbuffers.h returns 0 or parses strings; a TFLite
/// option that is a string or a vector is malformed, and saying so is more useful).
/// </summary>
internal readonly struct FlexValue
{
    private readonly byte[] _b;
    private readonly int _pos;
    private readonly int _parentWidth;

    internal FlexValue(byte[] buffer, int pos, int parentWidth, int packedType)
    {
        _b = buffer;
        _pos = pos;
        _parentWidth = parentWidth;
        Type = (FlexType)(packedType >> 2);
        ByteWidth = 1 << (packedType & 3);
    }

    public FlexType Type { get; }

    /// <summary>Width of this value's own elements (for maps, vectors and indirect scalars), from its packed type.</summary>
    public int ByteWidth { get; }

    public bool IsNull => Type == FlexType.Null;

    private bool IsInline => Type == FlexType.Null || Type == FlexType.Int || Type == FlexType.UInt || Type == FlexType.Float || Type == FlexType.Bool;

    public long AsInt64()
    {
        switch (Type)
        {
            case FlexType.Null: return 0;
            case FlexType.Int: return FlexBuffers.ReadInt(_b, _pos, _parentWidth);
            case FlexType.UInt: return checked((long)FlexBuffers.ReadUInt(_b, _pos, _parentWidth));
            case FlexType.Bool: return FlexBuffers.ReadUInt(_b, _pos, _parentWidth) != 0 ? 1 : 0;
            case FlexType.Float: return checked((long)FlexBuffers.ReadFloat(_b, _pos, _parentWidth));
            case FlexType.IndirectInt: return FlexBuffers.ReadInt(_b, Target("indirect int"), ByteWidth);
            case FlexType.IndirectUInt: return checked((long)FlexBuffers.ReadUInt(_b, Target("indirect uint"), ByteWidth));
            case FlexType.IndirectFloat: return checked((long)FlexBuffers.ReadFloat(_b, Target("indirect float"), ByteWidth));
            default: throw new ImportException($"FlexBuffer: a {Type} at offset {_pos} is not a number");
        }
    }

    /// <summary>The value as an int; throws when it does not fit (flexbuffers.h's AsInt32 would truncate silently).</summary>
    public int AsInt32()
    {
        long v = AsInt64();
        if (v < int.MinValue || v > int.MaxValue) throw new ImportException($"FlexBuffer: {v} at offset {_pos} does not fit in 32 bits");
        return (int)v;
    }

    public double AsDouble()
    {
        switch (Type)
        {
            case FlexType.Null: return 0;
            case FlexType.Float: return FlexBuffers.ReadFloat(_b, _pos, _parentWidth);
            case FlexType.IndirectFloat: return FlexBuffers.ReadFloat(_b, Target("indirect float"), ByteWidth);
            case FlexType.Int: case FlexType.IndirectInt: case FlexType.Bool: return AsInt64();
            case FlexType.UInt: return FlexBuffers.ReadUInt(_b, _pos, _parentWidth);
            case FlexType.IndirectUInt: return FlexBuffers.ReadUInt(_b, Target("indirect uint"), ByteWidth);
            default: throw new ImportException($"FlexBuffer: a {Type} at offset {_pos} is not a number");
        }
    }

    /// <summary>The value as a float, as TFLite's <c>AsFloat()</c> reads it: the stored number rounded to float.</summary>
    public float AsSingle() => (float)AsDouble();

    /// <summary><c>Reference::AsBool</c>: a BOOL reads its byte; numbers are true when non-zero.</summary>
    public bool AsBool() => Type == FlexType.Bool ? FlexBuffers.ReadUInt(_b, _pos, _parentWidth) != 0 : AsInt64() != 0;

    public string AsString()
    {
        if (Type == FlexType.Key) return FlexBuffers_ReadKey(_b, Target("key"));
        if (Type != FlexType.String) throw new ImportException($"FlexBuffer: a {Type} at offset {_pos} is not a string");
        int start = Target("string");
        long length = (long)FlexBuffers.ReadUInt(_b, start - ByteWidth, ByteWidth);
        if (length > _b.Length - start) throw new ImportException($"FlexBuffer: string of {length} bytes at offset {start} runs past the end");
        return Encoding.UTF8.GetString(_b, start, (int)length);
    }

    public FlexMap AsMap()
    {
        if (Type != FlexType.Map) throw new ImportException($"FlexBuffer: the value at offset {_pos} is a {Type}, not a map");
        return new FlexMap(_b, Target("map"), ByteWidth);
    }

    private int Target(string what)
    {
        if (IsInline) throw new InvalidOperationException("inline values have no target");
        return FlexBuffers.Indirect(_b, _pos, _parentWidth, what);
    }

    internal static string FlexBuffers_ReadKey(byte[] b, int start)
    {
        int end = start;
        while (end < b.Length && b[end] != 0) end++;
        if (end >= b.Length) throw new ImportException($"FlexBuffer: key at offset {start} has no terminating NUL");
        return Encoding.UTF8.GetString(b, start, end - start);
    }

    public override string ToString() => Type switch
    {
        FlexType.Int or FlexType.UInt or FlexType.IndirectInt or FlexType.IndirectUInt => AsInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        FlexType.Float or FlexType.IndirectFloat => AsDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        FlexType.Bool => AsBool() ? "true" : "false",
        FlexType.Null => "null",
        FlexType.String or FlexType.Key => AsString(),
        _ => Type.ToString(),
    };
}

/// <summary>
/// A FlexBuffer map (<c>flexbuffers::Map</c>): keys in stored order and values by key. Lookup is a linear scan rather than
/// flexbuffers.h's binary search: for a well-formed (sorted) map both find the same entry, and a scan cannot be misled
/// by keys that are out of order.
/// </summary>
internal sealed class FlexMap
{
    private readonly byte[] _b;
    private readonly int _data;
    private readonly int _width;
    private readonly string[] _keys;

    internal FlexMap(byte[] buffer, int data, int width)
    {
        _b = buffer;
        _data = data;
        _width = width;
        if (data - 3L * width < 0) throw new ImportException($"FlexBuffer: map at offset {data} has no room for its three prefix fields");
        long count = (long)FlexBuffers.ReadUInt(buffer, data - width, width);
        // Values (count × width) and then one type byte per value must lie inside the buffer.
        if (count > (buffer.Length - (long)data) / (width + 1)) throw new ImportException($"FlexBuffer: map at offset {data} claims {count} entries, more than the buffer holds");
        Count = (int)count;

        int keysSlot = data - 3 * width;
        int keys = FlexBuffers.Indirect(buffer, keysSlot, width, "map keys vector");
        int keysWidth = (int)FlexBuffers.ReadUInt(buffer, data - 2 * width, width);
        if (keysWidth != 1 && keysWidth != 2 && keysWidth != 4 && keysWidth != 8)
            throw new ImportException($"FlexBuffer: map at offset {data} has keys of byte width {keysWidth}");
        if (keys - keysWidth < 0) throw new ImportException($"FlexBuffer: keys vector at offset {keys} has no room for its length");
        long keyCount = (long)FlexBuffers.ReadUInt(buffer, keys - keysWidth, keysWidth);
        if (keyCount != count) throw new ImportException($"FlexBuffer: map at offset {data} has {count} values but {keyCount} keys");
        if (count * keysWidth > buffer.Length - (long)keys) throw new ImportException($"FlexBuffer: keys vector at offset {keys} runs past the end");
        _keys = new string[count];
        for (int i = 0; i < count; i++)
        {
            int slot = keys + i * keysWidth;
            _keys[i] = FlexValue.FlexBuffers_ReadKey(buffer, FlexBuffers.Indirect(buffer, slot, keysWidth, "map key"));
        }
    }

    public int Count { get; }

    public IReadOnlyList<string> Keys => _keys;

    /// <summary>The value stored under <paramref name="index"/> (0-based, in key order).</summary>
    public FlexValue ValueAt(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the map has {Count} entries");
        int packedType = _b[_data + Count * _width + index];
        return new FlexValue(_b, _data + index * _width, _width, packedType);
    }

    public bool TryGetValue(string key, out FlexValue value)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (string.Equals(_keys[i], key, StringComparison.Ordinal))
            {
                value = ValueAt(i);
                return true;
            }
        }
        value = default;
        return false;
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>The value under <paramref name="key"/>; throws <see cref="ImportException"/> naming the key when it is absent.</summary>
    public FlexValue this[string key] => TryGetValue(key, out var v) ? v : throw new ImportException($"FlexBuffer: the map has no key '{key}' (keys: {string.Join(", ", _keys)})");
}
