using Google.Protobuf;
using MobileNetGen.Importers.Onnx;

namespace MobileNetGen.Importers.Exporters;

/// <summary>Small builders of ONNX protobuf messages shared by the float and the uint8 exporters (onnx.proto field semantics).</summary>
internal static class OnnxProto
{
    public static NodeProto Node(string opType, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = opType, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        n.Attribute.AddRange(attributes);
        return n;
    }

    public static AttributeProto Int(string name, long value) =>
        new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static TensorProto FloatTensor(string name, long[] dims, float[] values)
    {
        CheckCount(name, dims, values.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); // little-endian hosts only (the exporters check)
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    public static TensorProto UInt8Tensor(string name, long[] dims, byte[] values)
    {
        CheckCount(name, dims, values.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8 };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(values);
        return t;
    }

    public static TensorProto Int32Tensor(string name, long[] dims, int[] values)
    {
        CheckCount(name, dims, values.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int32 };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    public static TensorProto Int64Tensor(string name, long[] dims, long[] values)
    {
        CheckCount(name, dims, values.Length);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    private static void CheckCount(string name, long[] dims, int count)
    {
        long n = 1;
        foreach (long d in dims) n *= d;
        if (n != count) throw new InvalidOperationException($"initializer '{name}': {count} values for [{string.Join(",", dims)}]");
    }

    public static ValueInfoProto TensorValue(string name, TensorProto.Types.DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
