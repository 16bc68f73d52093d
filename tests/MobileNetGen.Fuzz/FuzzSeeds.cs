using System.IO.Compression;
using System.Text;
using Google.FlatBuffers;
using MobileNetGen.Model;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Fuzzing;

/// <summary>
/// Small valid inputs for each fuzz target, built in code (no files from ../shared needed): each one is accepted by its
/// parser, so mutations start from inputs that reach the deep paths (shape checks, BatchNorm folding, dequantization,
/// labels, EXIF orientation). Shared by the AFL harness (<c>seeds</c> mode writes them as the initial corpus) and the smoke test.
/// </summary>
public static class FuzzSeeds
{
    public static IReadOnlyList<(string Name, byte[] Data)> For(string target) => target switch
    {
        FuzzTargets.GraphDef => new[] { ("slim_float.pb", GraphDef(quantizedBlock: false)), ("quantized_folded.pb", GraphDef(quantizedBlock: true)) },
        FuzzTargets.Tflite => new[] { ("custom_head.tflite", Tflite()) },
        FuzzTargets.Tfjs => new[] { ("custom_head.tfjs", Tfjs()), ("manifest_only.tfjs", TfjsManifestOnly()) },
        FuzzTargets.Weights => new[] { ("float.safetensors", Weights(quantized: false)), ("u8.safetensors", Weights(quantized: true)) },
        FuzzTargets.Image => Images(),
        FuzzTargets.TfliteQuant => new[] { ("quant_custom_head.tflite", TfliteQuant()), ("quant_float_ends.tflite", TfliteQuant(floatEnds: true)) },
        FuzzTargets.WeightsQuant => new[] { ("quant.safetensors", WeightsQuantized()) },
        FuzzTargets.TfliteSsd => new[] { ("ssd.tflite", TfliteSsd()) },
        FuzzTargets.WeightsSsd => new[] { ("ssd.safetensors", WeightsSsd()) },
        _ => throw new ArgumentException($"unknown fuzz target '{target}'", nameof(target)),
    };

    // The importers accept only the published widths; 0.25 at 128 px is the smallest. Tensor values are broadcast
    // scalars (GraphDef float_val) or a shared data region (TFLite), so the seeds stay small.
    private static readonly VariantName SeedVariant = new(0.25, 128);

    // ---------------------------------------------------------------- canonical weights (safetensors)

    /// <summary>A canonical weights file for α = 0.01 (every layer 8–10 channels wide), 32 px, 3 classes with labels.</summary>
    public static byte[] Weights(bool quantized)
    {
        var arch = new MobileNetV1Architecture(0.01, 32, 3);
        var tensors = new List<Tensor>();
        var rng = new SyntheticWeights.SplitMix64(7);
        float[] Floats(long n, float lo, float hi) { var f = new float[n]; for (long i = 0; i < n; i++) f[i] = rng.NextUniform(lo, hi); return f; }
        foreach (var l in arch.Layers)
        {
            if (l.Kind == LayerKind.GlobalAveragePool) continue;
            if (quantized && l.Kind == LayerKind.Pointwise)
            {
                var q = new byte[l.KernelElements];
                for (int i = 0; i < q.Length; i++) q[i] = (byte)rng.Next();
                tensors.Add(Tensor.FromBytes(CanonicalWeights.Kernel(l), l.KernelShape, q));
                tensors.Add(Tensor.FromFloats(CanonicalWeights.KernelMin(l), new[] { 1 }, new[] { -0.5f }));
                tensors.Add(Tensor.FromFloats(CanonicalWeights.KernelMax(l), new[] { 1 }, new[] { 0.7f }));
            }
            else tensors.Add(Tensor.FromFloats(CanonicalWeights.Kernel(l), l.KernelShape, Floats(l.KernelElements, -0.5f, 0.5f)));
            if (l.HasBatchNorm) tensors.Add(Tensor.FromFloats(CanonicalWeights.Scale(l), new[] { l.OutC }, Floats(l.OutC, 0.5f, 1.5f)));
            tensors.Add(Tensor.FromFloats(CanonicalWeights.Bias(l), new[] { l.OutC }, Floats(l.OutC, -0.1f, 0.1f)));
        }
        var meta = new Dictionary<string, string>
        {
            [CanonicalWeights.Keys.Format] = CanonicalWeights.FormatVersion,
            [CanonicalWeights.Keys.Architecture] = "mobilenet_v1",
            [CanonicalWeights.Keys.Name] = "fuzz_seed",
            [CanonicalWeights.Keys.Variant] = "custom",
            [CanonicalWeights.Keys.Alpha] = "0.01",
            [CanonicalWeights.Keys.Resolution] = "32",
            [CanonicalWeights.Keys.NumClasses] = "3",
            [CanonicalWeights.Keys.BackgroundClass] = "false",
            [CanonicalWeights.Keys.Weights] = quantized ? CanonicalWeights.Genuine8Bit : CanonicalWeights.Synthetic,
            [CanonicalWeights.Keys.Labels] = CanonicalWeights.CustomLabels,
            [CanonicalWeights.Keys.LabelsJson] = CanonicalWeights.LabelsToJson(new[] { "cat", "dog \"quoted\"", "\u00e9t\u00e9 \ud83d\udc31" }),
        };
        return new SafeTensorsFile(meta, tensors).Write();
    }

    // ---------------------------------------------------------------- TensorFlow GraphDef (hand-encoded protobuf)

