using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>A depthwise layer's shape as compile-time constants: the generator emits one struct per layer, and the JIT
/// (or NativeAOT) compiles <see cref="DepthwiseKernels.Run{TShape}"/> once per struct with every stride and offset
/// folded into the instructions' displacements.</summary>
public interface IDepthwiseShape
{
    static abstract int InH { get; }
    static abstract int InW { get; }
    static abstract int Channels { get; }
    static abstract int OutH { get; }
    static abstract int OutW { get; }
    static abstract int Stride { get; }
    /// <summary>TensorFlow SAME padding above the first row (0 or 1; the rest falls below the last).</summary>
    static abstract int PadTop { get; }
    /// <summary>TensorFlow SAME padding left of the first column (0 or 1; the rest falls right of the last).</summary>
    static abstract int PadLeft { get; }
}

/// <summary>
/// Depthwise 3×3 convolution (stride 1 or 2, TensorFlow SAME padding) + bias + ReLU6, NHWC, channel-blocked.
/// </summary>
/// <remarks>
/// Packed weights (<c>PackDepthwise</c>): tap-major, channels contiguous, <c>packed[(ky·3 + kx)·C + c]</c>, BatchNorm
/// scale folded in. Output row by output row, eight neighbouring pixels at a time (then four, then one), every channel
/// block in turn (the widest vector that fits, then narrower: every MobileNet width is a multiple of 8). Within a tap
/// row, each input vector is loaded once and feeds every pixel of the group that reads it, and each tap vector feeds the
/// whole group: at stride 1, 10 input loads serve 24 multiply-adds. Walking the channels innermost reads every input line in address order while it is in L1. (Sliding one
/// channel block along a whole row and then the next, with the nine taps in registers, was 2–2.5× slower from 256
/// channels up on this kind of machine: a pixel is then 1 KiB or more, the pixels of a row fall into a handful of L1
/// sets, and every block misses again on the lines the previous block loaded.)
/// The shape is a compile-time constant (<see cref="IDepthwiseShape"/>), so every offset is an instruction
/// displacement, and padding is resolved at compile time where it can be: the first and last rows are separate
/// instantiations without their missing tap row; border columns skip their missing taps inline. Every pixel sums its
/// taps in (ky, kx) order and skips exactly the padding taps, so every width and path gives bit-identical results.
/// </remarks>
public static unsafe class DepthwiseKernels
{
    /// <summary>Output rows <c>[rowStart, rowEnd)</c> (a thread's share: rows are independent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TShape>(SimdPath path, float* input, float* output, float* packed, float* bias, int rowStart, int rowEnd)
        where TShape : struct, IDepthwiseShape
    {
        for (int outY = rowStart; outY < rowEnd; outY++)
        {
            int inY0 = outY * TShape.Stride - TShape.PadTop;
            bool top = inY0 >= 0, bottom = inY0 + 2 < TShape.InH;
            // A missing top row needs top padding, and a missing top and bottom row an input of at most two rows: said
            // with the shape's constants, so that a shape never compiles the row kinds it cannot run (NativeAOT keeps every
            // instantiation it can reach: for MobileNet's shapes that was a third of these kernels' code).
            if (top && bottom) Blocks<TShape, AllRows>(path, input, output, packed, bias, outY);
            else if (top) Blocks<TShape, NoBottomRow>(path, input, output, packed, bias, outY);
            else if (TShape.PadTop > 0 && bottom) Blocks<TShape, NoTopRow>(path, input, output, packed, bias, outY);
            else if (TShape.PadTop > 0 && TShape.InH <= 2) Blocks<TShape, MiddleRowOnly>(path, input, output, packed, bias, outY);
            else ThrowImpossibleRow(outY);
        }
    }

    /// <summary>Which of a pixel's three input rows exist (the others are padding), as constants.</summary>
    private interface IRows { static abstract bool Top { get; } static abstract bool Bottom { get; } }
    private struct AllRows : IRows { public static bool Top => true; public static bool Bottom => true; }
    private struct NoTopRow : IRows { public static bool Top => false; public static bool Bottom => true; }
    private struct NoBottomRow : IRows { public static bool Top => true; public static bool Bottom => false; }
    private struct MiddleRowOnly : IRows { public static bool Top => false; public static bool Bottom => false; }

