using System.Text.Json;
using Microsoft.CodeAnalysis;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.Cli;
using MobileNetGen.Tests.Importers;
using MobileNetGen.Tests.Reference;
using MobileNetGen.Variants;
using Xunit;

namespace MobileNetGen.Tests.CustomModel;

/// <summary>
/// A custom model imported once for a test class, then generated, compiled in memory and loaded on first use: the
/// generator step and the compile take a few seconds. Subclasses write the source model and import it.
/// </summary>
public abstract class ImportedModelFixture : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly Lazy<(SafeTensorsFile File, byte[] Bytes)> _imported;
    private readonly Lazy<Type> _type;

    protected ImportedModelFixture(string className, string variant, string stem)
    {
        _imported = new(() =>
        {
            var file = Import(_temp.Path);
            return (file, file.Write());
        });
        _type = new(() => InMemoryClassifier.Load(className, variant, stem, Bytes));
    }

    /// <summary>Writes the source model below <paramref name="dir"/> and imports it.</summary>
    protected abstract SafeTensorsFile Import(string dir);

    public string TempPath => _temp.Path;
    public SafeTensorsFile File => _imported.Value.File;
    public byte[] Bytes => _imported.Value.Bytes;
    public Type ClassifierType => _type.Value;

    public void Dispose() => _temp.Dispose();
}

/// <summary>One imported 5-class custom model: TF.js layers, genuine 0.25_224 backbone, seeded head, labels.txt.</summary>
public sealed class CustomModelFixture() : ImportedModelFixture("FlowerClassifier", "0.25_224", Stem)
{
    public static readonly string[] Labels = { "daisy", "dandelion", "roses", "sunflowers", "tulips \"red\" \\ ü" };
    public const string Stem = "flowers_0.25_224";

    protected override SafeTensorsFile Import(string dir) =>
        MobileNetImporter.Import(CustomTfjsModel.Write(Path.Combine(dir, "flowers"), 5, Labels), new ImportOptions { Name = Stem });
}

public sealed class CustomModelTests(CustomModelFixture fx) : IClassFixture<CustomModelFixture>
{
    [SharedDataFact]
    public void Import_CustomHead_MetadataAndLabels()
    {
        var f = fx.File;
        Assert.Equal("0.25_224", f.GetMetadata("variant"));
        Assert.Equal("0.25", f.GetMetadata("alpha"));
        Assert.Equal("224", f.GetMetadata("resolution"));
        Assert.Equal("5", f.GetMetadata("num_classes"));
        Assert.Equal("false", f.GetMetadata("background_class"));
        Assert.Equal("custom", f.GetMetadata("labels"));
        Assert.Equal("tfjs-layers", f.GetMetadata("source_format"));
        Assert.Equal(CustomModelFixture.Stem, f.GetMetadata("name"));
        Assert.Equal(CustomModelFixture.Labels, JsonSerializer.Deserialize<string[]>(f.GetMetadata(CanonicalWeights.Keys.LabelsJson)!));
        Assert.Equal(new[] { 1, 1, 256, 5 }, f.Find("logits.weight")!.Shape);
        Assert.Contains("custom classifier head", f.GetMetadata("note"));
        // Round trip through the container keeps the labels.
        var back = SafeTensorsFile.Read(fx.Bytes);
        Assert.Equal(CustomModelFixture.Labels, CanonicalWeights.ParseLabelsJson(back.GetMetadata(CanonicalWeights.Keys.LabelsJson)!));
    }

