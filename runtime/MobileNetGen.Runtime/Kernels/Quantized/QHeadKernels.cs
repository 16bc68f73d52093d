using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MobileNetGen.Model;
using static MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels;

namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>The uint8 head: TFLite's global average pool and the logits (a 1×1 convolution of the pooled features).</summary>
public static unsafe class QHeadKernels
{
    /// <summary>
    /// TFLite's reference <c>AveragePool</c> (uint8) over the whole map: <c>clamp((Σ_p x[p, c] + P/2) / P, min, max)</c> with
    /// P = Pixels (the sum is non-negative, so the integer division rounds halves up). The vector paths sum 16 channels at a
    /// time into int32 lanes (the sum of ≤ 2^23 bytes cannot overflow); the division is per channel.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AveragePool<TShape>(QuantizedIsa isa, byte* input, byte* output) where TShape : struct, IQPoolShape
    {
        int P = TShape.Pixels, C = TShape.Channels;
        if (isa == QuantizedIsa.Scalar)
        {
            for (int c = 0; c < C; c++)
            {
                int acc = 0;
                for (int p = 0; p < P; p++) acc += input[(long)p * C + c];
                output[c] = (byte)Math.Clamp((acc + P / 2) / P, TShape.ActivationMin, TShape.ActivationMax);
            }
            return;
        }
        if (!IsSupported(isa)) throw Unsupported(isa);
        // Sums in a stack buffer, 16 channels per step: Vector128 widening adds, the same code on every ISA (the pool is
        // ~0.01 % of the network's work; widening twice is as fast as anything here).
        int* sums = stackalloc int[C + 16];
        new Span<int>(sums, C).Clear();
        for (int p = 0; p < P; p++)
        {
            byte* row = input + (long)p * C;
            int c = 0;
            for (; c + 16 <= C; c += 16)
            {
                var v = Vector128.Load(row + c);
                Vector128<ushort> lo = Vector128.WidenLower(v), hi = Vector128.WidenUpper(v);
                (Vector128.Load(sums + c) + Vector128.WidenLower(lo).AsInt32()).Store(sums + c);
                (Vector128.Load(sums + c + 4) + Vector128.WidenUpper(lo).AsInt32()).Store(sums + c + 4);
                (Vector128.Load(sums + c + 8) + Vector128.WidenLower(hi).AsInt32()).Store(sums + c + 8);
                (Vector128.Load(sums + c + 12) + Vector128.WidenUpper(hi).AsInt32()).Store(sums + c + 12);
            }
            for (; c < C; c++) sums[c] += row[c];
        }
        for (int c = 0; c < C; c++)
            output[c] = (byte)Math.Min(Math.Max((sums[c] + P / 2) / P, TShape.ActivationMin), TShape.ActivationMax);
    }

    /// <summary>
    /// The logits: <c>logits[n] = requantize(bias[n] + Σ_c (f[c] − x_zp)·(w[c, n] − w_zp))</c>, the pointwise kernel on one
    /// pixel with the classes padded to whole panels (<see cref="KernelContract.QuantizedLogitsPaddedClasses"/>: 1001 → 1008;
    /// the padding's weights and bias are zero). It writes the padded row to the stack and copies the Classes bytes, so
    /// nothing past <c>logits[Classes − 1]</c> is touched.
    /// </summary>
    [SkipLocalsInit]
    public static void Logits<TShape>(QuantizedIsa isa, byte* features, byte* logits, void* weights, int* bias) where TShape : struct, IQLogitsShape
    {
        int padded = KernelContract.QuantizedLogitsPaddedClasses(TShape.Classes);
        byte* row = stackalloc byte[padded];
        QPointwiseKernels.Run<LogitsAsPointwise<TShape>>(isa, features, row, weights, bias, 0, 1, 0, padded / KernelContract.PanelWidth);
        Buffer.MemoryCopy(row, logits, TShape.Classes, TShape.Classes);
    }

    /// <summary>A logits shape as the pointwise shape of its padded matrix.</summary>
    private readonly struct LogitsAsPointwise<TShape> : IQPointwiseShape where TShape : struct, IQLogitsShape
    {
        public static int Cin => TShape.Channels;
        public static int Cout => KernelContract.QuantizedLogitsPaddedClasses(TShape.Classes);
        public static int InputZeroPoint => TShape.InputZeroPoint;
        public static int WeightZeroPoint => TShape.WeightZeroPoint;
        public static int OutputZeroPoint => TShape.OutputZeroPoint;
        public static int Multiplier => TShape.Multiplier;
        public static int Shift => TShape.Shift;
        public static int ActivationMin => TShape.ActivationMin;
        public static int ActivationMax => TShape.ActivationMax;
    }
}
