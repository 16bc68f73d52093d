using System;
using System.Collections.Generic;
using System.Text;

namespace MobileNetGen.Model
{
    /// <summary>What a weights consumer asks of a safetensors file: metadata, and each tensor's dtype and shape.</summary>
    /// <remarks>
    /// Implemented by <see cref="SafeTensorsFile"/> (the whole file, data included) and by <see cref="SafeTensorsHeader"/>
    /// (the header only: what the source generator sees, so that it never holds megabytes of weights).
    /// </remarks>
    public interface ITensorDirectory
    {
        string? GetMetadata(string key);
        /// <summary>The tensor's dtype and shape, or null when the file has no such tensor.</summary>
        TensorEntry? FindEntry(string name);
        /// <summary>The names of every tensor in the file, in header order (to find tensors that do not belong).</summary>
        IEnumerable<string> TensorNames { get; }
    }

    /// <summary>One tensor as the header describes it: dtype, shape and where its bytes lie in the data section.</summary>
    public sealed class TensorEntry : IEquatable<TensorEntry>
    {
        public TensorEntry(string name, TensorDType dtype, int[] shape, long dataBegin, long dataEnd)
        {
            Name = name; DType = dtype; Shape = shape; DataBegin = dataBegin; DataEnd = dataEnd;
        }

        public string Name { get; }
        public TensorDType DType { get; }
        public int[] Shape { get; }
        /// <summary>First byte of the tensor, counted from the start of the data section (after the header).</summary>
        public long DataBegin { get; }
        /// <summary>One past the last byte, counted from the start of the data section.</summary>
        public long DataEnd { get; }
        public long ByteLength => DataEnd - DataBegin;
        public long ElementCount { get { long n = 1; foreach (int d in Shape) n *= d; return n; } }
        public string ShapeText => "[" + string.Join(",", Shape) + "]";

        public static int ElementSize(TensorDType dtype) => Tensor.ElementSize(dtype);

        public static string DTypeName(TensorDType dtype) => Tensor.DTypeName(dtype);

        public bool Equals(TensorEntry? other)
        {
            if (other == null || Name != other.Name || DType != other.DType || DataBegin != other.DataBegin || DataEnd != other.DataEnd
                || Shape.Length != other.Shape.Length) return false;
            for (int i = 0; i < Shape.Length; i++) if (Shape[i] != other.Shape[i]) return false;
            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as TensorEntry);
        public override int GetHashCode() => (Name.GetHashCode() * 397) ^ DataBegin.GetHashCode();
    }

    /// <summary>
    /// The header of a safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian length, then
    /// a JSON object mapping tensor names to dtype, shape and byte offsets, plus a string-to-string <c>__metadata__</c> map.
    /// Parsing is strict and bounded: hostile input gets a <see cref="WeightsFormatException"/>, never an out-of-range read.
    /// </summary>
    public sealed class SafeTensorsHeader : ITensorDirectory
    {
        /// <summary>Headers larger than this are refused (ours are ~10 KB).</summary>
        public const int MaxHeaderBytes = 16 * 1024 * 1024;
        public const int MaxRank = 8;

        private readonly Dictionary<string, TensorEntry> _byName = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);

        private SafeTensorsHeader(long headerLength, long fileLength, List<KeyValuePair<string, string>> metadata, List<TensorEntry> entries)
        {
            HeaderLength = headerLength;
            FileLength = fileLength;
            foreach (var kv in metadata) Metadata[kv.Key] = kv.Value;
            foreach (var e in entries)
            {
                if (_byName.ContainsKey(e.Name)) throw new WeightsFormatException($"duplicate tensor '{e.Name}'");
                _byName.Add(e.Name, e);
                Entries.Add(e);
            }
        }

