using System.Text;
using Google.FlatBuffers;

namespace MobileNetGen.Importers;

/// <summary>
/// A bounds-checked, read-only view of a TFLite flatbuffer (<c>tensorflow/lite/schema/schema.fbs</c>, file identifier
/// <c>TFL3</c>): the operator codes, the first subgraph's tensors and operators, buffers, quantization parameters and
/// builtin options. Shared by the float and the uint8 importers (and meant for an SSD importer). Every access is checked
/// against the file: malformed input raises <see cref="ImportException"/>, never an out-of-range read. Tensor quantization
/// and operator contents are read on demand, so that a float model never fails on a table it does not need.
/// </summary>
/// <remarks>
/// Field indices (schema.fbs; a union takes two slots, its type then its value):
/// Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
/// OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code, 2 version, 3 builtin_code (int, newer files).
/// SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
/// Tensor: 0 shape, 1 type (byte), 2 buffer (uint), 3 name, 4 quantization.
/// QuantizationParameters: 0 min, 1 max, 2 scale [float], 3 zero_point [long], 4 details_type, 5 details, 6 quantized_dimension.
/// Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options, 5 custom_options,
/// 6 custom_options_format (CustomOptionsFormat: FLEXBUFFERS = 0), 7 mutating_variable_inputs, 8 intermediates,
/// 9 large_custom_options_offset, 10 large_custom_options_size (custom options stored after the flatbuffer, files over 2 GB).
/// Buffer: 0 data [ubyte], 1 offset (ulong), 2 size (ulong) — the latter two for data stored after the flatbuffer.
/// </remarks>
internal sealed class TfliteFlatbuffer
{
    // BuiltinOperator (schema.fbs)
    public const int OpAveragePool2D = 1;
    public const int OpConcatenation = 2;
    public const int OpConv2D = 3;
    public const int OpDepthwiseConv2D = 4;
    public const int OpDequantize = 6;
    public const int OpFullyConnected = 9;
    public const int OpLogistic = 14;
    public const int OpReshape = 22;
    public const int OpSoftmax = 25;
    public const int OpSqueeze = 43;
    public const int OpQuantize = 114;
    public const int OpCustom = 32;

    // TensorType (schema.fbs)
    public const sbyte TypeFloat32 = 0;
    public const sbyte TypeFloat16 = 1;
    public const sbyte TypeInt32 = 2;
    public const sbyte TypeUInt8 = 3;
    public const sbyte TypeInt64 = 4;
    public const sbyte TypeInt16 = 7;
    public const sbyte TypeInt8 = 9;

    // BuiltinOptions union members (schema.fbs order, NONE = 0)
    public const byte OptionsConv2D = 1;
    public const byte OptionsDepthwiseConv2D = 2;
    public const byte OptionsPool2D = 5;
    public const byte OptionsSoftmax = 9;
    public const byte OptionsConcatenation = 10;
    public const byte OptionsReshape = 17;
    public const byte OptionsSqueeze = 30;

    private readonly List<TfliteTensor> _tensors = new();
    private readonly List<FbTable> _operatorTables = new();
    private (int Start, int Count) _buffers;
    private FbTable _model;

    private TfliteFlatbuffer(byte[] bytes, string where)
    {
        Bytes = bytes;
        Bb = new ByteBuffer(bytes);
        Where = where;
    }

    public byte[] Bytes { get; }
    public ByteBuffer Bb { get; }
    public int Length => Bytes.Length;
    /// <summary>The file's name, prefixed to every message.</summary>
    public string Where { get; }

    /// <summary>Builtin code of each operator code (max of the deprecated byte and the int field, as TFLite reads them).</summary>
    public int[] OpcodeBuiltins { get; private set; } = Array.Empty<int>();
    /// <summary>Custom code of each operator code (null for builtins).</summary>
    public string?[] OpcodeCustomCodes { get; private set; } = Array.Empty<string?>();
    public int SubgraphCount { get; private set; }
    public IReadOnlyList<TfliteTensor> Tensors => _tensors;
    public int[] Inputs { get; private set; } = Array.Empty<int>();
    public int[] Outputs { get; private set; } = Array.Empty<int>();
    public int OperatorCount => _operatorTables.Count;
    public string? Description { get; private set; }

    public ImportException Bad(string message) => new($"{Where}: malformed TFLite flatbuffer: {message}");

