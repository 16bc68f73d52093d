using System.Buffers.Binary;
using MobileNetGen.Importers;
using MobileNetGen.Tests.Importers;
using Xunit;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// Malformed and unsupported uint8 models, built by patching bytes of Google's real files (positions found with
/// <see cref="RawTflite"/>): each must give an <see cref="ImportException"/> whose message says what is wrong — never
/// another exception, never a silently different model.
/// </summary>
public class HostileQuantizedTfliteTests : IDisposable
{
    private const string Toco = "tflite-quant-2018/mobilenet_v1_0.25_224_quant.tflite"; // TOCO 2018, no fused activations
    private const string Mlir = "tflite-quant-2018/mobilenet_v1_0.25_128_quant.tflite"; // MLIR re-export: RELU6 fused, metadata zip
    private const string Extractor = "tflite-quant-2018/coral-1.0_224-split/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite";
    private const string Head = "tflite-quant-2018/coral-1.0_224-split/mobilenet_quant_v1_224_head_layers.tflite";

    private readonly TempFolder _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static byte[] Bytes(string model) => File.ReadAllBytes(SharedData.Model(model));

    /// <summary>A patched copy of <paramref name="model"/>; the patch gets the bytes and a reader of the original.</summary>
    private string Patched(string model, string name, Action<byte[], RawTflite> patch)
    {
        byte[] b = Bytes(model);
        patch(b, new RawTflite(Bytes(model)));
        return _tmp.File(name + ".tflite", b);
    }

    private static ImportException Refused(string path, string? head = null)
    {
        var options = new ImportOptions { HeadPath = head };
        return Assert.Throws<ImportException>(() => MobileNetImporter.Import(path, options));
    }

    private static void AssertMessage(ImportException e, params string[] parts)
    {
        foreach (string p in parts) Assert.True(e.Message.Contains(p, StringComparison.Ordinal), $"message lacks '{p}': {e.Message}");
    }

    private static int Conv0(RawTflite raw) => raw.OperatorsOf(3)[0];

    [SharedDataFact]
    public void Truncated_files_are_refused()
    {
        foreach (string model in new[] { Toco, Mlir })
        {
            byte[] full = Bytes(model);
            // The flatbuffer proper: the MLIR file carries its TFLite metadata (labels) as a zip appended after it.
            int zip = full.AsSpan().LastIndexOf("PK\u0003\u0004"u8); // the one entry's local header
            int end = zip > 0 ? zip : full.Length;
            string whole = QuantizedGolden.NetworkSha256(MobileNetImporter.Import(SharedData.Model(model), new ImportOptions()));
            foreach (int len in new[] { 8, 15, 16, 100, 1000, 4096, end / 3, end / 2, end - 300_000, end - 64, end - 4, end - 1 })
            {
                if (len <= 0 || len >= end) continue;
                string p = _tmp.File($"trunc{len}.tflite", full.AsSpan(0, len).ToArray());
                try
                {
                    // Accepted only when the bytes cut were ones nothing reads (the TOCO file ends with an OperatorCode table
                    // no operator uses): then the network (tensors and quantization) must be exactly the whole file's.
                    var f = MobileNetImporter.Import(p, new ImportOptions());
                    Assert.True(len >= end - 64, $"{model} cut to {len} of {end} bytes was accepted");
                    Assert.Equal(whole, QuantizedGolden.NetworkSha256(f));
                }
                catch (ImportException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                }
            }
            if (zip > 0)
            {
                // A damaged metadata archive loses only the labels it carries, which for Google's ImageNet head are the defaults.
                var f = MobileNetImporter.Import(_tmp.File("zip-cut.tflite", full.AsSpan(0, zip + 100).ToArray()), new ImportOptions());
                Assert.Equal("imagenet", f.GetMetadata("labels"));
            }
        }
    }

