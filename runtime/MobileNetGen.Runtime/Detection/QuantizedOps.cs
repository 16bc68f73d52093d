namespace MobileNetGen.Runtime.Detection;

/// <summary>
/// TFLite's uint8 <c>LOGISTIC</c> as the default kernel computes it: a 256-entry lookup table built once from the input and
/// output quantization, then one table read per element.
/// </summary>
/// <remarks>
/// <c>tensorflow/lite/kernels/activations.cc</c>: <c>Register_LOGISTIC()</c> returns <c>Register_LOGISTIC_GENERIC_OPT()</c>
/// (kGenericOptimized), whose <c>SigmoidPrepare</c> calls <c>PopulateLookupTable&lt;uint8_t&gt;</c> with
/// <c>1.0f / (1.0f + std::exp(-value))</c> and whose <c>SigmoidEval</c> uses <c>EvalUsingLookupTable</c>. The gemmlowp
/// fixed-point kernel (<c>Logistic16bitPrecision</c>) runs only for <c>Register_LOGISTIC_FIXED_POINT_OPT</c>. Table entry for
/// input byte v, all in float as in <c>PopulateLookupTable</c>:
/// <c>x = inScale · (v − inZeroPoint)</c>; <c>y = 1 / (1 + exp(−x))</c> (<c>expf</c> ↔ <see cref="MathF.Exp"/>);
/// <c>q = (int)(round(y · (1 / outScale)) + outZeroPoint)</c> with round half away from zero; clamped to 0..255.
/// <c>SigmoidPrepare</c> requires <c>outScale == 1/256</c> for uint8 (and the uint8 output zero point is 0, checked here too).
/// </remarks>
public sealed class QuantizedLogistic
{
    private readonly byte[] _table = new byte[256];

    public QuantizedLogistic(Quantization input, Quantization output)
    {
        Quantization.Require(input, nameof(input));
        Quantization.Require(output, nameof(output));
        if (output.Scale != 1f / 256 || output.ZeroPoint != 0)
            throw new ArgumentException($"TFLite's uint8 LOGISTIC needs output scale 1/256 and zero point 0; got {output}", nameof(output));
        Input = input;
        Output = output;
        float inverseScale = 1 / output.Scale;
        for (int v = 0; v <= 255; v++)
        {
            float dequantized = input.Scale * (v - input.ZeroPoint);
            float transformed = 1.0f / (1.0f + MathF.Exp(-dequantized));
            float rescaled = MathF.Round(transformed * inverseScale, MidpointRounding.AwayFromZero);
            int quantized = (int)(rescaled + output.ZeroPoint);
            _table[v] = (byte)Math.Clamp(quantized, 0, 255);
        }
    }

    public Quantization Input { get; }
    public Quantization Output { get; }

    /// <summary>The 256 output bytes, indexed by input byte.</summary>
    public ReadOnlySpan<byte> Table => _table;

    /// <summary>Applies the table element by element; <paramref name="output"/> may be <paramref name="input"/> itself.</summary>
    public void Run(ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (output.Length != input.Length)
            throw new ArgumentException($"output holds {output.Length} bytes, input {input.Length}", nameof(output));
        byte[] table = _table;
        for (int i = 0; i < input.Length; i++) output[i] = table[input[i]];
    }
}

/// <summary>
/// TFLite's uint8 <c>CONCATENATION</c> (<c>reference_ops::ConcatenationWithScaling</c>,
/// <c>tensorflow/lite/kernels/internal/reference/concatenation.h</c>): inputs whose scale and zero point equal the output's
/// are copied; the others are requantized element by element with
/// <c>q' = clamp(round(q · s + b) + outZeroPoint, 0, 255)</c>, <c>s = inScale · (1 / outScale)</c>, <c>b = −inZeroPoint · s</c>,
/// all in float, rounding half away from zero (<c>TfLiteRound</c>). In the SSD graph every input of both concatenations but
/// the first box input has its own quantization, so this is a real requantization, not a copy.
/// </summary>
/// <remarks>
/// The requantization of a byte depends only on the byte and the input's parameters, so each input's 256 results are
/// tabulated once at construction; <see cref="Run"/> is then one table read per element and allocates nothing.
/// </remarks>
public sealed class QuantizedConcatenation
{
    private readonly int[] _innerSizes;
    private readonly byte[]?[] _tables; // null entry: same quantization as the output, plain copy