    /// <summary>
    /// A TF-slim MobileNet v1 0.25_128 frozen graph in the shape the importer walks: Placeholder → per layer a
    /// Conv2D/DepthwiseConv2dNative whose filter is an Identity of a Const, BatchNorm constants, Relu6; logits with BiasAdd.
    /// Every Const holds one broadcast <c>float_val</c>. With <paramref name="quantizedBlock"/>, block 1 is in the
    /// quantize_weights form instead: a quint8 Const behind a MIN_FIRST Dequantize, BatchNorm constant-folded to Mul/Add.
    /// </summary>
    public static byte[] GraphDef(bool quantizedBlock)
    {
        var arch = new MobileNetV1Architecture(SeedVariant, 1001);
        var graph = new Proto();
        void Node(string name, string op, string[] inputs, params (string Key, byte[] Value)[] attrs)
        {
            var n = new Proto().Str(1, name).Str(2, op);
            foreach (var i in inputs) n.Str(3, i);
            foreach (var (k, v) in attrs) n.Msg(5, new Proto().Str(1, k).Bytes(2, v));
            graph.Msg(1, n);
        }
        byte[] Shape(params long[] dims) { var s = new Proto(); foreach (var d in dims) s.Msg(2, new Proto().Varint(1, (ulong)d)); return s.ToArray(); }
        byte[] FloatTensor(int[] shape, float value) =>
            new Proto().Bytes(8, new Proto().Varint(1, 1).Bytes(2, Shape(Array.ConvertAll(shape, d => (long)d))).Bytes(5, BitConverter.GetBytes(value)).ToArray()).ToArray();
        byte[] DType(int t) => new Proto().Varint(6, (ulong)t).ToArray();
        void Const(string name, int[] shape, float value) => Node(name, "Const", Array.Empty<string>(), ("dtype", DType(1)), ("value", FloatTensor(shape, value)));

        Node("input", "Placeholder", Array.Empty<string>(), ("dtype", DType(1)),
            ("shape", new Proto().Bytes(7, Shape(1, SeedVariant.Resolution, SeedVariant.Resolution, 3)).ToArray()));
        string prev = "input";
        foreach (var l in arch.Layers)
        {
            if (l.Kind == LayerKind.GlobalAveragePool) continue;
            bool logits = l.Kind == LayerKind.Logits;
            string scope = "MobilenetV1/" + l.SlimName;
            string convScope = logits ? scope : "MobilenetV1/" + scope;
            string op = l.Kind == LayerKind.Depthwise3x3 ? "DepthwiseConv2dNative" : "Conv2D";
            string conv = convScope + "/" + (l.Kind == LayerKind.Depthwise3x3 ? "depthwise" : "Conv2D");
            bool quantized = quantizedBlock && l.Name == "block1.pointwise";
            bool folded = quantizedBlock && l.Name.StartsWith("block1.", StringComparison.Ordinal);
            string weights = scope + (l.Kind == LayerKind.Depthwise3x3 ? "/depthwise_weights" : "/weights");
            if (quantized)
            {
                var q = new byte[l.KernelElements];
                for (int i = 0; i < q.Length; i++) q[i] = (byte)(i * 37);
                long[] dims = Array.ConvertAll(l.KernelShape, d => (long)d);
                Node(weights + "_quantized_const", "Const", Array.Empty<string>(), ("dtype", DType(12)),
                    ("value", new Proto().Bytes(8, new Proto().Varint(1, 12).Bytes(2, Shape(dims)).Bytes(4, q).ToArray()).ToArray()));
                Const(weights + "_quantized_min", Array.Empty<int>(), -0.25f);
                Const(weights + "_quantized_max", Array.Empty<int>(), 0.5f);
                Node(weights, "Dequantize", new[] { weights + "_quantized_const", weights + "_quantized_min", weights + "_quantized_max" },
                    ("T", DType(12)), ("mode", new Proto().Bytes(2, Encoding.ASCII.GetBytes("MIN_FIRST")).ToArray()));
                Node(conv, op, new[] { prev, weights });
            }
            else
            {
                Const(weights, l.KernelShape, 0.05f);
                Node(weights + "/read", "Identity", new[] { weights });
                Node(conv, op, new[] { prev, weights + "/read" });
            }
            if (logits)
            {
                Const(scope + "/biases", new[] { l.OutC }, 0.01f);
                Node(scope + "/BiasAdd", "BiasAdd", new[] { conv, scope + "/biases" });
                break;
            }
            string last = conv;
            if (folded)
            {
                if (l.Kind == LayerKind.Depthwise3x3)
                {
                    Const(convScope + "/BatchNorm/batchnorm/mul", new[] { l.OutC }, 0.9f);
                    Node(convScope + "/BatchNorm/batchnorm/mul_1", "Mul", new[] { conv, convScope + "/BatchNorm/batchnorm/mul" });
                    last = convScope + "/BatchNorm/batchnorm/mul_1";
                }
                Const(convScope + "/BatchNorm/batchnorm/sub", new[] { l.OutC }, 0.02f);
                Node(convScope + "/BatchNorm/batchnorm/add_1", "Add", new[] { last, convScope + "/BatchNorm/batchnorm/sub" });
                last = convScope + "/BatchNorm/batchnorm/add_1";
            }
            else
            {
                Const(scope + "/BatchNorm/gamma", new[] { l.OutC }, 1.1f);
                Const(scope + "/BatchNorm/beta", new[] { l.OutC }, 0.01f);
                Const(scope + "/BatchNorm/moving_mean", new[] { l.OutC }, 0.02f);
                Const(scope + "/BatchNorm/moving_variance", new[] { l.OutC }, 0.9f);
                Const(convScope + "/BatchNorm/batchnorm/add/y", Array.Empty<int>(), 0.001f);
                Node(convScope + "/BatchNorm/FusedBatchNorm", "FusedBatchNorm", new[] { conv, scope + "/BatchNorm/gamma", scope + "/BatchNorm/beta", scope + "/BatchNorm/moving_mean", scope + "/BatchNorm/moving_variance" });
                last = convScope + "/BatchNorm/FusedBatchNorm";
            }
            Node(convScope + "/Relu6", "Relu6", new[] { last });
            prev = convScope + "/Relu6";
        }
        return graph.ToArray();
    }

