using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using MobileNetGen.Fuzzing;
using MobileNetGen.Importers.Exporters;
using MobileNetGen.Model;
using MobileNetGen.OnnxBaseline;
using MobileNetGen.Tests.Generated;
using MobileNetGen.Tests.Reference.Tflite;
using Xunit;
using Xunit.Abstractions;

namespace MobileNetGen.Tests.Quantized;

/// <summary>
/// The uint8 ONNX peer (<see cref="QuantizedOnnxExporter"/> run by <see cref="QuantizedOnnxBaseline"/>) against the TFLite
/// reference transcription. ONNX Runtime requantizes in float (and its average pool rounds its own way), TFLite in fixed
/// point, so single outputs may differ by one unit: each layer is compared on the same input (ORT's own previous output)
/// and must agree within ±1, and the differences are counted and reported per layer, end to end as well.
/// </summary>
public class QuantizedOnnxTests(ITestOutputHelper output)
{
    private static readonly string[] Photos = { "grace_hopper.bmp", "parrot.jpg", "burger.jpg" };

    /// <summary>NCHW [1,C,H,W] (ONNX) → NHWC [1,H,W,C] (TFLite, canonical).</summary>
    private static byte[] ToNhwc(ReadOnlySpan<byte> nchw, int c, int h, int w)
    {
        var nhwc = new byte[nchw.Length];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    nhwc[(y * w + x) * c + ch] = nchw[(ch * h + y) * w + x];
        return nhwc;
    }