    /// <summary>Unreachable: a row whose window misses its top row has top padding, and one missing both has InH ≤ 2.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowImpossibleRow(int outY) =>
        throw new InvalidOperationException($"depthwise output row {outY}: its window misses rows that the shape's padding cannot explain");

    /// <summary>Every channel block of one output row: widest vectors first, then narrower, then scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Blocks<TShape, TRows>(SimdPath path, float* input, float* output, float* packed, float* bias, int outY)
        where TShape : struct, IDepthwiseShape where TRows : struct, IRows
    {
        int channels = TShape.Channels;
        int c16 = SimdPaths.Is512(path) ? channels / 16 * 16 : 0;
        int c8 = SimdPaths.AtLeast256(path) ? c16 + (channels - c16) / 8 * 8 : c16;
        int c4 = SimdPaths.AtLeast128(path) ? c8 + (channels - c8) / 4 * 4 : c8;
        if (c16 > 0) Row<F32x16, Vector512<float>, TShape, TRows>(input, output, packed, bias, outY, 0, c16);
        if (c8 > c16) Row<F32x8, Vector256<float>, TShape, TRows>(input, output, packed, bias, outY, c16, c8);
        if (c4 > c8) Row<F32x4, Vector128<float>, TShape, TRows>(input, output, packed, bias, outY, c8, c4);
        if (channels > c4)
            RowScalar(input, output, packed, bias, outY, c4, channels, TShape.InH, TShape.InW, TShape.Channels, TShape.OutW,
                TShape.Stride, TShape.PadTop, TShape.PadLeft);
    }

    /// <summary>The scalar path (and a channel tail that no vector fits): one output row, channels
    /// <c>[cBegin, cEnd)</c>, pixel by pixel, with the shape as arguments: one method for every layer. Instantiated per
    /// shape, as the vector rows are, it was 36 copies and 97 KB of a NativeAOT binary for a path that runs only when
    /// forced (<c>SimdPath.Scalar</c>) or for a channel count no vector divides. Every pixel starts from the bias and takes
    /// its taps in (ky, kx) order, skipping exactly the padding taps, with fused multiply-adds, as the vector rows do, so
    /// the bits are the same.</summary>
    private static void RowScalar(float* input, float* output, float* packed, float* bias, int outY, int cBegin, int cEnd,
        int inH, int inW, int C, int outW, int S, int padTop, int padLeft)
    {
        long rowStride = (long)inW * C;
        int inY0 = outY * S - padTop;
        float* o = output + (long)outY * outW * C;
        for (int outX = 0; outX < outW; outX++)
        {
            int inX0 = outX * S - padLeft;
            for (int c = cBegin; c < cEnd; c++)
            {
                float acc = bias[c];
                for (int ky = 0; ky < 3; ky++)
                {
                    int y = inY0 + ky;
                    if (y < 0 || y >= inH) continue;
                    for (int kx = 0; kx < 3; kx++)
                    {
                        int x = inX0 + kx;
                        if (x < 0 || x >= inW) continue;
                        acc = MathF.FusedMultiplyAdd(input[y * rowStride + (long)x * C + c], packed[(ky * 3 + kx) * C + c], acc);
                    }
                }
                o[(long)outX * C + c] = Math.Min(Math.Max(acc, 0f), 6f);
            }
        }
    }

