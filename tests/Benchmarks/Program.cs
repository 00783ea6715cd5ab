using System.Globalization;
using Streaming.Benchmarks;

// Benchmark program: each scenario measures against libtorch in the same run, on the same machine,
// and prints a markdown table with its ratios. Absolute times on shared machines are noise; ratios are
// the figures to quote. Usage: dotnet run -c Release --project tests/Benchmarks -- [scenario...] [--quick]
// The soak scenario runs only when named (10 minutes, 2 with --quick, or --duration=SECONDS).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var quick = args.Contains("--quick");
if (args.FirstOrDefault(a => a.StartsWith("--duration=", StringComparison.Ordinal)) is { } duration)
{
    SoakScenario.Duration = TimeSpan.FromSeconds(int.Parse(duration["--duration=".Length..], CultureInfo.InvariantCulture));
}

var names = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
var scenarios = new Dictionary<string, Func<bool, string>>(StringComparer.OrdinalIgnoreCase)
{
    ["batched-step"] = BatchedStepScenario.Run,
    ["single-session"] = SingleSessionScenario.Run,
    ["pipeline"] = PipelineScenario.Run,
    ["tcp"] = TcpScenario.Run,
    ["overhead"] = OverheadScenario.Run,
    ["cluster"] = ClusterScenario.Run,
    ["kernels"] = KernelScenario.Run,
    ["onnx"] = OnnxScenario.Run,
    ["ragged"] = RaggedReplayScenario.Run,
    ["scale"] = ScaleScenario.Run,
    ["checkpoints"] = CheckpointScenario.Run,
    ["generate"] = GenerateScenario.Run,
    ["soak"] = SoakScenario.Run,
};
var usage = $"usage: dotnet run -c Release --project tests/Benchmarks -- [scenario...] [--quick] [--duration=SECONDS]\n" +
    $"scenarios: {string.Join(", ", scenarios.Keys)} (every one but soak when none is named; soak runs 10 minutes, 2 with --quick)";
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(usage);
    return 0;
}

if (args.FirstOrDefault(a => a.StartsWith('-') && a != "--quick" && !a.StartsWith("--duration=", StringComparison.Ordinal)) is { } unknown)
{
    Console.Error.WriteLine($"unknown option '{unknown}'\n{usage}");
    return 2;
}

if (names.Count == 0)
{
    names.AddRange(scenarios.Keys.Where(name => name != "soak"));
}

Console.WriteLine(MachineInfo.Describe() + MatrixPeak.Describe());
foreach (var name in names)
{
    if (!scenarios.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"unknown scenario '{name}'; expected one of: {string.Join(", ", scenarios.Keys)}");
        return 2;
    }

    Console.WriteLine(run(quick));
}

return 0;
