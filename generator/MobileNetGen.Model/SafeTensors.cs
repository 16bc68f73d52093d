using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MobileNetGen.Model
{
    /// <summary>Malformed, truncated or inconsistent weights. The message says what and where.</summary>
    public sealed class WeightsFormatException : Exception
    {
        public WeightsFormatException(string message) : base(message) { }
        public WeightsFormatException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>
    /// The element types a canonical file may hold: F32 (float weights), U8 (8-bit kernels, the uint8-quantized networks'
    /// kernels) and I32 (the uint8-quantized networks' biases). New members go at the end: the numeric values are not
    /// written anywhere, but callers may have switched on them.
    /// </summary>
    public enum TensorDType { F32, U8, I32 }

    /// <summary>One named tensor: row-major (C order) little-endian data.</summary>
    public sealed class Tensor
    {
        public Tensor(string name, TensorDType dtype, int[] shape, byte[] data)
        {
            Name = name; DType = dtype; Shape = shape; Data = data;
            long expected = ElementCount * TensorEntry.ElementSize(dtype);
            if (data.LongLength != expected)
                throw new WeightsFormatException($"tensor '{name}': {data.LongLength} bytes of data for shape [{string.Join(",", shape)}] {dtype} (expected {expected})");
        }

        public static Tensor FromFloats(string name, int[] shape, float[] values)
        {
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
            return new Tensor(name, TensorDType.F32, shape, bytes);
        }

        public static Tensor FromBytes(string name, int[] shape, byte[] values) => new Tensor(name, TensorDType.U8, shape, values);

        /// <summary>An I32 tensor (little-endian, as safetensors stores it).</summary>
        public static Tensor FromInt32s(string name, int[] shape, int[] values)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
            var bytes = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            return new Tensor(name, TensorDType.I32, shape, bytes);
        }

        /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
        public static int ElementSize(TensorDType dtype) => dtype == TensorDType.U8 ? 1 : 4;

        /// <summary>The safetensors spelling of <paramref name="dtype"/>: <c>F32</c>, <c>U8</c>, <c>I32</c>.</summary>
        public static string DTypeName(TensorDType dtype) => dtype switch
        {
            TensorDType.F32 => "F32",
            TensorDType.U8 => "U8",
            TensorDType.I32 => "I32",
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
        };

        public string Name { get; }
        public TensorDType DType { get; }
        public int[] Shape { get; }
        public byte[] Data { get; }

        public long ElementCount { get { long n = 1; foreach (int d in Shape) n *= d; return n; } }

        public string ShapeText => "[" + string.Join(",", Shape) + "]";

        /// <summary>The values of an F32 tensor.</summary>
        public float[] ToFloats()
        {
            if (DType != TensorDType.F32) throw new WeightsFormatException($"tensor '{Name}' is {DType}, expected F32");
            var f = new float[ElementCount];
            Buffer.BlockCopy(Data, 0, f, 0, Data.Length);
            return f;
        }

        /// <summary>The values of an I32 tensor.</summary>
        public int[] ToInt32s()
        {
            if (DType != TensorDType.I32) throw new WeightsFormatException($"tensor '{Name}' is {DType}, expected I32");
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
            var v = new int[ElementCount];
            Buffer.BlockCopy(Data, 0, v, 0, Data.Length);
            return v;
        }
    }

    /// <summary>
    /// The safetensors container (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
    /// a JSON header mapping tensor names to dtype, shape and byte offsets (plus a string-to-string
    /// <c>__metadata__</c> map), then the raw tensor bytes. Reading is strict and bounded: hostile input gets a
    /// <see cref="WeightsFormatException"/>, never an out-of-range read or an unbounded allocation.
    /// </summary>
    public sealed class SafeTensorsFile : ITensorDirectory
    {
        public const int MaxHeaderBytes = SafeTensorsHeader.MaxHeaderBytes;
        public const int MaxRank = SafeTensorsHeader.MaxRank;

        private readonly Dictionary<string, Tensor> _byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);

        public SafeTensorsFile(IEnumerable<KeyValuePair<string, string>> metadata, IEnumerable<Tensor> tensors)
        {
            foreach (var kv in metadata) Metadata[kv.Key] = kv.Value;
            foreach (var t in tensors)
            {
                if (_byName.ContainsKey(t.Name)) throw new WeightsFormatException($"duplicate tensor '{t.Name}'");
                _byName.Add(t.Name, t);
                Tensors.Add(t);
            }
        }

        public SortedDictionary<string, string> Metadata { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
        public List<Tensor> Tensors { get; } = new List<Tensor>();

        public Tensor? Find(string name) => _byName.TryGetValue(name, out var t) ? t : null;

        public string? GetMetadata(string key) => Metadata.TryGetValue(key, out var v) ? v : null;

        /// <summary>The tensor's dtype and shape (data offsets are those <see cref="Write"/> would give it: 0 here).</summary>
        public TensorEntry? FindEntry(string name) => Find(name) is Tensor t ? new TensorEntry(t.Name, t.DType, t.Shape, 0, t.Data.LongLength) : null;

        /// <summary>The tensors' names in insertion (= header) order.</summary>
        public IEnumerable<string> TensorNames { get { foreach (var t in Tensors) yield return t.Name; } }

        public static SafeTensorsFile Read(byte[] bytes)
        {
            if (bytes == null) throw new ArgumentNullException(nameof(bytes));
            var header = SafeTensorsHeader.Parse(bytes, bytes.LongLength);
            var tensors = new List<Tensor>(header.Entries.Count);
            foreach (var e in header.Entries)
            {
                var data = new byte[e.ByteLength];
                Buffer.BlockCopy(bytes, (int)(header.DataStart + e.DataBegin), data, 0, data.Length);
                tensors.Add(new Tensor(e.Name, e.DType, e.Shape, data));
            }
            return new SafeTensorsFile(header.Metadata, tensors);
        }

        /// <summary>Serializes in insertion order, header padded with spaces to a multiple of 8 bytes (as the reference implementation does).</summary>
        public byte[] Write()
        {
            byte[] header = HeaderJson(out long dataLength);
            var result = new byte[8 + header.Length + dataLength];
            BitConverter.GetBytes((ulong)header.Length).CopyTo(result, 0);
            header.CopyTo(result, 8);
            long p = 8 + header.Length;
            foreach (var t in Tensors)
            {
                Buffer.BlockCopy(t.Data, 0, result, (int)p, t.Data.Length);
                p += t.Data.Length;
            }
            return result;
        }

        /// <summary>The header <see cref="Write"/> would give this file, without serializing the data.</summary>
        public SafeTensorsHeader Header() => HeaderOf(Metadata, Layout());

        /// <summary>The header of a file with <paramref name="metadata"/> and tensors of these names, dtypes and shapes, in this
        /// order, as <see cref="Write"/> lays it out: what a file would look like, without its data.</summary>
        public static SafeTensorsHeader HeaderOf(IEnumerable<KeyValuePair<string, string>> metadata, IEnumerable<(string Name, TensorDType DType, int[] Shape)> tensors)
        {
            byte[] json = HeaderJson(metadata, tensors, out long dataLength);
            var prefix = new byte[8 + json.Length];
            BitConverter.GetBytes((ulong)json.Length).CopyTo(prefix, 0);
            json.CopyTo(prefix, 8);
            return SafeTensorsHeader.Parse(prefix, prefix.LongLength + dataLength);
        }

        private IEnumerable<(string Name, TensorDType DType, int[] Shape)> Layout()
        {
            foreach (var t in Tensors) yield return (t.Name, t.DType, t.Shape);
        }

        private byte[] HeaderJson(out long dataLength) => HeaderJson(Metadata, Layout(), out dataLength);

        /// <summary>The UTF-8 JSON header (metadata sorted by key, tensors in the given order, padded with spaces to a multiple of 8 bytes).</summary>
        private static byte[] HeaderJson(IEnumerable<KeyValuePair<string, string>> metadata, IEnumerable<(string Name, TensorDType DType, int[] Shape)> tensors, out long dataLength)
        {
            var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in metadata) sorted[kv.Key] = kv.Value;
            var sb = new StringBuilder();
            sb.Append('{');
            sb.Append("\"__metadata__\":{");
            bool first = true;
            foreach (var kv in sorted)
            {
                if (!first) sb.Append(',');
                first = false;
                sb.Append(MiniJson.Quote(kv.Key)).Append(':').Append(MiniJson.Quote(kv.Value));
            }
            sb.Append('}');
            long offset = 0;
            foreach (var (name, dtype, shape) in tensors)
            {
                long elements = 1;
                foreach (int d in shape) elements *= d;
                sb.Append(',').Append(MiniJson.Quote(name)).Append(":{\"dtype\":\"").Append(TensorEntry.DTypeName(dtype)).Append("\",\"shape\":[");
                sb.Append(string.Join(",", Array.ConvertAll(shape, d => d.ToString(CultureInfo.InvariantCulture))));
                sb.Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',');
                offset += elements * TensorEntry.ElementSize(dtype);
                sb.Append(offset.ToString(CultureInfo.InvariantCulture)).Append("]}");
            }
            sb.Append('}');
            while ((Encoding.UTF8.GetByteCount(sb.ToString()) % 8) != 0) sb.Append(' ');
            dataLength = offset;
            return Encoding.UTF8.GetBytes(sb.ToString());
        }
    }
}