        /// <summary>Bytes of JSON after the 8-byte length.</summary>
        public long HeaderLength { get; }
        /// <summary>Length of the whole file.</summary>
        public long FileLength { get; }
        /// <summary>Where the data section starts: 8 + <see cref="HeaderLength"/>.</summary>
        public long DataStart => 8 + HeaderLength;
        public SortedDictionary<string, string> Metadata { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
        /// <summary>The tensors in header order.</summary>
        public List<TensorEntry> Entries { get; } = new List<TensorEntry>();

        public string? GetMetadata(string key) => Metadata.TryGetValue(key, out var v) ? v : null;
        public TensorEntry? FindEntry(string name) => _byName.TryGetValue(name, out var e) ? e : null;
        public IEnumerable<string> TensorNames { get { foreach (var e in Entries) yield return e.Name; } }

        /// <summary>
        /// Parses the header at the start of <paramref name="prefix"/> (the file, or at least its first 8 + header-length
        /// bytes) of a file that is <paramref name="fileLength"/> bytes long. Every tensor must lie inside the file.
        /// </summary>
        public static SafeTensorsHeader Parse(byte[] prefix, long fileLength)
        {
            if (prefix == null) throw new ArgumentNullException(nameof(prefix));
            if (fileLength < 8 || prefix.Length < 8) throw new WeightsFormatException($"not a safetensors file: {fileLength} bytes, too short for the 8-byte header length");
            ulong headerLen = BitConverter.ToUInt64(prefix, 0);
            if (headerLen == 0 || headerLen > MaxHeaderBytes || headerLen > (ulong)(fileLength - 8))
                throw new WeightsFormatException($"not a safetensors file: header length {headerLen} does not fit the file's {fileLength} bytes");
            if ((ulong)prefix.Length < 8 + headerLen) throw new WeightsFormatException($"the header needs {8 + headerLen} bytes, {prefix.Length} given");
            string headerText;
            try { headerText = new UTF8Encoding(false, true).GetString(prefix, 8, (int)headerLen); }
            catch (ArgumentException e) { throw new WeightsFormatException("safetensors header is not valid UTF-8", e); }

            object? root;
            try { root = MiniJson.Parse(headerText.TrimEnd(' ')); }
            catch (FormatException e) { throw new WeightsFormatException("safetensors header is not valid JSON: " + e.Message, e); }
            if (!(root is MiniJson.JsonObject obj)) throw new WeightsFormatException("safetensors header is not a JSON object");

            long dataLen = fileLength - 8 - (long)headerLen;
            var metadata = new List<KeyValuePair<string, string>>();
            var entries = new List<TensorEntry>();
            foreach (var member in obj.Members)
            {
                if (member.Key == "__metadata__")
                {
                    if (!(member.Value is MiniJson.JsonObject meta)) throw new WeightsFormatException("__metadata__ is not an object");
                    foreach (var m in meta.Members)
                    {
                        if (!(m.Value is string sv)) throw new WeightsFormatException($"__metadata__ value '{m.Key}' is not a string");
                        metadata.Add(new KeyValuePair<string, string>(m.Key, sv));
                    }
                    continue;
                }
                entries.Add(ParseEntry(member.Key, member.Value, dataLen));
            }
            var ranges = new List<TensorEntry>(entries);
            ranges.Sort((a, b) => a.DataBegin.CompareTo(b.DataBegin));
            for (int i = 1; i < ranges.Count; i++)
                if (ranges[i].DataBegin < ranges[i - 1].DataEnd) throw new WeightsFormatException("safetensors tensors overlap");
            return new SafeTensorsHeader((long)headerLen, fileLength, metadata, entries);
        }

        private static TensorEntry ParseEntry(string name, object? value, long dataLen)
        {
            if (!(value is MiniJson.JsonObject info)) throw new WeightsFormatException($"tensor '{name}': entry is not an object");
            TensorDType dtype = (info["dtype"] as string) switch
            {
                "F32" => TensorDType.F32,
                "U8" => TensorDType.U8,
                "I32" => TensorDType.I32,
                string other => throw new WeightsFormatException($"tensor '{name}': dtype {other} is not supported (F32, U8 and I32 are)"),
                _ => throw new WeightsFormatException($"tensor '{name}': missing dtype"),
            };
            if (!(info["shape"] is List<object?> shapeList)) throw new WeightsFormatException($"tensor '{name}': missing shape");
            if (shapeList.Count > MaxRank) throw new WeightsFormatException($"tensor '{name}': rank {shapeList.Count} is too large");
            var shape = new int[shapeList.Count];
            long elements = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                if (!(shapeList[i] is double d) || d < 0 || d > int.MaxValue || d != Math.Floor(d))
                    throw new WeightsFormatException($"tensor '{name}': shape entry {i} is not a non-negative integer");
                shape[i] = (int)d;
                elements *= shape[i];
                if (elements > dataLen) throw new WeightsFormatException($"tensor '{name}': shape [{string.Join(",", shape)}] is larger than the file");
            }
            if (!(info["data_offsets"] is List<object?> offs) || offs.Count != 2 || !(offs[0] is double b0) || !(offs[1] is double b1))
                throw new WeightsFormatException($"tensor '{name}': data_offsets must be [begin, end]");
            if (b0 < 0 || b1 < b0 || b1 > dataLen || b0 != Math.Floor(b0) || b1 != Math.Floor(b1))
                throw new WeightsFormatException($"tensor '{name}': data_offsets [{b0}, {b1}] lie outside the {dataLen} data bytes (truncated file?)");
            long begin = (long)b0, end = (long)b1;
            long expected = elements * TensorEntry.ElementSize(dtype);
            if (end - begin != expected)
                throw new WeightsFormatException($"tensor '{name}': {end - begin} data bytes for shape [{string.Join(",", shape)}] {dtype} (expected {expected})");
            return new TensorEntry(name, dtype, shape, begin, end);
        }
    }
}
