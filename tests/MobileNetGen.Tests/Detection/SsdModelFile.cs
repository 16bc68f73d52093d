using Google.FlatBuffers;
using MobileNetGen.Runtime.Detection;

namespace MobileNetGen.Tests.ObjectDetection;

/// <summary>
/// Test-side reader of the few facts of <c>shared/models/ssd-mobilenet-v1-coco-quant/detect.tflite</c> the detection tests
/// need: tensors (name, shape, uint8 quantization, constant data) and the custom options of
/// <c>TFLite_Detection_PostProcess</c>. Field numbers from TFLite's <c>schema.fbs</c>: Model 1 operator_codes, 2 subgraphs,
/// 4 buffers; SubGraph 0 tensors, 3 operators; Tensor 0 shape, 1 type, 2 buffer, 3 name, 4 quantization;
/// QuantizationParameters 2 scale, 3 zero_point; Operator 0 opcode_index, 1 inputs, 2 outputs, 5 custom_options;
/// OperatorCode 1 custom_code. The model is trusted here (a test fixture), so the reads are not hardened like the importers'.
/// </summary>
internal sealed class SsdModelFile
{
    public const string RelativePath = "ssd-mobilenet-v1-coco-quant/detect.tflite";

    public sealed record TensorInfo(int Index, string Name, int[] Shape, sbyte Type, Quantization? Quantization, byte[]? Data);

    private static readonly Lazy<SsdModelFile> Shared = new(() => new SsdModelFile(File.ReadAllBytes(SharedData.Model(RelativePath))));

    /// <summary>The shared model (guard the test with <see cref="SharedDataFactAttribute"/>).</summary>
    public static SsdModelFile Load() => Shared.Value;

    public SsdModelFile(byte[] bytes)
    {
        var bb = new ByteBuffer(bytes);
        var model = Root(bb);
        var codes = new List<string?>();
        foreach (var oc in Tables(bb, model, 1)) codes.Add(Str(oc, 1));
        var subgraph = Tables(bb, model, 2)[0];
        var buffers = Tables(bb, model, 4);
        foreach (var t in Tables(bb, subgraph, 0))
        {
            int[] shape = Ints(bb, t, 0);
            sbyte type = Field(t, 1) == 0 ? (sbyte)0 : bb.GetSbyte(t.bb_pos + Field(t, 1));
            uint buffer = Field(t, 2) == 0 ? 0 : bb.GetUint(t.bb_pos + Field(t, 2));
            Quantization? q = null;
            if (Field(t, 4) != 0)
            {
                var qp = new Table(t.__indirect(t.bb_pos + Field(t, 4)), bb);
                var (sStart, sLen) = Vec(qp, 2);
                var (zStart, zLen) = Vec(qp, 3);
                if (sLen == 1 && zLen == 1 && type == 3) q = new Quantization(bb.GetFloat(sStart), (int)bb.GetLong(zStart));
            }
            var (dStart, dLen) = Vec(buffers[(int)buffer], 0);
            Tensors.Add(new TensorInfo(Tensors.Count, Str(t, 3) ?? "", shape, type, q, dLen > 0 ? bytes.AsSpan(dStart, dLen).ToArray() : null));
        }
        foreach (var op in Tables(bb, subgraph, 3))
        {
            uint oi = Field(op, 0) == 0 ? 0 : bb.GetUint(op.bb_pos + Field(op, 0)); // opcode_index defaults to 0
            if (codes[(int)oi] != "TFLite_Detection_PostProcess") continue;
            var (cStart, cLen) = Vec(op, 5);
            PostprocessOptionBytes = bytes.AsSpan(cStart, cLen).ToArray();
            PostprocessInputs = Ints(bb, op, 1);
        }
        if (PostprocessOptionBytes.Length == 0) throw new InvalidDataException("detect.tflite has no TFLite_Detection_PostProcess operator");
    }

    public List<TensorInfo> Tensors { get; } = new();

    /// <summary>The operator's custom options: a FlexBuffer map.</summary>
    public byte[] PostprocessOptionBytes { get; } = [];

    /// <summary>The operator's inputs: box encodings, class scores, anchors.</summary>
    public int[] PostprocessInputs { get; } = [];

    public TensorInfo Tensor(string name) => Tensors.Single(t => t.Name == name);

    public TensorInfo Anchors => Tensors[PostprocessInputs[2]];
    public TensorInfo BoxEncodings => Tensors[PostprocessInputs[0]];
    public TensorInfo ClassScores => Tensors[PostprocessInputs[1]];

    private static Table Root(ByteBuffer bb) => new(bb.GetInt(0), bb);
    private static int Field(Table t, int i) => t.__offset(4 + 2 * i);
    private static string? Str(Table t, int i) => Field(t, i) == 0 ? null : t.__string(t.bb_pos + Field(t, i));

    private static (int Start, int Length) Vec(Table t, int i)
    {
        int o = Field(t, i);
        return o == 0 ? (0, 0) : (t.__vector(o), t.__vector_len(o));
    }

    private static int[] Ints(ByteBuffer bb, Table t, int i)
    {
        var (start, len) = Vec(t, i);
        var result = new int[len];
        for (int k = 0; k < len; k++) result[k] = bb.GetInt(start + 4 * k);
        return result;
    }

    private static List<Table> Tables(ByteBuffer bb, Table t, int i)
    {
        var (start, len) = Vec(t, i);
        var result = new List<Table>(len);
        for (int k = 0; k < len; k++) result.Add(new Table(t.__indirect(start + 4 * k), bb));
        return result;
    }
}
