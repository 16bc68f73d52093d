using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using MobileNetGen.Benchmarks;

// dotnet run -c Release --project benchmarks/MobileNetGen.Benchmarks -- --filter '*'
// MOBILENETGEN_BENCH_VARIANTS=all (or a comma list) picks the variants of InferenceBenchmarks; see README.
// --filter '*VariantChoice*' measures the 16 variants and prints the CLI choose's recommendation (MOBILENETGEN_BUDGET_MS, default 3).
// BenchmarkDotNet's generated project rebuilds the 17 embedded-weight classifiers: more than its default 2-minute build
// timeout on a 2-core machine, hence 20 minutes.
var config = ManualConfig.Create(DefaultConfig.Instance);
config.BuildTimeout = TimeSpan.FromMinutes(20);
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
VariantChoiceBenchmarks.PrintRecommendation(summaries, Console.Out);
