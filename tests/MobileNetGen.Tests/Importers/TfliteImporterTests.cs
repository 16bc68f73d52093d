using MobileNetGen.Importers;
using MobileNetGen.Model;
using Xunit;

namespace MobileNetGen.Tests.Importers;

public class TfliteImporterTests
{
    private static string TflitePath => SharedData.Model("tflite-2018/mobilenet_v1_0.25_224_1_default_1.tflite");

    private static SafeTensorsFile ImportTflite() =>
        MobileNetImporter.Import(TflitePath, new ImportOptions { Variant = VariantName.Parse("0.25_224"), Name = "mobilenet_v1_0.25_224_tflite2018" });

    [SharedDataFact]
    public void Tflite2018_ImportsAndValidates()
    {
        var file = ImportTflite();
        Assert.Empty(CanonicalWeights.Validate(file, CanonicalWeights.ArchitectureOf(file)));
        Assert.Equal("mobilenet_v1_0.25_224_tflite2018", file.GetMetadata("name"));
        Assert.Equal("0.25_224", file.GetMetadata("variant"));
        Assert.Equal("tflite-2018", file.GetMetadata("release"));
        Assert.Equal("tflite", file.GetMetadata("source_format"));
        Assert.Equal("1001", file.GetMetadata("num_classes"));
        Assert.Equal("true", file.GetMetadata("background_class"));
        Assert.Equal("446ec673881cd46371a8726075b714194ada39d144762260cb76d15318597df7", file.GetMetadata("source_sha256"));
        // BatchNorm is folded by the converter: scale is exactly one everywhere.
        foreach (var t in file.Tensors.Where(t => t.Name.EndsWith(".scale", StringComparison.Ordinal)))
            Assert.All(t.ToFloats(), s => Assert.Equal(1f, s));
    }

    [SharedDataFact]
    public void Tflite_DefaultNameAndResolutionComeFromTheFile()
    {
        var file = MobileNetImporter.Import(TflitePath, new ImportOptions());
        Assert.Equal("mobilenet_v1_0.25_224_tflite2018", file.GetMetadata("name"));
        Assert.Equal("224", file.GetMetadata("resolution"));
    }

    [SharedDataFact]
    public void Conv0_IsTheHandTransposeOfTheOhwiBuffer()
    {
        var file = ImportTflite();
        float[] hwio = file.Find("conv0.weight")!.ToFloats(); // [3,3,3,8]
        Assert.Equal(3 * 3 * 3 * 8, hwio.Length);
        // The OHWI buffer [8,3,3,3] as the file must hold it, written out by hand from the canonical HWIO kernel.
        var ohwi = new float[hwio.Length];
        for (int o = 0; o < 8; o++)
            for (int h = 0; h < 3; h++)
                for (int w = 0; w < 3; w++)
                    for (int i = 0; i < 3; i++)
                        ohwi[((o * 3 + h) * 3 + w) * 3 + i] = hwio[((h * 3 + w) * 3 + i) * 8 + o];
        byte[] model = File.ReadAllBytes(TflitePath);
        byte[] ohwiBytes = ToBytes(ohwi);
        int at = model.AsSpan().IndexOf(ohwiBytes);
        Assert.True(at >= 0, "the hand-transposed OHWI conv0 buffer is not in the .tflite file");
        Assert.True(model.AsSpan(at + 1).IndexOf(ohwiBytes) < 0, "the OHWI conv0 buffer appears twice");
        Assert.True(model.AsSpan().IndexOf(ToBytes(hwio)) < 0, "HWIO bytes found verbatim: the importer did not transpose");
        // Depthwise 1HWC has the memory order of HWIO [3,3,C,1]: stored verbatim.
        Assert.True(model.AsSpan().IndexOf(file.Find("block1.depthwise.weight")!.Data) >= 0);
    }

    [SharedDataFact]
    public void ContradictingVariant_Throws()
    {
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(TflitePath, new ImportOptions { Variant = VariantName.Parse("0.25_128") }));
        Assert.Throws<ImportException>(() => MobileNetImporter.Import(TflitePath, new ImportOptions { Variant = VariantName.Parse("1.0_224") }));
    }

    private static byte[] ToBytes(float[] f)
    {
        var b = new byte[f.Length * 4];
        Buffer.BlockCopy(f, 0, b, 0, b.Length);
        return b;
    }
}