    /// <summary>Minimal protobuf writer (proto3 wire format) for the GraphDef seeds.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _s = new();
        private void Raw(ulong v) { while (v >= 0x80) { _s.WriteByte((byte)(v | 0x80)); v >>= 7; } _s.WriteByte((byte)v); }
        public Proto Varint(int field, ulong v) { Raw((ulong)field << 3); Raw(v); return this; }
        public Proto Bytes(int field, byte[] b) { Raw(((ulong)field << 3) | 2); Raw((ulong)b.Length); _s.Write(b); return this; }
        public Proto Str(int field, string s) => Bytes(field, Encoding.UTF8.GetBytes(s));
        public Proto Msg(int field, Proto m) => Bytes(field, m.ToArray());
        public byte[] ToArray() => _s.ToArray();
    }

    // ---------------------------------------------------------------- TFLite (flatbuffer built field by field)

    /// <summary>
    /// A TFLite float32 MobileNet v1 0.25_128 with a 2-class head: 28 convolutions in operator order, OHWI filters, every
    /// constant tensor's buffer pointing (Buffer.offset/size) into one shared data region after the flatbuffer, and the
    /// labels as a zip archive appended to the file (the TFLite metadata writer's associated files).
    /// </summary>
    public static byte[] Tflite()
    {
        var arch = new MobileNetV1Architecture(SeedVariant, 2);
        var convLayers = arch.Layers.Where(l => l.Kind != LayerKind.GlobalAveragePool).ToList();
        long region = convLayers.Max(l => l.KernelElements) * 4;
        byte[] fb = BuildTflite(convLayers, 1UL << 40);
        ulong offset = (ulong)((fb.Length + 15) & ~15);
        fb = BuildTflite(convLayers, offset);
        if ((ulong)((fb.Length + 15) & ~15) != offset) throw new InvalidOperationException("TFLite seed layout changed between passes");
        var file = new MemoryStream();
        file.Write(fb);
        file.Write(new byte[(int)offset - fb.Length]);
        var data = new byte[region];
        for (int i = 0; i < data.Length; i += 4) BitConverter.GetBytes(0.01f * ((i / 4) % 7 - 3)).CopyTo(data, i);
        file.Write(data);
        AppendLabelsZip(file, "cat\ndog\n");
        return file.ToArray();
    }

    private static byte[] BuildTflite(List<LayerSpec> convLayers, ulong dataOffset)
    {
        var b = new FlatBufferBuilder(4096);
        int res = SeedVariant.Resolution;
        // Tensors: 0 = input; per conv: filter, bias, output. Buffers: 0 = empty sentinel, then one per constant.
        var tensorOffsets = new List<Offset<Table>>();
        var bufferOffsets = new List<int>();
        int EmptyBuffer() { b.StartTable(3); return b.EndTable(); }
        int DataBuffer(long bytes) { b.StartTable(3); b.AddUlong(1, dataOffset, 0); b.AddUlong(2, (ulong)bytes, 0); return b.EndTable(); }
        int Tensor(int[] shape, uint buffer, string name)
        {
            var nameOff = b.CreateString(name);
            b.StartVector(4, shape.Length, 4);
            for (int i = shape.Length - 1; i >= 0; i--) b.AddInt(shape[i]);
            var shapeOff = b.EndVector();
            b.StartTable(4);
            b.AddOffset(0, shapeOff.Value, 0);
            b.AddSbyte(1, 0, -1); // type FLOAT32 (forced: default would omit it)
            b.AddUint(2, buffer, 0);
            b.AddOffset(3, nameOff.Value, 0);
            return b.EndTable();
        }
        bufferOffsets.Add(EmptyBuffer());
        var tensors = new List<int> { Tensor(new[] { 1, res, res, 3 }, 0, "input") };
        var ops = new List<(int Opcode, int[] Inputs, int[] Outputs)>();
        int prev = 0;
        foreach (var l in convLayers)
        {
            int[] k = l.KernelShape; // HWIO
            int[] filterShape = l.Kind == LayerKind.Depthwise3x3 ? new[] { 1, k[0], k[1], k[2] } : new[] { k[3], k[0], k[1], k[2] };
            bufferOffsets.Add(DataBuffer(l.KernelElements * 4));
            int filter = tensors.Count; tensors.Add(Tensor(filterShape, (uint)(bufferOffsets.Count - 1), l.Name + "/filter"));
            bufferOffsets.Add(DataBuffer(l.OutC * 4L));
            int bias = tensors.Count; tensors.Add(Tensor(new[] { l.OutC }, (uint)(bufferOffsets.Count - 1), l.Name + "/bias"));
            int output = tensors.Count; tensors.Add(Tensor(new[] { 1, l.OutH, l.OutW, l.OutC }, 0, l.Name + "/out"));
            ops.Add((l.Kind == LayerKind.Depthwise3x3 ? 1 : 0, new[] { prev, filter, bias }, new[] { output }));
            prev = output;
        }
        VectorOffset IntVector(int[] v) { b.StartVector(4, v.Length, 4); for (int i = v.Length - 1; i >= 0; i--) b.AddInt(v[i]); return b.EndVector(); }
        VectorOffset OffsetVector(List<int> v) { b.StartVector(4, v.Count, 4); for (int i = v.Count - 1; i >= 0; i--) b.AddOffset(v[i]); return b.EndVector(); }
        var opOffsets = new List<int>();
        foreach (var (opcode, inputs, outputs) in ops)
        {
            var ins = IntVector(inputs);
            var outs = IntVector(outputs);
            b.StartTable(3);
            b.AddUint(0, (uint)opcode, 0);
            b.AddOffset(1, ins.Value, 0);
            b.AddOffset(2, outs.Value, 0);
            opOffsets.Add(b.EndTable());
        }
        var codes = new List<int>();
        foreach (int builtin in new[] { 3, 4 }) // CONV_2D, DEPTHWISE_CONV_2D
        {
            b.StartTable(4);
            b.AddSbyte(0, (sbyte)builtin, 0);
            b.AddInt(2, 1, 0);
            b.AddInt(3, builtin, 0);
            codes.Add(b.EndTable());
        }
        var tensorsVec = OffsetVector(tensors);
        var inputsVec = IntVector(new[] { 0 });
        var outputsVec = IntVector(new[] { prev });
        var opsVec = OffsetVector(opOffsets);
        var sgName = b.CreateString("main");
        b.StartTable(5);
        b.AddOffset(0, tensorsVec.Value, 0);
        b.AddOffset(1, inputsVec.Value, 0);
        b.AddOffset(2, outputsVec.Value, 0);
        b.AddOffset(3, opsVec.Value, 0);
        b.AddOffset(4, sgName.Value, 0);
        int subgraph = b.EndTable();
        var codesVec = OffsetVector(codes);
        var sgVec = OffsetVector(new List<int> { subgraph });
        var desc = b.CreateString("MobileNetGen fuzz seed");
        var buffersVec = OffsetVector(bufferOffsets);
        b.StartTable(5);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codesVec.Value, 0);
        b.AddOffset(2, sgVec.Value, 0);
        b.AddOffset(3, desc.Value, 0);
        b.AddOffset(4, buffersVec.Value, 0);
        int model = b.EndTable();
        b.Finish(model, "TFL3");
        return b.SizedByteArray();
    }

    /// <summary>Appends a zip holding labels.txt; its offsets count from the start of the file, as the metadata writer's do.</summary>
    private static void AppendLabelsZip(MemoryStream file, string labels)
    {
        using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
        var e = zip.CreateEntry("labels.txt", CompressionLevel.NoCompression);
        using var s = e.Open();
        s.Write(Encoding.UTF8.GetBytes(labels));
    }

    // ---------------------------------------------------------------- uint8-quantized TFLite and canonical files

    // The quantization every seed layer shares: uint8 activations in [0, 6] (ReLU6), weights around 128, int32 biases at
    // input scale × weight scale (a float product, as TFLite checks it), logits at 0.1 / 100, softmax output 1/256 / 0.
    private static readonly (float Scale, long ZeroPoint) SeedInput = (1f / 128, 128);
    private static readonly (float Scale, long ZeroPoint) SeedActivation = (6f / 255, 0);
    private static readonly (float Scale, long ZeroPoint) SeedWeight = (0.02f, 128);
    private static readonly (float Scale, long ZeroPoint) SeedLogits = (0.1f, 100);
    private static readonly (float Scale, long ZeroPoint) SeedSoftmax = (1f / 256, 0);

    /// <summary>
    /// A uint8 fully quantized MobileNet v1 0.25_128 TFLite model with a 2-class head, in the MLIR converter's form: per-tensor
    /// quantization tables on every tensor, Conv2D/DepthwiseConv2D options (SAME, MobileNet's strides, RELU6), the global
    /// AVERAGE_POOL_2D, the logits CONV_2D, RESHAPE to [1,2], SOFTMAX; the constants' buffers point (offset/size) into one
    /// shared data region after the flatbuffer, and the labels come as an appended zip, as the metadata writer stores them.
    /// With <paramref name="floatEnds"/> the model takes a float32 image through a leading QUANTIZE and ends in a DEQUANTIZE
    /// (the form a converter gives when asked for float input and output): the same uint8 network.
    /// </summary>
    public static byte[] TfliteQuant(bool floatEnds = false)
    {
        var arch = new MobileNetV1Architecture(SeedVariant, 2);
        long region = arch.Layers.Where(l => l.Kind != LayerKind.GlobalAveragePool).Max(l => Math.Max(l.KernelElements, 4L * l.OutC));
        byte[] fb = BuildTfliteQuant(arch, 1UL << 40, floatEnds);
        ulong offset = (ulong)((fb.Length + 15) & ~15);
        fb = BuildTfliteQuant(arch, offset, floatEnds);
        if ((ulong)((fb.Length + 15) & ~15) != offset) throw new InvalidOperationException("TFLite quant seed layout changed between passes");
        var file = new MemoryStream();
        file.Write(fb);
        file.Write(new byte[(int)offset - fb.Length]);
        // Weights near their zero point (128 ± 3) and small biases, so that activations stay in range: bytes 125..131.
        var data = new byte[region];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(125 + i % 7);
        file.Write(data);
        AppendLabelsZip(file, "fork\nspoon\n");
        return file.ToArray();
    }

    private static byte[] BuildTfliteQuant(MobileNetV1Architecture arch, ulong dataOffset, bool floatEnds)
    {
        var b = new FlatBufferBuilder(8192);
        int res = arch.Resolution;
        var tensors = new List<int>();
        var buffers = new List<int>();
        int EmptyBuffer() { b.StartTable(3); return b.EndTable(); }
        int DataBuffer(long bytes) { b.StartTable(3); b.AddUlong(1, dataOffset, 0); b.AddUlong(2, (ulong)bytes, 0); return b.EndTable(); }
        int Quant(float scale, long zeroPoint)
        {
            b.StartVector(4, 1, 4); b.AddFloat(scale); var sc = b.EndVector();
            b.StartVector(8, 1, 8); b.AddLong(zeroPoint); var zp = b.EndVector();
            b.StartTable(7);
            b.AddOffset(2, sc.Value, 0);
            b.AddOffset(3, zp.Value, 0);
            return b.EndTable();
        }
        int Tensor(int[] shape, sbyte type, uint buffer, string name, (float Scale, long ZeroPoint)? q)
        {
            var nameOff = b.CreateString(name);
            b.StartVector(4, shape.Length, 4);
            for (int i = shape.Length - 1; i >= 0; i--) b.AddInt(shape[i]);
            var shapeOff = b.EndVector();
            int quant = q is { } qq ? Quant(qq.Scale, qq.ZeroPoint) : 0;
            b.StartTable(5);
            b.AddOffset(0, shapeOff.Value, 0);
            b.AddSbyte(1, type, -1); // forced: FLOAT32 = 0 is the default
            b.AddUint(2, buffer, 0);
            b.AddOffset(3, nameOff.Value, 0);
            if (quant != 0) b.AddOffset(4, quant, 0);
            tensors.Add(b.EndTable());
            return tensors.Count - 1;
        }
        const sbyte UInt8 = 3, Int32 = 2, Float32 = 0;
        buffers.Add(EmptyBuffer());
        var ops = new List<(int Opcode, int[] Inputs, int[] Outputs, byte OptionsType, int Options)>();
        int modelInput = floatEnds ? Tensor(new[] { 1, res, res, 3 }, Float32, 0, "image", null) : -1;
        int prev = Tensor(new[] { 1, res, res, 3 }, UInt8, 0, "input", SeedInput);
        if (floatEnds) ops.Add((5, new[] { modelInput }, new[] { prev }, 0, 0)); // QUANTIZE
        else modelInput = prev;
        var current = SeedInput;
        foreach (var l in arch.Layers)
        {
            if (l.Kind == LayerKind.GlobalAveragePool)
            {
                b.StartTable(6);
                b.AddSbyte(0, 1, 0);               // padding VALID
                b.AddInt(1, 2, 0); b.AddInt(2, 2, 0); // stride 2 (as Google's files; the window is the whole map)
                b.AddInt(3, l.InW, 0); b.AddInt(4, l.InH, 0);
                int poolOptions = b.EndTable();
                int pooled = Tensor(new[] { 1, 1, 1, l.OutC }, UInt8, 0, "pool", current);
                ops.Add((0, new[] { prev }, new[] { pooled }, 5, poolOptions));
                prev = pooled;
                continue;
            }
            bool dw = l.Kind == LayerKind.Depthwise3x3;
            bool logits = l.Kind == LayerKind.Logits;
            int[] k = l.KernelShape; // HWIO
            int[] filterShape = dw ? new[] { 1, k[0], k[1], k[2] } : new[] { k[3], k[0], k[1], k[2] };
            buffers.Add(DataBuffer(l.KernelElements));
            int filter = Tensor(filterShape, UInt8, (uint)(buffers.Count - 1), l.Name + "/filter", SeedWeight);
            buffers.Add(DataBuffer(4L * l.OutC));
            float biasScale = current.Scale * SeedWeight.Scale;
            int bias = Tensor(new[] { l.OutC }, Int32, (uint)(buffers.Count - 1), l.Name + "/bias", (biasScale, 0));
            var outQ = logits ? SeedLogits : SeedActivation;
            int output = Tensor(new[] { 1, l.OutH, l.OutW, l.OutC }, UInt8, 0, l.Name + "/out", outQ);
            int options;
            if (dw)
            {
                b.StartTable(7);
                b.AddInt(1, l.Stride, 0); b.AddInt(2, l.Stride, 0);
                b.AddInt(3, 1, 0);                   // depth_multiplier
                b.AddSbyte(4, 3, 0);                 // RELU6
                options = b.EndTable();
            }
            else
            {
                b.StartTable(6);
                b.AddInt(1, l.Stride, 0); b.AddInt(2, l.Stride, 0);
                if (!logits) b.AddSbyte(3, 3, 0);    // RELU6 (the logits: NONE)
                options = b.EndTable();
            }
            ops.Add((dw ? 2 : 1, new[] { prev, filter, bias }, new[] { output }, (byte)(dw ? 2 : 1), options));
            prev = output;
            current = outQ;
        }
        int reshaped = Tensor(new[] { 1, arch.NumClasses }, UInt8, 0, "logits/reshape", SeedLogits);
        ops.Add((3, new[] { prev }, new[] { reshaped }, 0, 0));
        b.StartTable(1);
        b.AddFloat(0, 1f, 0);
        int softmaxOptions = b.EndTable();
        int probs = Tensor(new[] { 1, arch.NumClasses }, UInt8, 0, "probabilities", SeedSoftmax);
        ops.Add((4, new[] { reshaped }, new[] { probs }, 9, softmaxOptions));
        int modelOutput = probs;
        if (floatEnds)
        {
            modelOutput = Tensor(new[] { 1, arch.NumClasses }, Float32, 0, "probabilities_float", null);
            ops.Add((6, new[] { probs }, new[] { modelOutput }, 0, 0)); // DEQUANTIZE
        }

        VectorOffset IntVector(int[] v) { b.StartVector(4, v.Length, 4); for (int i = v.Length - 1; i >= 0; i--) b.AddInt(v[i]); return b.EndVector(); }
        VectorOffset OffsetVector(List<int> v) { b.StartVector(4, v.Count, 4); for (int i = v.Count - 1; i >= 0; i--) b.AddOffset(v[i]); return b.EndVector(); }
        var opOffsets = new List<int>();
        foreach (var (opcode, inputs, outputs, optionsType, options) in ops)
        {
            var ins = IntVector(inputs);
            var outs = IntVector(outputs);
            b.StartTable(5);
            b.AddUint(0, (uint)opcode, 0);
            b.AddOffset(1, ins.Value, 0);
            b.AddOffset(2, outs.Value, 0);
            if (optionsType != 0)
            {
                b.AddByte(3, optionsType, 0);
                b.AddOffset(4, options, 0);
            }
            opOffsets.Add(b.EndTable());
        }
        var codes = new List<int>();
        foreach (int builtin in new[] { 1, 3, 4, 22, 25, 114, 6 }) // AVERAGE_POOL_2D, CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, SOFTMAX, QUANTIZE, DEQUANTIZE
        {
            b.StartTable(4);
            b.AddSbyte(0, (sbyte)builtin, 0);
            b.AddInt(2, 1, 0);
            b.AddInt(3, builtin, 0);
            codes.Add(b.EndTable());
        }
        var tensorsVec = OffsetVector(tensors);
        var inputsVec = IntVector(new[] { modelInput });
        var outputsVec = IntVector(new[] { modelOutput });
        var opsVec = OffsetVector(opOffsets);
        var sgName = b.CreateString("main");
        b.StartTable(5);
        b.AddOffset(0, tensorsVec.Value, 0);
        b.AddOffset(1, inputsVec.Value, 0);
        b.AddOffset(2, outputsVec.Value, 0);
        b.AddOffset(3, opsVec.Value, 0);
        b.AddOffset(4, sgName.Value, 0);
        int subgraph = b.EndTable();
        var codesVec = OffsetVector(codes);
        var sgVec = OffsetVector(new List<int> { subgraph });
        var desc = b.CreateString("MobileNetGen uint8 fuzz seed");
        var buffersVec = OffsetVector(buffers);
        b.StartTable(5);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codesVec.Value, 0);
        b.AddOffset(2, sgVec.Value, 0);
        b.AddOffset(3, desc.Value, 0);
        b.AddOffset(4, buffersVec.Value, 0);
        int model = b.EndTable();
        b.Finish(model, "TFL3");
        return b.SizedByteArray();
    }

    /// <summary>
    /// A uint8 canonical file for α = 0.01 (8–10 channels), 32 px, 3 classes with labels, every quantization consistent;
    /// activations (ReLU6) at <paramref name="activationScale"/> (6/255: the clamp is the whole uint8 range).
    /// </summary>
    public static byte[] WeightsQuantized(float activationScale = 6f / 255)
    {
        var arch = new MobileNetV1Architecture(0.01, 32, 3);
        var rng = new SyntheticWeights.SplitMix64(11);
        var tensors = new List<Tensor>();
        var layers = new List<QuantizedConvLayer>();
        QuantizedPool? pool = null;
        var current = new QuantParams(SeedInput.Scale, (int)SeedInput.ZeroPoint);
        var weight = new QuantParams(SeedWeight.Scale, (int)SeedWeight.ZeroPoint);
        foreach (var l in arch.Layers)
        {
            if (l.Kind == LayerKind.GlobalAveragePool)
            {
                pool = new QuantizedPool(current, current, QuantizedActivation.None);
                continue;
            }
            var q = new byte[l.KernelElements];
            for (int i = 0; i < q.Length; i++) q[i] = (byte)rng.Next();
            var bias = new int[l.OutC];
            for (int i = 0; i < bias.Length; i++) bias[i] = (int)(rng.Next() % 2001) - 1000;
            tensors.Add(Tensor.FromBytes(CanonicalWeights.Kernel(l), l.KernelShape, q));
            tensors.Add(Tensor.FromInt32s(CanonicalWeights.Bias(l), new[] { l.OutC }, bias));
            bool logits = l.Kind == LayerKind.Logits;
            var output = logits ? new QuantParams(SeedLogits.Scale, (int)SeedLogits.ZeroPoint) : new QuantParams(activationScale, 0);
            layers.Add(new QuantizedConvLayer(l.Name, current, weight, current.Scale * weight.Scale, output, logits ? QuantizedActivation.None : QuantizedActivation.Relu6));
            current = output;
        }
        var network = new QuantizedNetwork(layers[0].Input, layers, pool!, new QuantizedSoftmax(current, new QuantParams(SeedSoftmax.Scale, 0), 1f));
        var meta = new Dictionary<string, string>
        {
            [CanonicalWeights.Keys.Format] = CanonicalWeights.FormatVersion,
            [CanonicalWeights.Keys.Architecture] = "mobilenet_v1",
            [CanonicalWeights.Keys.Name] = "fuzz_seed_quant",
            [CanonicalWeights.Keys.Variant] = "custom",
            [CanonicalWeights.Keys.Alpha] = "0.01",
            [CanonicalWeights.Keys.Resolution] = "32",
            [CanonicalWeights.Keys.NumClasses] = "3",
            [CanonicalWeights.Keys.BackgroundClass] = "false",
            [CanonicalWeights.Keys.Precision] = CanonicalWeights.PrecisionUInt8,
            [CanonicalWeights.Keys.Weights] = CanonicalWeights.GenuineUInt8,
            [CanonicalWeights.Keys.Quantization] = CanonicalWeights.QuantizationToJson(network),
            [CanonicalWeights.Keys.Labels] = CanonicalWeights.CustomLabels,
            [CanonicalWeights.Keys.LabelsJson] = CanonicalWeights.LabelsToJson(new[] { "cat", "dog", "bird" }),
        };
        return new SafeTensorsFile(meta, tensors).Write();
    }

    // ---------------------------------------------------------------- TF.js layers model

    // ---------------------------------------------------------------- the uint8 SSD detector

    /// <summary>The seed detector's labels: background and two classes (labelmap.txt beside the model, as Google's SSD ships).</summary>
    public static readonly string[] SsdLabels = { "???", "fork", "spoon" };

    /// <summary>
    /// A uint8 SSD MobileNet v1 TFLite detector in TOCO's form (docs/ssd-graph.md), as small as the importer allows: width 0.25 at
    /// 32 px, the 4 extra feature layers, 6 heads (3, 6, 6, 6, 6, 6 anchors per cell: 42 anchors), 3 class columns. Each predictor
    /// is followed by its RESHAPE; the box concatenation by its RESHAPE to [1,N,4]; the class concatenation (requantizing: its
    /// output scale differs from the predictors') by LOGISTIC; then TFLite_Detection_PostProcess with FlexBuffer options (regular
    /// NMS, detections_per_class set) and a uint8 anchor constant. Every constant's buffer points into one shared data region
    /// after the flatbuffer.
    /// </summary>
    public static byte[] TfliteSsd()
    {
        byte[] fb = BuildTfliteSsd(1UL << 40, out long region); // region: the largest constant (extra1's 3×3 kernel)
        ulong offset = (ulong)((fb.Length + 15) & ~15);
        fb = BuildTfliteSsd(offset, out _);
        if ((ulong)((fb.Length + 15) & ~15) != offset) throw new InvalidOperationException("TFLite SSD seed layout changed between passes");
        var file = new MemoryStream();
        file.Write(fb);
        file.Write(new byte[(int)offset - fb.Length]);
        var data = new byte[region];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(125 + i % 7);
        file.Write(data);
        return file.ToArray();
    }

    /// <summary>The canonical detector file the importer makes of <see cref="TfliteSsd"/> (and its labels).</summary>
    public static byte[] WeightsSsd()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mng-ssd-seed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string model = Path.Combine(dir, "ssd.tflite");
            File.WriteAllBytes(model, TfliteSsd());
            return MobileNetGen.Importers.MobileNetImporter.Import(model, new MobileNetGen.Importers.ImportOptions { Labels = SsdLabels }).Write();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The post-processing options as a FlexBuffer map with 4-byte slots (flexbuffers.h's layout; keys sorted).</summary>
    private static byte[] SsdOptionsFlexBuffer()
    {
        var entries = new (string Key, int Type, double Value)[]
        {
            ("detections_per_class", 1, 5), ("h_scale", 3, 5), ("max_classes_per_detection", 1, 1), ("max_detections", 1, 10),
            ("nms_iou_threshold", 3, 0.6), ("nms_score_threshold", 3, 1e-8), ("num_classes", 1, 2), ("use_regular_nms", 26, 1),
            ("w_scale", 3, 5), ("x_scale", 3, 10), ("y_scale", 3, 10),
        };
        const int width = 4;
        var b = new List<byte>();
        void Put(ulong v, int w) { for (int i = 0; i < w; i++) b.Add((byte)(v >> (8 * i))); }
        var keyPos = new int[entries.Length];
        for (int i = 0; i < entries.Length; i++) { keyPos[i] = b.Count; b.AddRange(Encoding.UTF8.GetBytes(entries[i].Key)); b.Add(0); }
        while (b.Count % width != 0) b.Add(0);
        Put((ulong)entries.Length, width);
        int keys = b.Count;
        for (int i = 0; i < entries.Length; i++) Put((ulong)(b.Count - keyPos[i]), width);
        int prefix = b.Count;
        Put((ulong)(prefix - keys), width); // backwards offset to the keys vector
        Put(width, width);                  // its element width
        Put((ulong)entries.Length, width);  // the map's size
        int values = b.Count;
        foreach (var (_, type, value) in entries)
            Put(type switch { 1 => (ulong)(long)value, 3 => BitConverter.SingleToUInt32Bits((float)value), _ => value != 0 ? 1UL : 0UL }, width);
        foreach (var (_, type, _) in entries) b.Add((byte)((type << 2) | 2));
        int root = b.Count;
        Put((ulong)(root - values), width);
        b.Add((9 << 2) | 2); // MAP, 4-byte elements
        b.Add(width);
        return b.ToArray();
    }

    private static byte[] BuildTfliteSsd(ulong dataOffset, out long region)
    {
        long largest = 0;
        const double alpha = 0.25;
        const int res = 32, classes = 3;
        int[] anchorsPerCell = { 3, 6, 6, 6, 6, 6 };
        int[] extraDepths = { 64, 128, 32, 64, 32, 64, 16, 32 }; // 1×1 then 3×3/2, four times
        var SsdInput = SeedInput;
        var Activation = SeedActivation;
        var Predictor = (Scale: 0.05f, ZeroPoint: 128L);
        var ClassConcat = (Scale: 0.06f, ZeroPoint: 120L);
        var Scores = (Scale: 1f / 256, ZeroPoint: 0L);
        var Anchor = (Scale: 0.01f, ZeroPoint: 0L);

        var b = new FlatBufferBuilder(16384);
        var tensors = new List<int>();
        var buffers = new List<int>();
        int EmptyBuffer() { b.StartTable(3); return b.EndTable(); }
        int DataBuffer(long bytes) { largest = Math.Max(largest, bytes); b.StartTable(3); b.AddUlong(1, dataOffset, 0); b.AddUlong(2, (ulong)bytes, 0); return b.EndTable(); }
        int Quant(float scale, long zeroPoint)
        {
            b.StartVector(4, 1, 4); b.AddFloat(scale); var sc = b.EndVector();
            b.StartVector(8, 1, 8); b.AddLong(zeroPoint); var zp = b.EndVector();
            b.StartTable(7);
            b.AddOffset(2, sc.Value, 0);
            b.AddOffset(3, zp.Value, 0);
            return b.EndTable();
        }
        int Tensor(int[] shape, sbyte type, uint buffer, string name, (float Scale, long ZeroPoint)? q)
        {
            var nameOff = b.CreateString(name);
            b.StartVector(4, shape.Length, 4);
            for (int i = shape.Length - 1; i >= 0; i--) b.AddInt(shape[i]);
            var shapeOff = b.EndVector();
            int quant = q is { } qq ? Quant(qq.Scale, qq.ZeroPoint) : 0;
            b.StartTable(5);
            b.AddOffset(0, shapeOff.Value, 0);
            b.AddSbyte(1, type, -1);
            b.AddUint(2, buffer, 0);
            b.AddOffset(3, nameOff.Value, 0);
            if (quant != 0) b.AddOffset(4, quant, 0);
            tensors.Add(b.EndTable());
            return tensors.Count - 1;
        }
        const sbyte UInt8 = 3, Int32 = 2, Float32 = 0;
        buffers.Add(EmptyBuffer());
        // Opcode indices: 0 CONV_2D, 1 DEPTHWISE_CONV_2D, 2 RESHAPE, 3 CONCATENATION, 4 LOGISTIC, 5 the custom post-processing.
        var ops = new List<(int Opcode, int[] Inputs, int[] Outputs, byte OptionsType, int Options, byte[]? Custom)>();
        int image = Tensor(new[] { 1, res, res, 3 }, UInt8, 0, "image", SsdInput);

        // One convolution: [1,h,w,cin] → [1,⌈h/s⌉,⌈w/s⌉,cout]; returns the output tensor and its size.
        (int Tensor, int H, int C) Conv(string name, int input, int h, int cin, int cout, int k, int stride, bool depthwise, bool relu6,
                                        (float Scale, long ZeroPoint) inQ, (float Scale, long ZeroPoint) outQ)
        {
            int oh = (h + stride - 1) / stride;
            int[] filterShape = depthwise ? new[] { 1, k, k, cin } : new[] { cout, k, k, cin };
            buffers.Add(DataBuffer((long)k * k * cin * (depthwise ? 1 : cout)));
            int filter = Tensor(filterShape, UInt8, (uint)(buffers.Count - 1), name + "/weights", SeedWeight);
            buffers.Add(DataBuffer(4L * cout));
            int bias = Tensor(new[] { cout }, Int32, (uint)(buffers.Count - 1), name + "/bias", (inQ.Scale * SeedWeight.Scale, 0));
            int output = Tensor(new[] { 1, oh, oh, cout }, UInt8, 0, name, outQ);
            int options;
            if (depthwise)
            {
                b.StartTable(7);
                b.AddInt(1, stride, 0); b.AddInt(2, stride, 0);
                b.AddInt(3, 1, 0);
                if (relu6) b.AddSbyte(4, 3, 0);
                options = b.EndTable();
            }
            else
            {
                b.StartTable(6);
                b.AddInt(1, stride, 0); b.AddInt(2, stride, 0);
                if (relu6) b.AddSbyte(3, 3, 0);
                options = b.EndTable();
            }
            ops.Add((depthwise ? 1 : 0, new[] { input, filter, bias }, new[] { output }, (byte)(depthwise ? 2 : 1), options, null));
            return (output, oh, cout);
        }

        var features = new List<(int Tensor, int H, int C, (float, long) Q)>();
        var cur = Conv("conv0", image, res, 3, MobileNetV1Architecture.Depth(32, alpha), 3, 2, false, true, SsdInput, Activation);
        for (int n = 1; n <= 13; n++)
        {
            cur = Conv($"block{n}_dw", cur.Tensor, cur.H, cur.C, cur.C, 3, MobileNetV1Architecture.BlockStrides[n - 1], true, true, Activation, Activation);
            cur = Conv($"block{n}_pw", cur.Tensor, cur.H, cur.C, MobileNetV1Architecture.Depth(MobileNetV1Architecture.BlockWidths[n - 1], alpha), 1, 1, false, true, Activation, Activation);
            if (n == 11 || n == 13) features.Add((cur.Tensor, cur.H, cur.C, Activation));
        }
        for (int i = 0; i < 4; i++)
        {
            cur = Conv($"extra{i + 1}_1x1", cur.Tensor, cur.H, cur.C, extraDepths[2 * i], 1, 1, false, true, Activation, Activation);
            cur = Conv($"extra{i + 1}_3x3", cur.Tensor, cur.H, cur.C, extraDepths[2 * i + 1], 3, 2, false, true, Activation, Activation);
            features.Add((cur.Tensor, cur.H, cur.C, Activation));
        }
        var boxReshapes = new List<int>();
        var classReshapes = new List<int>();
        int anchors = 0;
        for (int h = 0; h < features.Count; h++)
        {
            var f = features[h];
            int a = anchorsPerCell[h], rows = f.H * f.H * a;
            anchors += rows;
            var box = Conv($"box{h}", f.Tensor, f.H, f.C, 4 * a, 1, 1, false, false, Activation, Predictor);
            int boxR = Tensor(new[] { 1, rows, 1, 4 }, UInt8, 0, $"box{h}/reshape", Predictor);
            ops.Add((2, new[] { box.Tensor }, new[] { boxR }, 0, 0, null));
            boxReshapes.Add(boxR);
            var cls = Conv($"class{h}", f.Tensor, f.H, f.C, classes * a, 1, 1, false, false, Activation, Predictor);
            int clsR = Tensor(new[] { 1, rows, classes }, UInt8, 0, $"class{h}/reshape", Predictor);
            ops.Add((2, new[] { cls.Tensor }, new[] { clsR }, 0, 0, null));
            classReshapes.Add(clsR);
        }
        int ConcatOptions() { b.StartTable(2); b.AddInt(0, 1, 0); return b.EndTable(); }
        int boxConcat = Tensor(new[] { 1, anchors, 1, 4 }, UInt8, 0, "concat", Predictor);
        ops.Add((3, boxReshapes.ToArray(), new[] { boxConcat }, 10, ConcatOptions(), null));
        int boxes = Tensor(new[] { 1, anchors, 4 }, UInt8, 0, "Squeeze", Predictor);
        ops.Add((2, new[] { boxConcat }, new[] { boxes }, 0, 0, null));
        int classConcat = Tensor(new[] { 1, anchors, classes }, UInt8, 0, "concat_1", ClassConcat);
        ops.Add((3, classReshapes.ToArray(), new[] { classConcat }, 10, ConcatOptions(), null));
        int scores = Tensor(new[] { 1, anchors, classes }, UInt8, 0, "convert_scores", Scores);
        ops.Add((4, new[] { classConcat }, new[] { scores }, 0, 0, null));
        buffers.Add(DataBuffer(4L * anchors));
        int anchorTensor = Tensor(new[] { anchors, 4 }, UInt8, (uint)(buffers.Count - 1), "anchors", Anchor);
        var outs = Enumerable.Range(0, 4).Select(i => Tensor(Array.Empty<int>(), Float32, 0, i == 0 ? "TFLite_Detection_PostProcess" : $"TFLite_Detection_PostProcess:{i}", null)).ToArray();
        ops.Add((5, new[] { boxes, scores, anchorTensor }, outs, 0, 0, SsdOptionsFlexBuffer()));

        VectorOffset IntVector(int[] v) { b.StartVector(4, v.Length, 4); for (int i = v.Length - 1; i >= 0; i--) b.AddInt(v[i]); return b.EndVector(); }
        VectorOffset OffsetVector(List<int> v) { b.StartVector(4, v.Count, 4); for (int i = v.Count - 1; i >= 0; i--) b.AddOffset(v[i]); return b.EndVector(); }
        var opOffsets = new List<int>();
        foreach (var (opcode, inputs, outputs, optionsType, options, custom) in ops)
        {
            var ins = IntVector(inputs);
            var outv = IntVector(outputs);
            VectorOffset customOff = default;
            if (custom != null)
            {
                b.StartVector(1, custom.Length, 1);
                for (int i = custom.Length - 1; i >= 0; i--) b.AddByte(custom[i]);
                customOff = b.EndVector();
            }
            b.StartTable(7);
            b.AddUint(0, (uint)opcode, 0);
            b.AddOffset(1, ins.Value, 0);
            b.AddOffset(2, outv.Value, 0);
            if (optionsType != 0)
            {
                b.AddByte(3, optionsType, 0);
                b.AddOffset(4, options, 0);
            }
            if (custom != null) b.AddOffset(5, customOff.Value, 0);
            opOffsets.Add(b.EndTable());
        }
        var codes = new List<int>();
        foreach (int builtin in new[] { 3, 4, 22, 2, 14, 32 })
        {
            var customCode = builtin == 32 ? b.CreateString("TFLite_Detection_PostProcess") : default;
            b.StartTable(4);
            b.AddSbyte(0, (sbyte)builtin, 0);
            if (builtin == 32) b.AddOffset(1, customCode.Value, 0);
            b.AddInt(2, 1, 0);
            b.AddInt(3, builtin, 0);
            codes.Add(b.EndTable());
        }
        var tensorsVec = OffsetVector(tensors);
        var inputsVec = IntVector(new[] { image });
        var outputsVec = IntVector(outs);
        var opsVec = OffsetVector(opOffsets);
        var sgName = b.CreateString("main");
        b.StartTable(5);
        b.AddOffset(0, tensorsVec.Value, 0);
        b.AddOffset(1, inputsVec.Value, 0);
        b.AddOffset(2, outputsVec.Value, 0);
        b.AddOffset(3, opsVec.Value, 0);
        b.AddOffset(4, sgName.Value, 0);
        int subgraph = b.EndTable();
        var codesVec = OffsetVector(codes);
        var sgVec = OffsetVector(new List<int> { subgraph });
        region = largest;
        var desc = b.CreateString("MobileNetGen SSD fuzz seed");
        var buffersVec = OffsetVector(buffers);
        b.StartTable(5);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codesVec.Value, 0);
        b.AddOffset(2, sgVec.Value, 0);
        b.AddOffset(3, desc.Value, 0);
        b.AddOffset(4, buffersVec.Value, 0);
        int model = b.EndTable();
        b.Finish(model, "TFL3");
        return b.SizedByteArray();
    }

    /// <summary>
    /// A Keras MobileNet v1 0.25_128 TF.js layers model with a 2-class head: model.json (topology with
    /// batch_input_shape, one manifest group), its shard and labels.txt, joined as the tfjs target expects.
    /// </summary>
    public static byte[] Tfjs()
    {
        var arch = new MobileNetV1Architecture(SeedVariant, 2);
        var weights = new List<(string Name, int[] Shape)>();
        foreach (var l in arch.Layers)
        {
            var c = new[] { l.OutC };
            string? kernel = null, bn = null;
            string block = l.Name.StartsWith("block", StringComparison.Ordinal) ? l.Name.Substring(5, l.Name.IndexOf('.') - 5) : "";
            switch (l.Kind)
            {
                case LayerKind.Conv3x3: kernel = "conv1/kernel"; bn = "conv1_bn"; break;
                case LayerKind.Depthwise3x3: kernel = $"conv_dw_{block}/depthwise_kernel"; bn = $"conv_dw_{block}_bn"; break;
                case LayerKind.Pointwise: kernel = $"conv_pw_{block}/kernel"; bn = $"conv_pw_{block}_bn"; break;
                case LayerKind.Logits:
                    weights.Add(("conv_preds/kernel", l.KernelShape));
                    weights.Add(("conv_preds/bias", c));
                    continue;
                default: continue;
            }
            weights.Add((kernel, l.KernelShape));
            foreach (var leaf in new[] { "gamma", "beta", "moving_mean", "moving_variance" }) weights.Add((bn + "/" + leaf, c));
        }
        var json = new StringBuilder();
        json.Append("{\"format\":\"layers-model\",\"generatedBy\":\"keras v2.1.6\",\"modelTopology\":{\"class_name\":\"Model\",\"config\":{\"name\":\"mobilenet_0.25_128\",\"layers\":[");
        json.Append("{\"class_name\":\"InputLayer\",\"config\":{\"batch_input_shape\":[null,").Append(SeedVariant.Resolution).Append(',').Append(SeedVariant.Resolution).Append(",3],\"dtype\":\"float32\",\"name\":\"input_1\"}}");
        json.Append("]}},\"weightsManifest\":[{\"paths\":[\"").Append(FuzzTargets.TfjsShardName).Append("\"],\"weights\":[");
        var shard = new MemoryStream();
        for (int i = 0; i < weights.Count; i++)
        {
            var (name, shape) = weights[i];
            if (i > 0) json.Append(',');
            json.Append("{\"name\":\"").Append(name).Append("\",\"shape\":[").Append(string.Join(",", shape)).Append("],\"dtype\":\"float32\"}");
            long n = 1;
            foreach (int d in shape) n *= d;
            float v = name.EndsWith("variance", StringComparison.Ordinal) || name.EndsWith("gamma", StringComparison.Ordinal) ? 1f : 0.01f;
            var bytes = BitConverter.GetBytes(v);
            for (long k = 0; k < n; k++) shard.Write(bytes);
        }
        json.Append("]}]}");
        return FuzzTargets.JoinTfjs(Encoding.UTF8.GetBytes(json.ToString()), shard.ToArray(), Encoding.UTF8.GetBytes("cat\ndog\n"));
    }

    /// <summary>A small model.json whose manifest has a few weights and a matching shard (refused later: layers missing).</summary>
    public static byte[] TfjsManifestOnly()
    {
        string json = "{\"modelTopology\":{\"config\":{\"layers\":[{\"config\":{\"batch_input_shape\":[null,224,224,3]}}]}},\"weightsManifest\":[" +
                      "{\"paths\":[\"" + FuzzTargets.TfjsShardName + "\"],\"weights\":[{\"name\":\"conv1/kernel\",\"shape\":[3,3,3,8],\"dtype\":\"float32\"}," +
                      "{\"name\":\"conv1_bn/gamma\",\"shape\":[8],\"dtype\":\"float32\"},{\"name\":\"n\",\"shape\":[2],\"dtype\":\"int32\"}]}]}";
        var shard = new byte[(3 * 3 * 3 * 8 + 8 + 2) * 4];
        return FuzzTargets.JoinTfjs(Encoding.UTF8.GetBytes(json), shard);
    }

    // ---------------------------------------------------------------- images

    /// <summary>Small images in every pixel format the loader handles: PNG (RGB, gray, palette, 16-bit, alpha), JPEG (colour, gray, EXIF-rotated), BMP (24, 8, 32 bit).</summary>
    public static IReadOnlyList<(string Name, byte[] Data)> Images()
    {
        var list = new List<(string, byte[])>();
        byte[] Encode<TPixel>(Image<TPixel> img, SixLabors.ImageSharp.Formats.IImageEncoder encoder) where TPixel : unmanaged, IPixel<TPixel>
        {
            using (img)
            {
                var ms = new MemoryStream();
                img.Save(ms, encoder);
                return ms.ToArray();
            }
        }
        Image<TPixel> Pattern<TPixel>(int w, int h) where TPixel : unmanaged, IPixel<TPixel>
        {
            var img = new Image<TPixel>(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    var p = default(TPixel);
                    p.FromRgba32(new Rgba32((byte)(x * 16), (byte)(y * 20), (byte)((x + y) * 8), (byte)(255 - x * 10)));
                    img[x, y] = p;
                }
            return img;
        }
        list.Add(("rgb.png", Encode(Pattern<Rgb24>(12, 9), new PngEncoder { ColorType = PngColorType.Rgb })));
        list.Add(("gray.png", Encode(Pattern<L8>(8, 8), new PngEncoder { ColorType = PngColorType.Grayscale })));
        list.Add(("palette.png", Encode(Pattern<Rgb24>(10, 6), new PngEncoder { ColorType = PngColorType.Palette })));
        list.Add(("rgb48.png", Encode(Pattern<Rgb48>(7, 5), new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 })));
        list.Add(("rgba.png", Encode(Pattern<Rgba32>(9, 7), new PngEncoder { ColorType = PngColorType.RgbWithAlpha })));
        list.Add(("rgb.jpg", Encode(Pattern<Rgb24>(16, 16), new JpegEncoder { Quality = 80 })));
        list.Add(("gray.jpg", Encode(Pattern<L8>(8, 16), new JpegEncoder { Quality = 80, ColorType = JpegColorType.Luminance })));
        var rotated = Pattern<Rgb24>(16, 8);
        rotated.Metadata.ExifProfile = new ExifProfile();
        rotated.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        list.Add(("exif6.jpg", Encode(rotated, new JpegEncoder { Quality = 75 })));
        list.Add(("rgb24.bmp", Encode(Pattern<Rgb24>(5, 4), new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 })));
        list.Add(("pal8.bmp", Encode(Pattern<Rgb24>(6, 3), new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 })));
        list.Add(("rgba32.bmp", Encode(Pattern<Rgba32>(4, 4), new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel32 })));
        return list;
    }
}
