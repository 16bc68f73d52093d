using System.Buffers.Binary;

namespace MobileNetGen.Tests.CustomModel;

/// <summary>
/// Writes a deterministic "fine-tuned" MobileNet v1 in TFLite format: Google's genuine 0.25_224 float model
/// (shared/models/tflite-2018, no metadata, so it carries no labels) with its 1001-class head cut down to N seeded
/// classes. The flatbuffer is edited in place: every tensor dimension of 1001 becomes N, and the logits filter (OHWI
/// [N,1,1,256]) and bias ([N]) buffers get seeded values and shorter vector lengths (the bytes after them stay in the
/// file, unreferenced). N ≤ 1001, so nothing moves.
/// </summary>
internal static class CustomTfliteModel
{
    public const string Source = "tflite-2018/mobilenet_v1_0.25_224_1_default_1.tflite";
    public const int Features = 256;
    private const int GoogleClasses = 1001;

    /// <summary>Writes the model to <paramref name="path"/> and returns it.</summary>
    /// <param name="biasClasses">Classes of the bias; default = <paramref name="classes"/> (differ to build a malformed head).</param>
    public static string Write(string path, int classes, ulong seed = 20240229, int? biasClasses = null)
    {
        int nb = biasClasses ?? classes;
        if (classes < 1 || classes > GoogleClasses || nb < 1 || nb > GoogleClasses)
            throw new ArgumentOutOfRangeException(nameof(classes), "1..1001 classes (the edit happens in place)");
        byte[] b = File.ReadAllBytes(SharedData.Model(Source));

        int model = I32(b, 0);
        int subgraph = Element(b, Vector(b, model, 2), 0);
        int tensors = Vector(b, subgraph, 0);
        int buffers = Vector(b, model, 4);
        int filter = -1, bias = -1;
        for (int t = 0; t < I32(b, tensors); t++)
        {
            int tensor = Element(b, tensors, t);
            int shape = Vector(b, tensor, 0);
            int rank = I32(b, shape);
            var dims = Enumerable.Range(0, rank).Select(k => I32(b, shape + 4 + 4 * k)).ToArray();
            if (dims.SequenceEqual(new[] { GoogleClasses, 1, 1, Features })) filter = tensor;
            else if (dims.SequenceEqual(new[] { GoogleClasses })) bias = tensor;
            for (int k = 0; k < rank; k++)
                if (dims[k] == GoogleClasses) W32(b, shape + 4 + 4 * k, tensor == bias ? nb : classes);
        }
        if (filter < 0 || bias < 0) throw new InvalidDataException($"{Source}: logits filter [1001,1,1,256] or bias [1001] not found");

        var rng = new SplitMix64(seed);
        float limit = MathF.Sqrt(6f / Features); // He-uniform, as the TF.js test model's head
        SetBuffer(b, buffers, filter, Enumerable.Range(0, classes * Features).Select(_ => (rng.NextFloat() * 2 - 1) * limit).ToArray());
        SetBuffer(b, buffers, bias, Enumerable.Range(0, nb).Select(_ => rng.NextFloat() - 0.5f).ToArray());

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, b);
        return path;
    }

    /// <summary>Overwrites the start of a tensor's buffer with <paramref name="values"/> and shortens the buffer to them.</summary>
    private static void SetBuffer(byte[] b, int buffers, int tensor, float[] values)
    {
        int index = (int)U32Field(b, tensor, 2);
        int data = Vector(b, Element(b, buffers, index), 0);
        if (I32(b, data) < values.Length * 4) throw new InvalidDataException("buffer smaller than the new head");
        W32(b, data, values.Length * 4);
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(data + 4 + 4 * i), values[i]);
    }

    // Minimal flatbuffer navigation (schema.fbs field indices: Model.subgraphs 2, Model.buffers 4, SubGraph.tensors 0,
    // Tensor.shape 0, Tensor.buffer 2, Buffer.data 0).
    private static int I32(byte[] b, int at) => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at));
    private static void W32(byte[] b, int at, int value) => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), value);

    private static int FieldPos(byte[] b, int table, int index)
    {
        int vtable = table - I32(b, table);
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(vtable));
        int slot = 4 + 2 * index;
        int offset = slot < vtableSize ? BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(vtable + slot)) : 0;
        if (offset == 0) throw new InvalidDataException($"field {index} of the table at {table} is absent");
        return table + offset;
    }

    private static int Vector(byte[] b, int table, int index)
    {
        int pos = FieldPos(b, table, index);
        return pos + I32(b, pos);
    }

    private static int Element(byte[] b, int vector, int i)
    {
        int pos = vector + 4 + 4 * i;
        return pos + I32(b, pos);
    }

    private static uint U32Field(byte[] b, int table, int index) => (uint)I32(b, FieldPos(b, table, index));
}
