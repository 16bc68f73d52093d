using System.Text.Json;
using MobileNetGen.Measurement;
using MobileNetGen.Tests.Cli;
using Xunit;

namespace MobileNetGen.Tests.Bench;

/// <summary><c>bench</c> in-process and the shared <see cref="LatencyMeter"/>. Timings are never asserted.</summary>
public class BenchCommandTests
{
    [Fact]
    public void Json_has_one_row_per_engine_with_every_key()
    {
        var r = CliRunner.Run("bench", "--variants", "0.25_128", "--iterations", "3", "--warmup", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("warning:", r.Stderr); // ORT runs the same weights: logits agree

        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(new[] { "mobilenetgen", "onnxruntime" }, rows.Select(x => x.GetProperty("engine").GetString()).ToArray());
        foreach (var row in rows)
        {
            foreach (var key in new[] { "variant", "engine", "threads", "median_ms", "p10_ms", "p90_ms", "allocated_bytes", "macs", "weights",
                                        "gflops", "percent_of_peak", "fma_peak_gflops", "fma_peak_simd", "cpu" })
                Assert.True(row.TryGetProperty(key, out _), $"row lacks '{key}': {row}");
            // GFLOP/s and % of peak follow from the row's own numbers (timings themselves are not asserted).
            double gflops = row.GetProperty("gflops").GetDouble(), peak = row.GetProperty("fma_peak_gflops").GetDouble();
            Assert.True(peak > 0, "no FMA peak measured");
            Assert.Equal(2.0 * row.GetProperty("macs").GetInt64() / (row.GetProperty("median_ms").GetDouble() / 1e3) / 1e9, gflops, 0.05 * gflops + 0.01);
            Assert.Equal(100 * gflops / peak, row.GetProperty("percent_of_peak").GetDouble(), 0.5 + 0.01 * gflops);
            Assert.Equal("0.25_128", row.GetProperty("variant").GetString());
            Assert.Equal("genuine-float", row.GetProperty("weights").GetString());
            Assert.Equal(1, row.GetProperty("threads").GetInt32());
            Assert.True(row.GetProperty("median_ms").GetDouble() > 0);
            Assert.True(row.GetProperty("macs").GetInt64() > 0);
        }
        Assert.Equal(0, rows[0].GetProperty("allocated_bytes").GetInt64()); // the generated classifier allocates nothing per run
    }

    [Fact]
    public void Detector_bench_reports_one_and_two_threads_with_the_stages_and_no_allocation()
    {
        var r = CliRunner.Run("bench", "--detector", "--iterations", "3", "--warmup", "1", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(new[] { 1, 2 }, rows.Select(x => x.GetProperty("threads").GetInt32()).ToArray());
        foreach (var row in rows)
        {
            Assert.Equal("ssd_mobilenet_v1_0.75_300_coco_quant", row.GetProperty("detector").GetString());
            Assert.Equal(0, row.GetProperty("allocated_bytes").GetInt64()); // DetectRgb24 allocates nothing per call
            foreach (var stage in new[] { "resize_ms", "backbone_ms", "heads_ms", "postprocessing_ms", "median_ms", "onnx_runtime_median_ms" })
                Assert.True(row.GetProperty(stage).GetDouble() > 0, $"{stage} missing or zero: {row}");
            // ORT requantizes in float: some output bytes differ, a few percent at most (DetectorOnnxTests bounds them per tensor).
            int differing = row.GetProperty("onnx_runtime_bytes_differing").GetInt32();
            Assert.InRange(differing, 0, (1917 * 95) / 10);
            Assert.Equal(728_036_496, row.GetProperty("macs").GetInt64());
        }

        var table = CliRunner.Run("bench", "--detector", "--iterations", "2", "--warmup", "0", "--no-onnx", "--threads", "3");
        Assert.True(table.ExitCode == 0, table.ToString());
        foreach (var word in new[] { "backbone", "heads", "post-processing", "resize", "alloc B/inf." }) Assert.Contains(word, table.Stdout);
        Assert.DoesNotContain("ONNX Runtime ms", table.Stdout);
    }

    [Fact]
    public void Fma_peak_is_positive_at_the_widest_accelerated_path()
    {
        var peak = FmaPeak.Measure(milliseconds: 50);
        Assert.Equal(MobileNetGen.Runtime.MobileNetClassifier.ResolveSimdPath(MobileNetGen.Runtime.SimdPath.Auto), peak.Path);
        Assert.True(peak.GflopsPerCore > 0.1, $"peak {peak.GflopsPerCore} GFLOP/s");
    }

    [Fact]
    public void Integer_peak_is_positive_for_the_resolved_isa_and_refuses_an_emulated_one()
    {
        var isa = MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels.Resolve(MobileNetGen.Runtime.SimdPath.Auto);
        var peak = IntegerPeak.Measure(milliseconds: 50);
        Assert.Equal(isa, peak.Isa);
        Assert.True(peak.GopsPerCore > 0.1, $"peak {peak.GopsPerCore} GOP/s");
        Assert.False(string.IsNullOrEmpty(peak.Instructions));
        Assert.True(IntegerPeak.Measure(MobileNetGen.Runtime.Kernels.Quantized.QuantizedIsa.Scalar, milliseconds: 20).GopsPerCore > 0);
        // A dot-product ISA this CPU only emulates (the tests run its structure) has no hardware peak.
        foreach (var emulated in new[] { MobileNetGen.Runtime.Kernels.Quantized.QuantizedIsa.Vector128Dot, MobileNetGen.Runtime.Kernels.Quantized.QuantizedIsa.Vector256Vnni })
            if (MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels.IsSupported(emulated) && !MobileNetGen.Runtime.Kernels.Quantized.QuantizedKernels.IsNative(emulated))
                Assert.Throws<ArgumentException>(() => IntegerPeak.Measure(emulated, milliseconds: 20));
    }

    [Fact]
    public void Uint8_rows_carry_the_integer_peak_and_their_share_of_it()
    {
        var r = CliRunner.Run("bench", "--variants", "0.25_128_quant", "--iterations", "2", "--warmup", "0", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToDictionary(x => x.GetProperty("engine").GetString()!);
        var ours = rows["mobilenetgen"];
        double peak = ours.GetProperty("integer_peak_gops").GetDouble(), gops = ours.GetProperty("gflops").GetDouble();
        Assert.True(peak > 0);
        Assert.Equal(100 * gops / peak, ours.GetProperty("percent_of_integer_peak").GetDouble(), 0.5 + 0.01 * gops);
        Assert.Equal(JsonValueKind.Null, ours.GetProperty("percent_of_peak").ValueKind); // no FMA peak applies to integer work
        Assert.False(string.IsNullOrEmpty(ours.GetProperty("integer_peak_instructions").GetString()));
        // ONNX Runtime runs other instructions (its own kernels): the peak is shown, no share of it; the float row has none either.
        Assert.Equal(JsonValueKind.Null, rows["onnxruntime"].GetProperty("percent_of_integer_peak").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows["mobilenetgen-float"].GetProperty("percent_of_integer_peak").ValueKind);

        var table = CliRunner.Run("bench", "--variants", "0.25_128_quant", "--iterations", "2", "--warmup", "0", "--no-onnx");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("integer MAC peak:", table.Stdout);
        Assert.Contains("% of int", table.Stdout);
        Assert.Contains("FMA peak / integer MAC peak = ", table.Stdout);

        var profile = CliRunner.Run("profile", "--variant", "0.25_128_quant", "--iterations", "2", "--warmup", "1", "--json");
        Assert.True(profile.ExitCode == 0, profile.ToString());
        using var p = JsonDocument.Parse(profile.Stdout);
        Assert.True(p.RootElement.GetProperty("integer_peak_gops").GetDouble() > 0);
        var steps = p.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.All(steps, s => Assert.Equal(JsonValueKind.Number, s.GetProperty("percent_of_peak").ValueKind));
        // The float entry points quantize the input before the stem: a step of its own, not hidden in the stem's time.
        Assert.Equal("Quantize (input)", steps[0].GetProperty("name").GetString());
        Assert.Equal("Conv2d_0", steps[1].GetProperty("name").GetString());
    }

    [Fact]
    public void Profile_lists_every_step_of_the_schedule_with_its_costs()
    {
        foreach (var threads in new[] { "1", "2" })
        {
            var r = CliRunner.Run("profile", "--variant", "1.0_128", "--iterations", "3", "--warmup", "1", "--threads", threads, "--json");
            Assert.True(r.ExitCode == 0, r.ToString());
            using var doc = JsonDocument.Parse(r.Stdout);
            var root = doc.RootElement;
            var steps = root.GetProperty("steps").EnumerateArray().ToList();
            // 27 convolution layers (one thread: 1.0_128's one fused pair makes 26 steps) plus the pool and the logits.
            Assert.Equal(threads == "1" ? 28 : 29, steps.Count);
            Assert.Equal("Conv2d_0", steps[0].GetProperty("name").GetString());
            Assert.Equal("Logits/Conv2d_1c_1x1", steps[^1].GetProperty("name").GetString());
            if (threads == "1") Assert.Contains(steps, s => s.GetProperty("name").GetString()!.Contains(" + ", StringComparison.Ordinal));
            long macs = steps.Sum(s => s.GetProperty("macs").GetInt64());
            Assert.Equal(MobileNetGen.Variants.VariantCatalog.Find("1.0_128")!.Info.Macs, macs);
            Assert.All(steps, s => Assert.True(s.GetProperty("median_ms").GetDouble() >= 0 && s.GetProperty("bytes_moved").GetInt64() > 0));
            Assert.True(root.GetProperty("fma_peak_gflops").GetDouble() > 0);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("integer_peak_gops").ValueKind); // a float network
        }
    }

    [Fact]
    public void Threads_apply_to_both_engines()
    {
        var r = CliRunner.Run("bench", "--variants", "0.25_128", "--iterations", "2", "--warmup", "0", "--threads", "2", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToDictionary(x => x.GetProperty("engine").GetString()!);
        Assert.Equal(2, rows["mobilenetgen"].GetProperty("threads").GetInt32());
        Assert.Equal(2, rows["onnxruntime"].GetProperty("threads").GetInt32());
        // Above one thread the same classifier also runs on one thread, interleaved, for the ratio of the two.
        Assert.Equal(1, rows["mobilenetgen-1-thread"].GetProperty("threads").GetInt32());
        Assert.True(rows["mobilenetgen-1-thread"].GetProperty("median_ms").GetDouble() > 0);
        // The ratio's N-thread side comes from the loop the two share alone (after the one with ONNX Runtime).
        Assert.Equal(2, rows["mobilenetgen-paired"].GetProperty("threads").GetInt32());
        Assert.Equal(2, rows["mobilenetgen-paired"].GetProperty("iterations").GetInt32());
        var one = CliRunner.Run("bench", "--variants", "0.25_128", "--iterations", "2", "--warmup", "0", "--json");
        Assert.True(one.ExitCode == 0, one.ToString());
        using var single = JsonDocument.Parse(one.Stdout);
        Assert.DoesNotContain(single.RootElement.EnumerateArray(), x => x.GetProperty("engine").GetString() is "mobilenetgen-paired" or "mobilenetgen-1-thread");
    }

    [Fact]
    public void Above_one_thread_the_tables_show_the_ratio_to_one_thread_for_float_and_uint8_entries()
    {
        var r = CliRunner.Run("bench", "--variants", "0.25_128,0.25_128_quant", "--iterations", "2", "--warmup", "0", "--threads", "2", "--no-onnx");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("2 threads /", r.Stdout);
        Assert.Contains("MobileNetGen 1 thread", r.Stdout);
        Assert.Contains("MobileNetGen int 1 thread", r.Stdout);
        var one = CliRunner.Run("bench", "--variants", "0.25_128", "--iterations", "2", "--warmup", "0", "--no-onnx");
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.DoesNotContain("1 thread ms", one.Stdout);
    }

    [Fact]
    public void No_onnx_measures_mobilenetgen_only_and_the_table_names_the_machine()
    {
        var r = CliRunner.Run("bench", "--variants", "0.25_128", "--iterations", "2", "--no-onnx");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("machine:", r.Stdout);
        Assert.Contains("SIMD path", r.Stdout);
        Assert.Contains("0.25_128", r.Stdout);
        Assert.DoesNotContain("ONNX Runtime ms", r.Stdout);
    }

    [Theory]
    [InlineData("--variants", "0.3_224")]
    [InlineData("--threads", "0")]
    [InlineData("--iterations", "0")]
    [InlineData("--threads", "65")]
    [InlineData("--warmup", "-1")]
    [InlineData("--threads", "abc")] // not a number: System.CommandLine's parse error, not an exception from a validator
    public void Bad_values_are_usage_errors(params string[] args)
    {
        var r = CliRunner.Run(new[] { "bench", "--json" }.Concat(args).ToArray());
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("error: ", r.Stderr);
        Assert.DoesNotContain("Parameter", r.Stderr); // a sentence about the option, never an exception's text
    }

    [Fact]
    public void Threads_out_of_range_names_the_range()
    {
        var r = CliRunner.Run("bench", "--threads", "65", "--no-onnx");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: --threads must be a whole number from 1 to 64, got 65", r.Stderr);
    }

    [Fact]
    public void Latency_meter_interleaves_engines_and_counts_allocations_per_engine()
    {
        var order = new List<char>(64);
        var stats = LatencyMeter.MeasureInterleaved(new Action[]
        {
            () => order.Add('A'),
            () => { order.Add('B'); GC.KeepAlive(new byte[1000]); },
        }, warmup: 1, iterations: 4);
        Assert.Equal("ABABABABAB", new string(order.ToArray()));
        Assert.Equal(4, stats[0].Iterations);
        Assert.True(stats[1].AllocatedBytesPerRun >= 1000, stats[1].ToString());
        Assert.True(stats[0].AllocatedBytesPerRun < stats[1].AllocatedBytesPerRun);
        Assert.True(stats[0].P10Ms <= stats[0].MedianMs && stats[0].MedianMs <= stats[0].P90Ms);
    }

    [Fact]
    public void Percentile_interpolates_linearly()
    {
        var v = new double[] { 1, 2, 3, 4, 5 };
        Assert.Equal(3, LatencyMeter.Percentile(v, 0.5));
        Assert.Equal(1.4, LatencyMeter.Percentile(v, 0.1), 10);
        Assert.Equal(4.6, LatencyMeter.Percentile(v, 0.9), 10);
    }
}
