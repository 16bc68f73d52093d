using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MobileNetGen.Model;
using MobileNetGen.Runtime.Kernels;

namespace MobileNetGen.Runtime;

/// <summary>The quantization of a uint8 network's ends (TFLite's numbers): its input, its pooled features and its logits.</summary>
/// <param name="InputScale">Real value of one input step (1/128 for Google's MobileNets).</param>
/// <param name="InputZeroPoint">The uint8 input that stands for 0 (128).</param>
public sealed record QuantizationInfo(float InputScale, int InputZeroPoint, float FeatureScale, int FeatureZeroPoint, float LogitsScale, int LogitsZeroPoint);

/// <summary>
/// Base of every generated uint8 classifier (Google's quantized MobileNet v1): the same API as the float classifiers, with
/// integer layers underneath. The preprocessed input (TF-slim, [−1, 1]) is quantized with the model's input scale and zero
/// point exactly as TFLite's QUANTIZE does; the network runs on uint8 activations with int32 accumulators, each layer
/// requantized as TFLite's reference kernels do (so every uint8 output equals TFLite's); the uint8 logits and pooled
/// features are then dequantized for the softmax, the top-k and <see cref="MobileNetClassifier.Embeddings"/>.
/// </summary>
/// <remarks>
/// <see cref="RunQuantized"/> runs the integer network on a uint8 input and returns the uint8 logits, for comparisons with
/// TFLite; <see cref="QuantizedLogits"/> and <see cref="QuantizedFeatures"/> hold those of the last inference.
/// </remarks>
public abstract unsafe class QuantizedMobileNetClassifier : MobileNetClassifier
{
    private readonly byte* _block;
    private readonly byte* _input, _logits, _features;
    private bool _freed;

    /// <param name="activationBytes">Largest activation between two layers, in bytes (each of the two ping-pong buffers).</param>
    protected QuantizedMobileNetClassifier(MobileNetModelInfo info, QuantizationInfo quantization, long activationBytes, MobileNetOptions? options, int defaultThreads = 1)
        : base(info, (activationBytes + 3) / 4, options, defaultThreads)
    {
        Quantization = quantization;
        long input = Round(InputLength), logits = Round(info.NumClasses), features = Round(info.FeatureSize);
        _block = (byte*)NativeMemory.AlignedAlloc((nuint)(input + logits + features), 64);
        NativeMemory.Clear(_block, (nuint)(input + logits + features));
        _input = _block;
        _logits = _input + input;
        _features = _logits + logits;

        static long Round(long n) => (n + 63) & ~63L;
    }

    /// <summary>The quantization of the input, the pooled features and the logits.</summary>
    public QuantizationInfo Quantization { get; }

    /// <summary>The uint8 logits of the last inference (TFLite's output before its softmax).</summary>
    public ReadOnlySpan<byte> QuantizedLogits => new(_logits, NumClasses);

    /// <summary>The uint8 pooled features of the last inference (the average pool's output).</summary>
    public ReadOnlySpan<byte> QuantizedFeatures => new(_features, FeatureSize);

    /// <summary>
    /// Runs the integer network on a uint8 input (<see cref="MobileNetClassifier.InputLength"/> bytes, NHWC RGB, quantized with
    /// <see cref="QuantizationInfo.InputScale"/> and zero point) and writes the uint8 logits. Allocates nothing.
    /// </summary>
    public void RunQuantized(ReadOnlySpan<byte> input, Span<byte> logits)
    {
        ThrowIfDisposed();
        if (input.Length != InputLength) throw new ArgumentException($"input must hold {InputLength} bytes ({InputSize}x{InputSize}x3), got {input.Length}", nameof(input));
        if (logits.Length < NumClasses) throw new ArgumentException($"logits must hold at least {NumClasses} bytes, got {logits.Length}", nameof(logits));
        Enter();
        try
        {
            input.CopyTo(new Span<byte>(_input, InputLength));
            RunIntegerNetwork();
            QuantizedLogits.CopyTo(logits);
        }
        finally { Exit(); }
    }

