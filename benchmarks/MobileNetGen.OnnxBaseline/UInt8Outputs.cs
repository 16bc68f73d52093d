using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MobileNetGen.OnnxBaseline;

/// <summary>Output binding shared by the uint8 baselines: every further uint8 output a model declares, in a pinned buffer.</summary>
internal static class UInt8Outputs
{
    /// <summary>
    /// Each uint8 output of <paramref name="session"/> with a static shape and not in <paramref name="bound"/>, in model order: a
    /// pinned buffer of its size, appended to <paramref name="values"/> (wrapped once) and <paramref name="names"/>. Returns the buffers by name.
    /// </summary>
    public static List<(string Name, byte[] Buffer)> BindOthers(InferenceSession session, IReadOnlyCollection<string> bound, List<OrtValue> values, List<string> names)
    {
        var extra = new List<(string, byte[])>();
        foreach (var (name, meta) in session.OutputMetadata)
        {
            if (bound.Contains(name) || meta.ElementDataType != TensorElementType.UInt8) continue;
            long[] dims = Array.ConvertAll(meta.Dimensions, d => (long)d);
            if (dims.Any(d => d <= 0)) continue;
            var buffer = GC.AllocateArray<byte>(checked((int)dims.Aggregate(1L, (a, b) => a * b)), pinned: true);
            extra.Add((name, buffer));
            values.Add(OrtValue.CreateTensorValueFromMemory(buffer, dims));
            names.Add(name);
        }
        return extra;
    }
}
