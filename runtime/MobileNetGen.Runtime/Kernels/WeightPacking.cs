using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MobileNetGen.Model;

namespace MobileNetGen.Runtime.Kernels;

/// <summary>
/// Packing, done once per process when a generated classifier's weights are first used: each routine reads a canonical
/// tensor (HWIO layout, BatchNorm in inference form, see weights/README.md) and writes the layout its kernel reads, with
/// the BatchNorm scale folded in. The routines are named after the layout they write; the generator chooses one per layer
/// and writes the call with the tensors' offsets in the embedded file.
/// </summary>
/// <remarks>
/// Folding is one float multiply per weight, <c>w · scale[out]</c>, exactly as the build-time packing of earlier versions
/// did, so the packed bits and therefore the logits are unchanged.
/// </remarks>
public static unsafe class WeightPacking
{
    /// <summary>Stem kernel, HWIO <c>[3][3][3][Cout]</c> kept as is, BatchNorm scale folded per output channel (the innermost axis).</summary>
    public static void StemHwio(WeightTensor kernel, WeightTensor scale, int cout, float* destination) =>
        FoldedInPlace(kernel, scale, cout, destination);

    /// <summary>Depthwise kernel, HWIO <c>[3][3][C][1]</c> = tap-major <c>[9][C]</c>, BatchNorm scale folded per channel.</summary>
    public static void DepthwiseTapMajor(WeightTensor kernel, WeightTensor scale, int channels, float* destination) =>
        FoldedInPlace(kernel, scale, channels, destination);

    /// <summary>
    /// Pointwise kernel <c>[1][1][Cin][Cout]</c> → panels of <see cref="KernelContract.PanelWidth"/> output channels:
    /// <c>packed[(panel·Cin + ci)·16 + j] = W[ci, panel·16 + j] · scale[panel·16 + j]</c>.
    /// </summary>
    public static void PointwisePanels(WeightTensor kernel, WeightTensor scale, int cin, int cout, float* destination)
    {
        const int P = KernelContract.PanelWidth;
        if (cout % P != 0) throw new ArgumentException($"pointwise width {cout} is not a multiple of {P}", nameof(cout));
        if (kernel.Elements != (long)cin * cout) throw new ArgumentException($"pointwise kernel holds {kernel.Elements} values, not {cin}×{cout}", nameof(kernel));
        if (scale.Elements != cout) throw new ArgumentException($"BatchNorm scale holds {scale.Elements} values, not {cout}", nameof(scale));
        float* scales = stackalloc float[cout];
        scale.ReadFloats(scales);
        float* table = stackalloc float[256];
        float* row = stackalloc float[P];
        if (kernel.Bytes != null) kernel.DequantizationTable(table);
        int panels = cout / P;
        // Straight from the file into the panels: one pass, no intermediate copy.
        for (int ci = 0; ci < cin; ci++)
            for (int panel = 0; panel < panels; panel++)
            {
                long at = (long)ci * cout + panel * P;
                float* from = kernel.Floats + at;
                if (kernel.Bytes != null)
                {
                    for (int j = 0; j < P; j++) row[j] = table[kernel.Bytes[at + j]];
                    from = row;
                }
                MultiplyRow(from, scales + panel * P, destination + ((long)panel * cin + ci) * P, P);
            }
    }

    /// <summary>Logits kernel <c>[1][1][C][classes]</c>, kept as <c>[C][classes]</c> (no BatchNorm).</summary>
    public static void LogitsAsImported(WeightTensor kernel, float* destination) => kernel.ReadFloats(destination);

    /// <summary>A bias (BatchNorm shift, or the logits bias) as is.</summary>
    public static void Bias(WeightTensor bias, float* destination) => bias.ReadFloats(destination);

    /// <summary>The kernel's values with each multiplied by the scale of its output channel (innermost axis, <paramref name="channels"/> long).</summary>
    private static void FoldedInPlace(WeightTensor kernel, WeightTensor scale, int channels, float* destination)
    {
        if (scale.Elements != channels) throw new ArgumentException($"BatchNorm scale holds {scale.Elements} values, not {channels}", nameof(scale));
        if (kernel.Elements % channels != 0) throw new ArgumentException($"kernel of {kernel.Elements} values is not whole rows of {channels} channels", nameof(kernel));
        kernel.ReadFloats(destination);
        float* scales = stackalloc float[channels];
        scale.ReadFloats(scales);
        for (long row = 0; row < kernel.Elements; row += channels) MultiplyRow(destination + row, scales, destination + row, channels);
    }

    /// <summary><c>to[j] = from[j] · scale[j]</c>: one IEEE multiply per value, the same on every width (from and to may be the same).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyRow(float* from, float* scale, float* to, int count)
    {
        int j = 0;
        for (; j + Vector256<float>.Count <= count; j += Vector256<float>.Count)
            (Vector256.Load(from + j) * Vector256.Load(scale + j)).Store(to + j);
        for (; j < count; j++) to[j] = from[j] * scale[j];
    }
}
