using System.Text;
using Google.FlatBuffers;
using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>
/// TFLite flatbuffer (schema.fbs, identifier <c>TFL3</c>), float32 models. Layers are taken in operator order — the first
/// <c>CONV_2D</c> is the stem, then 13 × (<c>DEPTHWISE_CONV_2D</c>, <c>CONV_2D</c>), then the logits <c>CONV_2D</c> — rather than
/// by tensor names. Operator inputs are (input, filter, bias). Filters are OHWI (depthwise 1HWC, which has the memory order of
/// HWIO [H,W,C,1]) and are transposed to HWIO; BatchNorm is folded into the filters and biases, so scale = ones.
/// </summary>
internal static class TfliteImporter
{
    private const int BuiltinConv2D = 3;
    private const int BuiltinDepthwiseConv2D = 4;
    private const sbyte TensorTypeFloat32 = 0;

    public static SafeTensorsFile Import(string path, ImportOptions options)
    {
        byte[] bytes = ImportCommon.ReadFileBounded(path, "TFLite model");
        string where = Path.GetFileName(path);
        if (bytes.Length == 0) throw new ImportException($"{where}: the file is empty (not a TFLite model)");
        if (bytes.Length < 16 || Encoding.ASCII.GetString(bytes, 4, 4) != "TFL3")
            throw new ImportException($"{where}: not a TFLite flatbuffer (file identifier 'TFL3' missing)");
        try
        {
            return new Reader(bytes, where).Import(path, options);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException or ArgumentException)
        {
            // Safety net: every access below is bounds-checked, but a malformed buffer must never escape as another type.
            throw new ImportException($"{where}: malformed TFLite flatbuffer ({e.Message})", e);
        }
    }

    /// <summary>A flatbuffer table with bounds-checked field access on top of <see cref="Google.FlatBuffers.Table"/>.</summary>
    private readonly struct FbTable
    {
        private readonly Table _t;
        private readonly int _objectSize;
        private readonly int _vtableSize;
        private readonly Reader _r;

        public FbTable(Reader r, int pos, string what)
        {
            _r = r;
            int len = r.Length;
            if (pos < 0 || pos > len - 4) throw r.Bad($"{what}: table offset {pos} is outside the file");
            long vtable = (long)pos - r.Bb.GetInt(pos);
            if (vtable < 0 || vtable > len - 4) throw r.Bad($"{what}: vtable offset {vtable} is outside the file");
            _vtableSize = r.Bb.GetUshort((int)vtable);
            _objectSize = r.Bb.GetUshort((int)vtable + 2);
            if (_vtableSize < 4 || (_vtableSize & 1) != 0 || vtable + _vtableSize > len || pos + (long)_objectSize > len)
                throw r.Bad($"{what}: vtable at {vtable} is malformed");
            _t = new Table(pos, r.Bb);
        }

        /// <summary>Absolute position of field <paramref name="index"/> (0 when absent), checked to lie inside the table.</summary>
        private int FieldPos(int index, int size, string what)
        {
            int vo = 4 + 2 * index;
            if (vo >= _vtableSize) return 0;
            int o = _t.__offset(vo);
            if (o == 0) return 0;
            if (o < 4 || o + size > _objectSize) throw _r.Bad($"{what}: field {index} lies outside its table");
            return _t.bb_pos + o;
        }

        public uint UInt(int index, uint dflt, string what) { int p = FieldPos(index, 4, what); return p == 0 ? dflt : _r.Bb.GetUint(p); }
        public int Int(int index, int dflt, string what) { int p = FieldPos(index, 4, what); return p == 0 ? dflt : _r.Bb.GetInt(p); }
        public sbyte SByte(int index, sbyte dflt, string what) { int p = FieldPos(index, 1, what); return p == 0 ? dflt : _r.Bb.GetSbyte(p); }
        public ulong ULong(int index, ulong dflt, string what) { int p = FieldPos(index, 8, what); return p == 0 ? dflt : _r.Bb.GetUlong(p); }

        /// <summary>Start and length of a vector field of <paramref name="elemSize"/>-byte elements; (0,0) when absent.</summary>
        public (int Start, int Count) Vector(int index, int elemSize, string what)
        {
            int p = FieldPos(index, 4, what);
            if (p == 0) return (0, 0);
            long v = p + (long)_r.Bb.GetUint(p);
            if (v > _r.Length - 4) throw _r.Bad($"{what}: vector offset is outside the file");
            int count = _r.Bb.GetInt((int)v);
            if (count < 0 || v + 4 + (long)count * elemSize > _r.Length) throw _r.Bad($"{what}: vector of {count} elements runs past the end of the file (truncated?)");
            return ((int)v + 4, count);
        }

        public FbTable TableAt(int vectorStart, int i, string what)
        {
            int p = vectorStart + 4 * i;
            long target = p + (long)_r.Bb.GetUint(p);
            if (target > _r.Length - 4) throw _r.Bad($"{what}: table offset is outside the file");
            return new FbTable(_r, (int)target, what);
        }

        public FbTable? SubTable(int index, string what)
        {
            int p = FieldPos(index, 4, what);
            if (p == 0) return null;
            long target = p + (long)_r.Bb.GetUint(p);
            if (target > _r.Length - 4) throw _r.Bad($"{what}: table offset is outside the file");
            return new FbTable(_r, (int)target, what);
        }

        public string? String(int index, string what)
        {
            var (start, count) = Vector(index, 1, what);
            if (count == 0 && start == 0) return null;
            return Encoding.UTF8.GetString(_r.Bytes, start, count);
        }
    }

