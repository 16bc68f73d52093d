using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Which SIMD paths this binary carries. Under the JIT every path runs on every CPU (a Vector512 the hardware lacks is
/// emulated, slowly but with the same bits: that is how the tests check it on AVX2 machines). Under NativeAOT a path
/// exists only when the binary's instruction set accelerates it (<c>MobileNetIsa</c>): both properties are then
/// constants, and the compiler leaves out the kernels of the other paths (on x86-64-v3 the Vector512 ones, a quarter
/// of the kernel code). The kernels test the path through these, never through <see cref="SimdPath"/> alone.
/// </summary>
public static class SimdPaths
{
    public static bool Vector512Compiled => Vector512.IsHardwareAccelerated || RuntimeFeature.IsDynamicCodeCompiled;
    public static bool Vector256Compiled => Vector256.IsHardwareAccelerated || RuntimeFeature.IsDynamicCodeCompiled;
    public static bool Vector128Compiled => Vector128.IsHardwareAccelerated || RuntimeFeature.IsDynamicCodeCompiled;

    /// <summary>Whether <paramref name="path"/> can run in this binary.</summary>
    public static bool IsCompiled(SimdPath path) => path switch
    {
        SimdPath.Vector512 => Vector512Compiled,
        SimdPath.Vector256 => Vector256Compiled,
        SimdPath.Vector128 => Vector128Compiled,
        _ => true,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is512(SimdPath path) => Vector512Compiled && path == SimdPath.Vector512;

    /// <summary>Vector512 or Vector256: 8-lane blocks are used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AtLeast256(SimdPath path) => Is512(path) || (Vector256Compiled && path == SimdPath.Vector256);

    /// <summary>Any vector path: 4-lane blocks are used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AtLeast128(SimdPath path) => AtLeast256(path) || (Vector128Compiled && path == SimdPath.Vector128);
}

/// <summary>
/// One SIMD width as a type, so a kernel is written once and the JIT specializes it per width (generic methods over
/// structs are compiled separately for each struct): <see cref="F32x16"/> (Vector512), <see cref="F32x8"/> (Vector256),
/// <see cref="F32x4"/> (Vector128, the ARM64/NEON path) and <see cref="F32x1"/> (scalar). Every operation is the same
/// IEEE operation on each lane (fused multiply-add included), which is why all widths give bit-identical results.
/// </summary>
public unsafe interface ISimd<TVec> where TVec : struct
{
    static abstract int Width { get; }
    static abstract TVec Load(float* p);
    static abstract TVec Broadcast(float value);
    /// <summary>a·b + c with a single rounding.</summary>
    static abstract TVec FusedMultiplyAdd(TVec a, TVec b, TVec c);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Multiply(TVec a, TVec b);
    /// <summary>Stores min(max(v, 0), 6).</summary>
    static abstract void StoreRelu6(TVec v, float* p);
    static abstract void Store(TVec v, float* p);
    static abstract TVec Zero { get; }
}

public unsafe struct F32x16 : ISimd<Vector512<float>>
{
    public static int Width => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRelu6(Vector512<float> v, float* p) => Vector512.MinNative(Vector512.MaxNative(v, Vector512<float>.Zero), Vector512.Create(6f)).Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, float* p) => v.Store(p);
    public static Vector512<float> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector512<float>.Zero; }
}

public unsafe struct F32x8 : ISimd<Vector256<float>>
{
    public static int Width => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRelu6(Vector256<float> v, float* p) => Vector256.MinNative(Vector256.MaxNative(v, Vector256<float>.Zero), Vector256.Create(6f)).Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, float* p) => v.Store(p);
    public static Vector256<float> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256<float>.Zero; }
}

public unsafe struct F32x4 : ISimd<Vector128<float>>
{
    public static int Width => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRelu6(Vector128<float> v, float* p) => Vector128.MinNative(Vector128.MaxNative(v, Vector128<float>.Zero), Vector128.Create(6f)).Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> v, float* p) => v.Store(p);
    public static Vector128<float> Zero { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128<float>.Zero; }
}

/// <summary>The scalar reference width: one lane, the same operations.</summary>
public unsafe struct F32x1 : ISimd<float>
{
    public static int Width => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float FusedMultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreRelu6(float v, float* p) => *p = Math.Min(Math.Max(v, 0f), 6f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float v, float* p) => *p = v;
    public static float Zero => 0f;
}
