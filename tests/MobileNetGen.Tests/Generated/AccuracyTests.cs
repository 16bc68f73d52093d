using System.Globalization;
using MobileNetGen.Runtime.Imaging;
using MobileNetGen.Variants;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Generated;

/// <summary>
/// shared/images/imagenet-sample-dev (500 photos, one per even Keras class) decoded once and shared by every variant.
/// Loaded lazily, so that nothing is read when the shared folder is absent and the tests are skipped.
/// </summary>
public sealed class ImageNetSampleFixture : IDisposable
{
    public sealed record Sample(string File, int SlimIndex, string Label, Image<Rgb24> Image);

    private readonly Lazy<IReadOnlyList<Sample>> _samples = new(Load);

    public IReadOnlyList<Sample> Samples => _samples.Value;

    public static string Folder => Path.Combine(SharedData.Root!, "images", "imagenet-sample-dev");

    private static IReadOnlyList<Sample> Load()
    {
        var samples = new List<Sample>();
        string[] lines = File.ReadAllLines(Path.Combine(Folder, "ground_truth.tsv"));
        Assert.Equal("file\twnid\tkeras_index_0_999\tslim_index_1_1000\tslim_label", lines[0]);
        foreach (string line in lines.Skip(1))
        {
            if (line.Length == 0) continue;
            string[] f = line.Split('\t');
            int slim = int.Parse(f[3], CultureInfo.InvariantCulture);
            Assert.Equal(int.Parse(f[2], CultureInfo.InvariantCulture) + 1, slim);
            samples.Add(new Sample(f[0], slim, f[4], ImageLoader.LoadRgb24(Path.Combine(Folder, f[0]))));
        }
        return samples;
    }

    public void Dispose()
    {
        if (!_samples.IsValueCreated) return;
        foreach (var s in _samples.Value) s.Image.Dispose();
    }
}

/// <summary>
/// Top-1 / top-5 of the 13 genuine-weight entries on imagenet-sample-dev against an independent implementation's numbers
/// (shared/README.md). That implementation resized with Pillow's antialiased bilinear filter: with the same method
/// (<see cref="ResizeMethod.Antialiased"/>) every entry must land within ±1.5 points. The product's default, TF-slim's
/// TF1 bilinear resize, differs from it by up to 2.6 points on some entries (measured: 0.75_160 top-1 75.2 vs 73.4,
/// 0.75_128 73.6 vs 71.8, 0.25_128 46.6 vs 48.2, 0.25_192 top-5 79.0 vs 76.4); that gap is the resize alone — same
/// weights, same crop, and the antialiased run lands in the ±1.5 band — so the default is held to ±3 points. These are regression numbers on (probably) training
/// photos, not validation accuracy.
/// </summary>
public class AccuracyTests(ImageNetSampleFixture fixture, ITestOutputHelper output) : IClassFixture<ImageNetSampleFixture>
{
    public static TheoryData<string, double, double> GenuineEntries() => new()
    {
        // float
        { "mobilenet_v1_0.25_224", 57.6, 79.2 },
        { "mobilenet_v1_0.25_192", 55.0, 76.4 },
        { "mobilenet_v1_0.25_160", 50.4, 75.0 },
        { "mobilenet_v1_0.25_128", 48.2, 70.0 },
        { "mobilenet_v1_0.75_224", 85.0, 96.8 },
        { "mobilenet_v1_0.25_224_tflite2018", 54.2, 79.0 },
        // 8-bit weights
        { "mobilenet_v1_0.50_224", 65.4, 85.8 },
        { "mobilenet_v1_0.50_192", 64.2, 87.2 },
        { "mobilenet_v1_0.50_160", 61.0, 84.6 },
        { "mobilenet_v1_0.50_128", 63.2, 82.4 },
        { "mobilenet_v1_0.75_192", 72.0, 93.4 },
        { "mobilenet_v1_0.75_160", 73.4, 90.6 },
        { "mobilenet_v1_0.75_128", 71.8, 90.4 },
    };

    [SharedDataTheory]
    [MemberData(nameof(GenuineEntries))]
    public void With_the_references_resize_top1_and_top5_are_within_1_5_points(string entryName, double refTop1, double refTop5)
        => Check(entryName, refTop1, refTop5, ResizeMethod.Antialiased, band: 1.5);

    [SharedDataTheory]
    [MemberData(nameof(GenuineEntries))]
    public void With_the_default_TF_slim_resize_top1_and_top5_are_within_3_points(string entryName, double refTop1, double refTop5)
        => Check(entryName, refTop1, refTop5, ResizeMethod.TensorFlowBilinear, band: 3.0);

    private void Check(string entryName, double refTop1, double refTop5, ResizeMethod resize, double band)
    {
        var entry = VariantCatalog.Entries.Single(e => e.Name == entryName);
        Assert.NotEqual(MobileNetGen.Runtime.WeightsKind.Synthetic, entry.Info.Weights);
        using var classifier = entry.Create(new MobileNetGen.Runtime.MobileNetOptions { Resize = resize });
        var samples = fixture.Samples;
        Assert.Equal(500, samples.Count);

        int top1 = 0, top5 = 0;
        foreach (var s in samples)
        {
            var predictions = classifier.Classify(s.Image, 5);
            if (predictions[0].ImageNetIndex == s.SlimIndex) top1++;
            if (predictions.Any(p => p.ImageNetIndex == s.SlimIndex)) top5++;
        }
        double acc1 = 100.0 * top1 / samples.Count, acc5 = 100.0 * top5 / samples.Count;
        output.WriteLine($"{entryName} ({entry.Info.WeightsLabel}, {resize}): top-1 {acc1:F1} % (reference {refTop1:F1}), top-5 {acc5:F1} % (reference {refTop5:F1}), {samples.Count} photos");
        Assert.True(Math.Abs(acc1 - refTop1) <= band + 1e-9 && Math.Abs(acc5 - refTop5) <= band + 1e-9,
            $"{entryName} ({resize}): top-1 {acc1:F1} / top-5 {acc5:F1}, reference {refTop1:F1} / {refTop5:F1} (band ±{band})");
    }
}
