using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// The instruction set a uint8 kernel runs on. Unlike <see cref="SimdPath"/> (float, where any width can be emulated by
/// the JIT), the integer kernels use ISA-specific multiply-adds (vpmaddwd, UDOT, vpdpbusd), so each value names the
/// instructions, and <see cref="QuantizedKernels.Resolve"/> maps a <see cref="SimdPath"/> to the best one this CPU has.
/// Every ISA gives the same bytes (integer sums are exact in any order).
/// </summary>
public enum QuantizedIsa
{
    /// <summary>Plain loops: the reference the others are tested against.</summary>
    Scalar,
    /// <summary>128-bit: SSE4.1 (pmaddwd, pmuldq) on x64, AdvSimd (smull/smull2 + addp, sqrdmulh, srshr) on ARM64.</summary>
    Vector128,
    /// <summary>ARM64 with the dot-product extension (UDOT u8×u8 → u32, FEAT_DotProd). Its pointwise and logits weights
    /// use the quad layout (<see cref="QuantizedWeightLayout.Quads"/>). On a CPU without Dp (and on x64, for the tests)
    /// the kernel structure runs with the one UDOT emulated exactly (<see cref="QuantizedKernels.DotProductU8"/>).</summary>
    Vector128Dot,
    /// <summary>AVX2: vpmaddwd on 256 bits.</summary>
    Vector256,
    /// <summary>AVX2 + AVX-VNNI (vpdpbusd u8×s8 → s32, VEX). Quad weight layout. On an AVX2 CPU without AVX-VNNI the kernel
    /// structure runs with the one vpdpbusd emulated exactly (<see cref="QuantizedKernels.MultiplyWideningAndAddU8S8"/>).</summary>
    Vector256Vnni,
    /// <summary>AVX-512F + BW: vpmaddwd on 512 bits, vpmovdb.</summary>
    Vector512,
    /// <summary>AVX-512 and AVX-VNNI together: the pointwise and logits layers as <see cref="Vector256Vnni"/> (quad layout;
    /// .NET 10 exposes no 512-bit VNNI), the stem, depthwise and requantization on 512 bits as <see cref="Vector512"/>.</summary>
    Vector512Vnni,
}

/// <summary>How a pointwise or logits layer's weights are packed (<see cref="QuantizedPacking"/>): it depends on the ISA.</summary>
public enum QuantizedWeightLayout
{
    /// <summary>int16 <c>w − w_zp</c>, pairs of input channels interleaved per output channel (for pmaddwd-style
    /// multiply-add of adjacent pairs): Scalar, Vector128, Vector256, Vector512.</summary>
    Pairs,
    /// <summary>uint8 <c>w</c> as published, quads of input channels per output channel (for 4-way byte dot products):
    /// Vector128Dot (UDOT) and Vector256Vnni (vpdpbusd, which flips the sign bit of each weight as it loads it).</summary>
    Quads,
    /// <summary>Vector512's: int16 <c>w − w_zp</c> as in <see cref="Pairs"/>, but each octet of input channels (four pairs)
    /// laid out so that one 128-bit broadcast of a pixel's octet feeds four pmaddwd (<see cref="QPointwiseKernels"/>), for a
    /// layer whose input channels are a multiple of 8 and at least <see cref="QuantizedKernels.OctetsMinCin"/>; the layers
    /// below that are packed as <see cref="Pairs"/> in this layout too (<see cref="QuantizedKernels.UsesOctets"/>).</summary>
    Octets,
}

/// <summary>ISA selection and the two emulated instructions.</summary>
public static class QuantizedKernels
{
    // JIT-time (and, under NativeAOT, compile-time) constants: the kernels of a path the binary cannot run drop out.
    internal static bool Has512 => SimdPaths.Vector512Compiled && Avx512BW.IsSupported && Avx512F.IsSupported;
    internal static bool Has256 => SimdPaths.Vector256Compiled && Avx2.IsSupported;
    internal static bool Has128 => SimdPaths.Vector128Compiled && (Sse41.IsSupported || AdvSimd.Arm64.IsSupported);

    /// <summary>
    /// The best ISA that both the hardware and <paramref name="path"/> allow: Vector512 → AVX-512BW, else as Vector256;
    /// Vector256 → AVX-VNNI, else AVX2, else as Vector128; Vector128 → ARM Dp, else AdvSimd / SSE4.1, else Scalar; Auto as Vector512.
    /// A CPU with both AVX-512 and AVX-VNNI resolves Vector512 to <see cref="QuantizedIsa.Vector512Vnni"/>: .NET 10 exposes no
    /// 512-bit VNNI, and one 256-bit vpdpbusd doing four multiply-adds per lane beats the 512-bit widening multiplies in the
    /// pointwise layers, while the stem and depthwise layers are faster on 512 bits (measured on an Intel Xeon, family 6
    /// model 207, 1.0_224_quant one thread: Vector512 14.6 ms, Vector256Vnni 9.8 ms, best of 30; Vector512Vnni's stem
    /// 0.85 → 0.36 ms and first depthwise layer 0.34 → 0.27 ms against Vector256Vnni).
    /// </summary>
    public static QuantizedIsa Resolve(SimdPath path)
    {
        if (path == SimdPath.Auto) path = SimdPath.Vector512; // the best there is
        if (path == SimdPath.Vector512 && Has512) return AvxVnni.IsSupported ? QuantizedIsa.Vector512Vnni : QuantizedIsa.Vector512;
        if ((path == SimdPath.Vector512 || path == SimdPath.Vector256) && Has256)
            return AvxVnni.IsSupported ? QuantizedIsa.Vector256Vnni : QuantizedIsa.Vector256;
        if (path != SimdPath.Scalar && Has128)
            return AdvSimd.Arm64.IsSupported && Dp.IsSupported ? QuantizedIsa.Vector128Dot : QuantizedIsa.Vector128;
        return QuantizedIsa.Scalar;
    }

