using System.Runtime.CompilerServices;

namespace MobileNetGen.Tests.Reference.Tflite;

// A transcription of the parts of tensorflow/lite/kernels/internal/types.h the uint8 reference kernels use: a 4-D
// RuntimeShape, Offset(), MatchingDim(), and the op parameter structs (ConvParams, DepthwiseParams, PoolParams). Only what
// MobileNet v1 needs; names follow TFLite so that each kernel reads like its C++ source.

/// <summary>types.h <c>RuntimeShape</c>, rank 4 (NHWC for activations, OHWI / 1HWC for filters).</summary>
internal readonly struct RuntimeShape
{
    private readonly int _d0, _d1, _d2, _d3;

    public RuntimeShape(int d0, int d1, int d2, int d3)
    {
        if (d0 < 0 || d1 < 0 || d2 < 0 || d3 < 0) throw new ArgumentOutOfRangeException(nameof(d0), "dimensions must be non-negative");
        _d0 = d0; _d1 = d1; _d2 = d2; _d3 = d3;
    }

    public int DimensionsCount => 4;

    public int D1 => _d1;
    public int D2 => _d2;
    public int D3 => _d3;

    public int Dims(int i) => i switch
    {
        0 => _d0,
        1 => _d1,
        2 => _d2,
        3 => _d3,
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    public int FlatSize => _d0 * _d1 * _d2 * _d3;

    public override string ToString() => $"[{_d0},{_d1},{_d2},{_d3}]";
}

internal static class TfliteTypes
{
    /// <summary>
    /// types.h <c>Offset(shape, i0, i1, i2, i3)</c>: ((i0·d1 + i1)·d2 + i2)·d3 + i3. TFLite's per-index TFLITE_DCHECKs are
    /// debug-only there and left out here too (the span indexing that uses the offset is bounds-checked anyway).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Offset(in RuntimeShape shape, int i0, int i1, int i2, int i3) =>
        ((i0 * shape.D1 + i1) * shape.D2 + i2) * shape.D3 + i3;

    /// <summary>types.h <c>MatchingDim</c>: the dimension both shapes share (TFLITE_DCHECK_EQ → a check).</summary>
    public static int MatchingDim(in RuntimeShape a, int ia, in RuntimeShape b, int ib)
    {
        if (a.Dims(ia) != b.Dims(ib)) throw new ArgumentException($"dimension {ia} of {a} does not match dimension {ib} of {b}");
        return a.Dims(ia);
    }
}

/// <summary>types.h <c>PaddingValues</c> (the offsets are unused by the reference kernels).</summary>
internal readonly record struct PaddingValues(int Width, int Height);

/// <summary>types.h <c>ConvParams</c>, the fields the uint8 reference Conv reads.</summary>
internal sealed record ConvParams
{
    public required PaddingValues padding_values { get; init; }
    public required int stride_width { get; init; }
    public required int stride_height { get; init; }
    public int dilation_width_factor { get; init; } = 1;
    public int dilation_height_factor { get; init; } = 1;
    public required int input_offset { get; init; }
    public required int weights_offset { get; init; }
    public required int output_offset { get; init; }
    public required int output_multiplier { get; init; }
    public required int output_shift { get; init; }
    public required int quantized_activation_min { get; init; }
    public required int quantized_activation_max { get; init; }
}

/// <summary>types.h <c>DepthwiseParams</c>, the fields the uint8 reference DepthwiseConv reads.</summary>
internal sealed record DepthwiseParams
{
    public required PaddingValues padding_values { get; init; }
    public required int stride_width { get; init; }
    public required int stride_height { get; init; }
    public int dilation_width_factor { get; init; } = 1;
    public int dilation_height_factor { get; init; } = 1;
    public required int depth_multiplier { get; init; }
    public required int input_offset { get; init; }
    public required int weights_offset { get; init; }
    public required int output_offset { get; init; }
    public required int output_multiplier { get; init; }
    public required int output_shift { get; init; }
    public required int quantized_activation_min { get; init; }
    public required int quantized_activation_max { get; init; }
}

/// <summary>types.h <c>PoolParams</c>, the fields the uint8 reference AveragePool reads.</summary>
internal sealed record PoolParams
{
    public required PaddingValues padding_values { get; init; }
    public required int stride_height { get; init; }
    public required int stride_width { get; init; }
    public required int filter_height { get; init; }
    public required int filter_width { get; init; }
    public required int quantized_activation_min { get; init; }
    public required int quantized_activation_max { get; init; }
}
