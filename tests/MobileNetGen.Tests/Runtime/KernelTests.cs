using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Kernels;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

/// <summary>
/// Each kernel on every SIMD path against a plain loop written here (TFLite Micro reference-kernel style), on shapes
/// no MobileNet variant has: pixel counts that leave every possible tail after the register tiles, rows too narrow for
/// a full interior group, channel counts that need the narrower widths and the scalar lanes. The kernels promise the
/// same sums in the same order on every path, so the comparison is bit for bit. (The generated variants are checked
/// end to end in <c>ForwardPassTests</c>; this pins down the edges they never reach.)
/// </summary>
public unsafe class KernelTests
{
    public static readonly TheoryData<SimdPath> Paths = new() { SimdPath.Vector512, SimdPath.Vector256, SimdPath.Vector128, SimdPath.Scalar };

    private static float[] Random(int count, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = low + (float)random.NextDouble() * (high - low);
        return values;
    }

    private static void AssertBitIdentical(string what, float[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: element {i} is {actual[i]:R}, the reference gives {expected[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void PointwiseMatchesPlainLoopForEveryTail(SimdPath path)
    {
        foreach (int cin in new[] { 1, 8, 24 })
            foreach (int panels in new[] { 1, 2, 3 })
                for (int pixels = 1; pixels <= 20; pixels++)
                    CheckPointwise(path, pixels, cin, panels, 0, panels);
        CheckPointwise(path, 49, 64, 4, 0, 4);   // a 7×7 layer: one pixel after the tiles
        CheckPointwise(path, 196, 32, 3, 0, 3);  // a 14×14 layer: four
        CheckPointwise(path, 25, 16, 5, 1, 4);   // a thread's share of the panels
    }

    private static void CheckPointwise(SimdPath path, int pixels, int cin, int panels, int panelStart, int panelEnd)
    {
        int cout = panels * PointwiseKernels.PanelWidth;
        float[] input = Random(pixels * cin, seed: pixels * 31 + cin, low: 0f, high: 6f);
        float[] packed = Random(panels * cin * PointwiseKernels.PanelWidth, seed: cin * 7 + panels, low: -0.3f, high: 0.3f);
        float[] bias = Random(cout, seed: panels, low: -1f, high: 2f);
        float[] expected = new float[pixels * cout], actual = new float[pixels * cout];
        Array.Fill(expected, -1f);
        Array.Fill(actual, -1f); // channels outside [panelStart, panelEnd) must stay untouched
        for (int p = 0; p < pixels; p++)
            for (int co = panelStart * 16; co < panelEnd * 16; co++)
            {
                float acc = bias[co];
                for (int ci = 0; ci < cin; ci++)
                    acc = MathF.FusedMultiplyAdd(input[p * cin + ci], packed[((co / 16) * cin + ci) * 16 + co % 16], acc);
                expected[p * cout + co] = Math.Clamp(acc, 0f, 6f);
            }
        fixed (float* i = input, w = packed, b = bias, o = actual)
            PointwiseKernels.Run(path, i, o, w, b, pixels, cin, cout, panelStart, panelEnd);
        AssertBitIdentical($"pointwise {path}, {pixels} px, {cin}→{cout}, panels [{panelStart}, {panelEnd})", expected, actual);
    }

    // Depthwise shapes as the generator would emit them (TensorFlow SAME padding): narrow rows with no interior group,
    // rows whose interior leaves groups of 8, 4 and single pixels, both strides, odd and even sizes.
    private struct Dw1x1 : IDepthwiseShape { public static int InH => 1; public static int InW => 1; public static int Channels => 8; public static int OutH => 1; public static int OutW => 1; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Dw3x5 : IDepthwiseShape { public static int InH => 3; public static int InW => 5; public static int Channels => 12; public static int OutH => 3; public static int OutW => 5; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Dw7x19 : IDepthwiseShape { public static int InH => 7; public static int InW => 19; public static int Channels => 40; public static int OutH => 7; public static int OutW => 19; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Dw4x30 : IDepthwiseShape { public static int InH => 4; public static int InW => 30; public static int Channels => 21; public static int OutH => 4; public static int OutW => 30; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Dw7x7s2 : IDepthwiseShape { public static int InH => 7; public static int InW => 7; public static int Channels => 24; public static int OutH => 4; public static int OutW => 4; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Dw6x40s2 : IDepthwiseShape { public static int InH => 6; public static int InW => 40; public static int Channels => 16; public static int OutH => 3; public static int OutW => 20; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct Dw5x37s2 : IDepthwiseShape { public static int InH => 5; public static int InW => 37; public static int Channels => 36; public static int OutH => 3; public static int OutW => 19; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DepthwiseMatchesPlainLoopOnEdgeShapes(SimdPath path)
    {
        CheckDepthwise<Dw1x1>(path);
        CheckDepthwise<Dw3x5>(path);
        CheckDepthwise<Dw7x19>(path);
        CheckDepthwise<Dw4x30>(path);
        CheckDepthwise<Dw7x7s2>(path);
        CheckDepthwise<Dw6x40s2>(path);
        CheckDepthwise<Dw5x37s2>(path);
    }

    private static void CheckDepthwise<TShape>(SimdPath path) where TShape : struct, IDepthwiseShape
    {
        int C = TShape.Channels, S = TShape.Stride;
        float[] input = Random(TShape.InH * TShape.InW * C, seed: C, low: 0f, high: 6f);
        float[] packed = Random(9 * C, seed: C + 1);
        float[] bias = Random(C, seed: C + 2);
        float[] expected = new float[TShape.OutH * TShape.OutW * C], actual = new float[expected.Length];
        for (int y = 0; y < TShape.OutH; y++)
            for (int x = 0; x < TShape.OutW; x++)
                for (int c = 0; c < C; c++)
                {
                    float acc = bias[c];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = y * S - TShape.PadTop + ky, ix = x * S - TShape.PadLeft + kx;
                            if (iy < 0 || iy >= TShape.InH || ix < 0 || ix >= TShape.InW) continue; // padding
                            acc = MathF.FusedMultiplyAdd(input[(iy * TShape.InW + ix) * C + c], packed[(ky * 3 + kx) * C + c], acc);
                        }
                    expected[(y * TShape.OutW + x) * C + c] = Math.Clamp(acc, 0f, 6f);
                }
        fixed (float* i = input, w = packed, b = bias, o = actual)
        {
            // in two thread-sized shares of rows, as LayerRunner splits it
            int half = TShape.OutH / 2;
            DepthwiseKernels.Run<TShape>(path, i, o, w, b, 0, half);
            DepthwiseKernels.Run<TShape>(path, i, o, w, b, half, TShape.OutH);
        }
        AssertBitIdentical($"depthwise {path}, {typeof(TShape).Name}", expected, actual);
    }

    private struct Stem9x9x8 : IStemShape { public static int InH => 9; public static int InW => 9; public static int OutH => 5; public static int OutW => 5; public static int Cout => 8; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Stem8x30x16 : IStemShape { public static int InH => 8; public static int InW => 30; public static int OutH => 4; public static int OutW => 15; public static int Cout => 16; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct Stem6x40x52 : IStemShape { public static int InH => 6; public static int InW => 40; public static int OutH => 3; public static int OutW => 20; public static int Cout => 52; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct Stem5x27x24 : IStemShape { public static int InH => 5; public static int InW => 27; public static int OutH => 3; public static int OutW => 14; public static int Cout => 24; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }

    [Theory]
    [MemberData(nameof(Paths))]
    public void StemMatchesPlainLoopOnEdgeShapes(SimdPath path)
    {
        CheckStem<Stem9x9x8>(path);
        CheckStem<Stem8x30x16>(path);
        CheckStem<Stem6x40x52>(path);
        CheckStem<Stem5x27x24>(path);
    }

    private static void CheckStem<TShape>(SimdPath path) where TShape : struct, IStemShape
    {
        int C = TShape.Cout, S = TShape.Stride;
        float[] input = Random(TShape.InH * TShape.InW * 3, seed: C);
        float[] packed = Random(27 * C, seed: C + 1);
        float[] bias = Random(C, seed: C + 2);
        float[] expected = new float[TShape.OutH * TShape.OutW * C], actual = new float[expected.Length];
        for (int y = 0; y < TShape.OutH; y++)
            for (int x = 0; x < TShape.OutW; x++)
                for (int co = 0; co < C; co++)
                {
                    float acc = bias[co];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                            for (int ci = 0; ci < 3; ci++)
                            {
                                int iy = y * S - TShape.PadTop + ky, ix = x * S - TShape.PadLeft + kx;
                                if (iy < 0 || iy >= TShape.InH || ix < 0 || ix >= TShape.InW) continue; // padding
                                acc = MathF.FusedMultiplyAdd(input[(iy * TShape.InW + ix) * 3 + ci], packed[((ky * 3 + kx) * 3 + ci) * C + co], acc);
                            }
                    expected[(y * TShape.OutW + x) * C + co] = Math.Clamp(acc, 0f, 6f);
                }
        fixed (float* i = input, w = packed, b = bias, o = actual)
            StemKernels.Run<TShape>(path, i, o, w, b, 0, TShape.OutH);
        AssertBitIdentical($"stem {path}, {typeof(TShape).Name}", expected, actual);
    }

    private struct Mid9x7s2 : IDepthwiseShape { public static int InH => 9; public static int InW => 7; public static int Channels => 16; public static int OutH => 5; public static int OutW => 4; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct Mid10x6s2 : IDepthwiseShape { public static int InH => 10; public static int InW => 6; public static int Channels => 32; public static int OutH => 5; public static int OutW => 3; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct Mid7x5s1 : IDepthwiseShape { public static int InH => 7; public static int InW => 5; public static int Channels => 16; public static int OutH => 7; public static int OutW => 5; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }

    [Theory]
    [MemberData(nameof(Paths))]
    public void FusedPointwiseThenDepthwiseMatchesTheTwoLayers(SimdPath path)
    {
        foreach (int rows in new[] { 1, 2, 3, 100 })
        {
            CheckFused<Mid9x7s2>(path, cin: 8, rows);
            CheckFused<Mid10x6s2>(path, cin: 24, rows);
            CheckFused<Mid7x5s1>(path, cin: 16, rows);
        }
    }

    private static void CheckFused<TShape>(SimdPath path, int cin, int outRowsPerBand) where TShape : struct, IDepthwiseShape
    {
        int C = TShape.Channels, pixels = TShape.InH * TShape.InW;
        float[] input = Random(pixels * cin, seed: cin, low: 0f, high: 6f);
        float[] pwPacked = Random(cin * C, seed: C, low: -0.3f, high: 0.3f), pwBias = Random(C, seed: C + 1);
        float[] dwPacked = Random(9 * C, seed: C + 2), dwBias = Random(C, seed: C + 3);
        float[] middle = new float[pixels * C], expected = new float[TShape.OutH * TShape.OutW * C], actual = new float[expected.Length];
        int bandRows = Math.Min(FusedKernels.BandRows(outRowsPerBand, TShape.Stride), TShape.InH + 2);
        float[] band = new float[bandRows * TShape.InW * C];
        fixed (float* i = input, pw = pwPacked, pb = pwBias, dw = dwPacked, db = dwBias, m = middle, e = expected, a = actual, b = band)
        {
            PointwiseKernels.Run(path, i, m, pw, pb, pixels, cin, C, 0, C / PointwiseKernels.PanelWidth);
            DepthwiseKernels.Run<TShape>(path, m, e, dw, db, 0, TShape.OutH);
            FusedKernels.PointwiseThenDepthwise<TShape>(path, i, a, b, outRowsPerBand, pw, pb, cin, dw, db);
        }
        AssertBitIdentical($"fused {path}, {typeof(TShape).Name}, {outRowsPerBand} rows per band", expected, actual);
    }
}
