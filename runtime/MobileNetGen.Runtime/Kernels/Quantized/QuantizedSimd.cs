using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// One integer SIMD width as a type (int32 lanes), so that the stem and depthwise kernels are written once and compiled per
/// width, as the float kernels do with <see cref="ISimd{TVec}"/>: <see cref="Q32x16"/> (AVX-512), <see cref="Q32x8"/>
/// (AVX2), <see cref="Q32x4"/> (SSE4.1 / AdvSimd) and <see cref="Q32x1"/> (scalar lanes). Integer sums are exact, so the
/// widths agree bit for bit whatever the order.
/// </summary>
internal unsafe interface IQSimd<TVec> where TVec : struct
{
    static abstract int Width { get; }
    /// <summary>Width bytes, zero-extended to int32 lanes.</summary>
    static abstract TVec LoadU8(byte* p);
    /// <summary>Width int16 values, sign-extended to int32 lanes.</summary>
    static abstract TVec LoadS16(short* p);
    /// <summary>Width int32 values (or Width pairs of int16).</summary>
    static abstract TVec Load(int* p);
    static abstract TVec Broadcast(int value);
    /// <summary><c>acc + a·b</c> (low 32 bits; exact here: |a·b| &lt; 2^31).</summary>
    static abstract TVec MultiplyAdd(TVec acc, TVec a, TVec b);
    /// <summary><c>acc + a.lo·b.lo + a.hi·b.hi</c> per lane, the lanes taken as pairs of int16 (pmaddwd).</summary>
    static abstract TVec MultiplyAddPairs(TVec acc, TVec a, TVec b);
    /// <summary>
    /// <c>acc + x·w</c> for <paramref name="x"/> in 0..32767 (a zero-extended uint8) and <paramref name="w"/> in the int16
    /// range (sign-extended): on x64 one pmaddwd, exact because x's high int16 half is 0 (x·w.lo + 0·w.hi), where the int32
    /// multiply (vpmulld) is two micro-ops of ten cycles' latency; on ARM64 the int32 multiply-add (MLA), one instruction.
    /// </summary>
    static abstract TVec MultiplyAddSmall(TVec acc, TVec x, TVec w);
    /// <summary>Width int16 values, zero-extended to int32 lanes (a weight as the low half of a <see cref="PairUp"/>).</summary>
    static abstract TVec LoadU16(short* p);
    /// <summary><c>low | high &lt;&lt; 16</c> per lane: two int16 values as one pmaddwd pair (<paramref name="low"/> in 0..65535).</summary>
    static abstract TVec PairUp(TVec low, TVec high);
    static abstract TVec Add(TVec a, TVec b);
    static abstract void Store(TVec v, int* p);
    /// <summary>Requantizes (<see cref="QuantizedRequantization"/>) and stores Width bytes.</summary>
    static abstract void StoreRequantized<TLayer>(TVec acc, byte* p) where TLayer : IQuantizedLayer;
}