    private sealed class TensorInfo
    {
        public required int[] Shape { get; init; }
        public required sbyte Type { get; init; }
        public required uint Buffer { get; init; }
        public required string Name { get; init; }
    }

    private sealed class Reader
    {
        public Reader(byte[] bytes, string where) { Bytes = bytes; Bb = new ByteBuffer(bytes); Where = where; }
        public byte[] Bytes { get; }
        public ByteBuffer Bb { get; }
        public int Length => Bytes.Length;
        public string Where { get; }
        public ImportException Bad(string message) => new($"{Where}: malformed TFLite flatbuffer: {message}");

        private FbTable _model;
        private List<TensorInfo> _tensors = new();
        private (int Start, int Count) _buffers;

        public SafeTensorsFile Import(string path, ImportOptions options)
        {
            _model = new FbTable(this, (int)Bb.GetUint(0), "Model");
            // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
            var (codesStart, codesCount) = _model.Vector(1, 4, "Model.operator_codes");
            var opcodes = new int[codesCount];
            for (int i = 0; i < codesCount; i++)
            {
                var oc = _model.TableAt(codesStart, i, "OperatorCode");
                // OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code, 2 version, 3 builtin_code (int).
                int deprecated = oc.SByte(0, 0, "OperatorCode.deprecated_builtin_code");
                int builtin = oc.Int(3, 0, "OperatorCode.builtin_code");
                opcodes[i] = Math.Max(deprecated, builtin);
            }
            var (sgStart, sgCount) = _model.Vector(2, 4, "Model.subgraphs");
            if (sgCount < 1) throw Bad("the model has no subgraph");
            _buffers = _model.Vector(4, 4, "Model.buffers");
            var sg = _model.TableAt(sgStart, 0, "SubGraph");
            // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
            var (tStart, tCount) = sg.Vector(0, 4, "SubGraph.tensors");
            for (int i = 0; i < tCount; i++)
            {
                var t = sg.TableAt(tStart, i, "Tensor");
                // Tensor: 0 shape [int], 1 type (byte), 2 buffer (uint), 3 name.
                var (sStart, sCount) = t.Vector(0, 4, "Tensor.shape");
                if (sCount > 8) throw Bad($"tensor {i} has rank {sCount}");
                var shape = new int[sCount];
                for (int k = 0; k < sCount; k++) shape[k] = Bb.GetInt(sStart + 4 * k);
                _tensors.Add(new TensorInfo { Shape = shape, Type = t.SByte(1, 0, "Tensor.type"), Buffer = t.UInt(2, 0, "Tensor.buffer"), Name = t.String(3, "Tensor.name") ?? $"#{i}" });
            }
            var (inStart, inCount) = sg.Vector(1, 4, "SubGraph.inputs");
            int? resolution = null;
            if (inCount >= 1)
            {
                var input = TensorAt(Bb.GetInt(inStart), "subgraph input");
                if (input.Shape.Length == 4 && input.Shape[1] > 0 && input.Shape[2] > 0)
                {
                    if (input.Shape[1] != input.Shape[2]) throw new ImportException($"{Where}: input is {input.Shape[1]}x{input.Shape[2]}; MobileNet v1 inputs are square");
                    resolution = input.Shape[1];
                }
            }

            // Operators, keeping the convolutions in graph order.
            var (opStart, opCount) = sg.Vector(3, 4, "SubGraph.operators");
            var convs = new List<(bool Depthwise, int Filter, int Bias, int Index)>();
            for (int i = 0; i < opCount; i++)
            {
                var op = sg.TableAt(opStart, i, "Operator");
                // Operator: 0 opcode_index (uint), 1 inputs [int], 2 outputs [int].
                uint oi = op.UInt(0, 0, "Operator.opcode_index");
                if (oi >= (uint)opcodes.Length) throw Bad($"operator {i} uses opcode index {oi} of {opcodes.Length}");
                int code = opcodes[oi];
                if (code != BuiltinConv2D && code != BuiltinDepthwiseConv2D) continue;
                var (ins, insCount) = op.Vector(1, 4, "Operator.inputs");
                if (insCount < 3) throw new ImportException($"{Where}: convolution operator {i} has {insCount} inputs; expected input, filter and bias");
                convs.Add((code == BuiltinDepthwiseConv2D, Bb.GetInt(ins + 4), Bb.GetInt(ins + 8), i));
            }
            if (convs.Count != 28)
                throw new ImportException($"{Where}: {convs.Count} convolution operators; MobileNet v1 has 28 (stem, 13 × depthwise + pointwise, logits)");
            for (int i = 0; i < convs.Count; i++)
            {
                bool expectDw = i >= 1 && i <= 26 && (i % 2) == 1;
                if (convs[i].Depthwise != expectDw)
                    throw new ImportException($"{Where}: convolution {i} (operator {convs[i].Index}) is {(convs[i].Depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")}; MobileNet v1 order expects {(expectDw ? "DEPTHWISE_CONV_2D" : "CONV_2D")}");
            }

