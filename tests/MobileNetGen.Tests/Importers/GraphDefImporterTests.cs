using MobileNetGen.Importers;
using MobileNetGen.Model;
using Xunit;

namespace MobileNetGen.Tests.Importers;

public class GraphDefImporterTests
{
    [SharedDataFact]
    public void SlimFloat_ImportsValidatesAndLabels()
    {
        var file = MobileNetImporter.Import(SharedData.Model("slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb"), new ImportOptions());
        var arch = CanonicalWeights.ArchitectureOf(file);
        Assert.Empty(CanonicalWeights.Validate(file, arch));
        Assert.Equal("mobilenet_v1_0.25_224", file.GetMetadata("name"));
        Assert.Equal("0.25_224", file.GetMetadata("variant"));
        Assert.Equal("0.25", file.GetMetadata("alpha"));
        Assert.Equal("224", file.GetMetadata("resolution"));
        Assert.Equal("1001", file.GetMetadata("num_classes"));
        Assert.Equal("true", file.GetMetadata("background_class"));
        Assert.Equal("genuine-float", file.GetMetadata("weights"));
        Assert.Equal("slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb", file.GetMetadata("source"));
        Assert.Equal("tf-graphdef", file.GetMetadata("source_format"));
        Assert.Equal("bf56de7d43277493cbf251dc97e5ce3332725f2d134cf62418d666278f9b5ff7", file.GetMetadata("source_sha256"));
        Assert.Equal("slim-2017", file.GetMetadata("release"));
        Assert.Equal("imagenet", file.GetMetadata("labels"));
        Assert.All(file.Tensors, t => Assert.Equal(TensorDType.F32, t.DType));
        // The written bytes read back to the same valid file.
        var back = SafeTensorsFile.Read(file.Write());
        Assert.Empty(CanonicalWeights.Validate(back, CanonicalWeights.ArchitectureOf(back)));
    }

    [SharedDataFact]
    public void SlimFloat_ResolutionComesFromTheInputPlaceholder()
    {
        foreach (int r in new[] { 192, 160, 128 })
        {
            var file = MobileNetImporter.Import(SharedData.Model($"slim-2017-float/mobilenet_v1_0.25_{r}/frozen_graph.pb"), new ImportOptions());
            Assert.Equal(r.ToString(), file.GetMetadata("resolution"));
            Assert.Equal($"mobilenet_v1_0.25_{r}", file.GetMetadata("name"));
        }
    }

    [SharedDataFact]
    public void EightBit_KeepsU8KernelsWithMinMax_AndFloatLayersWhereTheGraphHasThem()
    {
        var file = MobileNetImporter.Import(SharedData.Model("slim-2017-weight-quantized/mobilenet_v1_0.50_128/quantized_graph.pb"),
            new ImportOptions { Variant = VariantName.Parse("0.50_128") });
        var arch = CanonicalWeights.ArchitectureOf(file);
        Assert.Empty(CanonicalWeights.Validate(file, arch));
        Assert.Equal("genuine-8bit", file.GetMetadata("weights"));
        Assert.Equal("0.50", file.GetMetadata("alpha"));
        Assert.Equal("128", file.GetMetadata("resolution"));
        var logits = arch.Layers[^1];
        var k = file.Find(CanonicalWeights.Kernel(logits))!;
        Assert.Equal(TensorDType.U8, k.DType);
        Assert.Equal(new[] { 1, 1, 512, 1001 }, k.Shape);
        Assert.Equal(k.ElementCount, k.Data.Length); // not inflated to float
        float min = file.Find(CanonicalWeights.KernelMin(logits))!.ToFloats()[0];
        float max = file.Find(CanonicalWeights.KernelMax(logits))!.ToFloats()[0];
        Assert.True(min < 0 && max > 0);
        // Depthwise kernels stay float; their BatchNorm multiplier survives as the scale.
        var dw = arch.Layers.First(l => l.Name == "block13.depthwise");
        Assert.Equal(TensorDType.F32, file.Find(CanonicalWeights.Kernel(dw))!.DType);
        Assert.Contains(file.Find(CanonicalWeights.Scale(dw))!.ToFloats(), s => s != 1f);
        // Pointwise kernels carry the multiplier already: scale is exactly one.
        var pw = arch.Layers.First(l => l.Name == "block13.pointwise");
        Assert.Equal(TensorDType.U8, file.Find(CanonicalWeights.Kernel(pw))!.DType);
        Assert.All(file.Find(CanonicalWeights.Scale(pw))!.ToFloats(), s => Assert.Equal(1f, s));
        Assert.Equal(TensorDType.F32, file.Find(CanonicalWeights.Kernel(arch.Layers[0]))!.DType);
    }

    [SharedDataFact]
    public void ContradictingVariant_Throws()
    {
        string pb = SharedData.Model("slim-2017-float/mobilenet_v1_0.25_224/frozen_graph.pb");
        var wrongWidth = Assert.Throws<ImportException>(() => MobileNetImporter.Import(pb, new ImportOptions { Variant = VariantName.Parse("0.50_224") }));
        Assert.Contains("contradicts", wrongWidth.Message);
        var wrongRes = Assert.Throws<ImportException>(() => MobileNetImporter.Import(pb, new ImportOptions { Variant = VariantName.Parse("0.25_160") }));
        Assert.Contains("224", wrongRes.Message);
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(
            SharedData.Model("slim-2017-weight-quantized/mobilenet_v1_0.75_192/quantized_graph.pb"), new ImportOptions { Variant = VariantName.Parse("0.50_192") }));
    }

    [SharedDataFact]
    public void OptionsOverrideNameSourceAndRelease()
    {
        var file = MobileNetImporter.Import(SharedData.Model("slim-2017-float/mobilenet_v1_0.25_128/frozen_graph.pb"),
            new ImportOptions { Name = "custom_name", SourceLabel = "somewhere/model.pb", Release = "my-release" });
        Assert.Equal("custom_name", file.GetMetadata("name"));
        Assert.Equal("somewhere/model.pb", file.GetMetadata("source"));
        Assert.Equal("my-release", file.GetMetadata("release"));
    }
}
