using MobileNetGen.Importers;
using MobileNetGen.Model;
using Xunit;

namespace MobileNetGen.Tests.Importers;

public class TfjsImporterTests
{
    [SharedDataFact]
    public void Keras075_ImportsFromTheDirectory()
    {
        var file = MobileNetImporter.Import(SharedData.Model("keras-tfjs/mobilenet_v1_0.75_224"), new ImportOptions());
        Assert.Empty(CanonicalWeights.Validate(file, CanonicalWeights.ArchitectureOf(file)));
        Assert.Equal("mobilenet_v1_0.75_224", file.GetMetadata("name"));
        Assert.Equal("0.75", file.GetMetadata("alpha"));
        Assert.Equal("224", file.GetMetadata("resolution"));
        Assert.Equal("1000", file.GetMetadata("num_classes"));
        Assert.Equal("false", file.GetMetadata("background_class"));
        Assert.Equal("tfjs-layers", file.GetMetadata("source_format"));
        Assert.Equal("keras-tfjs", file.GetMetadata("release"));
        Assert.Equal("keras-tfjs/mobilenet_v1_0.75_224/model.json", file.GetMetadata("source"));
        Assert.Equal("a74c25424bd9939b1c245a58da417e35d1ca16f0b009490a1c44b43d982600d9", file.GetMetadata("source_sha256"));
        Assert.Contains("shards", file.GetMetadata("note"));
        Assert.Equal(new[] { 1, 1, 768, 1000 }, file.Find("logits.weight")!.Shape);
    }

    [SharedDataFact]
    public void Keras025_EqualsSlim025_BitForBit()
    {
        var slim = MobileNetImporter.Import(SharedData.Model("slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb"), new ImportOptions());
        var keras = MobileNetImporter.Import(SharedData.Model("keras-tfjs/mobilenet_v1_0.25_224/model.json"), new ImportOptions());
        var arch = CanonicalWeights.ArchitectureOf(slim);
        foreach (var l in arch.Layers)
        {
            if (l.Kind is LayerKind.GlobalAveragePool or LayerKind.Logits) continue;
            Assert.Equal(slim.Find(CanonicalWeights.Kernel(l))!.Data, keras.Find(CanonicalWeights.Kernel(l))!.Data);
            Assert.Equal(slim.Find(CanonicalWeights.Scale(l))!.Data, keras.Find(CanonicalWeights.Scale(l))!.Data);
            Assert.Equal(slim.Find(CanonicalWeights.Bias(l))!.Data, keras.Find(CanonicalWeights.Bias(l))!.Data);
        }
        // Logits: Keras column k is slim column k+1 (slim's column 0 is the background class).
        var sw = slim.Find("logits.weight")!.ToFloats();
        var kw = keras.Find("logits.weight")!.ToFloats();
        var sb = slim.Find("logits.bias")!.ToFloats();
        var kb = keras.Find("logits.bias")!.ToFloats();
        Assert.Equal(256 * 1001, sw.Length);
        Assert.Equal(256 * 1000, kw.Length);
        int mismatches = 0;
        for (int c = 0; c < 256; c++)
            for (int k = 0; k < 1000; k++)
                if (BitConverter.SingleToInt32Bits(sw[c * 1001 + k + 1]) != BitConverter.SingleToInt32Bits(kw[c * 1000 + k])) mismatches++;
        for (int k = 0; k < 1000; k++)
            if (BitConverter.SingleToInt32Bits(sb[k + 1]) != BitConverter.SingleToInt32Bits(kb[k])) mismatches++;
        Assert.Equal(0, mismatches);
    }

    [SharedDataFact]
    public void BatchNormFold_MatchesTensorFlowsOwnFold()
    {
        // Google's 8-bit 0.75_224 graph is the same checkpoint with BatchNorm constant-folded by TensorFlow (float32):
        // its depthwise batchnorm/mul must equal our double-precision gamma/sqrt(var+eps) from the Keras copy.
        var keras = MobileNetImporter.Import(SharedData.Model("keras-tfjs/mobilenet_v1_0.75_224"), new ImportOptions());
        var tf = MobileNetImporter.Import(SharedData.Model("slim-2017-weight-quantized/mobilenet_v1_0.75_224/quantized_graph.pb"), new ImportOptions());
        for (int b = 1; b <= 13; b++)
        {
            var ours = keras.Find($"block{b}.depthwise.scale")!.ToFloats();
            var theirs = tf.Find($"block{b}.depthwise.scale")!.ToFloats();
            var oursBias = keras.Find($"block{b}.depthwise.bias")!.ToFloats();
            var theirsBias = tf.Find($"block{b}.depthwise.bias")!.ToFloats();
            for (int i = 0; i < ours.Length; i++)
            {
                Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-5 * Math.Max(1, Math.Abs(ours[i])), $"block{b} scale[{i}] {ours[i]} vs TF {theirs[i]}");
                Assert.True(Math.Abs(oursBias[i] - theirsBias[i]) <= 1e-5 * Math.Max(1, Math.Abs(oursBias[i])), $"block{b} bias[{i}] {oursBias[i]} vs TF {theirsBias[i]}");
            }
        }
    }

    [SharedDataFact]
    public void ContradictingVariant_Throws()
    {
        string dir = SharedData.Model("keras-tfjs/mobilenet_v1_0.75_224");
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(dir, new ImportOptions { Variant = VariantName.Parse("0.25_224") }));
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(dir, new ImportOptions { Variant = VariantName.Parse("0.75_192") }));
    }
}
