using System.Text.Json;
using MobileNetGen.Importers;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Tests.Cli;
using MobileNetGen.Tests.Importers;
using MobileNetGen.Tests.Reference;
using Xunit;

namespace MobileNetGen.Tests.CustomModel;

/// <summary>A 5-class custom head in TFLite format (<see cref="CustomTfliteModel"/>), imported with labels passed in code
/// (the model carries none).</summary>
public sealed class CustomTfliteFixture() : ImportedModelFixture("CutleryClassifier", "0.25_224", Stem)
{
    public static readonly string[] Labels = { "cup", "plate", "fork", "knife", "spoon ü" };
    public const string Stem = "cutlery_0.25_224";

    protected override SafeTensorsFile Import(string dir) =>
        MobileNetImporter.Import(CustomTfliteModel.Write(Path.Combine(dir, "cutlery.tflite"), 5), new ImportOptions { Name = Stem, Labels = Labels });
}

public sealed class CustomTfliteModelTests(CustomTfliteFixture fx) : IClassFixture<CustomTfliteFixture>
{
    [SharedDataFact]
    public void Import_reads_width_resolution_and_class_count_from_the_model_and_takes_the_labels_given()
    {
        var f = fx.File; // no Variant in the options: α, resolution and classes come from the flatbuffer
        Assert.Equal("0.25_224", f.GetMetadata("variant"));
        Assert.Equal("5", f.GetMetadata("num_classes"));
        Assert.Equal("false", f.GetMetadata("background_class"));
        Assert.Equal("custom", f.GetMetadata("labels"));
        Assert.Equal("tflite", f.GetMetadata("source_format"));
        Assert.Equal(CustomTfliteFixture.Labels, JsonSerializer.Deserialize<string[]>(f.GetMetadata(CanonicalWeights.Keys.LabelsJson)!));
        Assert.Equal(new[] { 1, 1, 256, 5 }, f.Find("logits.weight")!.Shape);
        Assert.Empty(CanonicalWeights.Validate(f, CanonicalWeights.ArchitectureOf(f)));
    }

    [SharedDataFact]
    public void Generated_logits_match_the_scalar_reference_and_classify_uses_the_labels()
    {
        using var net = InMemoryClassifier.Create(fx.ClassifierType);
        Assert.Equal(5, net.NumClasses);
        Assert.False(net.Info.ImageNetLabels);
        Assert.Equal(CustomTfliteFixture.Labels, Enumerable.Range(0, 5).Select(net.LabelOf));

        using var image = ImageLoader.LoadRgb24(CliRunner.Fixture("burger.jpg"));
        var input = new float[net.InputLength];
        Preprocessor.ImageToInput(image, net.InputSize, input);
        var logits = new float[5];
        net.Run(input, logits);
        var (expected, _) = new ReferenceMobileNet(fx.File).Forward(input);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < 5; i++)
            Assert.True(Math.Abs(logits[i] - expected[i]) <= 1e-5 * scale, $"logit {i}: {logits[i]} vs reference {expected[i]}");

        var top = net.Classify(image, 5);
        int best = Array.IndexOf(expected, expected.Max());
        Assert.Equal(CustomTfliteFixture.Labels[best], top[0].Label);
    }

    [SharedDataFact]
    public void The_backbone_is_Google_s_the_features_equal_the_genuine_tflite_import()
    {
        // Same backbone bytes: every tensor but the head equals the genuine import of the unmodified file.
        var genuine = MobileNetImporter.Import(SharedData.Model(CustomTfliteModel.Source), new ImportOptions());
        foreach (var t in genuine.Tensors.Where(t => !t.Name.StartsWith("logits.", StringComparison.Ordinal)))
            Assert.True(t.Data.AsSpan().SequenceEqual(fx.File.Find(t.Name)!.Data), $"{t.Name} differs from the genuine model");
    }

    [SharedDataFact]
    public void A_custom_head_without_labels_asks_for_them_by_name()
    {
        // The model carries no labels (no TFLite metadata): the import says how to pass them instead of inventing names.
        string model = CustomTfliteModel.Write(Path.Combine(fx.TempPath, "nolabels.tflite"), 5);
        var e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(model, new ImportOptions()));
        Assert.Contains("5 classes", e.Message);
        Assert.Contains("--labels", e.Message);
    }

    [SharedDataFact]
    public void Label_count_different_from_the_class_count_is_a_clear_import_error()
    {
        string model = CustomTfliteModel.Write(Path.Combine(fx.TempPath, "labels-mismatch.tflite"), 5);
        var e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(model, new ImportOptions { Labels = new[] { "a", "b", "c", "d" } }));
        Assert.Contains("4", e.Message);
        Assert.Contains("5", e.Message);
    }

    [SharedDataFact]
    public void Bias_and_filter_of_different_class_counts_are_a_clear_import_error()
    {
        string model = CustomTfliteModel.Write(Path.Combine(fx.TempPath, "shape-mismatch.tflite"), 5, biasClasses: 4);
        var e = Assert.Throws<ImportException>(() => MobileNetImporter.Import(model, new ImportOptions()));
        Assert.Contains("bias", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [SharedDataFact]
    public void Cli_import_of_the_tflite_model_with_a_labels_file()
    {
        string model = CustomTfliteModel.Write(Path.Combine(fx.TempPath, "cli.tflite"), 5);
        string labels = Path.Combine(fx.TempPath, "cli-labels.txt");
        File.WriteAllLines(labels, CustomTfliteFixture.Labels);
        string outDir = Path.Combine(fx.TempPath, "cli-out");
        var r = CliRunner.Run("import", model, "--labels", labels, "-o", outDir, "--name", "cutlery");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("5 classes (custom labels)", r.Stdout);
        var file = SafeTensorsFile.Read(File.ReadAllBytes(Path.Combine(outDir, "cutlery.safetensors")));
        Assert.Equal(CustomTfliteFixture.Labels, CanonicalWeights.ParseLabelsJson(file.GetMetadata(CanonicalWeights.Keys.LabelsJson)!));
    }
}
