using System.Text;
using Google.FlatBuffers;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// A second, test-only reader of TFLite flatbuffers, written directly on <see cref="Google.FlatBuffers.Table"/> with the
/// field indices of tensorflow/lite/schema/schema.fbs (not the importer's <c>TfliteFlatbuffer</c>): the importer is checked
/// against what the .tflite file holds, and the hostile-model tests find the byte positions to patch. Trusts its input
/// (valid published models only).
/// </summary>
internal sealed class RawTflite
{
    private readonly ByteBuffer _bb;
    private readonly Table _model, _subgraph;

    public RawTflite(byte[] bytes)
    {
        Bytes = bytes;
        _bb = new ByteBuffer(bytes);
        _model = new Table(_bb.GetInt(0), _bb);
        _subgraph = VectorTable(_model, 2, 0);               // Model.subgraphs[0]
    }

    public byte[] Bytes { get; }

    // ---- generic access
    private int Field(Table t, int index) => t.__offset(4 + 2 * index);

    /// <summary>Absolute position of a scalar field, or −1 when it is absent (defaulted).</summary>
    public int FieldPosition(Table t, int index) { int o = Field(t, index); return o == 0 ? -1 : t.bb_pos + o; }

    private (int Start, int Count) Vector(Table t, int index)
    {
        int o = Field(t, index);
        return o == 0 ? (0, 0) : (t.__vector(o), t.__vector_len(o));
    }

    private Table VectorTable(Table t, int index, int i)
    {
        var (start, count) = Vector(t, index);
        if (i >= count) throw new ArgumentOutOfRangeException(nameof(i));
        int p = start + 4 * i;
        return new Table(p + _bb.GetInt(p), _bb);
    }

    private Table? SubTable(Table t, int index)
    {
        int o = Field(t, index);
        return o == 0 ? null : new Table(t.__indirect(t.bb_pos + o), _bb);
    }

    private int[] Ints(Table t, int index)
    {
        var (s, n) = Vector(t, index);
        var v = new int[n];
        for (int i = 0; i < n; i++) v[i] = _bb.GetInt(s + 4 * i);
        return v;
    }

    // ---- Model
    public int OpcodeCount => Vector(_model, 1).Count;
    public Table Opcode(int i) => VectorTable(_model, 1, i);   // OperatorCode: 0 deprecated_builtin_code (byte), 3 builtin_code (int)
    public int Builtin(int opcode)
    {
        var t = Opcode(opcode);
        int p0 = FieldPosition(t, 0), p3 = FieldPosition(t, 3);
        return Math.Max(p0 < 0 ? 0 : (sbyte)_bb.Get(p0), p3 < 0 ? 0 : _bb.GetInt(p3));
    }

    public byte[] BufferData(int buffer)
    {
        var b = VectorTable(_model, 4, buffer);                   // Model.buffers[buffer]; Buffer: 0 data, 1 offset, 2 size
        var (s, n) = Vector(b, 0);
        if (n > 0) return Bytes.AsSpan(s, n).ToArray();
        int po = FieldPosition(b, 1), ps = FieldPosition(b, 2);
        if (po < 0 || ps < 0) return Array.Empty<byte>();
        return Bytes.AsSpan((int)_bb.GetUlong(po), (int)_bb.GetUlong(ps)).ToArray();
    }

    // ---- SubGraph
    public int[] Inputs => Ints(_subgraph, 1);
    public int[] Outputs => Ints(_subgraph, 2);
    public int TensorCount => Vector(_subgraph, 0).Count;
    public int OperatorCount => Vector(_subgraph, 3).Count;

    /// <summary>Tensor: 0 shape, 1 type (byte), 2 buffer, 3 name, 4 quantization.</summary>
    public Table Tensor(int i) => VectorTable(_subgraph, 0, i);
    public string TensorName(int i) { int o = Field(Tensor(i), 3); return o == 0 ? "" : Tensor(i).__string(Tensor(i).bb_pos + o); }
    public int[] TensorShape(int i) => Ints(Tensor(i), 0);
    public sbyte TensorType(int i) { int p = FieldPosition(Tensor(i), 1); return p < 0 ? (sbyte)0 : (sbyte)_bb.Get(p); }
    public int TensorTypePosition(int i) => FieldPosition(Tensor(i), 1);
    public int TensorBuffer(int i) { int p = FieldPosition(Tensor(i), 2); return p < 0 ? 0 : _bb.GetInt(p); }
    public byte[] TensorData(int i) => BufferData(TensorBuffer(i));

