using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using MobileNetGen.Model;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// int32 accumulators → uint8 outputs, TFLite's way (<see cref="QuantizationMath.MultiplyByQuantizedMultiplier"/>, the
/// double-rounding variant), one helper per width, each equal to the scalar one for every int32 input and every
/// non-negative multiplier (TFLite's multipliers are never negative, so gemmlowp's one saturating case, both operands
/// int.MinValue, cannot occur):
/// <code>
/// x = acc · 2^max(shift, 0)                                  (wrapping, as TFLite's left shift)
/// q = SaturatingRoundingDoublingHighMul(x, m) = (x·m + 2^30) >> 31      (64-bit product, arithmetic shift)
/// q = RoundingDivideByPOT(q, e = max(−shift, 0)) = (q >> e) + ((q &amp; mask) > (mask >> 1) + [q &lt; 0])
/// y = clamp(q + output_zp, act_min, act_max)
/// </code>
/// The vector helpers return int32 lanes already inside the activation range where it is narrower than 0..255 and leave
/// the 0..255 clamp to the stores, whose narrowing saturates (packssdw/packuswb, vpmovusdb, SQXTN/SQXTUN): for Google's
/// networks (every range 0..255) that saves the two clamp instructions per vector.
/// The first line's identity (gemmlowp's nudge 1 − 2^30 for negative products followed by a division truncating toward
/// zero is the same as adding 2^30 and flooring) is why ARM's SQRDMULH computes it in one instruction. The shift is a
/// constant of the layer, so the branches on it fold away.
/// </summary>
public static unsafe class QuantizedRequantization
{
    /// <summary>The reference: <see cref="QuantizationMath.MultiplyByQuantizedMultiplier"/>, then zero point and clamp.</summary>
    public static int Reference<TLayer>(int acc) where TLayer : IQuantizedLayer =>
        Math.Clamp(QuantizationMath.MultiplyByQuantizedMultiplier(acc, TLayer.Multiplier, TLayer.Shift) + TLayer.OutputZeroPoint,
            TLayer.ActivationMin, TLayer.ActivationMax);

    /// <summary>The same, branch-light, for the scalar lanes of the vector kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Scalar<TLayer>(int acc) where TLayer : IQuantizedLayer
    {
        int x = TLayer.Shift > 0 ? unchecked(acc << TLayer.Shift) : acc;
        int q = (int)(((long)x * TLayer.Multiplier + (1L << 30)) >> 31);
        if (TLayer.Shift < 0)
        {
            int e = -TLayer.Shift, mask = (int)((1L << e) - 1);
            q = (q >> e) + ((q & mask) > (mask >> 1) + (q >>> 31) ? 1 : 0);
        }
        return Math.Min(Math.Max(q + TLayer.OutputZeroPoint, TLayer.ActivationMin), TLayer.ActivationMax);
    }

    /// <summary>16 lanes (AVX-512F): vpmuldq on the even and the odd lanes, the rounded high halves blended back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Requantize512<TLayer>(Vector512<int> acc) where TLayer : IQuantizedLayer
    {
        var x = TLayer.Shift > 0 ? acc << TLayer.Shift : acc;
        var vm = Vector512.Create(TLayer.Multiplier);
        var vround = Vector512.Create(1L << 30);
        var vprodEven = Avx512F.Multiply(x, vm) + vround;                                                  // lanes 0, 2, …
        var vprodOdd = Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vround; // lanes 1, 3, …
        // (p + 2^30) >> 31 keeps bits 31..62: for an even lane the low half of p >> 31, for an odd lane the high half of p << 1.
        var vq = Vector512.ConditionalSelect(Vector512.Create(unchecked((long)0xFFFFFFFF00000000ul)).AsInt32(),
            Avx512F.ShiftLeftLogical(vprodOdd, 1).AsInt32(), Avx512F.ShiftRightLogical(vprodEven, 31).AsInt32());
        if (TLayer.Shift < 0)
        {
            int e = -TLayer.Shift, mask = (int)((1L << e) - 1);
            var vremainder = vq & Vector512.Create(mask);
            var vthreshold = Vector512.Create(mask >> 1) + (vq >>> 31); // + 1 for negative q
            vq = (vq >> e) - Vector512.GreaterThan(vremainder, vthreshold); // true = −1
        }
        vq += Vector512.Create(TLayer.OutputZeroPoint);
        // vpmovusdb (Store16) saturates above 255 but reads a negative lane as a large unsigned one: the lower bound always
        // applies here, the upper one only when it is below 255.
        vq = Vector512.Max(vq, Vector512.Create(TLayer.ActivationMin));
        return TLayer.ActivationMax < 255 ? Vector512.Min(vq, Vector512.Create(TLayer.ActivationMax)) : vq;
    }

