using MobileNetGen.Measurement;
using Xunit;

namespace MobileNetGen.Tests.Bench;

/// <summary>The machine line above every timing table: which core it was, not only the marketing name.</summary>
public class MachineInfoTests
{
    [Fact]
    public void CpuNamesFamilyAndModelFromTheFirstProcessor()
    {
        string[] cpuinfo =
        {
            "processor\t: 0", "vendor_id\t: AuthenticAMD", "cpu family\t: 25", "model\t\t: 17", "model name\t: AMD EPYC", "flags\t\t: fpu avx512f",
            "", "processor\t: 1", "cpu family\t: 99", "model\t\t: 98", "model name\t: Other",
        };
        Assert.Equal("AMD EPYC (family 25, model 17)", MachineInfo.CpuModel(cpuinfo));
    }

    [Fact]
    public void CpuWithoutFamilyIsItsName() =>
        Assert.Equal("Some ARM core", MachineInfo.CpuModel(new[] { "processor\t: 0", "model name\t: Some ARM core", "CPU part\t: 0xd0c" }));

    [Fact]
    public void NoModelNameIsEmpty() => Assert.Equal("", MachineInfo.CpuModel(new[] { "processor\t: 0", "BogoMIPS\t: 50.00" }));

    [Fact]
    public void DescribeShowsTheHugePagePolicy()
    {
        var info = new MachineInfo(2, "X64", "AMD EPYC (family 25, model 17)", "Linux", ".NET 10", "Vector512", true, true, 0.5, "madvise");
        Assert.Contains("AMD EPYC (family 25, model 17), 2 logical CPUs", info.Describe());
        Assert.Contains("transparent huge pages: madvise", info.Describe());
    }
}
