using System.Runtime.Intrinsics;
using MobileNetGen.Model;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Kernels;
using MobileNetGen.Runtime.Kernels.Quantized;
using MobileNetGen.Tests.Quantized;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;

namespace MobileNetGen.Tests.Runtime;

/// <summary>
/// The uint8 kernels on every ISA this machine can run — Vector128Dot and Vector256Vnni included, with their one dot-product
/// instruction emulated where the CPU lacks it (<see cref="QuantizedKernels.IsNative"/>) — against (a) the Scalar kernel and
/// (b) a plain loop written here from TFLite's formulas (the reference's own <see cref="TfliteQuantizationUtil"/>, not the
/// product's QuantizationMath), bit for bit, on edge shapes: channel counts below, at and above every vector width and 16,
/// rows leaving every interior remainder, both strides, padding 0 and 1, 1–20 pixels and sub-ranges of pixels and panels,
/// zero points 0/128/255, shifts −12..+1, multipliers 2^30, 2^30 + 1 and near 2^31, activation ranges narrower than
/// 0..255. Outputs carry guard bytes on both sides (and untouched channels stay as they were). Then Google's 0.25_128 and
/// 1.0_224 networks through packing + kernels (<see cref="QuantizedNetworkDriver"/>) against ReferenceQuantizedMobileNet,
/// every layer, every ISA.
/// </summary>
public unsafe class QuantizedKernelTests
{
    public static TheoryData<QuantizedIsa> Isas()
    {
        var d = new TheoryData<QuantizedIsa>();
        foreach (var isa in Enum.GetValues<QuantizedIsa>()) if (QuantizedKernels.IsSupported(isa)) d.Add(isa);
        return d;
    }

    private const byte Sentinel = 0xA7;
    private const int Guard = 64;

