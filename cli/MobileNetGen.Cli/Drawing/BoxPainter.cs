using System.Globalization;
using MobileNetGen.Runtime.Detection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace MobileNetGen.Cli.Drawing;

/// <summary>
/// Draws detections onto an <see cref="Image{Rgb24}"/> without a drawing library (ImageSharp.Drawing is not a dependency):
/// rectangle outlines of a given thickness, a filled label background with <see cref="BitmapFont"/> text, a colour per class.
/// Everything is clipped to the image, so boxes that reach past an edge (SSD boxes are not clamped) are drawn where visible.
/// </summary>
/// <remarks>
/// Pixel conventions: a <see cref="PixelBox"/> (float edges) covers the pixels from <c>round(Left)</c> to <c>round(Right) − 1</c>
/// and <c>round(Top)</c> to <c>round(Bottom) − 1</c>; the outline is drawn inside that area, <c>thickness</c> pixels wide, and the
/// pixels inside the outline are left untouched. The label sits on the box's top edge, above the box when there is room and
/// inside it otherwise, and is moved left to stay in the picture.
/// </remarks>
public static class BoxPainter
{
    /// <summary>How boxes are drawn.</summary>
    public sealed record Style
    {
        /// <summary>Outline width in pixels (≥ 1).</summary>
        public int Thickness { get; init; } = 3;

        /// <summary>Integer scale of the 8 × 8 font (≥ 1): 2 gives 16-pixel text.</summary>
        public int FontScale { get; init; } = 2;

        /// <summary>Space between the text and the edge of its background, in font pixels.</summary>
        public int Padding { get; init; } = 1;

        internal void Validate()
        {
            if (Thickness is < 1 or > 1000) throw new ArgumentOutOfRangeException(nameof(Thickness), Thickness, "outline thickness must be in 1..1000");
            if (FontScale is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(FontScale), FontScale, "font scale must be in 1..64");
            if (Padding is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(Padding), Padding, "padding must be in 0..64");
        }
    }

    /// <summary>
    /// A colour per class, well apart for neighbouring indices: the hue steps by the golden angle (137.5°), saturation 0.85,
    /// value 0.95.
    /// </summary>
    public static Rgb24 ClassColor(int classIndex)
    {
        double hue = (classIndex * 137.50776405) % 360;
        if (hue < 0) hue += 360;
        return FromHsv(hue, 0.85, 0.95);
    }

    private static Rgb24 FromHsv(double hue, double saturation, double value)
    {
        double c = value * saturation, h = hue / 60, x = c * (1 - Math.Abs(h % 2 - 1)), m = value - c;
        (double r, double g, double b) = (int)h switch
        {
            0 => (c, x, 0.0), 1 => (x, c, 0.0), 2 => (0.0, c, x), 3 => (0.0, x, c), 4 => (x, 0.0, c), _ => (c, 0.0, x),
        };
        static byte B(double v) => (byte)Math.Clamp((int)Math.Round(v * 255), 0, 255);
        return new Rgb24(B(r + m), B(g + m), B(b + m));
    }

    /// <summary>Fills pixels <c>[left, right) × [top, bottom)</c>, clipped to the image.</summary>
    public static void FillRectangle(Image<Rgb24> image, int left, int top, int right, int bottom, Rgb24 color)
    {
        ArgumentNullException.ThrowIfNull(image);
        int x0 = Math.Max(left, 0), x1 = Math.Min(right, image.Width);
        int y0 = Math.Max(top, 0), y1 = Math.Min(bottom, image.Height);
        if (x0 >= x1 || y0 >= y1) return;
        for (int y = y0; y < y1; y++) image.DangerousGetPixelRowMemory(y).Span[x0..x1].Fill(color);
    }

