using MobileNetGen.Runtime.Detection;

namespace MobileNetGen.Tests.ObjectDetection.Reference;

/// <summary>
/// Plain transcriptions of the three TFLite uint8 kernels between the SSD's predictor convolutions and its post-processing,
/// element by element, with no tables or shortcuts: the oracles for <see cref="QuantizedLogistic"/> and
/// <see cref="QuantizedConcatenation"/>.
/// </summary>
internal static class TfliteQuantizedOpsReference
{
    /// <summary>
    /// LOGISTIC, uint8, default kernel: <c>tensorflow/lite/kernels/activations.cc</c>, <c>Register_LOGISTIC()</c> →
    /// <c>Register_LOGISTIC_GENERIC_OPT()</c>; <c>SigmoidPrepare&lt;kGenericOptimized&gt;</c> fills the table with
    /// <c>PopulateLookupTable&lt;uint8_t&gt;(data, input, output, [](float value) { return 1.0f / (1.0f + std::exp(-value)); })</c>
    /// and <c>SigmoidEval</c> reads it (<c>EvalUsingLookupTable</c>). Computed here for one element, as the table entry.
    /// </summary>
    public static byte Logistic(byte val, Quantization input, Quantization output)
    {
        // PopulateLookupTable<uint8_t>:
        float inverseScale = 1 / output.Scale;                                   // const float inverse_scale = 1 / output->params.scale;
        int maxval = byte.MaxValue, minval = byte.MinValue;
        float dequantized = input.Scale * (val - input.ZeroPoint);               // input->params.scale * (val - input->params.zero_point)
        float transformed = 1.0f / (1.0f + MathF.Exp(-dequantized));             // transform(dequantized); std::exp(float) is expf
        float rescaled = MathF.Round(transformed * inverseScale, MidpointRounding.AwayFromZero); // std::round
        int quantized = (int)(rescaled + output.ZeroPoint);                      // static_cast<int32_t>(rescaled + zero_point)
        return (byte)Math.Max(Math.Min(maxval, quantized), minval);
    }

    /// <summary>
    /// CONCATENATION, uint8: <c>reference_ops::ConcatenationWithScaling</c>
    /// (<c>tensorflow/lite/kernels/internal/reference/concatenation.h</c>). Inputs with the output's scale and zero point are
    /// copied (<c>memcpy</c>); others: <c>scale = input_scale[i] * inverse_output_scale</c>,
    /// <c>bias = -input_zeropoint[i] * scale</c>, <c>value = (int32)TfLiteRound(input_ptr[j] * scale + bias) + output_zeropoint</c>,
    /// clamped to 0..255. <c>TfLiteRound</c> is <c>std::round</c> (half away from zero). The float expression is evaluated as
    /// written (a multiply, then an add: no fused multiply-add in an x86-64 build without <c>-mfma</c>).
    /// </summary>
    public static byte[] Concatenation(IReadOnlyList<byte[]> inputs, IReadOnlyList<Quantization> inputQ, IReadOnlyList<int> axisSizes,
                                       Quantization output, int outerSize, int baseInnerSize)
    {
        int total = 0;
        for (int i = 0; i < inputs.Count; i++) total += axisSizes[i] * baseInnerSize * outerSize;
        var outputData = new byte[total];
        float inverseOutputScale = 1.0f / output.Scale;
        int outputPtr = 0;
        for (int k = 0; k < outerSize; k++)
        {
            for (int i = 0; i < inputs.Count; ++i)
            {
                int copySize = axisSizes[i] * baseInnerSize;
                int inputPtr = k * copySize;
                if (inputQ[i].ZeroPoint == output.ZeroPoint && inputQ[i].Scale == output.Scale)
                {
                    Array.Copy(inputs[i], inputPtr, outputData, outputPtr, copySize);
                }
                else
                {
                    float scale = inputQ[i].Scale * inverseOutputScale;
                    float bias = -inputQ[i].ZeroPoint * scale;
                    for (int j = 0; j < copySize; ++j)
                    {
                        int value = (int)MathF.Round(inputs[i][inputPtr + j] * scale + bias, MidpointRounding.AwayFromZero) + output.ZeroPoint;
                        outputData[outputPtr + j] = (byte)Math.Max(Math.Min(255, value), 0);
                    }
                }
                outputPtr += copySize;
            }
        }
        return outputData;
    }

    /// <summary>
    /// RESHAPE: <c>tensorflow/lite/kernels/reshape.cc</c> only changes the shape; the bytes are copied unchanged (the output
    /// tensor carries the input's quantization in the converted model, see docs/ssd-graph.md). NHWC
    /// <c>[1, H, W, A·4]</c> → <c>[1, H·W·A, 1, 4]</c> keeps the memory order, so a predictor's output buffer is already the
    /// concatenation's input.
    /// </summary>
    public static byte[] Reshape(byte[] input) => (byte[])input.Clone();
}