    [SharedDataFact]
    public void Import_DefaultName_IsCustomSuffixed()
    {
        string json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "default-name"), 5, CustomModelFixture.Labels);
        var file = MobileNetImporter.Import(json, new ImportOptions());
        Assert.Equal("mobilenet_v1_0.25_224_custom", file.GetMetadata("name"));
    }

    [SharedDataFact]
    public void Generated_LogitsMatchTheScalarReference_AndClassifyUsesTheCustomLabels()
    {
        using var net = InMemoryClassifier.Create(fx.ClassifierType);
        Assert.Equal(5, net.NumClasses);
        Assert.False(net.Info.ImageNetLabels);
        Assert.False(net.Info.BackgroundClass);
        Assert.Equal(CustomModelFixture.Labels, Enumerable.Range(0, 5).Select(net.LabelOf));

        using var image = ImageLoader.LoadRgb24(CliRunner.Fixture("grace_hopper.bmp"));
        var input = new float[net.InputLength];
        Preprocessor.ImageToInput(image, net.InputSize, input);
        var logits = new float[5];
        net.Run(input, logits);
        var (expected, _) = new ReferenceMobileNet(fx.File).Forward(input);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < 5; i++)
            Assert.True(Math.Abs(logits[i] - expected[i]) <= 1e-5 * scale, $"logit {i}: {logits[i]} vs reference {expected[i]}");

        var top = net.Classify(image, 5);
        Assert.Equal(CustomModelFixture.Labels.OrderBy(x => x), top.Select(p => p.Label).OrderBy(x => x));
        int best = Array.IndexOf(expected, expected.Max());
        Assert.Equal(best, top[0].OutputIndex);
        Assert.Equal(CustomModelFixture.Labels[best], top[0].Label);
        foreach (var p in top) Assert.Equal(p.OutputIndex, p.ImageNetIndex);
    }

    [SharedDataFact]
    public void Generated_SourceEmbedsTheLabels()
    {
        var (result, _) = InMemoryClassifier.Generate("FlowerSource", "0.25_224", CustomModelFixture.Stem, fx.Bytes);
        string code = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("FlowerSource.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("private static readonly string[] s_labels", code);
        Assert.Contains("\"tulips \\\"red\\\" \\\\ ü\",", code);
        Assert.Contains("public override string LabelOf(int outputIndex)", code);
        Assert.Contains("ImageNetLabels: false", code);
    }

    [SharedDataFact]
    public void Generator_LabelCountMismatch_IsMNG0004()
    {
        var file = fx.File;
        var meta = new Dictionary<string, string>(file.Metadata) { [CanonicalWeights.Keys.LabelsJson] = "[\"a\",\"b\",\"c\",\"d\"]" };
        byte[] bad = new SafeTensorsFile(meta, file.Tensors).Write();
        var (result, _) = InMemoryClassifier.Generate("BadLabels", "0.25_224", CustomModelFixture.Stem, bad);
        var d = Assert.Single(result.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Equal("MNG0004", d.Id);
        string message = d.GetMessage();
        Assert.Contains("4 labels", message);
        Assert.Contains("5 classes", message);
        Assert.Empty(result.GeneratedTrees);
    }

    [SharedDataFact]
    public void Generator_MalformedLabelsJson_IsMNG0004()
    {
        var meta = new Dictionary<string, string>(fx.File.Metadata) { [CanonicalWeights.Keys.LabelsJson] = "{\"not\":\"an array\"}" };
        byte[] bad = new SafeTensorsFile(meta, fx.File.Tensors).Write();
        var (result, _) = InMemoryClassifier.Generate("BadLabelsJson", "0.25_224", CustomModelFixture.Stem, bad);
        var d = Assert.Single(result.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
        Assert.Equal("MNG0004", d.Id);
        Assert.Contains("labels_json", d.GetMessage());
    }

    [SharedDataFact]
    public void Import_LabelCountMismatch_IsAClearImportException()
    {
        string json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "four-labels"), 5, new[] { "a", "b", "c", "d" });
        var e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(json, new ImportOptions()));
        Assert.Contains("labels.txt holds 4 labels", e.Message);
        Assert.Contains("5 classes", e.Message);

        // --labels overrides the model's labels.txt (and must fit as well).
        string good = Path.Combine(fx.TempPath, "five.txt");
        File.WriteAllLines(good, new[] { "v", "w", "x", "y", "z", "" });
        var file = MobileNetImporter.Import(json, new ImportOptions { LabelsPath = good });
        Assert.Equal(new[] { "v", "w", "x", "y", "z" }, CanonicalWeights.ParseLabelsJson(file.GetMetadata(CanonicalWeights.Keys.LabelsJson)!));
        string six = Path.Combine(fx.TempPath, "six.txt");
        File.WriteAllLines(six, new[] { "u", "v", "w", "x", "y", "z" });
        var e2 = Assert.Throws<ImportException>(() => MobileNetImporter.Import(json, new ImportOptions { LabelsPath = six }));
        Assert.Contains("six.txt holds 6 labels", e2.Message);
    }

    [SharedDataFact]
    public void Import_CustomHeadWithoutLabels_AsksForLabels()
    {
        string json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "no-labels"), 5, labels: null);
        var e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(json, new ImportOptions()));
        Assert.Contains("--labels", e.Message);
        Assert.Contains("5 classes", e.Message);
    }

    [SharedDataFact]
    public void Import_MalformedHead_IsAClearImportException()
    {
        // Bias for 6 classes beside a 5-class kernel.
        string json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "bias6"), 5, CustomModelFixture.Labels, biasClasses: 6);
        var e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(json, new ImportOptions()));
        Assert.Contains("conv_preds/bias", e.Message);
        Assert.Contains("[6]", e.Message);
        Assert.Contains("[5]", e.Message);

        // The manifest claims a 6-class kernel but the shard holds a 5-class one.
        json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "kernel-lies"), 5, CustomModelFixture.Labels, manifestKernelClasses: 6);
        e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(json, new ImportOptions()));
        Assert.Contains("conv_preds", e.Message);
    }

    [SharedDataFact]
    public void Import_1000ClassCustomHead_IsNotImageNet()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => $"part {i}").ToArray();
        string json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "thousand"), 1000, labels);
        var file = MobileNetImporter.Import(json, new ImportOptions());
        Assert.Equal("custom", file.GetMetadata("labels"));
        Assert.Equal("false", file.GetMetadata("background_class"));
        Assert.Equal(1000, CanonicalWeights.ParseLabelsJson(file.GetMetadata(CanonicalWeights.Keys.LabelsJson)!).Length);
    }

    [SharedDataFact]
    public void Import_TfliteWithImageNetMetadataLabels_StaysImageNet()
    {
        // The 2018 metadata release carries labels.txt (1001 ImageNet labels) as an associated file: still an ImageNet head.
        var file = MobileNetImporter.Import(SharedData.Model("tflite-2018/mobilenet_v1_0.25_224_1_metadata_1.tflite"), new ImportOptions());
        Assert.Equal("imagenet", file.GetMetadata("labels"));
        Assert.Equal("true", file.GetMetadata("background_class"));
        Assert.Null(file.GetMetadata(CanonicalWeights.Keys.LabelsJson));
        Assert.Equal("1001", file.GetMetadata("num_classes"));
    }

    [Fact]
    public void Runtime_CustomHeadWith1000Classes_DoesNotShiftToImageNet()
    {
        var info = new MobileNetModelInfo("custom1000", "0.25_224", 0.25, 224, 1000, false, WeightsKind.GenuineFloat, "x", "", 0, 0, 256, 0, ImageNetLabels: false);
        using var custom = new NoNetwork(info);
        Assert.Equal(7, custom.ImageNetIndexOf(7));
        Assert.Equal("class 7", custom.LabelOf(7));
        using var keras = new NoNetwork(info with { ImageNetLabels = true });
        Assert.Equal(8, keras.ImageNetIndexOf(7)); // Keras ImageNet: slim index = output + 1
    }

    [SharedDataFact]
    public void Cli_ClassifyVariantsAndEval_WorkForARegisteredCustomModel()
    {
        string name = "flowers-cli-test";
        lock (typeof(CustomModelTests))
        {
            if (VariantCatalog.Find(name) == null)
            {
                var info = (MobileNetModelInfo)fx.ClassifierType.GetProperty("ModelInfo")!.GetValue(null)!;
                VariantCatalog.Register(new VariantEntry(name, "0.25_224", info, o => InMemoryClassifier.Create(fx.ClassifierType, o)));
            }
        }

        var r = CliRunner.Run("classify", "--variant", name, "--top", "3", "--json", CliRunner.Fixture("grace_hopper.bmp"));
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var doc = JsonDocument.Parse(r.Stdout))
        {
            var preds = doc.RootElement[0].GetProperty("predictions").EnumerateArray().ToArray();
            Assert.Equal(3, preds.Length);
            foreach (var p in preds) Assert.Contains(p.GetProperty("label").GetString(), CustomModelFixture.Labels);
            Assert.InRange(preds[0].GetProperty("index").GetInt32(), 0, 4);
        }

        r = CliRunner.Run("variants", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var doc = JsonDocument.Parse(r.Stdout))
        {
            var row = doc.RootElement.EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
            Assert.True(row.GetProperty("extra").GetBoolean());
            Assert.Equal("custom", row.GetProperty("labels").GetString());
            Assert.Equal(5, row.GetProperty("num_classes").GetInt32());
            Assert.Equal(JsonValueKind.Null, row.GetProperty("top1_published").ValueKind);
        }
        r = CliRunner.Run("variants");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("custom model " + name, r.Stdout);

        // eval: a folder whose ground truth names each image's label (column 'label'): the model's own top-1, so 100 %.
        using var dir = new CliRunner.TempDir();
        using var net = InMemoryClassifier.Create(fx.ClassifierType);
        var lines = new List<string> { "file\tlabel" };
        foreach (string img in new[] { "grace_hopper.bmp", "cat.bmp", "parrot.jpg" })
        {
            File.Copy(CliRunner.Fixture(img), dir.File(img));
            lines.Add($"{img}\t{net.Classify(dir.File(img), 1)[0].Label}");
        }
        File.WriteAllLines(dir.File("ground_truth.tsv"), lines);
        r = CliRunner.Run("eval", "--variant", name, "--images", dir.Path, "--json", "--jobs", "1");
        Assert.True(r.ExitCode == 0, r.ToString());
        using (var doc = JsonDocument.Parse(r.Stdout))
        {
            Assert.Equal(3, doc.RootElement.GetProperty("images").GetInt32());
            Assert.Equal(1.0, doc.RootElement.GetProperty("top1").GetDouble());
        }

        // An ImageNet-index ground truth is refused for a custom head, and an unknown label is named.
        File.WriteAllLines(dir.File("ground_truth.tsv"), new[] { "file\tlabel", "cat.bmp\tnot-a-flower" });
        r = CliRunner.Run("eval", "--variant", name, "--images", dir.Path, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not-a-flower", r.Stderr);
        File.WriteAllLines(dir.File("ground_truth.tsv"), new[] { "file\tslim_index_1_1000", "cat.bmp\t282" });
        r = CliRunner.Run("eval", "--variant", name, "--images", dir.Path, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("custom classifier head", r.Stderr);
    }

    [SharedDataFact]
    public void Cli_Import_AcceptsLabels()
    {
        string json = CustomTfjsModel.Write(Path.Combine(fx.TempPath, "cli-import"), 5, labels: null);
        string labels = Path.Combine(fx.TempPath, "cli-labels.txt");
        File.WriteAllLines(labels, CustomModelFixture.Labels);
        string outDir = Path.Combine(fx.TempPath, "cli-out");
        var r = CliRunner.Run("import", json, "--labels", labels, "-o", outDir, "--name", "flowers");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("5 classes (custom labels)", r.Stdout);
        var file = SafeTensorsFile.Read(File.ReadAllBytes(Path.Combine(outDir, "flowers.safetensors")));
        Assert.Equal(CustomModelFixture.Labels, CanonicalWeights.ParseLabelsJson(file.GetMetadata(CanonicalWeights.Keys.LabelsJson)!));

        r = CliRunner.Run("import", json, "-o", outDir, "--name", "nolabels");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--labels", r.Stderr);
    }

    /// <summary>A classifier without a network, to test the runtime's index and label mapping.</summary>
    private sealed unsafe class NoNetwork(MobileNetModelInfo info) : MobileNetClassifier(info, 16, null)
    {
        protected override void Forward(float* input, float* logits, float* embeddings, float* bufferA, float* bufferB, SimdPath path, MobileNetGen.Runtime.Kernels.LayerRunner runner) { }
    }
}