    /// <summary>Reads the model's skeleton: operator codes, the first subgraph's tensors, inputs, outputs and operator tables.</summary>
    public static TfliteFlatbuffer Parse(byte[] bytes, string where)
    {
        if (bytes.Length == 0) throw new ImportException($"{where}: the file is empty (not a TFLite model)");
        if (bytes.Length < 16 || Encoding.ASCII.GetString(bytes, 4, 4) != "TFL3")
            throw new ImportException($"{where}: not a TFLite flatbuffer (file identifier 'TFL3' missing)");
        var fb = new TfliteFlatbuffer(bytes, where);
        fb.ReadSkeleton();
        return fb;
    }

    private void ReadSkeleton()
    {
        _model = new FbTable(this, (int)Bb.GetUint(0), "Model");
        var (codesStart, codesCount) = _model.Vector(1, 4, "Model.operator_codes");
        OpcodeBuiltins = new int[codesCount];
        OpcodeCustomCodes = new string?[codesCount];
        for (int i = 0; i < codesCount; i++)
        {
            var oc = _model.TableAt(codesStart, i, "OperatorCode");
            int deprecated = oc.SByte(0, 0, "OperatorCode.deprecated_builtin_code");
            int builtin = oc.Int(3, 0, "OperatorCode.builtin_code");
            OpcodeBuiltins[i] = Math.Max(deprecated, builtin);
            OpcodeCustomCodes[i] = OpcodeBuiltins[i] == OpCustom ? oc.String(1, "OperatorCode.custom_code") : null;
        }
        var (sgStart, sgCount) = _model.Vector(2, 4, "Model.subgraphs");
        if (sgCount < 1) throw Bad("the model has no subgraph");
        SubgraphCount = sgCount;
        _buffers = _model.Vector(4, 4, "Model.buffers");
        var sg = _model.TableAt(sgStart, 0, "SubGraph");
        var (tStart, tCount) = sg.Vector(0, 4, "SubGraph.tensors");
        for (int i = 0; i < tCount; i++)
        {
            var t = sg.TableAt(tStart, i, "Tensor");
            var (sStart, sCount) = t.Vector(0, 4, "Tensor.shape");
            if (sCount > 8) throw Bad($"tensor {i} has rank {sCount}");
            var shape = new int[sCount];
            for (int k = 0; k < sCount; k++) shape[k] = Bb.GetInt(sStart + 4 * k);
            _tensors.Add(new TfliteTensor(i, shape, t.SByte(1, 0, "Tensor.type"), t.UInt(2, 0, "Tensor.buffer"), t.String(3, "Tensor.name") ?? $"#{i}", t));
        }
        Inputs = IntVector(sg, 1, "SubGraph.inputs");
        Outputs = IntVector(sg, 2, "SubGraph.outputs");
        var (opStart, opCount) = sg.Vector(3, 4, "SubGraph.operators");
        for (int i = 0; i < opCount; i++) _operatorTables.Add(sg.TableAt(opStart, i, "Operator"));
        try { Description = _model.String(3, "Model.description"); }
        catch (ImportException) { Description = null; } // informational only
    }

    private int[] IntVector(FbTable t, int field, string what)
    {
        var (start, count) = t.Vector(field, 4, what);
        var v = new int[count];
        for (int i = 0; i < count; i++) v[i] = Bb.GetInt(start + 4 * i);
        return v;
    }

    public TfliteTensor TensorAt(int index, string what)
    {
        if (index < 0 || index >= _tensors.Count) throw Bad($"{what}: tensor index {index} of {_tensors.Count}");
        return _tensors[index];
    }

    /// <summary>Operator <paramref name="i"/>: its builtin code (checked against the operator codes) and tensor lists.</summary>
    public TfliteOperator Operator(int i)
    {
        var op = _operatorTables[i];
        uint oi = op.UInt(0, 0, "Operator.opcode_index");
        if (oi >= (uint)OpcodeBuiltins.Length) throw Bad($"operator {i} uses opcode index {oi} of {OpcodeBuiltins.Length}");
        return new TfliteOperator(this, i, OpcodeBuiltins[oi], OpcodeCustomCodes[oi], op);
    }

    /// <summary>The opcode of operator <paramref name="i"/> without reading anything else of it.</summary>
    public int OperatorCode(int i) => Operator(i).Builtin;

    /// <summary>Reads an int vector field of operator <paramref name="op"/>.</summary>
    internal int[] OperatorInts(FbTable op, int field, string what) => IntVector(op, field, what);

