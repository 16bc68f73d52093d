namespace MobileNetGen.Runtime;

/// <summary>
/// One step of a generated network's schedule, as the generator planned it: a layer, or a fused pair of layers.
/// </summary>
/// <param name="Name">The layer's TF-slim name (a fused pair: both names joined by " + ").</param>
/// <param name="Kind">What it computes, e.g. "pointwise 1×1", "depthwise 3×3/2".</param>
/// <param name="Shape">Input and output extents, e.g. "112x112x32 -> 112x112x64".</param>
/// <param name="Macs">Multiply-accumulates of one inference through the step.</param>
/// <param name="BytesMoved">Bytes the step must read and write at the least: its input and output activations and its packed
/// weights (a fused pair's band stays in cache and is not counted).</param>
public sealed record NetworkStep(string Name, string Kind, string Shape, long Macs, long BytesMoved);

/// <summary>A step's measured time over the profiled inferences.</summary>
public sealed record StepTiming(NetworkStep Step, double MedianMs, double P10Ms, double P90Ms);

/// <summary>Per-step times of one network on one instance (<see cref="MobileNetClassifier.Profile"/>).</summary>
/// <param name="TotalMedianMs">Median of whole inferences (the steps' medians need not add up to it exactly).</param>
public sealed record NetworkProfile(IReadOnlyList<StepTiming> Steps, double TotalMedianMs, int Threads, SimdPath Path, int Iterations);
