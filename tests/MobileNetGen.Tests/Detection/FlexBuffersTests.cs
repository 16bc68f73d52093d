using System.Text;
using MobileNetGen.Importers;
using Xunit;

namespace MobileNetGen.Tests.ObjectDetection;

public class DetectionFlexBuffersTests
{
    /// <summary>
    /// Builds a FlexBuffer holding one map of inline scalars, laid out as flexbuffers.h's Builder does (keys, keys vector,
    /// map prefix + values + type bytes, root), with every value slot <paramref name="width"/> bytes wide and keys sorted.
    /// </summary>
    private static byte[] BuildMap(int width, int keyWidth, params (string Key, int Type, double Value)[] entries)
    {
        var e = entries.OrderBy(x => x.Key, StringComparer.Ordinal).ToArray();
        var b = new List<byte>();
        void Put(ulong v, int w) { for (int i = 0; i < w; i++) b.Add((byte)(v >> (8 * i))); }
        int Code(int w) => w switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 };

        var keyPos = new int[e.Length];
        for (int i = 0; i < e.Length; i++)
        {
            keyPos[i] = b.Count;
            b.AddRange(Encoding.UTF8.GetBytes(e[i].Key));
            b.Add(0);
        }
        Put((ulong)e.Length, keyWidth);
        int keysStart = b.Count;
        for (int i = 0; i < e.Length; i++) Put((ulong)(b.Count - keyPos[i]), keyWidth);
        int prefix = b.Count;
        Put((ulong)(prefix - keysStart), width); // backwards offset from this slot to the keys vector
        Put((ulong)keyWidth, width);
        Put((ulong)e.Length, width);
        int data = b.Count;
        foreach (var (_, type, value) in e)
        {
            ulong raw = type switch
            {
                1 => (ulong)(long)value,                                     // INT
                2 => (ulong)value,                                           // UINT
                3 => width == 4 ? BitConverter.SingleToUInt32Bits((float)value) : BitConverter.DoubleToUInt64Bits(value), // FLOAT
                26 => value != 0 ? 1UL : 0UL,                                // BOOL
                _ => 0UL,                                                    // NULL
            };
            Put(raw, width);
        }
        foreach (var (_, type, _) in e) b.Add((byte)((type << 2) | Code(width)));
        int rootSlot = b.Count;
        Put((ulong)(rootSlot - data), width);
        b.Add((byte)((9 << 2) | Code(width))); // MAP
        b.Add((byte)width);
        return b.ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void HandMadeMap_EveryWidth_ReadsBack(int width)
    {
        double f = width == 4 ? 0.6f : 0.6;
        byte[] buffer = BuildMap(width, width, ("max_detections", 1, 10), ("neg", 1, -3), ("u", 2, 100), ("f", 3, width >= 4 ? f : 0), ("yes", 26, 1), ("nothing", 0, 0));
        if (width < 4) buffer = BuildMap(width, width, ("max_detections", 1, 10), ("neg", 1, -3), ("u", 2, 100), ("yes", 26, 1), ("nothing", 0, 0));
        FlexMap map = FlexBuffers.RootMap(buffer);
        Assert.Equal(10, map["max_detections"].AsInt32());
        Assert.Equal(-3, map["neg"].AsInt64());
        Assert.Equal(100, map["u"].AsInt32());
        Assert.True(map["yes"].AsBool());
        Assert.True(map["nothing"].IsNull);
        Assert.Equal(0, map["nothing"].AsInt32()); // flexbuffers: Null reads as 0
        Assert.Equal(map.Keys.OrderBy(k => k, StringComparer.Ordinal), map.Keys); // stored sorted
        if (width >= 4)
        {
            Assert.Equal(FlexType.Float, map["f"].Type);
            Assert.Equal((float)f, map["f"].AsSingle());
            Assert.Equal(0, map["f"].AsInt32()); // AsInt of a float truncates, as flexbuffers.h does
        }
    }

    [Fact]
    public void MixedKeyAndValueWidths_ReadBack()
    {
        byte[] buffer = BuildMap(width: 8, keyWidth: 1, ("a", 1, long.MinValue / 2), ("b", 3, 1e300));
        FlexMap map = FlexBuffers.RootMap(buffer);
        Assert.Equal(long.MinValue / 2, map["a"].AsInt64());
        Assert.Equal(1e300, map["b"].AsDouble());
        Assert.Throws<ImportException>(() => map["a"].AsInt32()); // does not fit: an error, not a silent truncation
    }

    [Fact]
    public void MissingKey_TryGetFalse_IndexerNamesTheKey()
    {
        FlexMap map = FlexBuffers.RootMap(BuildMap(4, 4, ("num_classes", 1, 90)));
        Assert.False(map.TryGetValue("detections_per_class", out var v));
        Assert.True(v.IsNull);
        var e = Assert.Throws<ImportException>(() => map["detections_per_class"]);
        Assert.Contains("detections_per_class", e.Message);
        Assert.Contains("num_classes", e.Message);
    }

