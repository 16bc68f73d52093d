using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MobileNetGen.Runtime;

namespace MobileNetGen.Measurement;

/// <summary>The machine a measurement ran on (printed above every timing table, and in <c>choose --json</c>).</summary>
/// <param name="Cpu">CPU model from /proc/cpuinfo (Linux), else empty.</param>
/// <param name="LoadAverage">1-minute load average at the start (Linux /proc/loadavg), else null: timings on a loaded machine are noisy.</param>
public sealed record MachineInfo(
    int ProcessorCount,
    string Architecture,
    string Cpu,
    string Os,
    string Runtime,
    string Simd,
    bool Vector512Accelerated,
    bool Vector256Accelerated,
    double? LoadAverage)
{
    public static MachineInfo Current() => new(
        Environment.ProcessorCount,
        RuntimeInformation.ProcessArchitecture.ToString(),
        CpuModel(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        MobileNetClassifier.ResolveSimdPath(SimdPath.Auto).ToString(),
        Vector512.IsHardwareAccelerated,
        Vector256.IsHardwareAccelerated,
        LoadAverage1());

    /// <summary>One line for the table headers.</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string cpu = Cpu.Length > 0 ? Cpu + ", " : "";
        string load = LoadAverage is double l ? string.Create(inv, $", load average {l:0.00}") : "";
        return $"{cpu}{ProcessorCount} logical CPUs, {Architecture}, {Os}, {Runtime}; SIMD path {Simd} " +
               $"(Vector512 accelerated: {Vector512Accelerated}, Vector256: {Vector256Accelerated}){load}";
    }

    private static string CpuModel()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return "";
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int c and > 0)
                    return line[(c + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "";
    }

    private static double? LoadAverage1()
    {
        try
        {
            if (!File.Exists("/proc/loadavg")) return null;
            string first = File.ReadAllText("/proc/loadavg").Split(' ', 2)[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