    /// <summary>Whether the kernels can run <paramref name="isa"/> here (the Dp and VNNI ones possibly emulated, see each).</summary>
    public static bool IsSupported(QuantizedIsa isa) => isa switch
    {
        QuantizedIsa.Scalar => true,
        QuantizedIsa.Vector128 or QuantizedIsa.Vector128Dot => Has128,
        QuantizedIsa.Vector256 or QuantizedIsa.Vector256Vnni => Has256,
        QuantizedIsa.Vector512 => Has512,
        QuantizedIsa.Vector512Vnni => Has512 && Has256,
        _ => false,
    };

    /// <summary>Whether <paramref name="isa"/>'s dot-product instruction is the hardware's (false: emulated, for tests).</summary>
    public static bool IsNative(QuantizedIsa isa) => isa switch
    {
        QuantizedIsa.Vector128Dot => AdvSimd.Arm64.IsSupported && Dp.IsSupported,
        QuantizedIsa.Vector256Vnni or QuantizedIsa.Vector512Vnni => AvxVnni.IsSupported,
        _ => IsSupported(isa),
    };

    /// <summary>The pointwise / logits weight layout <paramref name="isa"/> reads.</summary>
    public static QuantizedWeightLayout LayoutOf(QuantizedIsa isa) => isa switch
    {
        QuantizedIsa.Vector128Dot or QuantizedIsa.Vector256Vnni or QuantizedIsa.Vector512Vnni => QuantizedWeightLayout.Quads,
        QuantizedIsa.Vector512 => QuantizedWeightLayout.Octets,
        _ => QuantizedWeightLayout.Pairs,
    };

    /// <summary>The fewest input channels for which a layer in the <see cref="QuantizedWeightLayout.Octets"/> layout is packed
    /// and run as octets: below it the final four-way reduction of each output vector costs more than the broadcasts save
    /// (Zen 4, family 25 model 17, the kernel alone against the Pairs one: 64 → 128 channels 1.03× the time, 128 → 128
    /// 0.97×, 256 and up 0.92–0.94×).</summary>
    public const int OctetsMinCin = 128;

    /// <summary>Whether a pointwise or logits layer of <paramref name="cin"/> input channels is packed as octets in
    /// <paramref name="layout"/> (and so run by the octet kernels): the one rule packing and kernels both read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool UsesOctets(QuantizedWeightLayout layout, int cin) =>
        layout == QuantizedWeightLayout.Octets && cin % 8 == 0 && cin >= OctetsMinCin;

    internal static NotSupportedException Unsupported(QuantizedIsa isa) =>
        new($"the uint8 kernels cannot run {isa} on this CPU / in this binary (use QuantizedKernels.Resolve)");

    /// <summary>
    /// UDOT (ARM FEAT_DotProd): each 32-bit lane i of <paramref name="addend"/> plus Σ_{j&lt;4} a[4i+j]·b[4i+j], unsigned bytes.
    /// Without Dp the same sums are formed from widening multiplies (exact: the products fit 16 bits, the sums 32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> DotProductU8(Vector128<uint> addend, Vector128<byte> a, Vector128<byte> b)
    {
        if (Dp.IsSupported) return Dp.DotProduct(addend, a, b);
        var plo = Vector128.WidenLower(a) * Vector128.WidenLower(b); // bytes 0..7, products ≤ 65025
        var phi = Vector128.WidenUpper(a) * Vector128.WidenUpper(b); // bytes 8..15
        var slo = (plo.AsUInt32() & Vector128.Create(0xFFFFu)) + (plo.AsUInt32() >>> 16); // pairs (0,1) … (6,7)
        var shi = (phi.AsUInt32() & Vector128.Create(0xFFFFu)) + (phi.AsUInt32() >>> 16);
        var qlo = (slo.AsUInt64() & Vector128.Create(0xFFFFFFFFul)) + (slo.AsUInt64() >>> 32); // quads 0, 1
        var qhi = (shi.AsUInt64() & Vector128.Create(0xFFFFFFFFul)) + (shi.AsUInt64() >>> 32); // quads 2, 3
        return addend + Vector128.Narrow(qlo, qhi);
    }

    /// <summary>
    /// vpdpbusd (AVX-VNNI): each 32-bit lane i of <paramref name="addend"/> plus Σ_{j&lt;4} u[4i+j]·s[4i+j] with u unsigned and
    /// s signed bytes, wrapping (no saturation). Without AVX-VNNI: even and odd bytes widened to 16 bits and multiplied by
    /// vpmaddwd (exact: |u·s| ≤ 32640), which is how the tests run the VNNI kernels' whole structure on this machine.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyWideningAndAddU8S8(Vector256<int> addend, Vector256<byte> u, Vector256<sbyte> s)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(addend, u, s);
        var uEven = (u.AsInt16() & Vector256.Create((short)0xFF));
        var uOdd = Avx2.ShiftRightLogical(u.AsInt16(), 8);
        var sEven = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(s.AsInt16(), 8), 8);
        var sOdd = Avx2.ShiftRightArithmetic(s.AsInt16(), 8);
        return addend + Avx2.MultiplyAddAdjacent(uEven, sEven) + Avx2.MultiplyAddAdjacent(uOdd, sOdd);
    }
}
