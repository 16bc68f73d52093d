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
            long expected = ElementCount * ElementSize(dtype);
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
    public sealed class SafeTensorsFile
    {
        /// <summary>Headers larger than this are refused (ours are ~10 KB).</summary>
        public const int MaxHeaderBytes = 16 * 1024 * 1024;
        public const int MaxRank = 8;

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

        public static SafeTensorsFile Read(byte[] bytes)
        {
            if (bytes == null) throw new ArgumentNullException(nameof(bytes));
            if (bytes.Length < 8) throw new WeightsFormatException($"not a safetensors file: {bytes.Length} bytes, too short for the 8-byte header length");
            ulong headerLen = BitConverter.ToUInt64(bytes, 0);
            if (headerLen == 0 || headerLen > MaxHeaderBytes || headerLen > (ulong)(bytes.Length - 8))
                throw new WeightsFormatException($"not a safetensors file: header length {headerLen} does not fit the file's {bytes.Length} bytes");
            string headerText;
            try { headerText = new UTF8Encoding(false, true).GetString(bytes, 8, (int)headerLen); }
            catch (ArgumentException e) { throw new WeightsFormatException("safetensors header is not valid UTF-8", e); }

            object? root;
            try { root = MiniJson.Parse(headerText.TrimEnd(' ')); }
            catch (FormatException e) { throw new WeightsFormatException("safetensors header is not valid JSON: " + e.Message, e); }
            if (!(root is MiniJson.JsonObject obj)) throw new WeightsFormatException("safetensors header is not a JSON object");

            long dataStart = 8 + (long)headerLen;
            long dataLen = bytes.Length - dataStart;
            var metadata = new List<KeyValuePair<string, string>>();
            var tensors = new List<Tensor>();
            var ranges = new List<KeyValuePair<long, long>>();
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
                string name = member.Key;
                if (!(member.Value is MiniJson.JsonObject info)) throw new WeightsFormatException($"tensor '{name}': entry is not an object");
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
                long expected = elements * Tensor.ElementSize(dtype);
                if (end - begin != expected)
                    throw new WeightsFormatException($"tensor '{name}': {end - begin} data bytes for shape [{string.Join(",", shape)}] {dtype} (expected {expected})");
                var data = new byte[expected];
                Buffer.BlockCopy(bytes, (int)(dataStart + begin), data, 0, (int)expected);
                tensors.Add(new Tensor(name, dtype, shape, data));
                ranges.Add(new KeyValuePair<long, long>(begin, end));
            }
            ranges.Sort((a, b) => a.Key.CompareTo(b.Key));
            for (int i = 1; i < ranges.Count; i++)
                if (ranges[i].Key < ranges[i - 1].Value) throw new WeightsFormatException("safetensors tensors overlap");
            return new SafeTensorsFile(metadata, tensors);
        }

        /// <summary>Serializes in insertion order, header padded with spaces to a multiple of 8 bytes (as the reference implementation does).</summary>
        public byte[] Write()
        {
            var sb = new StringBuilder();
            sb.Append('{');
            sb.Append("\"__metadata__\":{");
            bool first = true;
            foreach (var kv in Metadata)
            {
                if (!first) sb.Append(',');
                first = false;
                sb.Append(MiniJson.Quote(kv.Key)).Append(':').Append(MiniJson.Quote(kv.Value));
            }
            sb.Append('}');
            long offset = 0;
            foreach (var t in Tensors)
            {
                sb.Append(',').Append(MiniJson.Quote(t.Name)).Append(":{\"dtype\":\"").Append(Tensor.DTypeName(t.DType)).Append("\",\"shape\":[");
                sb.Append(string.Join(",", Array.ConvertAll(t.Shape, d => d.ToString(CultureInfo.InvariantCulture))));
                sb.Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',');
                offset += t.Data.LongLength;
                sb.Append(offset.ToString(CultureInfo.InvariantCulture)).Append("]}");
            }
            sb.Append('}');
            while ((Encoding.UTF8.GetByteCount(sb.ToString()) % 8) != 0) sb.Append(' ');
            byte[] header = Encoding.UTF8.GetBytes(sb.ToString());
            var result = new byte[8 + header.Length + offset];
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
    }
}
