using System.Globalization;
using MobileNetGen.Fuzzing;
using MobileNetGen.Model;
using MobileNetGen.Tests.Reference;
using Xunit;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// The canonical uint8 format (generator/MobileNetGen.Model, weights/README.md "Quantized (uint8) entries"): the I32 dtype,
/// the <c>_quant</c> variant names, the <c>quantization</c> metadata's writer and typed reader, and the validator.
/// </summary>
public class QuantizedCanonicalFormatTests
{
    private static SafeTensorsFile Seed() => SafeTensorsFile.Read(FuzzSeeds.WeightsQuantized());

    private static SafeTensorsFile WithMeta(SafeTensorsFile f, string key, string? value)
    {
        var meta = new Dictionary<string, string>(f.Metadata);
        if (value == null) meta.Remove(key); else meta[key] = value;
        return new SafeTensorsFile(meta, f.Tensors);
    }

    private static SafeTensorsFile WithJson(SafeTensorsFile f, Func<string, string> edit) =>
        WithMeta(f, CanonicalWeights.Keys.Quantization, edit(f.GetMetadata(CanonicalWeights.Keys.Quantization)!));

    // ---------------------------------------------------------------- safetensors I32

    [Fact]
    public void I32_tensors_round_trip()
    {
        var values = new[] { 0, 1, -1, int.MaxValue, int.MinValue, 123456789 };
        var file = new SafeTensorsFile(new Dictionary<string, string> { ["k"] = "v" }, new[] { Tensor.FromInt32s("b", new[] { 2, 3 }, values) });
        byte[] bytes = file.Write();
        Assert.Contains("\"dtype\":\"I32\"", System.Text.Encoding.UTF8.GetString(bytes));
        var back = SafeTensorsFile.Read(bytes);
        Assert.Equal(TensorDType.I32, back.Find("b")!.DType);
        Assert.Equal(values, back.Find("b")!.ToInt32s());
        Assert.Throws<WeightsFormatException>(() => back.Find("b")!.ToFloats());
        Assert.Equal(bytes, back.Write());
    }

    [Theory]
    [InlineData("mobilenet_v1_0.25_224")]          // F32
    [InlineData("mobilenet_v1_0.50_128")]          // F32 + U8 kernels
    [InlineData("mobilenet_v1_0.25_224_quant")]    // U8 + I32
    public void Existing_files_write_back_byte_for_byte(string entry)
    {
        byte[] original = File.ReadAllBytes(RepoPaths.Weights(entry));
        Assert.Equal(original, SafeTensorsFile.Read(original).Write());
    }

    [Fact]
    public void I32_with_the_wrong_byte_count_is_refused()
    {
        Assert.Throws<WeightsFormatException>(() => new Tensor("b", TensorDType.I32, new[] { 3 }, new byte[11]));
        string header = "{\"b\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        var hb = System.Text.Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + hb.Length + 8];
        BitConverter.GetBytes((ulong)hb.Length).CopyTo(bytes, 0);
        hb.CopyTo(bytes, 8);
        var e = Assert.Throws<WeightsFormatException>(() => SafeTensorsFile.Read(bytes));
        Assert.Contains("expected 12", e.Message);
    }

    // ---------------------------------------------------------------- variant names

    [Theory]
    [InlineData("1.0_224_quant", 1.0, 224, "1.0_224_quant", "mobilenet_v1_1.0_224_quant")]
    [InlineData("mobilenet_v1_1.0_224_quant", 1.0, 224, "1.0_224_quant", "mobilenet_v1_1.0_224_quant")]
    [InlineData("0.5_160_quant", 0.5, 160, "0.50_160_quant", "mobilenet_v1_0.50_160_quant")]
    [InlineData("0.25_128_QUANT", 0.25, 128, "0.25_128_quant", "mobilenet_v1_0.25_128_quant")]
    [InlineData("1_224_quant", 1.0, 224, "1.0_224_quant", "mobilenet_v1_1.0_224_quant")]
    public void Quantized_variant_names_parse(string text, double alpha, int res, string canonical, string stem)
    {
        var v = VariantName.Parse(text);
        Assert.True(v.Quantized);
        Assert.Equal(alpha, v.Alpha);
        Assert.Equal(res, v.Resolution);
        Assert.Equal(canonical, v.ToString());
        Assert.Equal(stem, v.FileStem);
        Assert.Equal(v, VariantName.Parse(v.FileStem));
        Assert.NotEqual(v, v.AsFloat);
        Assert.NotEqual(v.GetHashCode(), v.AsFloat.GetHashCode());
        Assert.False(v.AsFloat.Quantized);
        Assert.Equal(v, v.AsFloat.AsQuantized);
    }

    [Theory]
    [InlineData("_quant")]
    [InlineData("1.0_quant")]
    [InlineData("0.3_224_quant")]
    [InlineData("1.0_225_quant")]
    [InlineData("1.0_224_quantized")]
    [InlineData("1.0_224__quant")]
    public void Malformed_quantized_names_do_not_parse(string text) => Assert.False(VariantName.TryParse(text, out _));

