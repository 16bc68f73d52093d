using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using MobileNetGen.Runtime;
using MobileNetGen.Runtime.Kernels.Quantized;

namespace MobileNetGen.Measurement;

/// <summary>The integer multiply-accumulate peak of one core for the instructions the uint8 pointwise kernels use on
/// <paramref name="Isa"/>, measured here.</summary>
/// <param name="Isa">The integer ISA measured (the one the uint8 classifiers resolve to by default).</param>
/// <param name="Instructions">What the loop runs, e.g. "vpmaddwd + vpaddd, 512-bit".</param>
/// <param name="GopsPerCore">Billions of integer operations per second on one thread (a multiply-accumulate counts two, as
/// the float peak counts a fused multiply-add).</param>
public sealed record IntegerPeakResult(QuantizedIsa Isa, string Instructions, double GopsPerCore, int Accumulators);

/// <summary>
/// A register-only loop of <see cref="Accumulators"/> independent multiply-accumulate chains made of the pointwise kernels'
/// inner instructions (<see cref="QPointwiseKernels"/>): on AVX-512 without VNNI a vpmaddwd and a vpaddd per 32 MACs, with
/// AVX-VNNI one vpdpbusd per 32, on ARM with the dot product one UDOT per 16, and so on. Each product reads another
/// chain's accumulator, so no product is loop-invariant (the JIT would hoist it) and no two are equal (it would share them).
/// The best of several timed runs is the peak (<see cref="FmaPeak.BestRate"/>, the FMA peak's timing loop). Beside <see cref="FmaPeak"/> it bounds what an integer network can gain over a
/// float one on this core: a uint8 MAC costs <c>FMA peak / integer peak</c> of a float one at best.
/// </summary>
public static class IntegerPeak
{
    public const int Accumulators = 12;

    /// <summary>Measures the peak of <paramref name="isa"/> (null: the ISA <see cref="QuantizedKernels.Resolve"/> picks for
    /// <see cref="SimdPath.Auto"/>) for about <paramref name="milliseconds"/>.</summary>
    public static IntegerPeakResult Measure(QuantizedIsa? isa = null, int milliseconds = 300)
    {
        var resolved = isa ?? QuantizedKernels.Resolve(SimdPath.Auto);
        if (!QuantizedKernels.IsNative(resolved))
            throw new ArgumentException($"{resolved} is not native on this CPU: an emulated instruction has no peak to measure", nameof(isa));
        (Func<long, int> loop, int macsPerStep, string instructions) = resolved switch
        {
            QuantizedIsa.Vector512 => ((Func<long, int>)Pairs512, 32, "vpmaddwd + vpaddd, 512-bit"),
            QuantizedIsa.Vector256 => (Pairs256, 16, "vpmaddwd + vpaddd, 256-bit"),
            QuantizedIsa.Vector256Vnni or QuantizedIsa.Vector512Vnni => (Vnni256, 32, "vpdpbusd, 256-bit (AVX-VNNI)"),
            QuantizedIsa.Vector128 => (Pairs128, 8, Sse2.IsSupported ? "pmaddwd + paddd, 128-bit" : "smull + smull2 + addp + add, 128-bit"),
            QuantizedIsa.Vector128Dot => (Dot128, 16, "udot, 128-bit"),
            _ => (ScalarLoop, 1, "imul + add, scalar"),
        };
        int sink = 0;
        double best = FmaPeak.BestRate(loop, Accumulators * macsPerStep * 2.0, milliseconds, r => sink ^= r);
        GC.KeepAlive(sink);
        return new IntegerPeakResult(resolved, instructions, best, Accumulators);
    }

