using System.Runtime.InteropServices;
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
        float* folded = (float*)NativeMemory.Alloc((nuint)(kernel.Elements * sizeof(float)));
        try
        {
            FoldedInPlace(kernel, scale, cout, folded);
            int panels = cout / P;
            for (int panel = 0; panel < panels; panel++)
                for (int ci = 0; ci < cin; ci++)
                {
                    float* from = folded + (long)ci * cout + panel * P;
                    float* to = destination + ((long)panel * cin + ci) * P;
                    for (int j = 0; j < P; j++) to[j] = from[j];
                }
        }
        finally { NativeMemory.Free(folded); }
    }

    /// <summary>Logits kernel <c>[1][1][C][classes]</c>, kept as <c>[C][classes]</c> (no BatchNorm).</summary>
    public static void LogitsAsImported(WeightTensor kernel, float* destination) => kernel.ReadFloats(destination);

    /// <summary>A bias (BatchNorm shift, or the logits bias) as is.</summary>
    public static void Bias(WeightTensor bias, float* destination) => bias.ReadFloats(destination);

    /// <summary>The kernel's values with each multiplied by the scale of its output channel (innermost axis, <paramref name="channels"/> long).</summary>
    private static void FoldedInPlace(WeightTensor kernel, WeightTensor scale, int channels, float* destination)
    {
        if (scale.Elements != channels) throw new ArgumentException($"BatchNorm scale holds {scale.Elements} values, not {channels}", nameof(scale));
        kernel.ReadFloats(destination);
        float[] scales = new float[channels];
        fixed (float* ps = scales)
        {
            scale.ReadFloats(ps);
            for (long i = 0; i < kernel.Elements; i++) destination[i] *= ps[i % channels];
        }
    }
}
