using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MobileNetGen.Runtime;

namespace MobileNetGen.Measurement;

/// <summary>The fused multiply-add peak of one core, measured here (not read from a table: these machines differ).</summary>
/// <param name="Path">The SIMD width measured (the widest the hardware accelerates, which the kernels use by default).</param>
/// <param name="GflopsPerCore">Billions of floating-point operations per second on one thread (a multiply-add counts two).</param>
public sealed record FmaPeakResult(SimdPath Path, double GflopsPerCore, int Accumulators);

/// <summary>
/// A register-only loop of <see cref="Accumulators"/> independent fused multiply-add chains at one SIMD width: enough
/// chains to cover the FMA latency on two pipes (4 cycles × 2 on Zen and recent Intel cores needs 8), no loads, no stores.
/// The best of several timed runs is the peak; the machines are shared, so a run can only be slowed, never sped up.
/// </summary>
public static class FmaPeak
{
    public const int Accumulators = 12;

    /// <summary>Measures the peak at <paramref name="path"/> (Auto: the widest accelerated) for about <paramref name="milliseconds"/>.</summary>
    public static FmaPeakResult Measure(SimdPath path = SimdPath.Auto, int milliseconds = 300)
    {
        path = MobileNetClassifier.ResolveSimdPath(path);
        int lanes = path switch { SimdPath.Vector512 => 16, SimdPath.Vector256 => 8, SimdPath.Vector128 => 4, _ => 1 };
        Func<long, float> loop = path switch
        {
            SimdPath.Vector512 => Loop512,
            SimdPath.Vector256 => Loop256,
            SimdPath.Vector128 => Loop128,
            _ => LoopScalar,
        };
        float sink = 0;
        double best = BestRate(loop, Accumulators * lanes * 2.0, milliseconds, r => sink += r);
        if (float.IsNaN(sink)) throw new InvalidOperationException("the peak loop diverged"); // keeps the sums alive
        return new FmaPeakResult(path, best, Accumulators);
    }