    // Every step: vi += op(v(i+1 mod 12), w), all twelve products formed from the previous iteration's values. Integer
    // arithmetic wraps: no value can slow the loop down.

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Pairs512(long n)
    {
        var w = Vector512.Create((short)0x1357).AsInt16();
        Vector512<int> v0 = Vector512.Create(1), v1 = Vector512.Create(2), v2 = Vector512.Create(3), v3 = Vector512.Create(4),
            v4 = Vector512.Create(5), v5 = Vector512.Create(6), v6 = Vector512.Create(7), v7 = Vector512.Create(8),
            v8 = Vector512.Create(9), v9 = Vector512.Create(10), v10 = Vector512.Create(11), v11 = Vector512.Create(12);
        for (long i = 0; i < n; i++)
        {
            var p0 = Avx512BW.MultiplyAddAdjacent(v1.AsInt16(), w); var p1 = Avx512BW.MultiplyAddAdjacent(v2.AsInt16(), w);
            var p2 = Avx512BW.MultiplyAddAdjacent(v3.AsInt16(), w); var p3 = Avx512BW.MultiplyAddAdjacent(v4.AsInt16(), w);
            var p4 = Avx512BW.MultiplyAddAdjacent(v5.AsInt16(), w); var p5 = Avx512BW.MultiplyAddAdjacent(v6.AsInt16(), w);
            var p6 = Avx512BW.MultiplyAddAdjacent(v7.AsInt16(), w); var p7 = Avx512BW.MultiplyAddAdjacent(v8.AsInt16(), w);
            var p8 = Avx512BW.MultiplyAddAdjacent(v9.AsInt16(), w); var p9 = Avx512BW.MultiplyAddAdjacent(v10.AsInt16(), w);
            var p10 = Avx512BW.MultiplyAddAdjacent(v11.AsInt16(), w); var p11 = Avx512BW.MultiplyAddAdjacent(v0.AsInt16(), w);
            v0 += p0; v1 += p1; v2 += p2; v3 += p3; v4 += p4; v5 += p5; v6 += p6; v7 += p7; v8 += p8; v9 += p9; v10 += p10; v11 += p11;
        }
        return (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Pairs256(long n)
    {
        var w = Vector256.Create((short)0x1357);
        Vector256<int> v0 = Vector256.Create(1), v1 = Vector256.Create(2), v2 = Vector256.Create(3), v3 = Vector256.Create(4),
            v4 = Vector256.Create(5), v5 = Vector256.Create(6), v6 = Vector256.Create(7), v7 = Vector256.Create(8),
            v8 = Vector256.Create(9), v9 = Vector256.Create(10), v10 = Vector256.Create(11), v11 = Vector256.Create(12);
        for (long i = 0; i < n; i++)
        {
            var p0 = Avx2.MultiplyAddAdjacent(v1.AsInt16(), w); var p1 = Avx2.MultiplyAddAdjacent(v2.AsInt16(), w);
            var p2 = Avx2.MultiplyAddAdjacent(v3.AsInt16(), w); var p3 = Avx2.MultiplyAddAdjacent(v4.AsInt16(), w);
            var p4 = Avx2.MultiplyAddAdjacent(v5.AsInt16(), w); var p5 = Avx2.MultiplyAddAdjacent(v6.AsInt16(), w);
            var p6 = Avx2.MultiplyAddAdjacent(v7.AsInt16(), w); var p7 = Avx2.MultiplyAddAdjacent(v8.AsInt16(), w);
            var p8 = Avx2.MultiplyAddAdjacent(v9.AsInt16(), w); var p9 = Avx2.MultiplyAddAdjacent(v10.AsInt16(), w);
            var p10 = Avx2.MultiplyAddAdjacent(v11.AsInt16(), w); var p11 = Avx2.MultiplyAddAdjacent(v0.AsInt16(), w);
            v0 += p0; v1 += p1; v2 += p2; v3 += p3; v4 += p4; v5 += p5; v6 += p6; v7 += p7; v8 += p8; v9 += p9; v10 += p10; v11 += p11;
        }
        return (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Vnni256(long n)
    {
        var w = Vector256.Create((sbyte)0x35);
        Vector256<int> v0 = Vector256.Create(1), v1 = Vector256.Create(2), v2 = Vector256.Create(3), v3 = Vector256.Create(4),
            v4 = Vector256.Create(5), v5 = Vector256.Create(6), v6 = Vector256.Create(7), v7 = Vector256.Create(8),
            v8 = Vector256.Create(9), v9 = Vector256.Create(10), v10 = Vector256.Create(11), v11 = Vector256.Create(12);
        for (long i = 0; i < n; i++)
        {
            // The products read the previous values; each accumulator is then the addend of its own vpdpbusd.
            Vector256<int> u0 = v1, u1 = v2, u2 = v3, u3 = v4, u4 = v5, u5 = v6, u6 = v7, u7 = v8, u8 = v9, u9 = v10, u10 = v11, u11 = v0;
            v0 = QuantizedKernels.MultiplyWideningAndAddU8S8(v0, u0.AsByte(), w); v1 = QuantizedKernels.MultiplyWideningAndAddU8S8(v1, u1.AsByte(), w);
            v2 = QuantizedKernels.MultiplyWideningAndAddU8S8(v2, u2.AsByte(), w); v3 = QuantizedKernels.MultiplyWideningAndAddU8S8(v3, u3.AsByte(), w);
            v4 = QuantizedKernels.MultiplyWideningAndAddU8S8(v4, u4.AsByte(), w); v5 = QuantizedKernels.MultiplyWideningAndAddU8S8(v5, u5.AsByte(), w);
            v6 = QuantizedKernels.MultiplyWideningAndAddU8S8(v6, u6.AsByte(), w); v7 = QuantizedKernels.MultiplyWideningAndAddU8S8(v7, u7.AsByte(), w);
            v8 = QuantizedKernels.MultiplyWideningAndAddU8S8(v8, u8.AsByte(), w); v9 = QuantizedKernels.MultiplyWideningAndAddU8S8(v9, u9.AsByte(), w);
            v10 = QuantizedKernels.MultiplyWideningAndAddU8S8(v10, u10.AsByte(), w); v11 = QuantizedKernels.MultiplyWideningAndAddU8S8(v11, u11.AsByte(), w);
        }
        return (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> MultiplyAddAdjacent128(Vector128<short> a, Vector128<short> b) =>
        Sse2.IsSupported ? Sse2.MultiplyAddAdjacent(a, b)
            : AdvSimd.Arm64.AddPairwise(AdvSimd.MultiplyWideningLower(a.GetLower(), b.GetLower()), AdvSimd.MultiplyWideningUpper(a, b));

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Pairs128(long n)
    {
        var w = Vector128.Create((short)0x1357);
        Vector128<int> v0 = Vector128.Create(1), v1 = Vector128.Create(2), v2 = Vector128.Create(3), v3 = Vector128.Create(4),
            v4 = Vector128.Create(5), v5 = Vector128.Create(6), v6 = Vector128.Create(7), v7 = Vector128.Create(8),
            v8 = Vector128.Create(9), v9 = Vector128.Create(10), v10 = Vector128.Create(11), v11 = Vector128.Create(12);
        for (long i = 0; i < n; i++)
        {
            var p0 = MultiplyAddAdjacent128(v1.AsInt16(), w); var p1 = MultiplyAddAdjacent128(v2.AsInt16(), w);
            var p2 = MultiplyAddAdjacent128(v3.AsInt16(), w); var p3 = MultiplyAddAdjacent128(v4.AsInt16(), w);
            var p4 = MultiplyAddAdjacent128(v5.AsInt16(), w); var p5 = MultiplyAddAdjacent128(v6.AsInt16(), w);
            var p6 = MultiplyAddAdjacent128(v7.AsInt16(), w); var p7 = MultiplyAddAdjacent128(v8.AsInt16(), w);
            var p8 = MultiplyAddAdjacent128(v9.AsInt16(), w); var p9 = MultiplyAddAdjacent128(v10.AsInt16(), w);
            var p10 = MultiplyAddAdjacent128(v11.AsInt16(), w); var p11 = MultiplyAddAdjacent128(v0.AsInt16(), w);
            v0 += p0; v1 += p1; v2 += p2; v3 += p3; v4 += p4; v5 += p5; v6 += p6; v7 += p7; v8 += p8; v9 += p9; v10 += p10; v11 += p11;
        }
        return (v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Dot128(long n)
    {
        var w = Vector128.Create((byte)0x35);
        Vector128<uint> v0 = Vector128.Create(1u), v1 = Vector128.Create(2u), v2 = Vector128.Create(3u), v3 = Vector128.Create(4u),
            v4 = Vector128.Create(5u), v5 = Vector128.Create(6u), v6 = Vector128.Create(7u), v7 = Vector128.Create(8u),
            v8 = Vector128.Create(9u), v9 = Vector128.Create(10u), v10 = Vector128.Create(11u), v11 = Vector128.Create(12u);
        for (long i = 0; i < n; i++)
        {
            Vector128<uint> u0 = v1, u1 = v2, u2 = v3, u3 = v4, u4 = v5, u5 = v6, u6 = v7, u7 = v8, u8 = v9, u9 = v10, u10 = v11, u11 = v0;
            v0 = QuantizedKernels.DotProductU8(v0, u0.AsByte(), w); v1 = QuantizedKernels.DotProductU8(v1, u1.AsByte(), w);
            v2 = QuantizedKernels.DotProductU8(v2, u2.AsByte(), w); v3 = QuantizedKernels.DotProductU8(v3, u3.AsByte(), w);
            v4 = QuantizedKernels.DotProductU8(v4, u4.AsByte(), w); v5 = QuantizedKernels.DotProductU8(v5, u5.AsByte(), w);
            v6 = QuantizedKernels.DotProductU8(v6, u6.AsByte(), w); v7 = QuantizedKernels.DotProductU8(v7, u7.AsByte(), w);
            v8 = QuantizedKernels.DotProductU8(v8, u8.AsByte(), w); v9 = QuantizedKernels.DotProductU8(v9, u9.AsByte(), w);
            v10 = QuantizedKernels.DotProductU8(v10, u10.AsByte(), w); v11 = QuantizedKernels.DotProductU8(v11, u11.AsByte(), w);
        }
        return (int)(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int ScalarLoop(long n)
    {
        const int w = 0x1357;
        int v0 = 1, v1 = 2, v2 = 3, v3 = 4, v4 = 5, v5 = 6, v6 = 7, v7 = 8, v8 = 9, v9 = 10, v10 = 11, v11 = 12;
        for (long i = 0; i < n; i++)
        {
            int u0 = v1, u1 = v2, u2 = v3, u3 = v4, u4 = v5, u5 = v6, u6 = v7, u7 = v8, u8 = v9, u9 = v10, u10 = v11, u11 = v0;
            unchecked
            {
                v0 += (short)u0 * w; v1 += (short)u1 * w; v2 += (short)u2 * w; v3 += (short)u3 * w; v4 += (short)u4 * w; v5 += (short)u5 * w;
                v6 += (short)u6 * w; v7 += (short)u7 * w; v8 += (short)u8 * w; v9 += (short)u9 * w; v10 += (short)u10 * w; v11 += (short)u11 * w;
            }
        }
        return v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11;
    }
}
