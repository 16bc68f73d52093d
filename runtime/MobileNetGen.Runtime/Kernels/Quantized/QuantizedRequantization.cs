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
/// <para><b>One shift instead of two roundings</b> (x64, the usual layer: <see cref="OneShift{TLayer}"/>). With
/// p = x·m, e = max(−shift, 0) and s = 31 + e, for q ≥ 0 the two steps are ⌊(⌊(p + 2^30)/2^31⌋ + 2^(e−1))/2^e⌋, and
/// since ⌊(⌊a/b⌋ + c)/d⌋ = ⌊(a + c·b)/(b·d)⌋ for integers a, c and positive b, d, that is one arithmetic shift of the
/// 64-bit product: y = (p + 2^30 + 2^(30+e) + output_zp·2^s) >> s, the zero point folded in as well. For q &lt; 0 the
/// rounding divide also subtracts [q &lt; 0], which this form leaves out; both results are then ≤ 0, so with
/// output_zp ≤ act_min both clamp to act_min and the bytes are the same. The int32 sum q + output_zp, which wraps in
/// the reference, is the low half of y, so it wraps identically. |p| &lt; 2^62 and e ≤ 20 keep y inside int64. In the
/// JIT's AVX-512 code (<c>DOTNET_JitDisasm</c>, .NET 10, register copies not counted) that is 11 instructions per 16
/// outputs with the store: two vpmuldq, two vpaddq, a vpsrlq, two vpsraq, the vpternlogd that joins the halves
/// (<see cref="SelectHighHalves"/>; as a <c>ConditionalSelect</c> it was a vpblendmd whose mask the JIT rebuilt for every
/// vector, 13 in all), the zeroing of a register, vpmaxsd and vpmovusdb; the two roundings take 18 on a layer with output
/// zero point 0.</para>
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

    /// <summary>Whether the layer's constants allow the one-shift form (see the class remarks): no right shift, or one of
    /// at most 20 bits with an output zero point at or below the activation minimum (every ReLU6 layer of Google's
    /// networks: zero point 0, range 0..255).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // constants of the layer: the kernels (large, past the inliner's budget) must fold them
    public static bool OneShift<TLayer>() where TLayer : IQuantizedLayer =>
        TLayer.Shift >= 0 || (-TLayer.Shift <= 20 && TLayer.OutputZeroPoint <= TLayer.ActivationMin);

    /// <summary>The one-shift form's total shift s = 31 + e.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TotalShift<TLayer>() where TLayer : IQuantizedLayer => 31 + Math.Max(-TLayer.Shift, 0);

    /// <summary>The one-shift form's addend 2^30 + 2^(30+e) + output_zp·2^s (2^(30+e) only when there is a right shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long OneShiftAddend<TLayer>() where TLayer : IQuantizedLayer =>
        (1L << 30) + (TLayer.Shift < 0 ? 1L << (30 - TLayer.Shift) : 0) + ((long)TLayer.OutputZeroPoint << TotalShift<TLayer>());

    /// <summary>16 lanes (AVX-512F): vpmuldq on the even and the odd lanes, the rounded high halves blended back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Requantize512<TLayer>(Vector512<int> acc) where TLayer : IQuantizedLayer
    {
        var x = TLayer.Shift > 0 ? acc << TLayer.Shift : acc;
        var vm = Vector512.Create(TLayer.Multiplier);
        if (OneShift<TLayer>())
        {
            // y = p + addend per 64-bit lane, then y >> s (vpsraq); the odd lanes shift 32 less (left by 1 when s = 31), so
            // that their result lands in the high half, where the blend takes it.
            int s = TotalShift<TLayer>();
            var vaddend = Vector512.Create(OneShiftAddend<TLayer>());
            var vyEven = Avx512F.Multiply(x, vm) + vaddend;
            var vyOdd = Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vaddend;
            var vr = SelectHighHalves((s == 31 ? vyOdd << 1 : vyOdd >> (s - 32)).AsInt32(), (vyEven >> s).AsInt32());
            vr = Vector512.Max(vr, Vector512.Create(TLayer.ActivationMin));
            return TLayer.ActivationMax < 255 ? Vector512.Min(vr, Vector512.Create(TLayer.ActivationMax)) : vr;
        }
        var vround = Vector512.Create(1L << 30);
        var vprodEven = Avx512F.Multiply(x, vm) + vround;                                                  // lanes 0, 2, …
        var vprodOdd = Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vround; // lanes 1, 3, …
        // (p + 2^30) >> 31 keeps bits 31..62: for an even lane the low half of p >> 31, for an odd lane the high half of p << 1.
        var vq = SelectHighHalves(Avx512F.ShiftLeftLogical(vprodOdd, 1).AsInt32(), Avx512F.ShiftRightLogical(vprodEven, 31).AsInt32());
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

    /// <summary>The high 32 bits of each 64-bit lane from <paramref name="high"/>, the low 32 from <paramref name="low"/>: one
    /// vpternlogd with a constant mask. Written as <c>Vector512.ConditionalSelect</c> the JIT (.NET 10) turns the mask into a
    /// k-register and rebuilds it for every vector (vbroadcastsd + vpmovd2m before the vpblendmd: three instructions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SelectHighHalves(Vector512<int> high, Vector512<int> low) =>
        Avx512F.TernaryLogic(Vector512.Create(unchecked((long)0xFFFFFFFF00000000ul)).AsInt32(), high, low, 0xCA); // a ? b : c

    /// <summary>8 lanes (AVX2): as <see cref="Requantize512{TLayer}"/> with vpblendd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Requantize256<TLayer>(Vector256<int> acc) where TLayer : IQuantizedLayer
    {
        var x = TLayer.Shift > 0 ? acc << TLayer.Shift : acc;
        var vm = Vector256.Create(TLayer.Multiplier);
        if (OneShift<TLayer>())
        {
            // AVX2 has no 64-bit arithmetic shift. For s ≤ 32 a logical one leaves the low 32 bits of y >> s exact; beyond,
            // 2^62 is added first (y + 2^62 ≥ 0, so the logical shifts are floors) and its 2^(62−s) taken off the result.
            int s = TotalShift<TLayer>();
            bool offset = s > 32;
            var vaddend = Vector256.Create(OneShiftAddend<TLayer>() + (offset ? 1L << 62 : 0));
            var vyEven = Avx2.Multiply(x, vm) + vaddend;
            var vyOdd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vaddend;
            var vr = Avx2.Blend((vyEven >>> s).AsInt32(), (s == 31 ? vyOdd << 1 : vyOdd >>> (s - 32)).AsInt32(), 0b1010_1010);
            if (offset) vr -= Vector256.Create(1 << (62 - s));
            if (TLayer.ActivationMin > 0) vr = Avx2.Max(vr, Vector256.Create(TLayer.ActivationMin));
            return TLayer.ActivationMax < 255 ? Avx2.Min(vr, Vector256.Create(TLayer.ActivationMax)) : vr;
        }
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
        else if (OneShift<TLayer>())
        {
            int s = TotalShift<TLayer>(); // as in Requantize256 (written out again: each helper call costs the kernels' inlining budget)
            bool offset = s > 32;
            var vaddend = Vector128.Create(OneShiftAddend<TLayer>() + (offset ? 1L << 62 : 0));
            var vyEven = Sse41.Multiply(x, vm) + vaddend;
            var vyOdd = Sse41.Multiply(Sse2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), vm) + vaddend;
            vq = Sse41.Blend((vyEven >>> s).AsInt16(), (s == 31 ? vyOdd << 1 : vyOdd >>> (s - 32)).AsInt16(), 0b1100_1100).AsInt32();
            if (offset) vq -= Vector128.Create(1 << (62 - s));
            if (TLayer.ActivationMin > 0) vq = Vector128.Max(vq, Vector128.Create(TLayer.ActivationMin));
            return TLayer.ActivationMax < 255 ? Vector128.Min(vq, Vector128.Create(TLayer.ActivationMax)) : vq;
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