    /// <param name="inputs">Each input's quantization, in concatenation order.</param>
    /// <param name="axisSizes">Each input's extent along the concatenation axis.</param>
    /// <param name="output">The output's quantization.</param>
    /// <param name="outerSize">Product of the dimensions before the axis (1 for the SSD's axis-1 concatenations of batch 1).</param>
    /// <param name="innerSize">Product of the dimensions after the axis (4 for boxes, 91 for classes).</param>
    public QuantizedConcatenation(IReadOnlyList<Quantization> inputs, IReadOnlyList<int> axisSizes, Quantization output, int outerSize, int innerSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(axisSizes);
        if (inputs.Count == 0) throw new ArgumentException("a concatenation needs at least one input", nameof(inputs));
        if (axisSizes.Count != inputs.Count)
            throw new ArgumentException($"{axisSizes.Count} axis sizes for {inputs.Count} inputs", nameof(axisSizes));
        if (outerSize < 1) throw new ArgumentOutOfRangeException(nameof(outerSize), outerSize, "outer size must be at least 1");
        if (innerSize < 1) throw new ArgumentOutOfRangeException(nameof(innerSize), innerSize, "inner size must be at least 1");
        Quantization.Require(output, nameof(output));
        OuterSize = outerSize;
        _innerSizes = new int[inputs.Count];
        _tables = new byte[inputs.Count][];
        long total = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            Quantization.Require(inputs[i], $"{nameof(inputs)}[{i}]");
            if (axisSizes[i] < 0) throw new ArgumentOutOfRangeException(nameof(axisSizes), axisSizes[i], $"input {i} has a negative axis size");
            _innerSizes[i] = checked(axisSizes[i] * innerSize);
            total += (long)_innerSizes[i] * outerSize;
            if (inputs[i] == output) continue;
            _tables[i] = RequantizationTable(inputs[i], output);
        }
        if (total > int.MaxValue) throw new ArgumentException("the concatenated tensor is larger than 2 GiB");
        OutputLength = (int)total;
        Output = output;
    }

    /// <summary>
    /// The 256 results of requantizing one input byte from <paramref name="input"/> to <paramref name="output"/> as
    /// ConcatenationWithScaling does (the identity when they are equal, where TFLite copies).
    /// </summary>
    public static byte[] RequantizationTable(Quantization input, Quantization output)
    {
        Quantization.Require(input, nameof(input));
        Quantization.Require(output, nameof(output));
        var table = new byte[256];
        if (input == output)
        {
            for (int q = 0; q <= 255; q++) table[q] = (byte)q;
            return table;
        }
        float inverseOutputScale = 1f / output.Scale;
        float scale = input.Scale * inverseOutputScale;
        float bias = -input.ZeroPoint * scale;
        for (int q = 0; q <= 255; q++)
        {
            int value = (int)MathF.Round(q * scale + bias, MidpointRounding.AwayFromZero) + output.ZeroPoint;
            table[q] = (byte)Math.Clamp(value, 0, 255);
        }
        return table;
    }

    public Quantization Output { get; }
    public int OuterSize { get; }
    public int InputCount => _innerSizes.Length;

    /// <summary>Bytes of input <paramref name="index"/> (outer size × its axis extent × inner size).</summary>
    public int InputLength(int index) => _innerSizes[index] * OuterSize;

    /// <summary>Bytes of the output.</summary>
    public int OutputLength { get; }

    /// <summary>True when input <paramref name="index"/> is requantized (its scale or zero point differs from the output's).</summary>
    public bool Requantizes(int index) => _tables[index] != null;

    /// <summary>Concatenates up to six inputs (the SSD's count) without allocating; pass inputs in order, unused ones empty.</summary>
    public void Run(ReadOnlySpan<byte> input0, ReadOnlySpan<byte> input1, ReadOnlySpan<byte> input2, ReadOnlySpan<byte> input3,
                    ReadOnlySpan<byte> input4, ReadOnlySpan<byte> input5, Span<byte> output)
    {
        if (InputCount > 6) throw new InvalidOperationException($"this concatenation has {InputCount} inputs; use the Run overload that takes an array");
        if (output.Length != OutputLength) throw new ArgumentException($"output holds {output.Length} bytes; the concatenation writes {OutputLength}", nameof(output));
        for (int i = 0; i < InputCount; i++)
        {
            ReadOnlySpan<byte> input = i switch { 0 => input0, 1 => input1, 2 => input2, 3 => input3, 4 => input4, _ => input5 };
            if (input.Length != InputLength(i)) throw new ArgumentException($"input {i} holds {input.Length} bytes; expected {InputLength(i)}");
        }
        for (int k = 0; k < OuterSize; k++)
        {
            int offset = k * (OutputLength / OuterSize);
            for (int i = 0; i < InputCount; i++)
            {
                ReadOnlySpan<byte> input = i switch { 0 => input0, 1 => input1, 2 => input2, 3 => input3, 4 => input4, _ => input5 };
                CopyOne(i, input.Slice(k * _innerSizes[i], _innerSizes[i]), output.Slice(offset, _innerSizes[i]));
                offset += _innerSizes[i];
            }
        }
    }

    /// <summary>Concatenates any number of inputs (allocation-free apart from the caller's array).</summary>
    public void Run(ReadOnlyMemory<byte>[] inputs, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != InputCount) throw new ArgumentException($"{inputs.Length} inputs given; the concatenation has {InputCount}", nameof(inputs));
        if (output.Length != OutputLength) throw new ArgumentException($"output holds {output.Length} bytes; the concatenation writes {OutputLength}", nameof(output));
        for (int i = 0; i < InputCount; i++)
            if (inputs[i].Length != InputLength(i)) throw new ArgumentException($"input {i} holds {inputs[i].Length} bytes; expected {InputLength(i)}", nameof(inputs));
        int offset = 0;
        for (int k = 0; k < OuterSize; k++)
        {
            for (int i = 0; i < InputCount; i++)
            {
                CopyOne(i, inputs[i].Span.Slice(k * _innerSizes[i], _innerSizes[i]), output.Slice(offset, _innerSizes[i]));
                offset += _innerSizes[i];
            }
        }
    }

    private void CopyOne(int index, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        byte[]? table = _tables[index];
        if (table == null)
        {
            source.CopyTo(destination);
            return;
        }
        for (int j = 0; j < source.Length; j++) destination[j] = table[source[j]];
    }
}