    /// <summary>Quantizes <paramref name="input"/> (floats in [−1, 1]) as TFLite's QUANTIZE op does, into <paramref name="destination"/>.</summary>
    public void QuantizeInput(ReadOnlySpan<float> input, Span<byte> destination)
    {
        if (input.Length != InputLength || destination.Length < InputLength) throw new ArgumentException($"input and destination must hold {InputLength} values");
        QuantizeUint8(input, Quantization.InputScale, Quantization.InputZeroPoint, destination);
    }

    /// <summary>
    /// TFLite's QUANTIZE to uint8 (<see cref="QuantizationMath.AffineQuantizeUint8"/>: a float division, rounding half away from
    /// zero, the zero point, a clamp to 0..255), sixteen values at a time on AVX-512, eight on AVX2, four on AdvSimd / SSE:
    /// the quotient q is rounded as trunc(q) ± 1 where |q − trunc(q)| ≥ 0.5 (exact in float for |q| ≤ 2^22). When the scale
    /// is a power of two (Google's MobileNets: 2^−7) the division is a multiplication by its reciprocal, which is exact, so
    /// both round the same real number the same way. An input holding a NaN, an infinity or |q| &gt; 2^22 anywhere is redone
    /// with the scalar rule once the vector loop has seen it (a call inside the loop would spill every vector register around
    /// it). Identical to the scalar rule for every input (tested).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop: optimized from its first call, as the kernels are
    public static void QuantizeUint8(ReadOnlySpan<float> input, float scale, int zeroPoint, Span<byte> destination)
    {
        if (destination.Length < input.Length) throw new ArgumentException("destination is shorter than input", nameof(destination));
        int i = 0;
        bool reciprocal = ExactReciprocal(scale, out float inverse);
        ref float src = ref MemoryMarshal.GetReference(input);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        bool outOfRange = false;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            var vscale = Vector512.Create(scale);
            var vinverse = Vector512.Create(inverse);
            var half = Vector512.Create(0.5f);
            var one = Vector512.Create(1f);
            var limit = Vector512.Create(4194304f); // 2^22
            var vzp = Vector512.Create(zeroPoint);
            var vbad = Vector512<float>.Zero;
            for (; i + 16 <= input.Length; i += 16)
            {
                var x = Vector512.LoadUnsafe(ref src, (nuint)i);
                var q = reciprocal ? x * vinverse : x / vscale;
                vbad |= ~Vector512.LessThanOrEqual(Vector512.Abs(q), limit); // NaN compares false
                var t = Vector512.Truncate(q);
                var f = q - t; // exact
                var r = Avx512F.ConvertToVector512Int32WithTruncation(t + (Vector512.GreaterThanOrEqual(f, half) & one) - (Vector512.LessThanOrEqual(f, -half) & one)) + vzp;
                // vpmovusdb saturates above 255 and reads a negative lane as a large unsigned one: clamp below first.
                Avx512F.ConvertToVector128ByteWithSaturation(Vector512.Max(r, Vector512<int>.Zero).AsUInt32()).StoreUnsafe(ref dst, (nuint)i);
            }
            outOfRange = vbad != Vector512<float>.Zero;
        }
        if (Vector256.IsHardwareAccelerated && Avx.IsSupported)
        {
            var vscale = Vector256.Create(scale);
            var vinverse = Vector256.Create(inverse);
            var half = Vector256.Create(0.5f);
            var one = Vector256.Create(1f);
            var limit = Vector256.Create(4194304f);
            var vzp = Vector256.Create(zeroPoint);
            var vmax = Vector256.Create(255);
            var vbad = Vector256<float>.Zero;
            for (; i + 8 <= input.Length; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref src, (nuint)i);
                var q = reciprocal ? x * vinverse : x / vscale;
                vbad |= ~Vector256.LessThanOrEqual(Vector256.Abs(q), limit);
                var t = Vector256.Truncate(q);
                var f = q - t;
                var r = Avx.ConvertToVector256Int32WithTruncation(t + (Vector256.GreaterThanOrEqual(f, half) & one) - (Vector256.LessThanOrEqual(f, -half) & one)) + vzp;
                r = Vector256.Min(Vector256.Max(r, Vector256<int>.Zero), vmax);
                // Narrow is element-wise (lower's elements first): values 0..255 narrow exactly; bytes 0-7 are r0..r7.
                var shorts = Vector256.Narrow(r, r);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), Vector256.Narrow(shorts, shorts).AsUInt64().GetElement(0));
            }
            outOfRange |= vbad != Vector256<float>.Zero;
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var vscale = Vector128.Create(scale);
            var vinverse = Vector128.Create(inverse);
            var half = Vector128.Create(0.5f);
            var one = Vector128.Create(1f);
            var limit = Vector128.Create(4194304f);
            var vzp = Vector128.Create(zeroPoint);
            var vmax = Vector128.Create(255);
            var vbad = Vector128<float>.Zero;
            for (; i + 4 <= input.Length; i += 4)
            {
                var x = Vector128.LoadUnsafe(ref src, (nuint)i);
                var q = reciprocal ? x * vinverse : x / vscale;
                vbad |= ~Vector128.LessThanOrEqual(Vector128.Abs(q), limit);
                var t = Vector128.Truncate(q);
                var f = q - t;
                var r = Vector128.ConvertToInt32(t + (Vector128.GreaterThanOrEqual(f, half) & one) - (Vector128.LessThanOrEqual(f, -half) & one)) + vzp;
                r = Vector128.Min(Vector128.Max(r, Vector128<int>.Zero), vmax);
                var shorts = Vector128.Narrow(r, r);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), Vector128.Narrow(shorts, shorts).AsUInt32().GetElement(0));
            }
            outOfRange |= vbad != Vector128<float>.Zero;
        }
        if (outOfRange) i = 0; // a value the vector rule cannot take: all of it by the scalar rule
        for (; i < input.Length; i++) destination[i] = QuantizationMath.AffineQuantizeUint8(input[i], scale, zeroPoint);
    }

    /// <summary>Whether <c>x / scale == x · inverse</c> for every float x: scale is a power of two whose reciprocal is a
    /// finite float, so the product is the quotient's exact real value, rounded once, as the division rounds it.</summary>
    private static bool ExactReciprocal(float scale, out float inverse)
    {
        inverse = 1f / scale;
        int bits = BitConverter.SingleToInt32Bits(scale);
        return float.IsNormal(scale) && (bits & 0x007F_FFFF) == 0 && float.IsNormal(inverse);
    }

    /// <summary>The float entry points' QUANTIZE of the preprocessed input (profiled as a step: it runs before the stem).</summary>
    private protected sealed override NetworkStep? InputStep =>
        new("Quantize (input)", "float → uint8", $"{InputSize}x{InputSize}x3", 0, 5L * InputLength);

    /// <inheritdoc/>
    protected sealed override void Forward(float* input, float* logits, float* embeddings, float* bufferA, float* bufferB, SimdPath path, LayerRunner runner)
    {
        QuantizeInput(new ReadOnlySpan<float>(input, InputLength), new Span<byte>(_input, InputLength));
        runner.Lap(); // the input step, for Profile (nothing otherwise)
        ForwardQuantized(_input, _logits, _features, (byte*)bufferA, (byte*)bufferB, path, runner);
        Dequantize(logits, embeddings);
    }

    /// <summary>The integer network from the uint8 input already in place (<see cref="RunQuantized"/>).</summary>
    private void RunIntegerNetwork()
    {
        ForwardQuantized(_input, _logits, _features, (byte*)WorkspaceA, (byte*)WorkspaceB, SimdPath, Runner);
        Dequantize(LogitsPointer, EmbeddingsPointer);
    }

    /// <summary>The uint8 logits and features as floats, as TFLite's DEQUANTIZE computes them: scale · (q − zero point).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs every inference: never tier-0 code
    private void Dequantize(float* logits, float* embeddings)
    {
        float ls = Quantization.LogitsScale, fs = Quantization.FeatureScale;
        int lz = Quantization.LogitsZeroPoint, fz = Quantization.FeatureZeroPoint;
        for (int i = 0; i < NumClasses; i++) logits[i] = ls * (_logits[i] - lz);
        for (int i = 0; i < FeatureSize; i++) embeddings[i] = fs * (_features[i] - fz);
    }

    /// <summary>The generated integer network: uint8 input → uint8 logits, uint8 pooled features into <paramref name="features"/>.</summary>
    protected abstract void ForwardQuantized(byte* input, byte* logits, byte* features, byte* bufferA, byte* bufferB, SimdPath path, LayerRunner runner);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (_freed) return;
        _freed = true;
        NativeMemory.AlignedFree(_block);
    }
}