    [SharedDataFact]
    public void A_filter_buffer_longer_than_its_tensor_is_refused()
    {
        string p = Patched(Toco, "buffer", (b, raw) =>
        {
            // Buffer.data of conv0's filter: bump the vector length by one byte.
            int filter = raw.OperatorInputs(Conv0(raw))[1];
            byte[] data = raw.TensorData(filter);
            int at = b.AsSpan().IndexOf(data) - 4;
            Assert.Equal(data.Length, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at)));
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), data.Length + 1);
        });
        AssertMessage(Refused(p), "data bytes", "expected 216");
    }

    [SharedDataFact]
    public void Per_channel_quantization_is_refused()
    {
        string p = Patched(Toco, "per-channel", (b, raw) =>
        {
            int filter = raw.OperatorInputs(Conv0(raw))[1];
            int at = raw.ScaleDataPosition(filter) - 4;            // the scale vector's length: 1 → 8 (one per output channel)
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), 8);
        });
        AssertMessage(Refused(p), "per-channel quantization", "8 scales", "per-tensor");
    }

    [SharedDataFact]
    public void Int8_tensors_are_refused()
    {
        string weights = Patched(Toco, "int8-filter", (b, raw) => b[raw.TensorTypePosition(raw.OperatorInputs(Conv0(raw))[1])] = 9);
        AssertMessage(Refused(weights), "int8", "not supported");
        string input = Patched(Mlir, "int8-input", (b, raw) => b[raw.TensorTypePosition(raw.Inputs[0])] = 9);
        AssertMessage(Refused(input), "int8");
    }

    [SharedDataFact]
    public void Unknown_and_unsupported_operators_are_refused()
    {
        // TOCO file opcodes: 0 AVERAGE_POOL_2D, 1 CONV_2D, 2 DEPTHWISE_CONV_2D, 3 SOFTMAX, 4 RESHAPE (deprecated byte field).
        int Softmax(RawTflite raw) => Enumerable.Range(0, raw.OpcodeCount).Single(i => raw.Builtin(i) == 25);
        string unknown = Patched(Toco, "unknown-op", (b, raw) => b[raw.FieldPosition(raw.Opcode(Softmax(raw)), 0)] = 126);
        AssertMessage(Refused(unknown), "builtin operator 126", "not part of the quantized MobileNet v1");
        string fc = Patched(Toco, "fully-connected", (b, raw) => b[raw.FieldPosition(raw.Opcode(Softmax(raw)), 0)] = 9);
        AssertMessage(Refused(fc), "FULLY_CONNECTED");
    }

    [SharedDataFact]
    public void A_float_operator_in_the_middle_is_refused()
    {
        // The pool's opcode becomes DEQUANTIZE: a float op between the backbone and the logits.
        string op = Patched(Toco, "dequantize-middle", (b, raw) =>
            b[raw.FieldPosition(raw.Opcode(Enumerable.Range(0, raw.OpcodeCount).Single(i => raw.Builtin(i) == 1)), 0)] = 6);
        AssertMessage(Refused(op), "DEQUANTIZE is supported only at the ends");
        // A float tensor between two uint8 layers (block 3's depthwise output).
        string tensor = Patched(Toco, "float-tensor", (b, raw) => b[raw.TensorTypePosition(raw.OperatorOutputs(raw.OperatorsOf(4)[2])[0])] = 0);
        AssertMessage(Refused(tensor), "float32", "float operator in a quantized model");
    }

    [SharedDataFact]
    public void Unexpected_fused_activations_are_refused()
    {
        // MLIR file: Conv2DOptions.fused_activation_function (field 3) and DepthwiseConv2DOptions' (field 4) are present (RELU6).
        string tanh = Patched(Mlir, "tanh", (b, raw) => b[raw.FieldPosition(raw.OperatorOptions(raw.OperatorsOf(3)[1])!.Value, 3)] = 4);
        AssertMessage(Refused(tanh), "fused activation TANH", "NONE or RELU6");
        string relu = Patched(Mlir, "relu", (b, raw) => b[raw.FieldPosition(raw.OperatorOptions(raw.OperatorsOf(4)[0])!.Value, 4)] = 1);
        AssertMessage(Refused(relu), "fused activation RELU ");
    }

    [SharedDataFact]
    public void Strides_and_depth_multipliers_other_than_MobileNet_s_are_refused()
    {
        string stride = Patched(Mlir, "stride", (b, raw) =>
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(raw.FieldPosition(raw.OperatorOptions(raw.OperatorsOf(3)[1])!.Value, 1)), 2));
        AssertMessage(Refused(stride), "stride 1x2", "MobileNet v1 has 1x1");
        string dm = Patched(Mlir, "depth-multiplier", (b, raw) =>
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(raw.FieldPosition(raw.OperatorOptions(raw.OperatorsOf(4)[0])!.Value, 3)), 2));
        AssertMessage(Refused(dm), "depth multiplier 2");
    }

    [SharedDataFact]
    public void Quantization_values_out_of_range_are_refused()
    {
        string zp = Patched(Toco, "zero-point", (b, raw) =>
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(raw.ZeroPointDataPosition(raw.OperatorOutputs(Conv0(raw))[0])), 300));
        AssertMessage(Refused(zp), "zero point 300");
        string nan = Patched(Toco, "scale-nan", (b, raw) =>
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(raw.ScaleDataPosition(raw.OperatorInputs(Conv0(raw))[1])), float.NaN));
        AssertMessage(Refused(nan), "scale NaN");
        string bias = Patched(Toco, "bias-scale", (b, raw) =>
        {
            int at = raw.ScaleDataPosition(raw.OperatorInputs(Conv0(raw))[2]);
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(at), BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(at)) * 2);
        });
        AssertMessage(Refused(bias), "conv0: bias scale", "1e-6 relative tolerance");
        string biasZp = Patched(Toco, "bias-zero-point", (b, raw) =>
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(raw.ZeroPointDataPosition(raw.OperatorInputs(Conv0(raw))[2])), 5));
        AssertMessage(Refused(biasZp), "zero point 5", "int32 biases have zero point 0");
    }

    [SharedDataFact]
    public void A_head_whose_input_quantization_differs_from_the_backbone_output_is_refused()
    {
        string head = Patched(Head, "head", (b, raw) =>
        {
            int at = raw.ScaleDataPosition(raw.Inputs[0]);
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(at), BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(at)) * 1.5f);
        });
        AssertMessage(Refused(SharedData.Model(Extractor), head), "differs from the backbone's output quantization", "not one network");
    }

    [SharedDataFact]
    public void Random_byte_corruption_gives_only_import_errors()
    {
        byte[] full = Bytes(Mlir);
        var rng = new Random(15);
        int refused = 0;
        for (int i = 0; i < 60; i++)
        {
            byte[] bad = (byte[])full.Clone();
            // Corrupt the flatbuffer's tables (the first ~7 KB and the last ~30 KB before the metadata: offsets, vtables, options).
            int region = rng.Next(2) == 0 ? rng.Next(8, 7000) : rng.Next(full.Length - 60_000, full.Length - 22_000);
            for (int k = 0; k < 4; k++) bad[Math.Clamp(region + k, 8, full.Length - 1)] = (byte)rng.Next(256);
            string p = _tmp.File($"rand{i}.tflite", bad);
            try { MobileNetImporter.Import(p, new ImportOptions()); }
            catch (ImportException) { refused++; }
        }
        Assert.True(refused > 0, "no corruption was refused");
    }
}