    /// <summary>QuantizationParameters: 0 min, 1 max, 2 scale, 3 zero_point (long), 4 details_type, 5 details, 6 quantized_dimension.</summary>
    public Table? Quantization(int tensor) => SubTable(Tensor(tensor), 4);

    public float[] Scales(int tensor)
    {
        if (Quantization(tensor) is not Table q) return Array.Empty<float>();
        var (s, n) = Vector(q, 2);
        return Enumerable.Range(0, n).Select(k => _bb.GetFloat(s + 4 * k)).ToArray();
    }

    public long[] ZeroPoints(int tensor)
    {
        if (Quantization(tensor) is not Table q) return Array.Empty<long>();
        var (s, n) = Vector(q, 3);
        return Enumerable.Range(0, n).Select(k => _bb.GetLong(s + 8 * k)).ToArray();
    }

    /// <summary>Position of the first scale's float (its vector's length is the 4 bytes before).</summary>
    public int ScaleDataPosition(int tensor) => Vector(Quantization(tensor)!.Value, 2).Start;

    /// <summary>Position of the first zero point's int64.</summary>
    public int ZeroPointDataPosition(int tensor) => Vector(Quantization(tensor)!.Value, 3).Start;

    /// <summary>Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.</summary>
    public Table Operator(int i) => VectorTable(_subgraph, 3, i);
    public int OperatorOpcode(int i) { int p = FieldPosition(Operator(i), 0); return p < 0 ? 0 : _bb.GetInt(p); }
    public int OperatorBuiltin(int i) => Builtin(OperatorOpcode(i));
    public int[] OperatorInputs(int i) => Ints(Operator(i), 1);
    public int[] OperatorOutputs(int i) => Ints(Operator(i), 2);
    public Table? OperatorOptions(int i) => SubTable(Operator(i), 4);

    /// <summary>The operators with this builtin code, in order (CONV_2D = 3, DEPTHWISE_CONV_2D = 4, …).</summary>
    public List<int> OperatorsOf(params int[] builtins) =>
        Enumerable.Range(0, OperatorCount).Where(i => builtins.Contains(OperatorBuiltin(i))).ToList();

    // ---- for the SSD detector's hostile copies (positions of vectors and their length prefixes)
    /// <summary>OperatorCode.custom_code (field 1), or null for builtins.</summary>
    public string? OpcodeCustomCode(int opcode) { var t = Opcode(opcode); int o = Field(t, 1); return o == 0 ? null : t.__string(t.bb_pos + o); }

    /// <summary>Position and length of the bytes of OperatorCode.custom_code (field 1).</summary>
    public (int Start, int Count) OpcodeCustomCodeBytes(int opcode) => Vector(Opcode(opcode), 1);

    /// <summary>Position and length of Operator.custom_options (field 5); (0, 0) when absent.</summary>
    public (int Start, int Count) CustomOptions(int op) => Vector(Operator(op), 5);

    /// <summary>Position of the first byte of Buffer.data of <paramref name="buffer"/> (its length is the 4 bytes before).</summary>
    public (int Start, int Count) BufferDataVector(int buffer) => Vector(VectorTable(_model, 4, buffer), 0);

    /// <summary>Position of the first dimension of a tensor's shape vector (its length is the 4 bytes before).</summary>
    public int TensorShapePosition(int tensor) => Vector(Tensor(tensor), 0).Start;

    /// <summary>Position of the first entry of Operator.inputs (field 1).</summary>
    public int OperatorInputsPosition(int op) => Vector(Operator(op), 1).Start;

    /// <summary>Position of SubGraph.operators' slot <paramref name="i"/> (a uoffset relative to the slot).</summary>
    public int OperatorSlotPosition(int i) => Vector(_subgraph, 3).Start + 4 * i;

    /// <summary>The index of the tensor called <paramref name="name"/>.</summary>
    public int TensorIndex(string name) => Enumerable.Range(0, TensorCount).Single(i => TensorName(i) == name);

    public static string Ascii(byte[] b, int at, int n) => Encoding.ASCII.GetString(b, at, n);
}