    /// <summary>One output row, channels <c>[cBegin, cEnd)</c>: the border pixels, then the interior eight pixels at a
    /// time with every channel block in turn (eight independent accumulator chains hide the fused multiply-add latency;
    /// 8–13 % faster than four on this machine's 112×112 and 56×56 layers), then four, then the interior's tail and the
    /// right border. No call inside, so nothing is spilled across one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TSimd, TVec, TShape, TRows>(float* input, float* output, float* packed, float* bias, int outY, int cBegin, int cEnd)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TShape : struct, IDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, S = TShape.Stride, inW = TShape.InW, outW = TShape.OutW, W = TSimd.Width;
        long rowStride = (long)inW * C;
        int inY0 = outY * S - TShape.PadTop;
        float* r0 = input + inY0 * rowStride - (long)TShape.PadLeft * C;
        float* o = output + (long)outY * outW * C;
        int firstInterior = (TShape.PadLeft + S - 1) / S;
        int lastInterior = Math.Min(outW - 1, (inW - 3 + TShape.PadLeft) / S);
        int outX = 0;
        for (; outX < firstInterior && outX < outW; outX++)
            PixelAllChannels<TSimd, TVec, TShape, TRows>(r0, o, packed, bias, outX, cBegin, cEnd);
        for (; outX + 7 <= lastInterior; outX += 8)
        {
            float* p = r0 + (long)outX * S * C;
            float* q = o + (long)outX * C;
            for (int c = cBegin; c < cEnd; c += W)
            {
                float* pc = p + c, k = packed + c;
                TVec a0 = TSimd.Load(bias + c), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                if (TRows.Top) TapRow8<TSimd, TVec, TShape>(pc, k, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                TapRow8<TSimd, TVec, TShape>(pc + rowStride, k + 3 * C, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                if (TRows.Bottom) TapRow8<TSimd, TVec, TShape>(pc + 2 * rowStride, k + 6 * C, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                float* qc = q + c;
                TSimd.StoreRelu6(a0, qc); TSimd.StoreRelu6(a1, qc + C); TSimd.StoreRelu6(a2, qc + 2 * C); TSimd.StoreRelu6(a3, qc + 3 * C);
                TSimd.StoreRelu6(a4, qc + 4 * C); TSimd.StoreRelu6(a5, qc + 5 * C); TSimd.StoreRelu6(a6, qc + 6 * C); TSimd.StoreRelu6(a7, qc + 7 * C);
            }
        }
        for (; outX + 3 <= lastInterior; outX += 4)
        {
            float* p = r0 + (long)outX * S * C;
            float* q = o + (long)outX * C;
            for (int c = cBegin; c < cEnd; c += W)
            {
                float* pc = p + c, k = packed + c;
                TVec va = TSimd.Load(bias + c), vbb = va, vc = va, vd = va;
                if (TRows.Top) TapRow<TSimd, TVec, TShape>(pc, k, ref va, ref vbb, ref vc, ref vd);
                TapRow<TSimd, TVec, TShape>(pc + rowStride, k + 3 * C, ref va, ref vbb, ref vc, ref vd);
                if (TRows.Bottom) TapRow<TSimd, TVec, TShape>(pc + 2 * rowStride, k + 6 * C, ref va, ref vbb, ref vc, ref vd);
                TSimd.StoreRelu6(va, q + c);
                TSimd.StoreRelu6(vbb, q + C + c);
                TSimd.StoreRelu6(vc, q + 2 * C + c);
                TSimd.StoreRelu6(vd, q + 3 * C + c);
            }
        }
        for (; outX < outW; outX++)
            PixelAllChannels<TSimd, TVec, TShape, TRows>(r0, o, packed, bias, outX, cBegin, cEnd);
    }

    /// <summary>One tap row (three taps) of four neighbouring output pixels. Each input vector is loaded once and feeds
    /// every pixel that uses it (stride 1: 6 loads for 12 multiply-adds, stride 2: 9), and each pixel still takes its
    /// taps in kx order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapRow<TSimd, TVec, TShape>(float* pc, float* k, ref TVec a, ref TVec b, ref TVec c, ref TVec d)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TShape : struct, IDepthwiseShape
    {
        int C = TShape.Channels;
        TVec w0 = TSimd.Load(k), w1 = TSimd.Load(k + C), w2 = TSimd.Load(k + 2 * C), x;
        if (TShape.Stride == 1)
        {
            x = TSimd.Load(pc); a = TSimd.FusedMultiplyAdd(x, w0, a);
            x = TSimd.Load(pc + C); a = TSimd.FusedMultiplyAdd(x, w1, a); b = TSimd.FusedMultiplyAdd(x, w0, b);
            x = TSimd.Load(pc + 2 * C); a = TSimd.FusedMultiplyAdd(x, w2, a); b = TSimd.FusedMultiplyAdd(x, w1, b); c = TSimd.FusedMultiplyAdd(x, w0, c);
            x = TSimd.Load(pc + 3 * C); b = TSimd.FusedMultiplyAdd(x, w2, b); c = TSimd.FusedMultiplyAdd(x, w1, c); d = TSimd.FusedMultiplyAdd(x, w0, d);
            x = TSimd.Load(pc + 4 * C); c = TSimd.FusedMultiplyAdd(x, w2, c); d = TSimd.FusedMultiplyAdd(x, w1, d);
            x = TSimd.Load(pc + 5 * C); d = TSimd.FusedMultiplyAdd(x, w2, d);
        }
        else
        {
            x = TSimd.Load(pc); a = TSimd.FusedMultiplyAdd(x, w0, a);
            x = TSimd.Load(pc + C); a = TSimd.FusedMultiplyAdd(x, w1, a);
            x = TSimd.Load(pc + 2 * C); a = TSimd.FusedMultiplyAdd(x, w2, a); b = TSimd.FusedMultiplyAdd(x, w0, b);
            x = TSimd.Load(pc + 3 * C); b = TSimd.FusedMultiplyAdd(x, w1, b);
            x = TSimd.Load(pc + 4 * C); b = TSimd.FusedMultiplyAdd(x, w2, b); c = TSimd.FusedMultiplyAdd(x, w0, c);
            x = TSimd.Load(pc + 5 * C); c = TSimd.FusedMultiplyAdd(x, w1, c);
            x = TSimd.Load(pc + 6 * C); c = TSimd.FusedMultiplyAdd(x, w2, c); d = TSimd.FusedMultiplyAdd(x, w0, d);
            x = TSimd.Load(pc + 7 * C); d = TSimd.FusedMultiplyAdd(x, w1, d);
            x = TSimd.Load(pc + 8 * C); d = TSimd.FusedMultiplyAdd(x, w2, d);
        }
    }

    /// <summary><see cref="TapRow{TSimd, TVec, TShape}"/> for eight neighbouring pixels (stride 1: 10 loads for 24
    /// multiply-adds, stride 2: 17).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapRow8<TSimd, TVec, TShape>(float* pc, float* k, ref TVec a0, ref TVec a1, ref TVec a2, ref TVec a3, ref TVec a4, ref TVec a5, ref TVec a6, ref TVec a7)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TShape : struct, IDepthwiseShape
    {
        int C = TShape.Channels;
        TVec w0 = TSimd.Load(k), w1 = TSimd.Load(k + C), w2 = TSimd.Load(k + 2 * C), x;
        if (TShape.Stride == 1)
        {
            x = TSimd.Load(pc); a0 = TSimd.FusedMultiplyAdd(x, w0, a0);
            x = TSimd.Load(pc + C); a0 = TSimd.FusedMultiplyAdd(x, w1, a0); a1 = TSimd.FusedMultiplyAdd(x, w0, a1);
            x = TSimd.Load(pc + 2 * C); a0 = TSimd.FusedMultiplyAdd(x, w2, a0); a1 = TSimd.FusedMultiplyAdd(x, w1, a1); a2 = TSimd.FusedMultiplyAdd(x, w0, a2);
            x = TSimd.Load(pc + 3 * C); a1 = TSimd.FusedMultiplyAdd(x, w2, a1); a2 = TSimd.FusedMultiplyAdd(x, w1, a2); a3 = TSimd.FusedMultiplyAdd(x, w0, a3);
            x = TSimd.Load(pc + 4 * C); a2 = TSimd.FusedMultiplyAdd(x, w2, a2); a3 = TSimd.FusedMultiplyAdd(x, w1, a3); a4 = TSimd.FusedMultiplyAdd(x, w0, a4);
            x = TSimd.Load(pc + 5 * C); a3 = TSimd.FusedMultiplyAdd(x, w2, a3); a4 = TSimd.FusedMultiplyAdd(x, w1, a4); a5 = TSimd.FusedMultiplyAdd(x, w0, a5);
            x = TSimd.Load(pc + 6 * C); a4 = TSimd.FusedMultiplyAdd(x, w2, a4); a5 = TSimd.FusedMultiplyAdd(x, w1, a5); a6 = TSimd.FusedMultiplyAdd(x, w0, a6);
            x = TSimd.Load(pc + 7 * C); a5 = TSimd.FusedMultiplyAdd(x, w2, a5); a6 = TSimd.FusedMultiplyAdd(x, w1, a6); a7 = TSimd.FusedMultiplyAdd(x, w0, a7);
            x = TSimd.Load(pc + 8 * C); a6 = TSimd.FusedMultiplyAdd(x, w2, a6); a7 = TSimd.FusedMultiplyAdd(x, w1, a7);
            x = TSimd.Load(pc + 9 * C); a7 = TSimd.FusedMultiplyAdd(x, w2, a7);
        }
        else
        {
            x = TSimd.Load(pc); a0 = TSimd.FusedMultiplyAdd(x, w0, a0);
            x = TSimd.Load(pc + C); a0 = TSimd.FusedMultiplyAdd(x, w1, a0);
            x = TSimd.Load(pc + 2 * C); a0 = TSimd.FusedMultiplyAdd(x, w2, a0); a1 = TSimd.FusedMultiplyAdd(x, w0, a1);
            x = TSimd.Load(pc + 3 * C); a1 = TSimd.FusedMultiplyAdd(x, w1, a1);
            x = TSimd.Load(pc + 4 * C); a1 = TSimd.FusedMultiplyAdd(x, w2, a1); a2 = TSimd.FusedMultiplyAdd(x, w0, a2);
            x = TSimd.Load(pc + 5 * C); a2 = TSimd.FusedMultiplyAdd(x, w1, a2);
            x = TSimd.Load(pc + 6 * C); a2 = TSimd.FusedMultiplyAdd(x, w2, a2); a3 = TSimd.FusedMultiplyAdd(x, w0, a3);
            x = TSimd.Load(pc + 7 * C); a3 = TSimd.FusedMultiplyAdd(x, w1, a3);
            x = TSimd.Load(pc + 8 * C); a3 = TSimd.FusedMultiplyAdd(x, w2, a3); a4 = TSimd.FusedMultiplyAdd(x, w0, a4);
            x = TSimd.Load(pc + 9 * C); a4 = TSimd.FusedMultiplyAdd(x, w1, a4);
            x = TSimd.Load(pc + 10 * C); a4 = TSimd.FusedMultiplyAdd(x, w2, a4); a5 = TSimd.FusedMultiplyAdd(x, w0, a5);
            x = TSimd.Load(pc + 11 * C); a5 = TSimd.FusedMultiplyAdd(x, w1, a5);
            x = TSimd.Load(pc + 12 * C); a5 = TSimd.FusedMultiplyAdd(x, w2, a5); a6 = TSimd.FusedMultiplyAdd(x, w0, a6);
            x = TSimd.Load(pc + 13 * C); a6 = TSimd.FusedMultiplyAdd(x, w1, a6);
            x = TSimd.Load(pc + 14 * C); a6 = TSimd.FusedMultiplyAdd(x, w2, a6); a7 = TSimd.FusedMultiplyAdd(x, w0, a7);
            x = TSimd.Load(pc + 15 * C); a7 = TSimd.FusedMultiplyAdd(x, w1, a7);
            x = TSimd.Load(pc + 16 * C); a7 = TSimd.FusedMultiplyAdd(x, w2, a7);
        }
    }

    /// <summary>Output pixel <paramref name="outX"/> of a row (a border pixel or the interior's tail), channels
    /// <c>[cBegin, cEnd)</c>, taps from memory. Taps in a missing row, a missing left column or a missing right column
    /// are skipped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PixelAllChannels<TSimd, TVec, TShape, TRows>(float* r0, float* o, float* packed, float* bias, int outX, int cBegin, int cEnd)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TShape : struct, IDepthwiseShape where TRows : struct, IRows
    {
        int C = TShape.Channels, S = TShape.Stride;
        long rowStride = (long)TShape.InW * C;
        int inX0 = outX * S - TShape.PadLeft;
        bool left = inX0 >= 0, right = inX0 + 2 < TShape.InW;
        float* p = r0 + (long)outX * S * C; // the pixel's top-left tap
        float* q = o + (long)outX * C;
        for (int c = cBegin; c < cEnd; c += TSimd.Width)
        {
            float* pc = p + c, k = packed + c;
            TVec acc = TSimd.Load(bias + c);
            if (TRows.Top)
            {
                if (left) acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc), TSimd.Load(k), acc);
                acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc + C), TSimd.Load(k + C), acc);
                if (right) acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc + 2 * C), TSimd.Load(k + 2 * C), acc);
            }
            pc += rowStride;
            if (left) acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc), TSimd.Load(k + 3 * C), acc);
            acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc + C), TSimd.Load(k + 4 * C), acc);
            if (right) acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc + 2 * C), TSimd.Load(k + 5 * C), acc);
            if (TRows.Bottom)
            {
                pc += rowStride;
                if (left) acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc), TSimd.Load(k + 6 * C), acc);
                acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc + C), TSimd.Load(k + 7 * C), acc);
                if (right) acc = TSimd.FusedMultiplyAdd(TSimd.Load(pc + 2 * C), TSimd.Load(k + 8 * C), acc);
            }
            TSimd.StoreRelu6(acc, q + c);
        }
    }
}