            var stem = TensorAt(convs[0].Filter, "stem filter");
            var logits = TensorAt(convs[27].Filter, "logits filter");
            if (stem.Shape.Length != 4 || logits.Shape.Length != 4) throw new ImportException($"{Where}: stem and logits filters must be rank 4 (OHWI)");
            double alpha = ImportCommon.AlphaFromWidths(stem.Shape[0], logits.Shape[3], Where);
            int numClasses = logits.Shape[0];
            if (numClasses < 1 || numClasses > 100000) throw new ImportException($"{Where}: {numClasses} classes is out of range");
            var variant = ImportCommon.ResolveVariant(alpha, resolution, options, Where);
            var arch = new MobileNetV1Architecture(variant, numClasses);

            var layers = new Dictionary<string, (KernelData, float[]?, float[])>();
            var convLayers = arch.Layers.Where(l => l.Kind != LayerKind.GlobalAveragePool).ToList();
            for (int i = 0; i < convLayers.Count; i++)
            {
                var l = convLayers[i];
                var f = TensorAt(convs[i].Filter, $"{l.Name} filter");
                int[] k = l.KernelShape; // HWIO
                int[] expected = l.Kind == LayerKind.Depthwise3x3 ? new[] { 1, k[0], k[1], k[2] } : new[] { k[3], k[0], k[1], k[2] };
                float[] src = FloatData(f, expected, $"{l.Name} filter");
                float[] hwio = l.Kind == LayerKind.Depthwise3x3 ? src : ImportCommon.OhwiToHwio(src, k[3], k[0], k[1], k[2]);
                float[] bias = FloatData(TensorAt(convs[i].Bias, $"{l.Name} bias"), new[] { l.OutC }, $"{l.Name} bias");
                layers[l.Name] = (KernelData.Float(hwio), l.HasBatchNorm ? ImportCommon.Ones(l.OutC) : null, bias);
            }
            var (carried, carriedFrom) = AssociatedLabels();
            var labels = ImportCommon.ResolveLabels(numClasses, carried, carriedFrom, options, Where);
            string format = "TFLite float32 flatbuffer; OHWI filters (depthwise 1HWC) transposed to HWIO; BatchNorm folded by the TFLite converter " +
                            "(scale = 1, bias = the converter's bias); layers mapped by operator order";
            string note = labels.Custom ? ImportCommon.CustomHeadNote(format, numClasses, labels) : format + ". Google MobileNet v1 weights, Apache-2.0.";
            return ImportCommon.Build(arch, variant, layers, options, path, "tflite", ImportCommon.Sha256Hex(Bytes), "unknown", note, labels);
        }