    /// <summary>
    /// The bytes of a tensor's buffer (inline <c>Buffer.data</c>, or <c>Buffer.offset/size</c> into the file after the
    /// flatbuffer); empty for a tensor without data (buffer 0, the sentinel, or an empty buffer).
    /// </summary>
    public ReadOnlySpan<byte> Data(TfliteTensor t, string what)
    {
        if (t.Buffer >= (uint)_buffers.Count) throw Bad($"{what} '{t.Name}' uses buffer {t.Buffer} of {_buffers.Count}");
        var buf = _model.TableAt(_buffers.Start, (int)t.Buffer, "Buffer");
        var (start, count) = buf.Vector(0, 1, "Buffer.data");
        if (count == 0)
        {
            ulong off = buf.ULong(1, 0, "Buffer.offset"), size = buf.ULong(2, 0, "Buffer.size");
            if (off > 1 && off <= (ulong)Length && size <= (ulong)Length - off) { start = (int)off; count = (int)size; }
            else if (off > 1 || size > 0) throw Bad($"{what} '{t.Name}': buffer {t.Buffer} points at bytes {off}..{off + size} outside the {Length}-byte file (truncated?)");
        }
        return Bytes.AsSpan(start, count);
    }

    /// <summary>The tensor's quantization parameters, or null when it has none (read on demand).</summary>
    public TfliteQuantization? Quantization(TfliteTensor t)
    {
        var q = t.Table.SubTable(4, $"tensor '{t.Name}' quantization");
        if (q is not FbTable qt) return null;
        string what = $"tensor '{t.Name}' quantization";
        var (mnStart, mnCount) = qt.Vector(0, 4, what + ".min");
        var (mxStart, mxCount) = qt.Vector(1, 4, what + ".max");
        var (scStart, scCount) = qt.Vector(2, 4, what + ".scale");
        var (zpStart, zpCount) = qt.Vector(3, 8, what + ".zero_point");
        var scale = new float[scCount];
        for (int i = 0; i < scCount; i++) scale[i] = Bb.GetFloat(scStart + 4 * i);
        var zero = new long[zpCount];
        for (int i = 0; i < zpCount; i++) zero[i] = Bb.GetLong(zpStart + 8 * i);
        _ = mnStart; _ = mxStart;
        byte detailsType = qt.Byte(4, 0, what + ".details_type");
        int dim = qt.Int(6, 0, what + ".quantized_dimension");
        return new TfliteQuantization(scale, zero, mnCount, mxCount, detailsType, dim);
    }

    /// <summary>
    /// Labels packed with the model by the TFLite metadata writer: associated files are stored as a zip archive appended
    /// to the flatbuffer. Takes the archive's <c>.txt</c> entry (preferring one whose name contains "label"); none → (null, null).
    /// </summary>
    public (string[]? Labels, string? From) AssociatedLabels()
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

    /// <summary>A readable name of a builtin operator code, for messages.</summary>
    public static string OperatorName(int builtin, string? custom = null) => builtin switch
    {
        0 => "ADD",
        OpAveragePool2D => "AVERAGE_POOL_2D",
        OpConcatenation => "CONCATENATION",
        OpConv2D => "CONV_2D",
        OpDepthwiseConv2D => "DEPTHWISE_CONV_2D",
        OpDequantize => "DEQUANTIZE",
        OpFullyConnected => "FULLY_CONNECTED",
        OpLogistic => "LOGISTIC",
        17 => "MAX_POOL_2D",
        18 => "MUL",
        19 => "RELU",
        21 => "RELU6",
        OpReshape => "RESHAPE",
        OpSoftmax => "SOFTMAX",
        28 => "TANH",
        OpCustom => custom != null ? $"CUSTOM '{custom}'" : "CUSTOM",
        34 => "PAD",
        40 => "MEAN",
        OpSqueeze => "SQUEEZE",
        OpQuantize => "QUANTIZE",
        _ => $"builtin operator {builtin}",
    };

    /// <summary>A readable name of a tensor type, for messages.</summary>
    public static string TypeName(sbyte type) => type switch
    {
        TypeFloat32 => "float32",
        TypeFloat16 => "float16",
        TypeInt32 => "int32",
        TypeUInt8 => "uint8",
        TypeInt64 => "int64",
        5 => "string",
        6 => "bool",
        TypeInt16 => "int16",
        TypeInt8 => "int8",
        _ => $"type {type}",
    };
}

/// <summary>One tensor of the first subgraph (quantization via <see cref="TfliteFlatbuffer.Quantization"/>).</summary>
internal sealed class TfliteTensor
{
    internal TfliteTensor(int index, int[] shape, sbyte type, uint buffer, string name, FbTable table)
    {
        Index = index; Shape = shape; Type = type; Buffer = buffer; Name = name; Table = table;
    }