    /// <summary>
    /// The best of several timed runs of a register-only <paramref name="loop"/> (argument: iterations) over about
    /// <paramref name="milliseconds"/>, in billions of operations per second; each result goes to <paramref name="keep"/> so
    /// the loop's work stays alive. The machines are shared, so a run can only be slowed, never sped up: the best is the peak.
    /// </summary>
    internal static double BestRate<T>(Func<long, T> loop, double opsPerIteration, int milliseconds, Action<T> keep)
    {
        keep(loop(10_000)); // JIT, and bring the core up to speed
        long iterations = 1_000_000;
        double best = 0;
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * milliseconds / 1000;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            long t0 = Stopwatch.GetTimestamp();
            keep(loop(iterations));
            double seconds = (double)(Stopwatch.GetTimestamp() - t0) / Stopwatch.Frequency;
            if (seconds < 0.005) { iterations *= 2; continue; }
            best = Math.Max(best, iterations * opsPerIteration / seconds / 1e9);
        }
        return best;
    }

    // acc = acc·a + b with a just below 1: the values settle and stay normal (no denormal slow path, no overflow).

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long n)
    {
        var a = Vector512.Create(0.9999999f); var b = Vector512.Create(1e-7f);
        Vector512<float> v0 = b, v1 = b, v2 = b, v3 = b, v4 = b, v5 = b, v6 = b, v7 = b, v8 = b, v9 = b, v10 = b, v11 = b;
        for (long i = 0; i < n; i++)
        {
            v0 = Vector512.FusedMultiplyAdd(v0, a, b); v1 = Vector512.FusedMultiplyAdd(v1, a, b); v2 = Vector512.FusedMultiplyAdd(v2, a, b);
            v3 = Vector512.FusedMultiplyAdd(v3, a, b); v4 = Vector512.FusedMultiplyAdd(v4, a, b); v5 = Vector512.FusedMultiplyAdd(v5, a, b);
            v6 = Vector512.FusedMultiplyAdd(v6, a, b); v7 = Vector512.FusedMultiplyAdd(v7, a, b); v8 = Vector512.FusedMultiplyAdd(v8, a, b);
            v9 = Vector512.FusedMultiplyAdd(v9, a, b); v10 = Vector512.FusedMultiplyAdd(v10, a, b); v11 = Vector512.FusedMultiplyAdd(v11, a, b);
        }
        return Vector512.Sum(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long n)
    {
        var a = Vector256.Create(0.9999999f); var b = Vector256.Create(1e-7f);
        Vector256<float> v0 = b, v1 = b, v2 = b, v3 = b, v4 = b, v5 = b, v6 = b, v7 = b, v8 = b, v9 = b, v10 = b, v11 = b;
        for (long i = 0; i < n; i++)
        {
            v0 = Vector256.FusedMultiplyAdd(v0, a, b); v1 = Vector256.FusedMultiplyAdd(v1, a, b); v2 = Vector256.FusedMultiplyAdd(v2, a, b);
            v3 = Vector256.FusedMultiplyAdd(v3, a, b); v4 = Vector256.FusedMultiplyAdd(v4, a, b); v5 = Vector256.FusedMultiplyAdd(v5, a, b);
            v6 = Vector256.FusedMultiplyAdd(v6, a, b); v7 = Vector256.FusedMultiplyAdd(v7, a, b); v8 = Vector256.FusedMultiplyAdd(v8, a, b);
            v9 = Vector256.FusedMultiplyAdd(v9, a, b); v10 = Vector256.FusedMultiplyAdd(v10, a, b); v11 = Vector256.FusedMultiplyAdd(v11, a, b);
        }
        return Vector256.Sum(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop128(long n)
    {
        var a = Vector128.Create(0.9999999f); var b = Vector128.Create(1e-7f);
        Vector128<float> v0 = b, v1 = b, v2 = b, v3 = b, v4 = b, v5 = b, v6 = b, v7 = b, v8 = b, v9 = b, v10 = b, v11 = b;
        for (long i = 0; i < n; i++)
        {
            v0 = Vector128.FusedMultiplyAdd(v0, a, b); v1 = Vector128.FusedMultiplyAdd(v1, a, b); v2 = Vector128.FusedMultiplyAdd(v2, a, b);
            v3 = Vector128.FusedMultiplyAdd(v3, a, b); v4 = Vector128.FusedMultiplyAdd(v4, a, b); v5 = Vector128.FusedMultiplyAdd(v5, a, b);
            v6 = Vector128.FusedMultiplyAdd(v6, a, b); v7 = Vector128.FusedMultiplyAdd(v7, a, b); v8 = Vector128.FusedMultiplyAdd(v8, a, b);
            v9 = Vector128.FusedMultiplyAdd(v9, a, b); v10 = Vector128.FusedMultiplyAdd(v10, a, b); v11 = Vector128.FusedMultiplyAdd(v11, a, b);
        }
        return Vector128.Sum(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float LoopScalar(long n)
    {
        float a = 0.9999999f, b = 1e-7f;
        float v0 = b, v1 = b, v2 = b, v3 = b, v4 = b, v5 = b, v6 = b, v7 = b, v8 = b, v9 = b, v10 = b, v11 = b;
        for (long i = 0; i < n; i++)
        {
            v0 = MathF.FusedMultiplyAdd(v0, a, b); v1 = MathF.FusedMultiplyAdd(v1, a, b); v2 = MathF.FusedMultiplyAdd(v2, a, b);
            v3 = MathF.FusedMultiplyAdd(v3, a, b); v4 = MathF.FusedMultiplyAdd(v4, a, b); v5 = MathF.FusedMultiplyAdd(v5, a, b);
            v6 = MathF.FusedMultiplyAdd(v6, a, b); v7 = MathF.FusedMultiplyAdd(v7, a, b); v8 = MathF.FusedMultiplyAdd(v8, a, b);
            v9 = MathF.FusedMultiplyAdd(v9, a, b); v10 = MathF.FusedMultiplyAdd(v10, a, b); v11 = MathF.FusedMultiplyAdd(v11, a, b);
        }
        return v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11;
    }
}