internal unsafe struct Q32x16 : IQSimd<Vector512<int>>
{
    public static int Width => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> LoadU8(byte* p) => Avx512F.ConvertToVector512Int32(Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> LoadS16(short* p) => Avx512F.ConvertToVector512Int32(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Load(int* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Broadcast(int value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> MultiplyAdd(Vector512<int> acc, Vector512<int> a, Vector512<int> b) => acc + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> MultiplyAddPairs(Vector512<int> acc, Vector512<int> a, Vector512<int> b) => acc + Avx512BW.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> MultiplyAddSmall(Vector512<int> acc, Vector512<int> x, Vector512<int> w) => acc + Avx512BW.MultiplyAddAdjacent(x.AsInt16(), w.AsInt16());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> LoadU16(short* p) => Avx512F.ConvertToVector512Int32(Vector256.Load((ushort*)p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> PairUp(Vector512<int> low, Vector512<int> high) => low | (high << 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Add(Vector512<int> a, Vector512<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<int> v, int* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRequantized<TLayer>(Vector512<int> acc, byte* p) where TLayer : IQuantizedLayer =>
        QuantizedRequantization.Store16(QuantizedRequantization.Requantize512<TLayer>(acc), p);
}

internal unsafe struct Q32x8 : IQSimd<Vector256<int>>
{
    public static int Width => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> LoadU8(byte* p) => Avx2.ConvertToVector256Int32(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> LoadS16(short* p) => Avx2.ConvertToVector256Int32(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Load(int* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Broadcast(int value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<int> a, Vector256<int> b) => acc + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> MultiplyAddPairs(Vector256<int> acc, Vector256<int> a, Vector256<int> b) => acc + Avx2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> MultiplyAddSmall(Vector256<int> acc, Vector256<int> x, Vector256<int> w) => acc + Avx2.MultiplyAddAdjacent(x.AsInt16(), w.AsInt16());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> LoadU16(short* p) => Avx2.ConvertToVector256Int32((ushort*)p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> PairUp(Vector256<int> low, Vector256<int> high) => low | (high << 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Add(Vector256<int> a, Vector256<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<int> v, int* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRequantized<TLayer>(Vector256<int> acc, byte* p) where TLayer : IQuantizedLayer =>
        QuantizedRequantization.Store8(QuantizedRequantization.Requantize256<TLayer>(acc), p);
}

/// <summary>SSE4.1 on x64, AdvSimd on ARM64.</summary>
internal unsafe struct Q32x4 : IQSimd<Vector128<int>>
{
    public static int Width => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadU8(byte* p)
    {
        if (Sse41.IsSupported) return Sse41.ConvertToVector128Int32(p);
        var vb = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(p)).AsByte();
        return Vector128.WidenLower(Vector128.WidenLower(vb)).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadS16(short* p)
    {
        if (Sse41.IsSupported) return Sse41.ConvertToVector128Int32(p);
        return Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(p)).AsInt16());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Load(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Broadcast(int value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> MultiplyAdd(Vector128<int> acc, Vector128<int> a, Vector128<int> b) => acc + a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAddPairs(Vector128<int> acc, Vector128<int> a, Vector128<int> b) => acc + MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAddSmall(Vector128<int> acc, Vector128<int> x, Vector128<int> w) =>
        Sse2.IsSupported ? acc + Sse2.MultiplyAddAdjacent(x.AsInt16(), w.AsInt16()) : acc + x * w;

    /// <summary>pmaddwd; on ARM64 SMULL + SMULL2 + ADDP (the pairs are adjacent lanes of the two products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAddAdjacent(Vector128<short> a, Vector128<short> b)
    {
        if (Sse2.IsSupported) return Sse2.MultiplyAddAdjacent(a, b);
        return AdvSimd.Arm64.AddPairwise(AdvSimd.MultiplyWideningLower(a.GetLower(), b.GetLower()), AdvSimd.MultiplyWideningUpper(a, b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadU16(short* p)
    {
        if (Sse41.IsSupported) return Sse41.ConvertToVector128Int32((ushort*)p);
        return Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(p)).AsUInt16()).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> PairUp(Vector128<int> low, Vector128<int> high) => low | (high << 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Add(Vector128<int> a, Vector128<int> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<int> v, int* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRequantized<TLayer>(Vector128<int> acc, byte* p) where TLayer : IQuantizedLayer =>
        QuantizedRequantization.Store4(QuantizedRequantization.Requantize128<TLayer>(acc), p);
}

/// <summary>One lane: the channel tails of the vector kernels.</summary>
internal unsafe struct Q32x1 : IQSimd<int>
{
    public static int Width => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int LoadU8(byte* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int LoadS16(short* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int Load(int* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int Broadcast(int value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int MultiplyAdd(int acc, int a, int b) => acc + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int MultiplyAddPairs(int acc, int a, int b) => acc + (short)a * (short)b + (a >> 16) * (b >> 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int MultiplyAddSmall(int acc, int x, int w) => acc + x * w;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int LoadU16(short* p) => *(ushort*)p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int PairUp(int low, int high) => low | (high << 16);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int Add(int a, int b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int v, int* p) => *p = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRequantized<TLayer>(int acc, byte* p) where TLayer : IQuantizedLayer =>
        *p = (byte)QuantizedRequantization.Scalar<TLayer>(acc);
}