    [Fact]
    public void WrongTypes_AreClearErrors()
    {
        byte[] buffer = BuildMap(4, 4, ("n", 1, 5));
        Assert.Throws<ImportException>(() => FlexBuffers.RootMap(buffer)["n"].AsMap());
        Assert.Throws<ImportException>(() => FlexBuffers.RootMap(buffer)["n"].AsString());
        // A root that is a scalar, not a map.
        byte[] scalarRoot = [7, (1 << 2) | 0, 1];
        Assert.Equal(7, FlexBuffers.Root(scalarRoot).AsInt32());
        Assert.Throws<ImportException>(() => FlexBuffers.RootMap(scalarRoot));
    }

    public static TheoryData<string, byte[]> Malformed()
    {
        byte[] good = BuildMap(4, 4, ("max_detections", 1, 10), ("nms_iou_threshold", 3, 0.6));
        var data = new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "two bytes", [1, 1] },
            { "root width 3", [0, 0, 0, 0x24, 3] },
            { "root value before start", [0x24, 8] },
            { "truncated to its second half", good[(good.Length / 2)..] },
        };
        // Root offset pointing before the start of the buffer.
        byte[] badRoot = (byte[])good.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(badRoot, badRoot.Length - 6);
        data.Add("root offset past the start", badRoot);
        // Map count far larger than the buffer.
        byte[] hugeCount = (byte[])good.Clone();
        int dataPos = good.Length - 6 - BitConverter.ToInt32(good, good.Length - 6);
        BitConverter.GetBytes(1_000_000).CopyTo(hugeCount, dataPos - 4);
        data.Add("map count past the end", hugeCount);
        // Keys width that is not 1, 2, 4 or 8.
        byte[] keysWidth = (byte[])good.Clone();
        BitConverter.GetBytes(3).CopyTo(keysWidth, dataPos - 8);
        data.Add("keys width 3", keysWidth);
        // Key offset that points before the buffer.
        byte[] keyOffset = (byte[])good.Clone();
        int keysStart = dataPos - 12 - BitConverter.ToInt32(good, dataPos - 12);
        BitConverter.GetBytes(int.MaxValue).CopyTo(keyOffset, keysStart);
        data.Add("key offset past the start", keyOffset);
        // Keys vector length that disagrees with the map's.
        byte[] keyCount = (byte[])good.Clone();
        BitConverter.GetBytes(1).CopyTo(keyCount, keysStart - 4);
        data.Add("keys count differs from values count", keyCount);
        // A key without its NUL terminator at the very end of the buffer: point a key at the last byte (the root width 4 ≠ 0).
        byte[] noNul = (byte[])good.Clone();
        BitConverter.GetBytes(keysStart - (good.Length - 1)).CopyTo(noNul, keysStart); // negative: "points forward"
        data.Add("key points forward", noNul);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedBuffers_ThrowImportException(string what, byte[] buffer)
    {
        var e = Record.Exception(() =>
        {
            FlexMap map = FlexBuffers.RootMap(buffer);
            foreach (string k in map.Keys) _ = map[k].ToString();
        });
        Assert.True(e is ImportException, $"{what}: expected ImportException, got {e?.GetType().Name ?? "no exception"}: {e?.Message}");
    }

    [Fact]
    public void RealOptions_DecodeToTflitesValues()
    {
        FlexMap map = FlexBuffers.RootMap(SsdOptions.RealOptionBytes);
        Assert.Equal(
            ["_output_quantized", "h_scale", "max_classes_per_detection", "max_detections", "nms_iou_threshold", "nms_score_threshold", "num_classes", "w_scale", "x_scale", "y_scale"],
            map.Keys);
        Assert.True(map["_output_quantized"].AsBool());
        Assert.Equal(10, map["max_detections"].AsInt32());
        Assert.Equal(1, map["max_classes_per_detection"].AsInt32());
        Assert.Equal(90, map["num_classes"].AsInt32());
        Assert.Equal(0.6f, map["nms_iou_threshold"].AsSingle());
        Assert.Equal(1e-8f, map["nms_score_threshold"].AsSingle());
        Assert.Equal(10f, map["y_scale"].AsSingle());
        Assert.Equal(10f, map["x_scale"].AsSingle());
        Assert.Equal(5f, map["h_scale"].AsSingle());
        Assert.Equal(5f, map["w_scale"].AsSingle());
        Assert.False(map.ContainsKey("detections_per_class"));
        Assert.False(map.ContainsKey("use_regular_nms"));

        var options = SsdOptions.Real;
        options.Validate();
        Assert.Equal(100, options.DetectionsPerClass); // TFLite's kNumDetectionsPerClass default
        Assert.False(options.UseRegularNms);          // absent → fast NMS
    }

    [SharedDataFact]
    public void RealOptions_CopyEqualsTheModelsBytes()
    {
        Assert.Equal(SsdOptions.RealOptionBytes, SsdModelFile.Load().PostprocessOptionBytes);
    }
}
