using System.Text;
using MobileNetGen.Runtime.Labels;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

public sealed class LabelsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mng-labels-" + Guid.NewGuid().ToString("N"));

    public LabelsTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Write(string name, string text, bool bom = false)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text, new UTF8Encoding(bom));
        return path;
    }

    [Fact]
    public void ImageNetLabelsHave1001EntriesWithBackgroundFirst()
    {
        Assert.Equal(1001, ImageNetLabels.All.Length);
        Assert.Equal("background", ImageNetLabels.All[0]);
        Assert.Equal("tench", ImageNetLabels.Get(1));
        Assert.Equal("bow tie", ImageNetLabels.Get(458));
        Assert.Equal("toilet tissue", ImageNetLabels.Get(1000));
        Assert.All(ImageNetLabels.All, l => Assert.False(string.IsNullOrWhiteSpace(l)));
        Assert.Same(ImageNetLabels.All, ImageNetLabels.All); // loaded once
    }

    [Fact]
    public void ReadmeReferenceClassesHaveTheExpectedNames()
    {
        // The README's reference top-1s for the demo photos (slim indices).
        Assert.Equal("tiger cat", ImageNetLabels.Get(283));
        Assert.Equal("macaw", ImageNetLabels.Get(89));
        Assert.Equal("daisy", ImageNetLabels.Get(986));
        Assert.Equal("cheeseburger", ImageNetLabels.Get(934));
    }

    [Fact]
    public void GetValidatesIndex()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageNetLabels.Get(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageNetLabels.Get(1001));
    }

    [Fact]
    public void LabelFileReadsOneLabelPerLineIgnoringTrailingEmptyLines()
    {
        string path = Write("labels.txt", "cat\r\ndog \r\n  hot dog\n\n\n");
        Assert.Equal(new[] { "cat", "dog", "hot dog" }, LabelFile.Read(path));
    }

    [Fact]
    public void LabelFileHandlesBomAndNonAscii()
    {
        string path = Write("ünïcode labels.txt", "Katze\nHund\n猫", bom: true);
        Assert.Equal(new[] { "Katze", "Hund", "猫" }, LabelFile.Read(path));
    }

    [Fact]
    public void LabelFileKeepsInteriorEmptyLines()
    {
        string path = Write("gaps.txt", "a\n\nc\n");
        Assert.Equal(new[] { "a", "", "c" }, LabelFile.Read(path));
    }

    [Fact]
    public void LabelFileStripsTfSlimIndexPrefixes()
    {
        string path = Write("slim.txt", "0:background\n1:tench, Tinca tinca\n2:goldfish, Carassius auratus\n");
        Assert.Equal(new[] { "background", "tench, Tinca tinca", "goldfish, Carassius auratus" }, LabelFile.Read(path));

        // Prefixes that are not the line index are part of the label.
        string other = Write("ratio.txt", "4:3 aspect\n16:9 aspect\n");
        Assert.Equal(new[] { "4:3 aspect", "16:9 aspect" }, LabelFile.Read(other));
    }

    [SharedDataFact]
    public void SharedLabelListsAgreeWithTheEmbeddedOne()
    {
        string dir = Path.Combine(SharedData.Root!, "labels");
        string[] slim = LabelFile.Read(Path.Combine(dir, "labels_1001_tf-slim_frozen-tgz_2017-06-28.txt")); // N:name form
        Assert.Equal(1001, slim.Length);
        Assert.Equal("background", slim[0]);
        Assert.StartsWith("bow tie", slim[458]);
        string[] coral = LabelFile.Read(Path.Combine(dir, "imagenet_labels_1001_google-coral_test_data.txt"));
        Assert.Equal(1001, coral.Length);
        for (int i = 0; i < 1001; i++)
            Assert.StartsWith(ImageNetLabels.Get(i).Split(',')[0], slim[i]);
    }

    [Fact]
    public void EmptyLabelFileIsAClearError()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LabelFile.Read(Write("empty.txt", "")));
        Assert.Contains("empty.txt", ex.Message);
        Assert.Contains("no labels", ex.Message);
        Assert.Throws<InvalidDataException>(() => LabelFile.Read(Write("blank.txt", "\n \r\n\n")));
        Assert.Throws<FileNotFoundException>(() => LabelFile.Read(Path.Combine(_dir, "missing.txt")));
    }

}