    public int Index { get; }
    public int[] Shape { get; }
    public sbyte Type { get; }
    public uint Buffer { get; }
    public string Name { get; }
    internal FbTable Table { get; }
    public string ShapeText => "[" + string.Join(",", Shape) + "]";
}

/// <summary>A tensor's <c>QuantizationParameters</c>: per-tensor when <see cref="Scale"/> has one entry.</summary>
internal sealed record TfliteQuantization(float[] Scale, long[] ZeroPoint, int MinCount, int MaxCount, byte DetailsType, int QuantizedDimension);

/// <summary>One operator: builtin code, tensor lists and its builtin options table.</summary>
internal sealed class TfliteOperator
{
    private readonly TfliteFlatbuffer _fb;
    private readonly FbTable _table;

    internal TfliteOperator(TfliteFlatbuffer fb, int index, int builtin, string? custom, FbTable table)
    {
        _fb = fb; Index = index; Builtin = builtin; CustomCode = custom; _table = table;
    }

    public int Index { get; }
    public int Builtin { get; }
    public string? CustomCode { get; }
    public string Name => TfliteFlatbuffer.OperatorName(Builtin, CustomCode);

    public int[] Inputs => _fb.OperatorInts(_table, 1, "Operator.inputs");
    public int[] Outputs => _fb.OperatorInts(_table, 2, "Operator.outputs");

    /// <summary>The <c>builtin_options</c> union's type (0 = none).</summary>
    public byte OptionsType => _table.Byte(3, 0, "Operator.builtin_options_type");

    /// <summary>The <c>builtin_options</c> table, or null when absent.</summary>
    public FbTable? Options => _table.SubTable(4, "Operator.builtin_options");

    /// <summary>
    /// The <c>custom_options</c> bytes of a custom operator (bounds-checked; empty when absent). Options stored after the
    /// flatbuffer (<c>large_custom_options_offset/size</c>, schema fields 9 and 10, for models over 2 GB) are read from there.
    /// </summary>
    public byte[] CustomOptions
    {
        get
        {
            var (start, count) = _table.Vector(5, 1, "Operator.custom_options");
            if (count > 0) return _fb.Bytes.AsSpan(start, count).ToArray();
            ulong off = _table.ULong(9, 0, "Operator.large_custom_options_offset"), size = _table.ULong(10, 0, "Operator.large_custom_options_size");
            if (size == 0) return Array.Empty<byte>();
            if (off > (ulong)_fb.Length || size > (ulong)_fb.Length - off)
                throw _fb.Bad($"operator {Index} ({Name}): large custom options at bytes {off}..{off + size} lie outside the {_fb.Length}-byte file (truncated?)");
            return _fb.Bytes.AsSpan((int)off, (int)size).ToArray();
        }
    }

    /// <summary>The <c>custom_options_format</c> (0 = FLEXBUFFERS, the only value the schema defines).</summary>
    public byte CustomOptionsFormat => _table.Byte(6, 0, "Operator.custom_options_format");
}

/// <summary>A flatbuffer table with bounds-checked field access on top of <see cref="Google.FlatBuffers.Table"/>.</summary>
internal readonly struct FbTable
{
    private readonly Table _t;
    private readonly int _objectSize;
    private readonly int _vtableSize;
    private readonly TfliteFlatbuffer _r;

    public FbTable(TfliteFlatbuffer r, int pos, string what)
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

    /// <summary>True when field <paramref name="index"/> is present (not defaulted).</summary>
    public bool Has(int index, string what) => FieldPos(index, 1, what) != 0;

    public uint UInt(int index, uint dflt, string what) { int p = FieldPos(index, 4, what); return p == 0 ? dflt : _r.Bb.GetUint(p); }
    public int Int(int index, int dflt, string what) { int p = FieldPos(index, 4, what); return p == 0 ? dflt : _r.Bb.GetInt(p); }
    public sbyte SByte(int index, sbyte dflt, string what) { int p = FieldPos(index, 1, what); return p == 0 ? dflt : _r.Bb.GetSbyte(p); }
    public byte Byte(int index, byte dflt, string what) { int p = FieldPos(index, 1, what); return p == 0 ? dflt : _r.Bb.Get(p); }
    public float Float(int index, float dflt, string what) { int p = FieldPos(index, 4, what); return p == 0 ? dflt : _r.Bb.GetFloat(p); }
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