    /// <summary>8 lanes (AVX2): as <see cref="Requantize512{TLayer}"/> with vpblendd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Requantize256<TLayer>(Vector256<int> acc) where TLayer : IQuantizedLayer
    {
        var x = TLayer.Shift > 0 ? acc << TLayer.Shift : acc;
        var vm = Vector256.Create(TLayer.Multiplier);
        var vround = Vector256.Create(1L << 30);
        var vprodEven = Avx2.Multiply(x, vm) + vround;
        var vprodOdd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vround;
        var vq = Avx2.Blend(Avx2.ShiftRightLogical(vprodEven, 31).AsInt32(), Avx2.ShiftLeftLogical(vprodOdd, 1).AsInt32(), 0b1010_1010);
        if (TLayer.Shift < 0)
        {
            int e = -TLayer.Shift, mask = (int)((1L << e) - 1);
            var vremainder = vq & Vector256.Create(mask);
            var vthreshold = Vector256.Create(mask >> 1) + (vq >>> 31);
            vq = (vq >> e) - Avx2.CompareGreaterThan(vremainder, vthreshold);
        }
        vq += Vector256.Create(TLayer.OutputZeroPoint);
        // The stores' saturating packs clamp to 0..255: only narrower activation bounds need instructions.
        if (TLayer.ActivationMin > 0) vq = Avx2.Max(vq, Vector256.Create(TLayer.ActivationMin));
        return TLayer.ActivationMax < 255 ? Avx2.Min(vq, Vector256.Create(TLayer.ActivationMax)) : vq;
    }

    /// <summary>4 lanes: SSE4.1 (pmuldq, pblendw) on x64; on ARM64 SQRDMULH is the doubling high multiply and the rounding
    /// divide is gemmlowp's NEON form, SRSHR of q + [q &lt; 0] added with saturation (exact for every q, int.MinValue too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Requantize128<TLayer>(Vector128<int> acc) where TLayer : IQuantizedLayer
    {
        var x = TLayer.Shift > 0 ? acc << TLayer.Shift : acc;
        var vm = Vector128.Create(TLayer.Multiplier);
        Vector128<int> vq;
        if (AdvSimd.Arm64.IsSupported)
        {
            vq = AdvSimd.MultiplyRoundedDoublingSaturateHigh(x, vm);
            if (TLayer.Shift < 0)
#pragma warning disable CA1857 // -Shift is a constant of the layer's struct: the JIT sees an immediate
                vq = AdvSimd.ShiftRightArithmeticRounded(AdvSimd.AddSaturate(vq, AdvSimd.ShiftRightArithmetic(vq, 31)), (byte)-TLayer.Shift);
#pragma warning restore CA1857
        }
        else
        {
            var vround = Vector128.Create(1L << 30);
            var vprodEven = Sse41.Multiply(x, vm) + vround;
            var vprodOdd = Sse41.Multiply(Sse2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vround;
            vq = Sse41.Blend(Sse2.ShiftRightLogical(vprodEven, 31).AsInt16(), Sse2.ShiftLeftLogical(vprodOdd, 1).AsInt16(), 0b1100_1100).AsInt32();
            if (TLayer.Shift < 0)
            {
                int e = -TLayer.Shift, mask = (int)((1L << e) - 1);
                var vremainder = vq & Vector128.Create(mask);
                var vthreshold = Vector128.Create(mask >> 1) + (vq >>> 31);
                vq = (vq >> e) - Sse2.CompareGreaterThan(vremainder, vthreshold);
            }
        }
        vq += Vector128.Create(TLayer.OutputZeroPoint);
        if (TLayer.ActivationMin > 0) vq = Vector128.Max(vq, Vector128.Create(TLayer.ActivationMin));
        return TLayer.ActivationMax < 255 ? Vector128.Min(vq, Vector128.Create(TLayer.ActivationMax)) : vq;
    }

    /// <summary>16 requantized lanes (≥ 0) → 16 bytes: vpmovusdb, saturating at 255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector512<int> v, byte* p) => Avx512F.ConvertToVector128ByteWithSaturation(v.AsUInt32()).Store(p);

    /// <summary>2 × 8 requantized lanes → 16 bytes: vpackssdw, vpermq (undoing the per-lane interleave), packuswb.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector256<int> v0, Vector256<int> v1, byte* p)
    {
        var vs = Avx2.Permute4x64(Avx2.PackSignedSaturate(v0, v1).AsInt64(), 0b11_01_10_00).AsInt16();
        Sse2.PackUnsignedSaturate(vs.GetLower(), vs.GetUpper()).Store(p);
    }

    /// <summary>8 requantized lanes → 8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store8(Vector256<int> v, byte* p)
    {
        var vs = Sse2.PackSignedSaturate(v.GetLower(), v.GetUpper());
        *(ulong*)p = Sse2.PackUnsignedSaturate(vs, vs).AsUInt64().ToScalar();
    }

    /// <summary>4 × 4 requantized lanes → 16 bytes, saturating to 0..255 (packssdw + packuswb; ARM64 SQXTN + SQXTUN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16(Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3, byte* p) =>
        PackToBytes(PackToInt16(v0, v1), PackToInt16(v2, v3)).Store(p);

    /// <summary>4 requantized lanes → 4 bytes, saturating to 0..255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store4(Vector128<int> v, byte* p)
    {
        var vs = PackToInt16(v, v);
        *(uint*)p = PackToBytes(vs, vs).AsUInt32().ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> PackToInt16(Vector128<int> a, Vector128<int> b)
    {
        if (Sse2.IsSupported) return Sse2.PackSignedSaturate(a, b);
        return AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(a), b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> PackToBytes(Vector128<short> a, Vector128<short> b)
    {
        if (Sse2.IsSupported) return Sse2.PackUnsignedSaturate(a, b);
        return AdvSimd.ExtractNarrowingSaturateUnsignedUpper(AdvSimd.ExtractNarrowingSaturateUnsignedLower(a), b);
    }
}