    private static (int Differ, int MaxDiff) Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.Equal(a.Length, b.Length);
        int differ = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            if (d != 0) differ++;
            max = Math.Max(max, d);
        }
        return (differ, max);
    }

    /// <summary>One ORT run against the reference, layer by layer; returns the end-to-end logits comparison.</summary>
    private (int Differ, int MaxDiff) CompareRun(string label, ReferenceQuantizedMobileNet reference, QuantizedOnnxBaseline ort, byte[] input, bool report)
    {
        var logits = new byte[ort.NumClasses];
        ort.Run(input, logits);
        var chain = reference.Forward(input);
        byte[] ortPrevious = input;
        foreach (var step in reference.Steps)
        {
            byte[] ortOut = step.Name switch
            {
                "pool" => ort.Embeddings.ToArray(),
                "logits" => logits,
                _ => ToNhwc(ort.LayerOutput(step.Name), step.OutputChannels, step.OutputHeight, step.OutputWidth),
            };
            // The layer alone: the reference kernel on ORT's own input to this layer, so that earlier differences do not count here.
            var local = Compare(reference.RunStep(step, ortPrevious), ortOut);
            var endToEnd = Compare(chain.Output(step.Name), ortOut);
            // TFLite rounds twice (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT by −shift), ORT once (in float):
            // the two differ by one in about 2^−(1−shift) of the outputs (25 % for shift −1), so the shift is shown beside the counts.
            if (report)
                output.WriteLine($"{label} {step.Name,-18} {ortOut.Length,7} outputs: {local.Differ,6} differ by ≤ {local.MaxDiff} on the same input " +
                                 $"({100.0 * local.Differ / ortOut.Length:F2} %, multiplier {step.RealMultiplier:G4} shift {step.OutputShift}); " +
                                 $"end to end {endToEnd.Differ,6} differ, max {endToEnd.MaxDiff}");
            Assert.True(local.MaxDiff <= 1, $"{label} {step.Name}: ONNX Runtime and the TFLite reference differ by {local.MaxDiff} on the same input (allowed: 1)");
            ortPrevious = ortOut;
        }
        return Compare(chain.Logits, logits);
    }

    [SharedDataTheory]
    [MemberData(nameof(QuantizedEntries.Names), MemberType = typeof(QuantizedEntries))]
    public void Onnx_Runtime_integer_kernels_agree_with_the_reference_within_one_unit(string entry)
    {
        var weights = QuantizedEntries.Weights(entry);
        var reference = QuantizedEntries.Reference(entry);
        using var ort = QuantizedOnnxBaseline.FromWeights(weights, threads: 1, new QuantizedOnnxExportOptions { LayerOutputs = true });
        Assert.Equal(reference.Resolution, ort.Resolution);
        Assert.Equal(27, ort.LayerNames.Count);
        foreach (string photo in Photos)
        {
            var input = QuantizedEntries.QuantizedInput(reference, QuantizedEntries.Images("demo/" + photo));
            var (differ, max) = CompareRun($"{entry} {photo}", reference, ort, input, report: photo == Photos[0]);
            int refTop = ReferenceQuantizedMobileNet.TopK(reference.Forward(input).Logits, 1)[0];
            int ortTop = ReferenceQuantizedMobileNet.TopK(ort.Logits, 1)[0];
            output.WriteLine($"{entry} {photo}: uint8 logits differ in {differ} of {ort.NumClasses} (max {max}); top-1 reference {refTop}, ORT {ortTop}");
        }
    }

    [SharedDataFact]
    public void Onnx_Runtime_executes_integer_kernels()
    {
        // ORT's profiler names the kernel of every node it ran: only QLinear* (plus layout/shape ops), no float Conv and no
        // DequantizeLinear/QuantizeLinear pair standing in for an integer op.
        var weights = QuantizedEntries.Weights("mobilenet_v1_0.25_128_quant");
        string prefix = Path.Combine(Path.GetTempPath(), "mng-ort-profile-" + Guid.NewGuid().ToString("N"));
        using var options = OnnxBaseline.OnnxBaseline.CreateSessionOptions(1);
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = prefix;
        string trace;
        using (var ort = new QuantizedOnnxBaseline(QuantizedOnnxExporter.Export(weights), options, 1))
        {
            var input = new byte[ort.InputLength];
            new Random(5).NextBytes(input);
            ort.Run(input, new byte[ort.NumClasses]);
            trace = ort.EndProfiling();
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(trace));
            var ops = new SortedDictionary<string, int>(StringComparer.Ordinal);
            foreach (var ev in doc.RootElement.EnumerateArray())
            {
                if (ev.GetProperty("cat").GetString() != "Node" || !ev.TryGetProperty("args", out var args) || !args.TryGetProperty("op_name", out var op)) continue;
                if (!ev.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string name = op.GetString()!;
                ops[name] = ops.GetValueOrDefault(name) + 1;
                string provider = args.TryGetProperty("provider", out var p) ? p.GetString()! : "?";
                Assert.Equal("CPUExecutionProvider", provider);
            }
            output.WriteLine("ORT kernels run: " + string.Join(", ", ops.Select(kv => $"{kv.Key} × {kv.Value}")));
            Assert.Contains(ops.Keys, k => k.Contains("QLinearConv", StringComparison.Ordinal));
            Assert.Contains(ops.Keys, k => k.Contains("QLinearGlobalAveragePool", StringComparison.Ordinal));
            Assert.Equal(28, ops.Where(kv => kv.Key.Contains("QLinearConv", StringComparison.Ordinal)).Sum(kv => kv.Value));
            string[] allowed = { "QLinearConv", "NhwcQLinearConv", "QLinearGlobalAveragePool", "Transpose", "Flatten", "Reshape", "Identity", "Clip" };
            Assert.All(ops.Keys, k => Assert.Contains(k, allowed));
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public void A_narrow_relu6_range_is_exported_as_a_uint8_clip_and_matches_the_reference()
    {
        // The seed network with activations at scale 0.05 (range [0, 12.75]): ReLU6 clamps at quantize(6) = 120, below 255,
        // so the exporter must add a uint8 Clip after each such layer (Google's models never need it: their scale is 6/255).
        var file = SafeTensorsFile.Read(FuzzSeeds.WeightsQuantized(activationScale: 0.05f));
        Assert.Empty(CanonicalWeights.ValidateQuantized(file, CanonicalWeights.ArchitectureOf(file)));
        var reference = new ReferenceQuantizedMobileNet(file);
        Assert.All(reference.Steps.Where(s => s.Name != "logits" && s.Name != "pool"), s => Assert.Equal(120, s.ActivationMax));
        using var ort = QuantizedOnnxBaseline.FromWeights(file, 1, new QuantizedOnnxExportOptions { LayerOutputs = true });
        var rng = new Random(7);
        for (int i = 0; i < 5; i++)
        {
            var input = new byte[ort.InputLength];
            rng.NextBytes(input);
            CompareRun($"seed {i}", reference, ort, input, report: i == 0);
            byte[] conv0 = ort.LayerOutput("conv0").ToArray();
            Assert.True(conv0.Max() <= 120, "the uint8 Clip did not clamp conv0 at quantize(6) = 120");
            Assert.Contains((byte)120, conv0);
        }
    }

    [SharedDataFact]
    public void A_run_allocates_almost_nothing()
    {
        using var ort = QuantizedOnnxBaseline.FromWeights(QuantizedEntries.Weights("mobilenet_v1_0.25_128_quant"), 1);
        var input = new byte[ort.InputLength];
        var logits = new byte[ort.NumClasses];
        for (int i = 0; i < 3; i++) ort.Run(input, logits);
        const int runs = 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++) ort.Run(input, logits);
        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / runs;
        output.WriteLine($"managed allocation per uint8 ORT run: {perRun} bytes");
        Assert.True(perRun <= 2048, $"a uint8 ORT run allocates {perRun} bytes on the managed heap");
        Assert.Equal(256, ort.FeatureSize);
    }

    [Fact]
    public void Export_is_deterministic_and_refuses_float_weights()
    {
        var file = SafeTensorsFile.Read(FuzzSeeds.WeightsQuantized());
        Assert.Equal(QuantizedOnnxExporter.Export(file), QuantizedOnnxExporter.Export(file));
        var floats = SafeTensorsFile.Read(FuzzSeeds.Weights(quantized: false));
        Assert.Throws<WeightsFormatException>(() => QuantizedOnnxExporter.Export(floats));
        Assert.Throws<WeightsFormatException>(() => OnnxExporter.Export(file));
    }
}
