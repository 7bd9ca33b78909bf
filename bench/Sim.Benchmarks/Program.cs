using BenchmarkDotNet.Running;

// Every benchmark in this assembly; pass BenchmarkDotNet's own arguments (--filter, --job short, ...).
BenchmarkSwitcher.FromAssembly(typeof(Sim.Benchmarks.SweepRowBenchmarks).Assembly).Run(args);
