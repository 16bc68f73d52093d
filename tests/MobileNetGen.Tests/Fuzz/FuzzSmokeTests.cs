using System.Diagnostics;
using MobileNetGen.Fuzzing;
using Xunit;

namespace MobileNetGen.Tests.Fuzz;

/// <summary>
/// A seconds-long, deterministic version of the long AFL runs (docs/fuzzing.md): each fuzz target (FuzzTargets.cs, the same
/// file the AFL harness compiles) runs over its seed inputs and a few hundred random mutations of them (fixed seed). Seeds
/// must be accepted; every mutation must be accepted or refused with the target's documented exception, within 5 s.
/// </summary>
public sealed class FuzzSmokeTests : IDisposable
{
    private const int Mutations = 300;
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "mng-fuzz-smoke-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static TheoryData<string> Targets() => new(FuzzTargets.Names);

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAreAccepted(string target)
    {
        foreach (var (name, data) in FuzzSeeds.For(target))
        {
            // The tfjs manifest-only seed is deliberately incomplete: it is refused (cleanly) after the manifest is read.
            FuzzTargets.Run(target, data, _workDir, out var rejection);
            if (name == "manifest_only.tfjs") Assert.NotNull(rejection);
            else Assert.True(rejection == null, $"{target} seed {name} was refused: {rejection?.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void MutationsGiveOnlyTheDocumentedException(string target)
    {
        var seeds = FuzzSeeds.For(target).Select(s => s.Data).ToList();
        // Large seeds (the TF.js shard) get fewer mutations: each costs a file write and a full parse.
        int count = seeds.Max(s => s.Length) > 200_000 ? Mutations / 3 : Mutations;
        var mutator = new Mutator(seed: 20240611 + target.Length);
        var rng = new Random(target.GetHashCode(StringComparison.Ordinal) & 0x7FFF);
        int accepted = 0, refused = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] input = mutator.Mutate(seeds[rng.Next(seeds.Count)], seeds[rng.Next(seeds.Count)]);
            var sw = Stopwatch.StartNew();
            try
            {
                FuzzTargets.Run(target, input, _workDir, out var rejection);
                if (rejection == null) accepted++;
                else
                {
                    refused++;
                    Assert.False(string.IsNullOrWhiteSpace(rejection.Message));
                }
            }
            catch (Exception e)
            {
                Assert.Fail($"{target} mutation {i} ({input.Length} bytes) threw {e.GetType().Name} instead of {FuzzTargets.ExpectedException(target).Name}: {e}");
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"{target} mutation {i} took {sw.Elapsed.TotalSeconds:F1} s");
        }
        Assert.Equal(count, accepted + refused);
        Assert.True(refused > 0, $"{target}: no mutation was refused — the mutator is not mutating");
    }

    [Theory]
    [InlineData(FuzzTargets.GraphDef)]
    [InlineData(FuzzTargets.Tflite)]
    [InlineData(FuzzTargets.Tfjs)]
    [InlineData(FuzzTargets.Weights)]
    [InlineData(FuzzTargets.Image)]
    [InlineData(FuzzTargets.TfliteQuant)]
    [InlineData(FuzzTargets.WeightsQuant)]
    [InlineData(FuzzTargets.TfliteSsd)]
    [InlineData(FuzzTargets.WeightsSsd)]
    public void EmptyAndTinyInputsAreRefused(string target)
    {
        foreach (var input in new[] { Array.Empty<byte>(), new byte[] { 0 }, new byte[] { 0xFF, 0xD8 }, "\n#%SHARD%#\n"u8.ToArray(), new byte[64] })
        {
            FuzzTargets.Run(target, input, _workDir, out var rejection);
            Assert.NotNull(rejection);
        }
    }
}