    // ---- quantization parameter sets (IQuantizedLayer): zero points 0/128/255, shifts −12..+1, multipliers at the edges.
    private struct PA : IQuantizedLayer { public static int InputZeroPoint => 128; public static int WeightZeroPoint => 128; public static int OutputZeroPoint => 128; public static int Multiplier => int.MaxValue; public static int Shift => -8; public static int ActivationMin => 0; public static int ActivationMax => 255; }
    private struct PB : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 255; public static int OutputZeroPoint => 0; public static int Multiplier => 1 << 30; public static int Shift => -12; public static int ActivationMin => 0; public static int ActivationMax => 255; }
    private struct PC : IQuantizedLayer { public static int InputZeroPoint => 255; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 255; public static int Multiplier => (1 << 30) + 1; public static int Shift => -7; public static int ActivationMin => 30; public static int ActivationMax => 220; }
    private struct PD : IQuantizedLayer { public static int InputZeroPoint => 3; public static int WeightZeroPoint => 151; public static int OutputZeroPoint => 66; public static int Multiplier => 1518500250; public static int Shift => 1; public static int ActivationMin => 0; public static int ActivationMax => 255; }
    private struct PE : IQuantizedLayer { public static int InputZeroPoint => 128; public static int WeightZeroPoint => 77; public static int OutputZeroPoint => 10; public static int Multiplier => 2147483000; public static int Shift => 0; public static int ActivationMin => 5; public static int ActivationMax => 250; }
    private struct PF : IQuantizedLayer { public static int InputZeroPoint => 200; public static int WeightZeroPoint => 128; public static int OutputZeroPoint => 0; public static int Multiplier => 1336321408; public static int Shift => -10; public static int ActivationMin => 0; public static int ActivationMax => 180; }

    private static byte[] RandomBytes(int count, int seed)
    {
        var b = new byte[count];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static int[] RandomInts(int count, int seed, int range)
    {
        var r = new Random(seed);
        var v = new int[count];
        for (int i = 0; i < count; i++) v[i] = (int)r.NextInt64(-(long)range, (long)range + 1);
        return v;
    }

    /// <summary>TFLite's requantization, from the test's own transcription.</summary>
    private static byte Tflite<TP>(int acc) where TP : IQuantizedLayer =>
        (byte)Math.Min(Math.Max(TfliteQuantizationUtil.MultiplyByQuantizedMultiplier(acc, TP.Multiplier, TP.Shift) + TP.OutputZeroPoint, TP.ActivationMin), TP.ActivationMax);

    /// <summary>A sentinel-filled output with <see cref="Guard"/> bytes each side; <paramref name="run"/> gets the output pointer.</summary>
    private delegate void OutputRun(byte* output);

    private static byte[] RunGuarded(int length, OutputRun run, string what)
    {
        var buffer = new byte[length + 2 * Guard];
        Array.Fill(buffer, Sentinel);
        fixed (byte* p = buffer) run(p + Guard);
        for (int i = 0; i < Guard; i++)
        {
            Assert.True(buffer[i] == Sentinel, $"{what}: wrote {Guard - i} bytes before the output");
            Assert.True(buffer[Guard + length + i] == Sentinel, $"{what}: wrote byte {i} after the output");
        }
        return buffer.AsSpan(Guard, length).ToArray();
    }

    private static void AssertBytes(string what, byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i]) Assert.Fail($"{what}: byte {i} is {actual[i]}, expected {expected[i]}");
    }

    // ------------------------------------------------------------------------------------------------- requantization

    [Fact]
    public void RequantizationOfEveryWidthEqualsTflite()
    {
        CheckRequantization<PA>(); CheckRequantization<PB>(); CheckRequantization<PC>();
        CheckRequantization<PD>(); CheckRequantization<PE>(); CheckRequantization<PF>();
        CheckRequantization<Shift31>(); CheckRequantization<ZeroMultiplier>();
        CheckRequantization<OneShiftE1>(); CheckRequantization<OneShiftE2>(); CheckRequantization<OneShiftE20>(); CheckRequantization<TwoStepsE21>();
    }

    /// <summary>The vector helpers' one-shift form (QuantizedRequantization's remarks) against the two roundings: which
    /// sets take it, so that the equality above covers both forms, each shift kind (s = 31, s = 32, s > 32 with AVX2's
    /// offset, the largest e) and a zero point folded into the shift.</summary>
    [Fact]
    public void TheOneShiftFormIsTakenExactlyWhereItIsExact()
    {
        Assert.True(QuantizedRequantization.OneShift<PB>());          // Google's ReLU6 layers: zero point 0, range 0..255
        Assert.True(QuantizedRequantization.OneShift<PD>());          // left shift
        Assert.True(QuantizedRequantization.OneShift<PE>());          // no shift, zero point 10 above nothing
        Assert.True(QuantizedRequantization.OneShift<PF>());
        Assert.True(QuantizedRequantization.OneShift<ZeroMultiplier>());
        Assert.True(QuantizedRequantization.OneShift<OneShiftE1>());
        Assert.True(QuantizedRequantization.OneShift<OneShiftE2>());
        Assert.True(QuantizedRequantization.OneShift<OneShiftE20>());
        Assert.False(QuantizedRequantization.OneShift<PA>());         // zero point 128 above act_min 0: negative q matters
        Assert.False(QuantizedRequantization.OneShift<PC>());
        Assert.False(QuantizedRequantization.OneShift<Shift31>());    // e = 31 would leave int64
        Assert.False(QuantizedRequantization.OneShift<TwoStepsE21>());
    }

    private struct OneShiftE1 : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 7; public static int Multiplier => int.MaxValue; public static int Shift => -1; public static int ActivationMin => 7; public static int ActivationMax => 255; }
    private struct OneShiftE2 : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 200; public static int Multiplier => 1 << 30; public static int Shift => -2; public static int ActivationMin => 210; public static int ActivationMax => 240; }
    private struct OneShiftE20 : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 255; public static int Multiplier => int.MaxValue; public static int Shift => -20; public static int ActivationMin => 255; public static int ActivationMax => 255; }
    private struct TwoStepsE21 : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 0; public static int Multiplier => 1518500250; public static int Shift => -21; public static int ActivationMin => 0; public static int ActivationMax => 255; }

    private struct Shift31 : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 100; public static int Multiplier => int.MaxValue; public static int Shift => -31; public static int ActivationMin => 0; public static int ActivationMax => 255; }
    private struct ZeroMultiplier : IQuantizedLayer { public static int InputZeroPoint => 0; public static int WeightZeroPoint => 0; public static int OutputZeroPoint => 7; public static int Multiplier => 0; public static int Shift => 0; public static int ActivationMin => 0; public static int ActivationMax => 255; }

    private static void CheckRequantization<TP>() where TP : struct, IQuantizedLayer
    {
        var r = new Random(TP.Multiplier ^ TP.Shift);
        var accs = new List<int> { 0, 1, -1, int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1 };
        for (int k = 0; k < 31; k++) { accs.Add(1 << k); accs.Add(-(1 << k)); accs.Add((1 << k) + 1); accs.Add(-(1 << k) - 1); accs.Add((1 << k) - 1); accs.Add(1 - (1 << k)); }
        // halves of the rounding divide: q = ±(2^e·n + 2^(e−1)) for the smallest accumulators that give them
        for (int i = 0; i < 20000; i++) accs.Add(i % 2 == 0 ? r.Next(int.MinValue, int.MaxValue) : r.Next(-(1 << 22), 1 << 22));
        while (accs.Count % 16 != 0) accs.Add(r.Next());
        int[] a = accs.ToArray();
        var expected = new int[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            expected[i] = Tflite<TP>(a[i]);
            Assert.Equal(expected[i], QuantizedRequantization.Reference<TP>(a[i]));
            Assert.True(expected[i] == QuantizedRequantization.Scalar<TP>(a[i]), $"scalar, acc {a[i]}: {QuantizedRequantization.Scalar<TP>(a[i])} vs {expected[i]}");
        }
        // The vector helpers leave the 0..255 clamp to the saturating stores: compare after it (the kernels' tests cover the stores).
        fixed (int* p = a)
            for (int i = 0; i < a.Length; i += 16)
            {
                if (QuantizedKernels.IsSupported(QuantizedIsa.Vector512))
                {
                    var v = QuantizedRequantization.Requantize512<TP>(Vector512.Load(p + i));
                    for (int j = 0; j < 16; j++) Assert.True(Math.Clamp(v[j], 0, 255) == expected[i + j], $"Vector512 {typeof(TP).Name}, acc {a[i + j]}: {v[j]} vs {expected[i + j]}");
                }
                if (QuantizedKernels.IsSupported(QuantizedIsa.Vector256))
                    for (int h = 0; h < 16; h += 8)
                    {
                        var v = QuantizedRequantization.Requantize256<TP>(Vector256.Load(p + i + h));
                        for (int j = 0; j < 8; j++) Assert.True(Math.Clamp(v[j], 0, 255) == expected[i + h + j], $"Vector256 {typeof(TP).Name}, acc {a[i + h + j]}: {v[j]} vs {expected[i + h + j]}");
                    }
                if (QuantizedKernels.IsSupported(QuantizedIsa.Vector128))
                    for (int h = 0; h < 16; h += 4)
                    {
                        var v = QuantizedRequantization.Requantize128<TP>(Vector128.Load(p + i + h));
                        for (int j = 0; j < 4; j++) Assert.True(Math.Clamp(v[j], 0, 255) == expected[i + h + j], $"Vector128 {typeof(TP).Name}, acc {a[i + h + j]}: {v[j]} vs {expected[i + h + j]}");
                    }
            }
    }

    [Fact]
    public void EmulatedDotProductsEqualTheirDefinition()
    {
        var r = new Random(5);
        for (int n = 0; n < 2000; n++)
        {
            byte[] a = RandomBytes(32, r.Next()), b = RandomBytes(32, r.Next());
            int[] acc = RandomInts(8, r.Next(), int.MaxValue);
            fixed (byte* pa = a, pb = b)
            fixed (int* pc = acc)
            {
                var udot = QuantizedKernels.DotProductU8(Vector128.Load((uint*)pc), Vector128.Load(pa), Vector128.Load(pb));
                for (int i = 0; i < 4; i++)
                {
                    uint e = (uint)acc[i];
                    for (int j = 0; j < 4; j++) e += (uint)(a[4 * i + j] * b[4 * i + j]);
                    Assert.Equal(e, udot[i]);
                }
                if (!QuantizedKernels.IsSupported(QuantizedIsa.Vector256Vnni)) continue;
                var dpbusd = QuantizedKernels.MultiplyWideningAndAddU8S8(Vector256.Load(pc), Vector256.Load(pa), Vector256.Load((sbyte*)pb));
                for (int i = 0; i < 8; i++)
                {
                    int e = acc[i];
                    for (int j = 0; j < 4; j++) e = unchecked(e + a[4 * i + j] * (sbyte)b[4 * i + j]);
                    Assert.Equal(e, dpbusd[i]);
                }
            }
        }
    }

    [Fact]
    public void ResolveGivesTheBestRunnableIsa()
    {
        foreach (var path in Enum.GetValues<SimdPath>())
        {
            var isa = QuantizedKernels.Resolve(path);
            Assert.True(QuantizedKernels.IsSupported(isa) && QuantizedKernels.IsNative(isa), $"{path} → {isa}");
        }
        Assert.Equal(QuantizedIsa.Scalar, QuantizedKernels.Resolve(SimdPath.Scalar));
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
            Assert.Equal(System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? QuantizedIsa.Vector512Vnni : QuantizedIsa.Vector512, QuantizedKernels.Resolve(SimdPath.Vector512));
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            Assert.Equal(System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? QuantizedIsa.Vector256Vnni : QuantizedIsa.Vector256, QuantizedKernels.Resolve(SimdPath.Vector256));
    }

    // ---------------------------------------------------------------------------------------------------- depthwise

    private struct Dw<TD, TP> : IQDepthwiseShape where TD : struct, IDepthwiseShape where TP : struct, IQuantizedLayer
    {
        public static int InH => TD.InH; public static int InW => TD.InW; public static int Channels => TD.Channels; public static int OutH => TD.OutH; public static int OutW => TD.OutW;
        public static int Stride => TD.Stride; public static int PadTop => TD.PadTop; public static int PadLeft => TD.PadLeft;
        public static int InputZeroPoint => TP.InputZeroPoint; public static int WeightZeroPoint => TP.WeightZeroPoint; public static int OutputZeroPoint => TP.OutputZeroPoint;
        public static int Multiplier => TP.Multiplier; public static int Shift => TP.Shift; public static int ActivationMin => TP.ActivationMin; public static int ActivationMax => TP.ActivationMax;
    }

    private struct D1x1c8 : IDepthwiseShape { public static int InH => 1; public static int InW => 1; public static int Channels => 8; public static int OutH => 1; public static int OutW => 1; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D3x5c12 : IDepthwiseShape { public static int InH => 3; public static int InW => 5; public static int Channels => 12; public static int OutH => 3; public static int OutW => 5; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D7x19c40 : IDepthwiseShape { public static int InH => 7; public static int InW => 19; public static int Channels => 40; public static int OutH => 7; public static int OutW => 19; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D4x30c21 : IDepthwiseShape { public static int InH => 4; public static int InW => 30; public static int Channels => 21; public static int OutH => 4; public static int OutW => 30; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D14x14c16 : IDepthwiseShape { public static int InH => 14; public static int InW => 14; public static int Channels => 16; public static int OutH => 14; public static int OutW => 14; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D5x4c32 : IDepthwiseShape { public static int InH => 5; public static int InW => 4; public static int Channels => 32; public static int OutH => 5; public static int OutW => 4; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D2x8c16 : IDepthwiseShape { public static int InH => 2; public static int InW => 8; public static int Channels => 16; public static int OutH => 2; public static int OutW => 8; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D6x9c24 : IDepthwiseShape { public static int InH => 6; public static int InW => 9; public static int Channels => 24; public static int OutH => 6; public static int OutW => 9; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D4x13c36 : IDepthwiseShape { public static int InH => 4; public static int InW => 13; public static int Channels => 36; public static int OutH => 4; public static int OutW => 13; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D7x7c24s2 : IDepthwiseShape { public static int InH => 7; public static int InW => 7; public static int Channels => 24; public static int OutH => 4; public static int OutW => 4; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D6x40c16s2 : IDepthwiseShape { public static int InH => 6; public static int InW => 40; public static int Channels => 16; public static int OutH => 3; public static int OutW => 20; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct D5x37c48s2 : IDepthwiseShape { public static int InH => 5; public static int InW => 37; public static int Channels => 48; public static int OutH => 3; public static int OutW => 19; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct D2x3c8s2 : IDepthwiseShape { public static int InH => 2; public static int InW => 3; public static int Channels => 8; public static int OutH => 1; public static int OutW => 2; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 1; }
    private struct D9x34c24s2 : IDepthwiseShape { public static int InH => 9; public static int InW => 34; public static int Channels => 24; public static int OutH => 5; public static int OutW => 17; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 0; }

    [Theory]
    [MemberData(nameof(Isas))]
    public void DepthwiseMatchesScalarAndTfliteOnEdgeShapes(QuantizedIsa isa)
    {
        CheckDepthwise<Dw<D1x1c8, PA>>(isa); CheckDepthwise<Dw<D1x1c8, PC>>(isa);
        CheckDepthwise<Dw<D3x5c12, PB>>(isa);
        CheckDepthwise<Dw<D7x19c40, PA>>(isa); CheckDepthwise<Dw<D7x19c40, PD>>(isa);
        CheckDepthwise<Dw<D4x30c21, PE>>(isa);
        CheckDepthwise<Dw<D14x14c16, PF>>(isa);
        // whole rows in row-pair groups (x64): one group with padding both sides, padding rows above and below, a group of
        // eight and an overlapping one of four, the overlap after two of four
        CheckDepthwise<Dw<D5x4c32, PA>>(isa); CheckDepthwise<Dw<D2x8c16, PC>>(isa);
        CheckDepthwise<Dw<D6x9c24, PD>>(isa); CheckDepthwise<Dw<D4x13c36, PB>>(isa);
        CheckDepthwise<Dw<D7x7c24s2, PC>>(isa);
        CheckDepthwise<Dw<D6x40c16s2, PA>>(isa); CheckDepthwise<Dw<D6x40c16s2, PB>>(isa);
        CheckDepthwise<Dw<D5x37c48s2, PF>>(isa);
        CheckDepthwise<Dw<D2x3c8s2, PE>>(isa);
        CheckDepthwise<Dw<D9x34c24s2, PA>>(isa);
    }

    /// <summary>The largest products the depthwise kernels can meet (|x − x_zp|·|w − w_zp| = 255·255 in every tap, so a
    /// row pair's pmaddwd lane holds 2·255·255 and a pixel 9·255·255), with either sign, through every row kind and group
    /// of the stride-1 row-pair path and the stride-2 one.</summary>
    [Theory]
    [MemberData(nameof(Isas))]
    public void DepthwiseExactAtTheLargestProducts(QuantizedIsa isa)
    {
        Func<int, int, byte> all255 = (_, _) => 255, stripes = (i, c) => (byte)(i / c % 3 == 1 ? 0 : 255);
        // PB: x_zp 0, w_zp 255 → w − w_zp = −255 for a 0 weight; PC: x_zp 255, w_zp 0 → x − x_zp = −255 for a 0 input.
        CheckDepthwise<Dw<D7x19c40, PB>>(isa, all255, (_, _) => 0);
        CheckDepthwise<Dw<D7x19c40, PB>>(isa, stripes, (_, _) => 0);
        CheckDepthwise<Dw<D7x19c40, PC>>(isa, stripes, (_, _) => 255);
        CheckDepthwise<Dw<D4x30c21, PB>>(isa, stripes, (i, c) => (byte)(i % 2 == 0 ? 0 : 255));
        CheckDepthwise<Dw<D14x14c16, PC>>(isa, (_, _) => 0, (_, _) => 255);
        CheckDepthwise<Dw<D5x4c32, PB>>(isa, all255, (_, _) => 0);
        CheckDepthwise<Dw<D6x9c24, PC>>(isa, stripes, (_, _) => 255);
        CheckDepthwise<Dw<D9x34c24s2, PB>>(isa, all255, (_, _) => 0);
    }

    private static void CheckDepthwise<TS>(QuantizedIsa isa, Func<int, int, byte>? inputValue = null, Func<int, int, byte>? kernelValue = null)
        where TS : struct, IQDepthwiseShape
    {
        int C = TS.Channels, S = TS.Stride, seed = C * 131 + TS.InW * 7 + TS.InputZeroPoint;
        byte[] input = RandomBytes(TS.InH * TS.InW * C, seed), kernel = RandomBytes(9 * C, seed + 1);
        if (inputValue != null) for (int i = 0; i < input.Length; i++) input[i] = inputValue(i, C);
        if (kernelValue != null) for (int i = 0; i < kernel.Length; i++) kernel[i] = kernelValue(i, C);
        int[] bias = RandomInts(C, seed + 2, 1 << 16);
        var expected = new byte[TS.OutH * TS.OutW * C];
        for (int y = 0; y < TS.OutH; y++)
            for (int x = 0; x < TS.OutW; x++)
                for (int c = 0; c < C; c++)
                {
                    int acc = bias[c];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int iy = y * S - TS.PadTop + ky, ix = x * S - TS.PadLeft + kx;
                            if (iy < 0 || iy >= TS.InH || ix < 0 || ix >= TS.InW) continue; // SAME padding: the tap contributes nothing
                            acc += (input[(iy * TS.InW + ix) * C + c] - TS.InputZeroPoint) * (kernel[(ky * 3 + kx) * C + c] - TS.WeightZeroPoint);
                        }
                    expected[(y * TS.OutW + x) * C + c] = Tflite<TS>(acc);
                }
        var weights = new byte[KernelContract.QuantizedDepthwiseWeightBytes(C)];
        var packedBias = new byte[KernelContract.QuantizedDepthwiseBiasBytes(C)];
        fixed (byte* k = kernel, pw = weights, pb = packedBias)
        fixed (int* b = bias)
            QuantizedPacking.Depthwise(k, TS.WeightZeroPoint, b, TS.InputZeroPoint, C, pw, pb);
        string what = $"depthwise {isa} {typeof(TS).GetGenericArguments()[0].Name}/{typeof(TS).GetGenericArguments()[1].Name}";
        foreach (var which in new[] { QuantizedIsa.Scalar, isa })
        {
            byte[] actual = RunGuarded(expected.Length, o =>
            {
                fixed (byte* i = input, pw = weights, pb = packedBias)
                {
                    int half = TS.OutH / 2; // two thread shares of rows
                    QDepthwiseKernels.Run<TS>(which, i, o, pw, (int*)pb, 0, half);
                    QDepthwiseKernels.Run<TS>(which, i, o, pw, (int*)pb, half, TS.OutH);
                }
            }, what);
            AssertBytes(which == isa ? what : what + " (scalar)", expected, actual);
        }
    }

    // --------------------------------------------------------------------------------------------------------- stem

    private struct St<TD, TP> : IQStemShape where TD : struct, IStemShape where TP : struct, IQuantizedLayer
    {
        public static int InH => TD.InH; public static int InW => TD.InW; public static int OutH => TD.OutH; public static int OutW => TD.OutW; public static int Cout => TD.Cout;
        public static int Stride => TD.Stride; public static int PadTop => TD.PadTop; public static int PadLeft => TD.PadLeft;
        public static int InputZeroPoint => TP.InputZeroPoint; public static int WeightZeroPoint => TP.WeightZeroPoint; public static int OutputZeroPoint => TP.OutputZeroPoint;
        public static int Multiplier => TP.Multiplier; public static int Shift => TP.Shift; public static int ActivationMin => TP.ActivationMin; public static int ActivationMax => TP.ActivationMax;
    }

    private struct S9x9c8 : IStemShape { public static int InH => 9; public static int InW => 9; public static int OutH => 5; public static int OutW => 5; public static int Cout => 8; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct S8x30c16 : IStemShape { public static int InH => 8; public static int InW => 30; public static int OutH => 4; public static int OutW => 15; public static int Cout => 16; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct S6x40c52 : IStemShape { public static int InH => 6; public static int InW => 40; public static int OutH => 3; public static int OutW => 20; public static int Cout => 52; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }
    private struct S5x27c24 : IStemShape { public static int InH => 5; public static int InW => 27; public static int OutH => 3; public static int OutW => 14; public static int Cout => 24; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct S11x13c40 : IStemShape { public static int InH => 11; public static int InW => 13; public static int OutH => 6; public static int OutW => 7; public static int Cout => 40; public static int Stride => 2; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct S5x7c12s1 : IStemShape { public static int InH => 5; public static int InW => 7; public static int OutH => 5; public static int OutW => 7; public static int Cout => 12; public static int Stride => 1; public static int PadTop => 1; public static int PadLeft => 1; }
    private struct S16x16c32 : IStemShape { public static int InH => 16; public static int InW => 16; public static int OutH => 8; public static int OutW => 8; public static int Cout => 32; public static int Stride => 2; public static int PadTop => 0; public static int PadLeft => 0; }

    [Theory]
    [MemberData(nameof(Isas))]
    public void StemMatchesScalarAndTfliteOnEdgeShapes(QuantizedIsa isa)
    {
        CheckStem<St<S9x9c8, PA>>(isa); CheckStem<St<S9x9c8, PB>>(isa);
        CheckStem<St<S8x30c16, PC>>(isa);
        CheckStem<St<S6x40c52, PD>>(isa);
        CheckStem<St<S5x27c24, PE>>(isa);
        CheckStem<St<S11x13c40, PF>>(isa);
        CheckStem<St<S5x7c12s1, PA>>(isa);
        CheckStem<St<S16x16c32, PB>>(isa);
    }

    private static void CheckStem<TS>(QuantizedIsa isa) where TS : struct, IQStemShape
    {
        int C = TS.Cout, S = TS.Stride, seed = C * 17 + TS.InW + TS.WeightZeroPoint;
        byte[] input = RandomBytes(TS.InH * TS.InW * 3, seed), kernel = RandomBytes(27 * C, seed + 1);
        int[] bias = RandomInts(C, seed + 2, 1 << 16);
        var expected = new byte[TS.OutH * TS.OutW * C];
        for (int y = 0; y < TS.OutH; y++)
            for (int x = 0; x < TS.OutW; x++)
                for (int co = 0; co < C; co++)
                {
                    int acc = bias[co];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                            for (int ci = 0; ci < 3; ci++)
                            {
                                int iy = y * S - TS.PadTop + ky, ix = x * S - TS.PadLeft + kx;
                                if (iy < 0 || iy >= TS.InH || ix < 0 || ix >= TS.InW) continue;
                                acc += (input[(iy * TS.InW + ix) * 3 + ci] - TS.InputZeroPoint) * (kernel[((ky * 3 + kx) * 3 + ci) * C + co] - TS.WeightZeroPoint);
                            }
                    expected[(y * TS.OutW + x) * C + co] = Tflite<TS>(acc);
                }
        var weights = new byte[KernelContract.QuantizedStemWeightBytes(C)];
        var packedBias = new byte[KernelContract.QuantizedStemBiasBytes(C)];
        fixed (byte* k = kernel, pw = weights, pb = packedBias)
        fixed (int* b = bias)
            QuantizedPacking.Stem(k, TS.WeightZeroPoint, b, TS.InputZeroPoint, C, pw, pb);
        string what = $"stem {isa} {typeof(TS).GetGenericArguments()[0].Name}/{typeof(TS).GetGenericArguments()[1].Name}";
        foreach (var which in new[] { QuantizedIsa.Scalar, isa })
        {
            byte[] actual = RunGuarded(expected.Length, o =>
            {
                fixed (byte* i = input, pw = weights, pb = packedBias)
                {
                    QStemKernels.Run<TS>(which, i, o, (short*)pw, (int*)pb, 0, 1);
                    QStemKernels.Run<TS>(which, i, o, (short*)pw, (int*)pb, 1, TS.OutH);
                }
            }, what);
            AssertBytes(which == isa ? what : what + " (scalar)", expected, actual);
        }
    }

    // ---------------------------------------------------------------------------------------------------- pointwise

    private interface IPwDims { static abstract int Cin { get; } static abstract int Cout { get; } }
    private struct Pw<TD, TP> : IQPointwiseShape where TD : struct, IPwDims where TP : struct, IQuantizedLayer
    {
        public static int Cin => TD.Cin; public static int Cout => TD.Cout;
        public static int InputZeroPoint => TP.InputZeroPoint; public static int WeightZeroPoint => TP.WeightZeroPoint; public static int OutputZeroPoint => TP.OutputZeroPoint;
        public static int Multiplier => TP.Multiplier; public static int Shift => TP.Shift; public static int ActivationMin => TP.ActivationMin; public static int ActivationMax => TP.ActivationMax;
    }
    private struct C4x16 : IPwDims { public static int Cin => 4; public static int Cout => 16; }
    private struct C8x16 : IPwDims { public static int Cin => 8; public static int Cout => 16; }
    private struct C12x32 : IPwDims { public static int Cin => 12; public static int Cout => 32; }
    private struct C24x48 : IPwDims { public static int Cin => 24; public static int Cout => 48; }
    private struct C40x16 : IPwDims { public static int Cin => 40; public static int Cout => 16; }
    private struct C48x64 : IPwDims { public static int Cin => 48; public static int Cout => 64; }
    private struct C1024x32 : IPwDims { public static int Cin => 1024; public static int Cout => 32; }
    private struct C136x48 : IPwDims { public static int Cin => 136; public static int Cout => 48; }   // octets: 17 of them, 3 panels
    private struct C128x32 : IPwDims { public static int Cin => 128; public static int Cout => 32; }   // the fewest channels for octets
    private struct C120x16 : IPwDims { public static int Cin => 120; public static int Cout => 16; }   // one octet short: pairs

    [Theory]
    [MemberData(nameof(Isas))]
    public void PointwiseMatchesScalarAndTfliteForEveryTailAndShare(QuantizedIsa isa)
    {
        for (int pixels = 1; pixels <= 20; pixels++)
        {
            CheckPointwise<Pw<C8x16, PA>>(isa, pixels, 0, pixels, 0, 1);
            CheckPointwise<Pw<C12x32, PB>>(isa, pixels, 0, pixels, 0, 2);
            CheckPointwise<Pw<C24x48, PC>>(isa, pixels, 0, pixels, 0, 3);
            CheckPointwise<Pw<C48x64, PF>>(isa, pixels, 0, pixels, 0, 4);
        }
        CheckPointwise<Pw<C4x16, PD>>(isa, 7, 0, 7, 0, 1);
        CheckPointwise<Pw<C40x16, PE>>(isa, 13, 0, 13, 0, 1);
        CheckPointwise<Pw<C1024x32, PA>>(isa, 9, 0, 9, 0, 2);   // the largest Cin: |acc| up to 2^26
        CheckPointwise<Pw<C1024x32, PB>>(isa, 8, 0, 8, 0, 2);
        // a thread's share of the pixels or of the panels (the rest of the output must stay untouched)
        CheckPointwise<Pw<C24x48, PD>>(isa, 25, 3, 17, 0, 3);
        CheckPointwise<Pw<C24x48, PE>>(isa, 25, 0, 25, 1, 3);
        CheckPointwise<Pw<C24x48, PF>>(isa, 25, 11, 12, 1, 2);
        CheckPointwise<Pw<C48x64, PA>>(isa, 30, 5, 29, 1, 4);
        CheckPointwise<Pw<C48x64, PC>>(isa, 49, 0, 49, 2, 3);
    }

    /// <summary>The Octets layout's kernels (Vector512, ≥ <see cref="QuantizedKernels.OctetsMinCin"/> input channels): every
    /// tile remainder (the overlapping last tile, one or two pixels left), every share, and the layers just below the rule.</summary>
    [Theory]
    [MemberData(nameof(Isas))]
    public void PointwiseOctetLayersMatchScalarAndTflite(QuantizedIsa isa)
    {
        for (int pixels = 1; pixels <= 14; pixels++)
        {
            CheckPointwise<Pw<C136x48, PD>>(isa, pixels, 0, pixels, 0, 3);
            CheckPointwise<Pw<C128x32, PA>>(isa, pixels, 0, pixels, 0, 2);
        }
        CheckPointwise<Pw<C120x16, PB>>(isa, 13, 0, 13, 0, 1);
        CheckPointwise<Pw<C136x48, PC>>(isa, 25, 3, 17, 1, 3);
        CheckPointwise<Pw<C128x32, PE>>(isa, 31, 7, 30, 1, 2);
        CheckPointwise<Pw<C128x32, PF>>(isa, 49, 0, 49, 0, 1);
    }

    [Fact]
    public void OctetsAreUsedExactlyWhereTheRuleSays()
    {
        Assert.Equal(QuantizedWeightLayout.Octets, QuantizedKernels.LayoutOf(QuantizedIsa.Vector512));
        Assert.Equal(QuantizedWeightLayout.Pairs, QuantizedKernels.LayoutOf(QuantizedIsa.Vector256));
        Assert.Equal(QuantizedWeightLayout.Quads, QuantizedKernels.LayoutOf(QuantizedIsa.Vector512Vnni));
        Assert.True(QuantizedKernels.UsesOctets(QuantizedWeightLayout.Octets, QuantizedKernels.OctetsMinCin));
        Assert.True(QuantizedKernels.UsesOctets(QuantizedWeightLayout.Octets, 1024));
        Assert.False(QuantizedKernels.UsesOctets(QuantizedWeightLayout.Octets, QuantizedKernels.OctetsMinCin - 8));
        Assert.False(QuantizedKernels.UsesOctets(QuantizedWeightLayout.Octets, QuantizedKernels.OctetsMinCin + 4)); // not a multiple of 8
        Assert.False(QuantizedKernels.UsesOctets(QuantizedWeightLayout.Pairs, 1024));
        Assert.False(QuantizedKernels.UsesOctets(QuantizedWeightLayout.Quads, 1024));
        // The layout is a permutation of the Pairs one: the same int16 values, every slot of a panel written once.
        var seen = new HashSet<long>();
        for (int ci = 0; ci < 136; ci++)
            for (int j = 0; j < 16; j++)
                Assert.True(seen.Add(QuantizedPacking.OctetIndex(136, 1, ci, j)));
        Assert.Equal(136 * 16, seen.Count);
        Assert.Equal(136L * 16, seen.Min());
        Assert.Equal(2L * 136 * 16 - 1, seen.Max());
    }

    private static void CheckPointwise<TS>(QuantizedIsa isa, int pixels, int pixelStart, int pixelEnd, int panelStart, int panelEnd) where TS : struct, IQPointwiseShape
    {
        int cin = TS.Cin, cout = TS.Cout, seed = cin * 1000 + cout + pixels;
        byte[] input = RandomBytes(pixels * cin, seed), kernel = RandomBytes(cin * cout, seed + 1);
        int[] bias = RandomInts(cout, seed + 2, 1 << 18);
        var expected = new byte[pixels * cout];
        Array.Fill(expected, Sentinel);
        for (int p = pixelStart; p < pixelEnd; p++)
            for (int co = panelStart * 16; co < panelEnd * 16; co++)
            {
                int acc = bias[co];
                for (int ci = 0; ci < cin; ci++) acc += (input[p * cin + ci] - TS.InputZeroPoint) * (kernel[ci * cout + co] - TS.WeightZeroPoint);
                expected[p * cout + co] = Tflite<TS>(acc);
            }
        string what = $"pointwise {isa} {typeof(TS).GetGenericArguments()[0].Name}/{typeof(TS).GetGenericArguments()[1].Name}, {pixels} px [{pixelStart}, {pixelEnd}), panels [{panelStart}, {panelEnd})";
        foreach (var which in new[] { QuantizedIsa.Scalar, isa })
        {
            var weights = new byte[KernelContract.QuantizedPointwiseWeightBytes(cin, cout)];
            var packedBias = new byte[KernelContract.QuantizedPointwiseBiasBytes(cout)];
            fixed (byte* k = kernel, pw = weights, pb = packedBias)
            fixed (int* b = bias)
                QuantizedPacking.Pointwise(k, TS.WeightZeroPoint, b, TS.InputZeroPoint, cin, cout, pw, pb, QuantizedKernels.LayoutOf(which));
            byte[] actual = RunGuarded(expected.Length, o =>
            {
                fixed (byte* i = input, pw = weights, pb = packedBias)
                    QPointwiseKernels.Run<TS>(which, i, o, pw, (int*)pb, pixelStart, pixelEnd, panelStart, panelEnd);
            }, what);
            AssertBytes(which == isa ? what : what + " (scalar)", expected, actual);
        }
    }

    // ------------------------------------------------------------------------------------------------------ logits

    private interface ILgDims { static abstract int Channels { get; } static abstract int Classes { get; } }
    private struct Lg<TD, TP> : IQLogitsShape where TD : struct, ILgDims where TP : struct, IQuantizedLayer
    {
        public static int Channels => TD.Channels; public static int Classes => TD.Classes;
        public static int InputZeroPoint => TP.InputZeroPoint; public static int WeightZeroPoint => TP.WeightZeroPoint; public static int OutputZeroPoint => TP.OutputZeroPoint;
        public static int Multiplier => TP.Multiplier; public static int Shift => TP.Shift; public static int ActivationMin => TP.ActivationMin; public static int ActivationMax => TP.ActivationMax;
    }
    private struct L256x1001 : ILgDims { public static int Channels => 256; public static int Classes => 1001; }
    private struct L1024x1001 : ILgDims { public static int Channels => 1024; public static int Classes => 1001; }
    private struct L40x17 : ILgDims { public static int Channels => 40; public static int Classes => 17; }
    private struct L8x16 : ILgDims { public static int Channels => 8; public static int Classes => 16; }
    private struct L12x5 : ILgDims { public static int Channels => 12; public static int Classes => 5; }

    [Theory]
    [MemberData(nameof(Isas))]
    public void LogitsMatchScalarAndTflite(QuantizedIsa isa)
    {
        CheckLogits<Lg<L256x1001, PF>>(isa); CheckLogits<Lg<L1024x1001, PA>>(isa);
        CheckLogits<Lg<L40x17, PC>>(isa); CheckLogits<Lg<L8x16, PE>>(isa); CheckLogits<Lg<L12x5, PD>>(isa);
    }

    private static void CheckLogits<TS>(QuantizedIsa isa) where TS : struct, IQLogitsShape
    {
        int C = TS.Channels, N = TS.Classes, seed = C + N;
        byte[] features = RandomBytes(C, seed), kernel = RandomBytes(C * N, seed + 1);
        int[] bias = RandomInts(N, seed + 2, 1 << 18);
        var expected = new byte[N];
        for (int n = 0; n < N; n++)
        {
            int acc = bias[n];
            for (int c = 0; c < C; c++) acc += (features[c] - TS.InputZeroPoint) * (kernel[c * N + n] - TS.WeightZeroPoint);
            expected[n] = Tflite<TS>(acc);
        }
        string what = $"logits {isa} {typeof(TS).GetGenericArguments()[0].Name}/{typeof(TS).GetGenericArguments()[1].Name}";
        foreach (var which in new[] { QuantizedIsa.Scalar, isa })
        {
            var weights = new byte[KernelContract.QuantizedLogitsWeightBytes(C, N)];
            var packedBias = new byte[KernelContract.QuantizedLogitsBiasBytes(N)];
            fixed (byte* k = kernel, pw = weights, pb = packedBias)
            fixed (int* b = bias)
                QuantizedPacking.Logits(k, TS.WeightZeroPoint, b, TS.InputZeroPoint, C, N, pw, pb, QuantizedKernels.LayoutOf(which));
            byte[] actual = RunGuarded(N, o =>
            {
                fixed (byte* f = features, pw = weights, pb = packedBias) QHeadKernels.Logits<TS>(which, f, o, pw, (int*)pb);
            }, what);
            AssertBytes(which == isa ? what : what + " (scalar)", expected, actual);
        }
    }

    // -------------------------------------------------------------------------------------------------------- pool

    private struct Pool49x1024 : IQPoolShape { public static int Pixels => 49; public static int Channels => 1024; public static int ActivationMin => 0; public static int ActivationMax => 255; }
    private struct Pool16x40 : IQPoolShape { public static int Pixels => 16; public static int Channels => 40; public static int ActivationMin => 20; public static int ActivationMax => 200; }
    private struct Pool1x8 : IQPoolShape { public static int Pixels => 1; public static int Channels => 8; public static int ActivationMin => 0; public static int ActivationMax => 255; }
    private struct Pool25x21 : IQPoolShape { public static int Pixels => 25; public static int Channels => 21; public static int ActivationMin => 100; public static int ActivationMax => 140; }
    private struct Pool36x256 : IQPoolShape { public static int Pixels => 36; public static int Channels => 256; public static int ActivationMin => 0; public static int ActivationMax => 254; }

    [Theory]
    [MemberData(nameof(Isas))]
    public void AveragePoolMatchesTfliteReference(QuantizedIsa isa)
    {
        CheckPool<Pool49x1024>(isa); CheckPool<Pool16x40>(isa); CheckPool<Pool1x8>(isa); CheckPool<Pool25x21>(isa); CheckPool<Pool36x256>(isa);
    }

    private static void CheckPool<TS>(QuantizedIsa isa) where TS : struct, IQPoolShape
    {
        int P = TS.Pixels, C = TS.Channels, side = (int)Math.Sqrt(P);
        byte[] input = RandomBytes(P * C, P * C);
        if (P == 16) Array.Fill(input, (byte)255); // the largest sums
        var expected = new byte[C];
        ReferenceAveragePool.AveragePool(new PoolParams
        {
            padding_values = new PaddingValues(0, 0), stride_height = 1, stride_width = 1, filter_height = side, filter_width = side,
            quantized_activation_min = TS.ActivationMin, quantized_activation_max = TS.ActivationMax,
        }, new RuntimeShape(1, side, side, C), input, new RuntimeShape(1, 1, 1, C), expected);
        byte[] actual = RunGuarded(C, o => { fixed (byte* i = input) QHeadKernels.AveragePool<TS>(isa, i, o); }, $"pool {isa} {typeof(TS).Name}");
        AssertBytes($"pool {isa} {typeof(TS).Name}", expected, actual);
    }

    // ---------------------------------------------------------------------------------------------- whole networks

    public static TheoryData<string, QuantizedIsa> Networks()
    {
        var d = new TheoryData<string, QuantizedIsa>();
        foreach (var name in new[] { "mobilenet_v1_0.25_128_quant", "mobilenet_v1_1.0_224_quant" })
            foreach (var isa in Enum.GetValues<QuantizedIsa>())
                if (QuantizedKernels.IsSupported(isa)) d.Add(name, isa);
        return d;
    }

    private static readonly Dictionary<string, ReferenceQuantizedMobileNet.Result> s_referenceOutputs = new();

    /// <summary>The photo fixture through TF-slim preprocessing and QUANTIZE, and the reference's outputs of it (once per entry).</summary>
    internal static (byte[] Image, ReferenceQuantizedMobileNet.Result Reference) ReferenceRun(string entry)
    {
        var net = QuantizedEntries.Reference(entry);
        byte[] image = QuantizedEntries.QuantizedInput(net, Path.Combine(AppContext.BaseDirectory, "Fixtures", "grace_hopper.bmp"));
        lock (s_referenceOutputs)
        {
            if (!s_referenceOutputs.TryGetValue(entry, out var r)) s_referenceOutputs[entry] = r = net.Forward(image);
            return (image, r);
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void WholeNetworkEqualsTheTfliteReferenceLayerByLayer(string entry, QuantizedIsa isa)
    {
        var (image, reference) = ReferenceRun(entry);
        using var driver = new QuantizedNetworkDriver(QuantizedEntries.Weights(entry), isa);
        var outputs = driver.Forward(image);
        Assert.Equal(reference.Names, driver.Names);
        for (int i = 0; i < outputs.Count; i++) AssertBytes($"{entry} {isa} layer {reference.Names[i]}", reference.Outputs[i], outputs[i]);
    }
}