        /// <summary>
        /// Labels packed with the model by the TFLite metadata writer: associated files are stored as a zip archive appended
        /// to the flatbuffer. Takes the archive's <c>.txt</c> entry (preferring one whose name contains "label"); none → (null, null).
        /// </summary>
        private (string[]? Labels, string? From) AssociatedLabels()
        {
            // End-of-central-directory record: 22 bytes + up to 64 KiB of comment at the end of the file.
            int from = Math.Max(0, Length - 22 - 65535);
            bool hasZip = false;
            for (int i = Length - 22; i >= from && !hasZip; i--)
                hasZip = Bytes[i] == 0x50 && Bytes[i + 1] == 0x4B && Bytes[i + 2] == 5 && Bytes[i + 3] == 6;
            if (!hasZip) return (null, null);
            try
            {
                using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(Bytes, writable: false), System.IO.Compression.ZipArchiveMode.Read);
                var entry = zip.Entries.Where(e => e.Name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && e.Length <= 16 << 20)
                    .OrderByDescending(e => e.Name.Contains("label", StringComparison.OrdinalIgnoreCase)).FirstOrDefault();
                if (entry == null) return (null, null);
                using var s = entry.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                return (ImportCommon.ParseLabels(ms.ToArray()), entry.Name + " (TFLite metadata associated file)");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
            {
                return (null, null); // not a readable archive: the model carries no labels
            }
        }

        private TensorInfo TensorAt(int index, string what)
        {
            if (index < 0 || index >= _tensors.Count) throw Bad($"{what}: tensor index {index} of {_tensors.Count}");
            return _tensors[index];
        }

        private float[] FloatData(TensorInfo t, int[] expected, string what)
        {
            if (t.Type != TensorTypeFloat32)
                throw new ImportException($"{Where}: {what} '{t.Name}' has TFLite tensor type {t.Type}; only float32 models are supported (quantized TFLite is not)");
            if (!t.Shape.SequenceEqual(expected))
                throw new ImportException($"{Where}: {what} '{t.Name}' has shape [{string.Join(",", t.Shape)}], the architecture needs [{string.Join(",", expected)}]");
            long n = 1;
            foreach (int d in expected) n *= d;
            if (t.Buffer >= (uint)_buffers.Count) throw Bad($"{what} '{t.Name}' uses buffer {t.Buffer} of {_buffers.Count}");
            var buf = _model.TableAt(_buffers.Start, (int)t.Buffer, "Buffer");
            // Buffer: 0 data [ubyte], 1 offset (ulong), 2 size (ulong) — the latter two for data stored after the flatbuffer.
            var (start, count) = buf.Vector(0, 1, "Buffer.data");
            if (count == 0)
            {
                ulong off = buf.ULong(1, 0, "Buffer.offset"), size = buf.ULong(2, 0, "Buffer.size");
                if (off > 1 && off <= (ulong)Length && size <= (ulong)Length - off) { start = (int)off; count = (int)size; }
            }
            if (count != n * 4) throw new ImportException($"{Where}: {what} '{t.Name}' has {count} data bytes, expected {n * 4} (truncated or constant missing?)");
            return ImportCommon.FloatsFromBytes(Bytes.AsSpan(start, count));
        }
    }
}