    [Fact]
    public void Float_variants_are_unchanged_and_the_published_quantized_list_has_the_five()
    {
        Assert.Equal(16, VariantName.All.Length);
        Assert.All(VariantName.All, v => Assert.False(v.Quantized));
        Assert.Equal("0.50_128", VariantName.Parse("0.5_128").ToString());
        Assert.Equal("mobilenet_v1_0.25_224", VariantName.Parse("0.25_224").FileStem);
        Assert.Equal(new VariantName(0.25, 224), VariantName.Parse("mobilenet_v1_0.25_224"));
        Assert.Equal(new[] { "1.0_224_quant", "0.75_192_quant", "0.50_160_quant", "0.25_224_quant", "0.25_128_quant" },
            VariantName.PublishedQuantized.Select(v => v.ToString()));
        foreach (var e in QuantizedEntries.All)
            Assert.Contains(VariantName.Parse(e.Variant), VariantName.PublishedQuantized);
        Assert.Throws<ArgumentException>(() => SyntheticWeights.Create(VariantName.Parse("1.0_224_quant")));
    }

    // ---------------------------------------------------------------- quantization metadata

    [Fact]
    public void Quantization_json_round_trips_and_keeps_every_float_bit_exact()
    {
        foreach (var e in QuantizedEntries.All)
        {
            var file = QuantizedEntries.Weights(e.Name);
            string json = file.GetMetadata(CanonicalWeights.Keys.Quantization)!;
            var net = CanonicalWeights.QuantizationOf(file);
            Assert.Equal(json, CanonicalWeights.QuantizationToJson(net));
            Assert.Equal(27 + 1, net.Convolutions.Count);
            Assert.Equal("logits", net.Convolutions[^1].Name);
            Assert.Same(net.Logits, net.Layer("logits"));
        }
        foreach (float f in new[] { 0.0078125f, 0.023528477f, 1f / 3, float.Epsilon, float.MaxValue, 1e-10f, 0.14328867f })
        {
            string text = CanonicalWeights.FloatText(f);
            Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(float.Parse(text, CultureInfo.InvariantCulture)));
        }
        Assert.Equal("0.0078125", CanonicalWeights.FloatText(1f / 128));
    }

    [Fact]
    public void The_seed_file_is_valid()
    {
        var f = Seed();
        Assert.Empty(CanonicalWeights.ValidateQuantized(f, CanonicalWeights.ArchitectureOf(f)));
        Assert.True(CanonicalWeights.IsQuantized(f));
        FuzzTargets.ReadQuantizedWeights(FuzzSeeds.WeightsQuantized());
    }

    public static TheoryData<string, string, string> MalformedQuantization() => new()
    {
        { "not json", "{", "not valid JSON" },
        { "scale as a number", "\"scale\":\"0.0078125\"|\"scale\":0.0078125", "must be a JSON string" },
        { "scale not a float", "\"scale\":\"0.0078125\"|\"scale\":\"x\"", "'x' is not a float" },
        { "zero point not an integer", "\"zero_point\":128|\"zero_point\":128.5", "not an integer" },
        { "unknown activation", "\"activation\":\"relu6\"|\"activation\":\"relu\"", "'relu' is not supported" },
        { "unknown key", "\"bias_scale\"|\"bias_scal\"", "unknown key 'bias_scal'" },
        { "missing layer", "\"block13.pointwise\"|\"block14.pointwise\"", "unknown key 'block14.pointwise'" },
    };

    [Theory]
    [MemberData(nameof(MalformedQuantization))]
    public void Malformed_quantization_metadata_is_refused_with_the_key(string what, string edit, string message)
    {
        var f = Seed();
        SafeTensorsFile bad = edit == "{"
            ? WithMeta(f, CanonicalWeights.Keys.Quantization, "{")
            : WithJson(f, j => { var parts = edit.Split('|'); int at = j.IndexOf(parts[0], StringComparison.Ordinal); return j[..at] + parts[1] + j[(at + parts[0].Length)..]; });
        var e = Assert.Throws<WeightsFormatException>(() => CanonicalWeights.QuantizationOf(bad));
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: {e.Message}");
        Assert.Contains(CanonicalWeights.ValidateQuantized(bad, CanonicalWeights.ArchitectureOf(bad)), p => p.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_or_float_metadata_is_refused()
    {
        var f = Seed();
        Assert.Contains("'quantization' is missing", Assert.Throws<WeightsFormatException>(() => CanonicalWeights.QuantizationOf(WithMeta(f, CanonicalWeights.Keys.Quantization, null))).Message);
        Assert.Contains("not a uint8-quantized network", Assert.Throws<WeightsFormatException>(() => CanonicalWeights.QuantizationOf(WithMeta(f, CanonicalWeights.Keys.Precision, null))).Message);
        var noPool = WithJson(f, j => j.Replace("\"pool\":", "\"poo1\":"));
        Assert.Contains("unknown key 'poo1'", Assert.Throws<WeightsFormatException>(() => CanonicalWeights.QuantizationOf(noPool)).Message);
        // A float file read as quantized.
        var floats = SafeTensorsFile.Read(File.ReadAllBytes(RepoPaths.Weights("mobilenet_v1_0.25_224")));
        Assert.Throws<WeightsFormatException>(() => CanonicalWeights.QuantizationOf(floats));
        Assert.NotEmpty(CanonicalWeights.ValidateQuantized(floats, CanonicalWeights.ArchitectureOf(floats)));
    }

    public static TheoryData<string, string, string> InconsistentQuantization() => new()
    {
        // (what, edit of the seed's JSON "from|to" on the first occurrence after a marker, expected problem)
        { "zero point out of uint8", "\"conv0\":{\"input\":{\"scale\":\"0.0078125\",\"zero_point\":128}|\"conv0\":{\"input\":{\"scale\":\"0.0078125\",\"zero_point\":300}", "zero point 300 is outside 0..255" },
        { "negative scale", "\"conv0\":{\"input\":{\"scale\":\"0.0078125\"|\"conv0\":{\"input\":{\"scale\":\"-0.0078125\"", "not a finite positive number" },
        { "chain broken", "\"conv0\":{\"input\":{\"scale\":\"0.0078125\",\"zero_point\":128}|\"conv0\":{\"input\":{\"scale\":\"0.0078125\",\"zero_point\":127}", "differs from the network input" },
        { "pool requantizes", "\"pool\":{\"input\":{\"scale\":\"0.023529412\",\"zero_point\":0},\"output\":{\"scale\":\"0.023529412\",\"zero_point\":0}|\"pool\":{\"input\":{\"scale\":\"0.023529412\",\"zero_point\":0},\"output\":{\"scale\":\"0.023529412\",\"zero_point\":1}", "does not requantize" },
        { "softmax output", "\"beta\":\"1\"|\"beta\":\"0\"", "beta 0 is not a finite positive number" },
        { "bias scale", "\"bias_scale\":\"0.00015625\"|\"bias_scale\":\"0.00016\"", "within TFLite's 1e-6 relative tolerance" },
    };

    [Theory]
    [MemberData(nameof(InconsistentQuantization))]
    public void Inconsistent_quantization_is_listed(string what, string edit, string problem)
    {
        var f = Seed();
        var parts = edit.Split('|');
        string json = f.GetMetadata(CanonicalWeights.Keys.Quantization)!;
        Assert.True(json.Contains(parts[0], StringComparison.Ordinal), $"{what}: the seed's JSON lacks {parts[0]}: {json}");
        var bad = WithJson(f, j => { int at = j.IndexOf(parts[0], StringComparison.Ordinal); return j[..at] + parts[1] + j[(at + parts[0].Length)..]; });
        var problems = CanonicalWeights.ValidateQuantized(bad, CanonicalWeights.ArchitectureOf(bad));
        Assert.True(problems.Any(p => p.Contains(problem, StringComparison.Ordinal)), $"{what}: {string.Join(" | ", problems)}");
        Assert.Throws<WeightsFormatException>(() => FuzzTargets.ReadQuantizedWeights(bad.Write()));
    }

    [Fact]
    public void Wrong_tensors_are_listed()
    {
        var f = Seed();
        var arch = CanonicalWeights.ArchitectureOf(f);
        SafeTensorsFile Replace(string name, Tensor? t) =>
            new(f.Metadata, f.Tensors.Where(x => x.Name != name).Concat(t == null ? Array.Empty<Tensor>() : new[] { t }));
        var l = arch.Layers[1];
        Assert.Contains(CanonicalWeights.ValidateQuantized(Replace(l.Name + ".bias", null), arch), p => p.Contains($"'{l.Name}.bias' is missing"));
        Assert.Contains(CanonicalWeights.ValidateQuantized(Replace(l.Name + ".bias", Tensor.FromFloats(l.Name + ".bias", new[] { l.OutC }, new float[l.OutC])), arch),
            p => p.Contains("is F32, a uint8 file needs I32"));
        Assert.Contains(CanonicalWeights.ValidateQuantized(Replace(l.Name + ".weight", Tensor.FromBytes(l.Name + ".weight", new[] { 9, l.OutC }, new byte[9 * l.OutC])), arch),
            p => p.Contains("has shape [9,"));
        var extra = new SafeTensorsFile(f.Metadata, f.Tensors.Concat(new[] { Tensor.FromFloats(l.Name + ".scale", new[] { l.OutC }, new float[l.OutC]) }));
        Assert.Contains(CanonicalWeights.ValidateQuantized(extra, arch), p => p.Contains("does not belong in a uint8 file"));
        // The float validator reports a uint8 file instead of passing its I32 biases.
        Assert.Contains(CanonicalWeights.Validate(f, arch), p => p.Contains("uint8-quantized"));
        Assert.Contains(CanonicalWeights.Validate(f, arch), p => p.Contains("is I32"));
    }
}
