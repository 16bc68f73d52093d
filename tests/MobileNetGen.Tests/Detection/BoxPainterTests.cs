using MobileNetGen.Cli.Drawing;
using MobileNetGen.Runtime.Detection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

public class DetectionBoxPainterTests
{
    private static readonly Rgb24 Grey = new(90, 90, 90);
    private static readonly Rgb24 Red = new(220, 30, 30);

    private static Image<Rgb24> Canvas(int w = 120, int h = 80) => new(w, h, Grey);

    [Fact]
    public void Outline_SetsExactlyTheBorderPixels()
    {
        using var image = Canvas();
        BoxPainter.DrawRectangle(image, 10, 20, 50, 60, thickness: 3, Red); // pixels [10, 50) × [20, 60)
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                bool inBox = x >= 10 && x < 50 && y >= 20 && y < 60;
                bool inInterior = x >= 13 && x < 47 && y >= 23 && y < 57;
                Assert.True((inBox && !inInterior ? Red : Grey) == image[x, y], $"pixel ({x}, {y})");
            }
    }

    [Fact]
    public void Outline_IsClippedAtEveryBorder()
    {
        using var image = Canvas(40, 30);
        BoxPainter.DrawRectangle(image, -10, -5, 60, 50, thickness: 2, Red); // every edge outside the image
        Assert.All(AllPixels(image), p => Assert.Equal(Grey, p));
        BoxPainter.DrawRectangle(image, -10, 5, 20, 100, thickness: 2, Red); // left and bottom outside: top and right bands show
        Assert.Equal(Red, image[0, 5]);
        Assert.Equal(Red, image[19, 29]);
        Assert.Equal(Red, image[18, 29]);
        Assert.Equal(Grey, image[17, 29]);
        Assert.Equal(Grey, image[0, 7]);
        BoxPainter.DrawRectangle(image, 1000, 1000, 2000, 2000, 3, Red); // wholly outside: nothing, no exception
    }

    [Fact]
    public void ThinBoxes_AreFilled_EmptyBoxesDrawNothing()
    {
        using var image = Canvas(20, 20);
        BoxPainter.DrawRectangle(image, 5, 5, 8, 15, thickness: 4, Red);
        for (int y = 5; y < 15; y++) for (int x = 5; x < 8; x++) Assert.Equal(Red, image[x, y]);
        BoxPainter.DrawRectangle(image, 12, 12, 12, 18, thickness: 2, Red);
        Assert.Equal(Grey, image[12, 13]);
        Assert.Throws<ArgumentOutOfRangeException>(() => BoxPainter.DrawRectangle(image, 0, 0, 5, 5, 0, Red));
    }

    [Fact]
    public void Font_KnownGlyphs()
    {
        // 'H' = 33 33 33 3F 33 33 33 00: columns 0, 1, 4, 5 in rows 0–6, the bar in row 3.
        Assert.True(BitmapFont.IsSet('H', 0, 0));
        Assert.True(BitmapFont.IsSet('H', 5, 6));
        Assert.False(BitmapFont.IsSet('H', 2, 0));
        Assert.True(BitmapFont.IsSet('H', 2, 3));
        Assert.False(BitmapFont.IsSet('H', 0, 7));
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) Assert.False(BitmapFont.IsSet(' ', x, y));
        // Outside printable ASCII: '?'.
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) Assert.Equal(BitmapFont.IsSet('?', x, y), BitmapFont.IsSet('é', x, y));
        Assert.Equal(48, BitmapFont.MeasureWidth("cat", 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitmapFont.IsSet('A', 8, 0));
    }

    [Fact]
    public void Text_ScalesEachFontPixelToASquare()
    {
        using var image = Canvas(40, 40);
        BoxPainter.DrawText(image, "H", 4, 6, scale: 3, Red);
        for (int gy = 0; gy < 8; gy++)
            for (int gx = 0; gx < 8; gx++)
                for (int k = 0; k < 9; k++)
                    Assert.Equal(BitmapFont.IsSet('H', gx, gy) ? Red : Grey, image[4 + gx * 3 + k % 3, 6 + gy * 3 + k / 3]);
    }

    [Fact]
    public void Label_AboveTheBox_InsideWhenNoRoom_AndInsideTheImage()
    {
        using var image = Canvas(200, 120);
        var style = new BoxPainter.Style { Thickness = 2, FontScale = 1, Padding = 1 };
        // Room above: label rows end right above the box's top edge.
        var above = BoxPainter.LabelPlacement(image, "dog 0.51", 30, 50, style);
        Assert.Equal((30, 40, 66, 10), above);
        // No room above: inside, at the top edge.
        Assert.Equal(5, BoxPainter.LabelPlacement(image, "dog", 30, 5, style).Top);
        // Near the right edge: moved left so that it ends at the edge.
        var right = BoxPainter.LabelPlacement(image, "dog 0.51", 180, 50, style);
        Assert.Equal(200 - 66, right.Left);

        BoxPainter.DrawBox(image, new PixelBox(30, 50, 90, 100), "dog 0.51", Red, style);
        // The background is filled where no glyph pixel is set, and the text is in the label's bounds.
        Assert.Equal(Red, image[30, 40]);
        Assert.Equal(Red, image[95, 49]);
        var ink = new Rgb24(255, 255, 255); // red's luma is low: white text
        int inkPixels = 0;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                if (image[x, y] == ink)
                {
                    inkPixels++;
                    Assert.InRange(x, 31, 30 + 66 - 2);
                    Assert.InRange(y, 41, 48);
                }
        Assert.True(inkPixels > 40, $"{inkPixels} text pixels");
        // The box interior is untouched.
        Assert.Equal(Grey, image[60, 75]);
    }

    [Fact]
    public void ClassColors_AreDistinctAndStable()
    {
        var colors = Enumerable.Range(0, 90).Select(BoxPainter.ClassColor).ToList();
        Assert.Equal(90, colors.Distinct().Count());
        Assert.Equal(colors[16], BoxPainter.ClassColor(16));
        // Neighbouring classes (cat 16, dog 17) differ clearly.
        var (a, b) = (colors[16], colors[17]);
        Assert.True(Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B) > 150);
    }

    [Fact]
    public void BadBoxes_AreClearErrors()
    {
        using var image = Canvas();
        Assert.Throws<ArgumentException>(() => BoxPainter.DrawBox(image, new PixelBox(float.NaN, 0, 10, 10), "x", Red));
        Assert.Throws<ArgumentOutOfRangeException>(() => BoxPainter.DrawBox(image, new PixelBox(0, 0, 10, 10), "x", Red, new BoxPainter.Style { FontScale = 0 }));
        // Huge but finite edges are clipped, not overflowed.
        BoxPainter.DrawBox(image, new PixelBox(-1e30f, -1e30f, 1e30f, 1e30f), "everything", Red);
    }

    private static IEnumerable<Rgb24> AllPixels(Image<Rgb24> image)
    {
        for (int y = 0; y < image.Height; y++) for (int x = 0; x < image.Width; x++) yield return image[x, y];
    }

    [SharedDataFact]
    public void CatsAndDogs_WithTheGoldenBoxes_WritesAPngThatReloads()
    {
        using var image = Image.Load<Rgb24>(Path.Combine(SharedData.Root!, GoldenDetections.ImageRelativePath));
        var detections = GoldenDetections.Current.Select(g =>
        {
            var box = new NormalizedBox((float)g.OriginY / image.Height, (float)g.OriginX / image.Width,
                                        (float)(g.OriginY + g.Height) / image.Height, (float)(g.OriginX + g.Width) / image.Width);
            return new Detection(box, PixelBox.FromNormalized(box, image.Width, image.Height), g.ClassIndex, g.ClassName, g.Score);
        }).ToArray();
        string folder = Path.Combine(Path.GetTempPath(), "mobilenetgen-draw-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string path = Path.Combine(folder, "cats_and_dogs_boxes.png");
            BoxPainter.SavePng(image, detections, path);
            using var reloaded = Image.Load<Rgb24>(path);
            Assert.Equal((image.Width, image.Height), (reloaded.Width, reloaded.Height));
            // The dog's outline (class 17 colour) at its left edge, mid-height, and the untouched photo inside a box.
            var g = GoldenDetections.Current[3];
            Assert.Equal(BoxPainter.ClassColor(17), reloaded[g.OriginX + 1, g.OriginY + g.Height / 2]);
            Assert.Equal(image[g.OriginX + g.Width / 2, g.OriginY + g.Height / 2], reloaded[g.OriginX + g.Width / 2, g.OriginY + g.Height / 2]);
            // The input image is not modified.
            Assert.NotEqual(BoxPainter.ClassColor(17), image[g.OriginX + 1, g.OriginY + g.Height / 2]);
            string? keep = Environment.GetEnvironmentVariable("MOBILENETGEN_DRAW_SAMPLE");
            if (!string.IsNullOrEmpty(keep)) File.Copy(path, keep, overwrite: true);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        Assert.Throws<DirectoryNotFoundException>(() => BoxPainter.SavePng(image, detections, Path.Combine(folder, "missing", "x.png")));
    }
}
