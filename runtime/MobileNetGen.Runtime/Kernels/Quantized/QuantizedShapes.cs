namespace MobileNetGen.Runtime.Kernels.Quantized;

/// <summary>
/// A uint8 layer's quantization as compile-time constants (TFLite's op parameters): the generator emits one readonly
/// struct per layer and every kernel is compiled once per struct, so zero points, the multiplier, the shift and the clamp
/// bounds are immediates and the shift-dependent branches of the requantization fold away.
/// </summary>
public interface IQuantizedLayer
{
    /// <summary>The input tensor's zero point (TFLite's <c>-input_offset</c>), 0..255.</summary>
    static abstract int InputZeroPoint { get; }
    /// <summary>The weight tensor's zero point (TFLite's <c>-weights_offset</c>), 0..255.</summary>
    static abstract int WeightZeroPoint { get; }
    /// <summary>The output tensor's zero point (TFLite's <c>output_offset</c>), 0..255.</summary>
    static abstract int OutputZeroPoint { get; }
    /// <summary>The Q0.31 output multiplier from <c>QuantizationMath.QuantizeMultiplier</c> (0 or in [2^30, 2^31)).</summary>
    static abstract int Multiplier { get; }
    /// <summary>The multiplier's exponent, TFLite's convention: &gt; 0 is a left shift, &lt; 0 a right shift (−31..30).</summary>
    static abstract int Shift { get; }
    /// <summary>The clamp range of the uint8 output (<c>CalculateActivationRangeUint8</c>), 0 ≤ min ≤ max ≤ 255.</summary>
    static abstract int ActivationMin { get; }
    static abstract int ActivationMax { get; }
}

/// <summary>The stem: 3×3 convolution of the [InH][InW][3] image to [OutH][OutW][Cout], TensorFlow SAME padding.</summary>
public interface IQStemShape : IQuantizedLayer
{
    static abstract int InH { get; }
    static abstract int InW { get; }
    static abstract int OutH { get; }
    static abstract int OutW { get; }
    static abstract int Cout { get; }
    static abstract int Stride { get; }
    /// <summary>SAME padding above the first row (0 or 1; the rest falls below the last).</summary>
    static abstract int PadTop { get; }
    /// <summary>SAME padding left of the first column (0 or 1; the rest falls right of the last).</summary>
    static abstract int PadLeft { get; }
}

/// <summary>A depthwise 3×3 layer (depth multiplier 1), TensorFlow SAME padding.</summary>
public interface IQDepthwiseShape : IQuantizedLayer
{
    static abstract int InH { get; }
    static abstract int InW { get; }
    static abstract int Channels { get; }
    static abstract int OutH { get; }
    static abstract int OutW { get; }
    static abstract int Stride { get; }
    static abstract int PadTop { get; }
    static abstract int PadLeft { get; }
}

/// <summary>A pointwise (1×1) layer; the pixel count is a runtime argument (threads split by pixels or panels).</summary>
public interface IQPointwiseShape : IQuantizedLayer
{
    /// <summary>Input channels, a multiple of 4 (every MobileNet v1 width is a multiple of 8).</summary>
    static abstract int Cin { get; }
    /// <summary>Output channels, a multiple of <see cref="MobileNetGen.Model.KernelContract.PanelWidth"/>.</summary>
    static abstract int Cout { get; }
}

/// <summary>The logits: a 1×1 convolution of the pooled 1×1×Channels features to Classes outputs (1001: any count).</summary>
public interface IQLogitsShape : IQuantizedLayer
{
    /// <summary>Feature channels, a multiple of 4.</summary>
    static abstract int Channels { get; }
    static abstract int Classes { get; }
}

/// <summary>
/// The global average pool: [Pixels][Channels] → [Channels]. TFLite's uint8 AVERAGE_POOL_2D does not requantize (input and
/// output quantization are equal, which the weights validation checks) but does clamp to the fused activation's range.
/// </summary>
public interface IQPoolShape
{
    static abstract int Pixels { get; }
    static abstract int Channels { get; }
    static abstract int ActivationMin { get; }
    static abstract int ActivationMax { get; }
}
