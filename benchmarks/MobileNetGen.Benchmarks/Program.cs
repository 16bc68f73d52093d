using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/MobileNetGen.Benchmarks -- --filter '*'
// MOBILENETGEN_BENCH_VARIANTS=all (or a comma list) picks the variants; see README.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
