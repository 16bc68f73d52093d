namespace MobileNetGen.Runtime;

/// <summary>Which SIMD width the kernels use. <see cref="Auto"/> takes the widest the CPU accelerates
/// (Vector512 → Vector256 → Vector128 → scalar); the others force a path (tests, ARM64 checks).</summary>
public enum SimdPath { Auto, Vector512, Vector256, Vector128, Scalar }

public sealed class MobileNetOptions
{
    public SimdPath Simd { get; init; } = SimdPath.Auto;

    /// <summary>Threads one inference is split across, 1 to <see cref="Kernels.LayerRunner.MaxThreads"/>; 0 (the default)
    /// takes the class's default (MSBuild <c>MobileNetThreads</c>, else 1). The instance starts <c>Threads − 1</c>
    /// persistent workers; results are bit-identical for any count.</summary>
    public int Threads { get; init; }

    /// <summary>With <see cref="Threads"/> above 1 (default true): time the inferences, and run one on the calling thread
    /// alone when that has lately been the faster: a virtual machine whose host takes the other vCPUs, or a machine busy
    /// with other work. The split is tried again now and then and comes back when it wins. The results are bit-identical
    /// either way. false: always split.</summary>
    public bool AdaptiveThreads { get; init; } = true;

    /// <summary>How images are scaled to the input size: TF-slim's TF1 bilinear (default) or antialiased (Pillow-like).</summary>
    public Imaging.ResizeMethod Resize { get; init; } = Imaging.ResizeMethod.TensorFlowBilinear;
}
