using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
    /// zero, the zero point, a clamp to 0..255), eight values at a time: the quotient q is rounded as trunc(q) ± 1 where
    /// |q − trunc(q)| ≥ 0.5 (exact in float for |q| ≤ 2^22), and a block holding a NaN, an infinity or |q| &gt; 2^22 takes the
    /// scalar rule. Identical to the scalar rule for every input (tested).
    /// </summary>
    public static void QuantizeUint8(ReadOnlySpan<float> input, float scale, int zeroPoint, Span<byte> destination)
    {
        if (destination.Length < input.Length) throw new ArgumentException("destination is shorter than input", nameof(destination));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vscale = Vector256.Create(scale);
            var half = Vector256.Create(0.5f);
            var one = Vector256.Create(1f);
            var limit = Vector256.Create(4194304f); // 2^22
            var vzp = Vector256.Create(zeroPoint);
            var vmax = Vector256.Create(255);
            ref float src = ref MemoryMarshal.GetReference(input);
            for (; i + 8 <= input.Length; i += 8)
            {
                var q = Vector256.LoadUnsafe(ref src, (nuint)i) / vscale;
                if (!Vector256.LessThanOrEqualAll(Vector256.Abs(q), limit)) // NaN compares false
                {
                    for (int j = i; j < i + 8; j++) destination[j] = QuantizationMath.AffineQuantizeUint8(input[j], scale, zeroPoint);
                    continue;
                }
                var t = Vector256.Truncate(q);
                var f = q - t; // exact
                var up = Vector256.GreaterThanOrEqual(f, half) & one;
                var down = Vector256.LessThanOrEqual(f, -half) & one;
                var r = Vector256.ConvertToInt32(t + up - down) + vzp;
                r = Vector256.Min(Vector256.Max(r, Vector256<int>.Zero), vmax);
                // Narrow is element-wise (lower's elements first): values 0..255 narrow exactly; bytes 0-7 are r0..r7.
                var shorts = Vector256.Narrow(r, r);
                var bytes = Vector256.Narrow(shorts, shorts);
                MemoryMarshal.Write(destination.Slice(i, 8), bytes.AsUInt64().GetElement(0));
            }
        }
        for (; i < input.Length; i++) destination[i] = QuantizationMath.AffineQuantizeUint8(input[i], scale, zeroPoint);
    }

    /// <inheritdoc/>
    protected sealed override void Forward(float* input, float* logits, float* embeddings, float* bufferA, float* bufferB, SimdPath path, LayerRunner runner)
    {
        QuantizeInput(new ReadOnlySpan<float>(input, InputLength), new Span<byte>(_input, InputLength));
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
