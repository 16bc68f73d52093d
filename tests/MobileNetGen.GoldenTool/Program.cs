using MobileNetGen.Tests;
using MobileNetGen.Tests.Quantized;

// dotnet run -c Release --project tests/MobileNetGen.GoldenTool -- [ENTRY,ENTRY…] [--threads N]
// Rewrites tests/MobileNetGen.Tests/Quantized/Golden/ENTRY.tsv for each uint8 entry (default: all) with the scalar reference.
int threads = 2;
List<string>? only = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--threads" && i + 1 < args.Length && int.TryParse(args[i + 1], out int t) && t > 0) { threads = t; i++; }
    else if (!args[i].StartsWith('-')) only = args[i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    else
    {
        Console.Error.WriteLine($"usage: {QuantizedGolden.RegenerateCommand}");
        return 2;
    }
}
if (SharedData.Root == null)
{
    Console.Error.WriteLine("error: needs the shared/ data folder (shared/images/imagenet-sample-dev) next to an ancestor of this folder; not found");
    return 1;
}
var unknown = only?.Where(e => QuantizedEntries.All.All(q => q.Name != e)).ToList();
if (unknown is { Count: > 0 })
{
    Console.Error.WriteLine($"error: not a uint8 entry: {string.Join(", ", unknown)} (known: {string.Join(", ", QuantizedEntries.All.Select(q => q.Name))})");
    return 2;
}
QuantizedGolden.RegenerateAll(only, threads, Console.Out);
return 0;