    /// <summary>
    /// Outlines pixels <c>[left, right) × [top, bottom)</c> with a border <paramref name="thickness"/> pixels wide, inside that
    /// area (a box thinner than twice the thickness is filled), clipped to the image.
    /// </summary>
    public static void DrawRectangle(Image<Rgb24> image, int left, int top, int right, int bottom, int thickness, Rgb24 color)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (thickness < 1) throw new ArgumentOutOfRangeException(nameof(thickness), thickness, "thickness must be at least 1");
        if (right <= left || bottom <= top) return;
        int t = thickness;
        FillRectangle(image, left, top, right, Math.Min(top + t, bottom), color);                  // top band
        FillRectangle(image, left, Math.Max(bottom - t, top), right, bottom, color);               // bottom band
        FillRectangle(image, left, top, Math.Min(left + t, right), bottom, color);                 // left band
        FillRectangle(image, Math.Max(right - t, left), top, right, bottom, color);                // right band
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (<paramref name="x"/>, <paramref name="y"/>), clipped.</summary>
    public static void DrawText(Image<Rgb24> image, string text, int x, int y, int scale, Rgb24 color)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(text);
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be at least 1");
        for (int i = 0; i < text.Length; i++)
        {
            int cellX = x + i * BitmapFont.CellSize * scale;
            if (cellX >= image.Width) break;
            for (int gy = 0; gy < BitmapFont.CellSize; gy++)
                for (int gx = 0; gx < BitmapFont.CellSize; gx++)
                    if (BitmapFont.IsSet(text[i], gx, gy))
                        FillRectangle(image, cellX + gx * scale, y + gy * scale, cellX + (gx + 1) * scale, y + (gy + 1) * scale, color);
        }
    }

    /// <summary>Where the label of a box whose area starts at (<paramref name="left"/>, <paramref name="top"/>) goes:
    /// above the box if it fits, else inside at the top edge; moved left to stay inside the image when possible.</summary>
    public static (int Left, int Top, int Width, int Height) LabelPlacement(Image<Rgb24> image, string text, int left, int top, Style style)
    {
        int pad = style.Padding * style.FontScale;
        int width = BitmapFont.MeasureWidth(text, style.FontScale) + 2 * pad;
        int height = BitmapFont.MeasureHeight(style.FontScale) + 2 * pad;
        int y = top - height >= 0 ? top - height : Math.Max(top, 0);
        int x = Math.Max(0, Math.Min(left, image.Width - width));
        return (x, y, width, height);
    }

    /// <summary>Draws one box with its label (e.g. "cat 0.64") in the class's colour.</summary>
    public static void DrawBox(Image<Rgb24> image, PixelBox box, string label, Rgb24 color, Style? style = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(label);
        style ??= new Style();
        style.Validate();
        if (!float.IsFinite(box.Left) || !float.IsFinite(box.Top) || !float.IsFinite(box.Right) || !float.IsFinite(box.Bottom))
            throw new ArgumentException($"box {box} has a non-finite edge", nameof(box));
        // Far-away edges are clamped before rounding so that int conversion cannot overflow; drawing clips anyway.
        int Edge(float v, int limit) => (int)MathF.Round(Math.Clamp(v, -limit - 1f, 2f * limit + 1));
        int left = Edge(box.Left, image.Width), right = Edge(box.Right, image.Width);
        int top = Edge(box.Top, image.Height), bottom = Edge(box.Bottom, image.Height);
        DrawRectangle(image, left, top, right, bottom, style.Thickness, color);
        if (label.Length == 0) return;
        var (lx, ly, lw, lh) = LabelPlacement(image, label, left, top, style);
        FillRectangle(image, lx, ly, lx + lw, ly + lh, color);
        // Black text on light colours, white on dark (Rec. 601 luma).
        int luma = (299 * color.R + 587 * color.G + 114 * color.B) / 1000;
        var ink = luma >= 140 ? new Rgb24(0, 0, 0) : new Rgb24(255, 255, 255);
        int pad = style.Padding * style.FontScale;
        DrawText(image, label, lx + pad, ly + pad, style.FontScale, ink);
    }

    /// <summary>The label text of a detection: its label and score with two decimals ("cat 0.64").</summary>
    public static string LabelText(Detection detection) =>
        string.Create(CultureInfo.InvariantCulture, $"{detection.Label} {detection.Score:0.00}");

    /// <summary>Draws every detection, lowest score first so that the best box's label ends on top.</summary>
    public static void DrawDetections(Image<Rgb24> image, ReadOnlySpan<Detection> detections, Style? style = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var order = new int[detections.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var scores = new float[detections.Length];
        for (int i = 0; i < scores.Length; i++) scores[i] = detections[i].Score;
        Array.Sort(scores, order); // ascending score; equal scores keep no particular order, which does not matter for drawing
        foreach (int i in order)
            DrawBox(image, detections[i].Pixels, LabelText(detections[i]), ClassColor(detections[i].ClassIndex), style);
    }

    /// <summary>
    /// <c>--draw OUT.png</c>: draws <paramref name="detections"/> onto a copy of <paramref name="image"/> and writes
    /// it as PNG to <paramref name="path"/>. The detections' pixel boxes must be in this image's coordinates.
    /// </summary>
    public static void SavePng(Image<Rgb24> image, ReadOnlySpan<Detection> detections, string path, Style? style = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var copy = image.Clone();
        DrawDetections(copy, detections, style);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder != null && !Directory.Exists(folder)) throw new DirectoryNotFoundException($"folder '{folder}' of --draw output '{path}' does not exist");
        copy.Save(path, new PngEncoder());
    }
}
