using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MobileNetGen.Runtime;

namespace MobileNetGen.Measurement;

/// <summary>The machine a measurement ran on (printed above every timing table, and in <c>choose --json</c>).</summary>
/// <param name="Cpu">CPU model from /proc/cpuinfo (Linux), with its family and model numbers where the name alone does not
/// say which core it is (a virtual machine's "AMD EPYC" may be Zen 1, 3, 4 or 5), else empty.</param>
/// <param name="LoadAverage">1-minute load average at the start (Linux /proc/loadavg), else null: timings on a loaded machine are noisy.</param>
/// <param name="HugePages">Linux's transparent huge page policy (always, madvise or never), else null: with always or madvise
/// the packed weights and the workspaces are on 2 MiB pages (<see cref="MobileNetGen.Runtime.Kernels.LargePages"/>).</param>
public sealed record MachineInfo(
    int ProcessorCount,
    string Architecture,
    string Cpu,
    string Os,
    string Runtime,
    string Simd,
    bool Vector512Accelerated,
    bool Vector256Accelerated,
    double? LoadAverage,
    string? HugePages = null)
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
        LoadAverage1(),
        TransparentHugePages());

    /// <summary>One line for the table headers.</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string cpu = Cpu.Length > 0 ? Cpu + ", " : "";
        string load = LoadAverage is double l ? string.Create(inv, $", load average {l:0.00}") : "";
        string pages = HugePages is string h ? $", transparent huge pages: {h}" : "";
        return $"{cpu}{ProcessorCount} logical CPUs, {Architecture}, {Os}, {Runtime}; SIMD path {Simd} " +
               $"(Vector512 accelerated: {Vector512Accelerated}, Vector256: {Vector256Accelerated}){pages}{load}";
    }

    private static string CpuModel()
    {
        try
        {
            return File.Exists("/proc/cpuinfo") ? CpuModel(File.ReadLines("/proc/cpuinfo")) : "";
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "";
    }

    /// <summary>The first processor's "model name", with "(family F, model M)" when /proc/cpuinfo gives them (x86).</summary>
    public static string CpuModel(IEnumerable<string> cpuinfo)
    {
        string? name = null, family = null, model = null;
        foreach (var line in cpuinfo)
        {
            if (line.Length == 0) break; // the first processor's block ends here
            int c = line.IndexOf(':');
            if (c <= 0) continue;
            string key = line[..c].Trim(), value = line[(c + 1)..].Trim();
            if (key == "model name") name = value;
            else if (key == "cpu family") family = value;
            else if (key == "model") model = value;
        }
        if (name == null) return "";
        return family != null && model != null ? $"{name} (family {family}, model {model})" : name;
    }

    /// <summary>The bracketed choice of /sys/kernel/mm/transparent_hugepage/enabled ("always [madvise] never" → madvise).</summary>
    private static string? TransparentHugePages()
    {
        try
        {
            const string file = "/sys/kernel/mm/transparent_hugepage/enabled";
            if (!File.Exists(file)) return null;
            string text = File.ReadAllText(file);
            int open = text.IndexOf('['), close = text.IndexOf(']');
            return open >= 0 && close > open ? text[(open + 1)..close] : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
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
