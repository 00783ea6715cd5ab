using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;

namespace Streaming.Benchmarks;

/// <summary>
/// The kernel check: what it costs at start-up, the error every compute path shows on this machine (the LSTM hidden
/// sizes at which libtorch's oneDNN LSTM was seen wrong on Zen 5 included), and what each path costs to serve with,
/// so a fallback's price is known before a CPU forces it.
/// </summary>
internal static class KernelScenario
{
    private static readonly int[] LstmHiddenSizes = [1, 4, 8, 10, 16, 24, 32, 33, 48, 64, 256, 513];

    public static string Run(bool quick)
    {
        var text = new StringBuilder();
        text.AppendLine("### Kernel check");
        text.AppendLine();
        text.AppendLine($"CPU: {CpuDescription.Current}; `ONEDNN_MAX_CPU_ISA` {Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "unset"}.");
        text.AppendLine();
        CheckCost(text, quick);
        EveryPath(text, quick);
        PathCost(text, quick);
        return text.ToString();
    }

    // Start-up cost: creating a backend runs the check; the check's own time is in its report.
    private static void CheckCost(StringBuilder text, bool quick)
    {
        text.AppendLine("Start-up cost of the check (median of the check's own time over several creations; the float64 reference dominates):");
        text.AppendLine();
        text.AppendLine("| model | backend | check | backend created in | paths tried |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: |");
        var models = new (string Name, ModelWeights Weights)[]
        {
            ("W: LSTM 2 x 256, input 256", Workloads.Weights(Workloads.W, seed: 1)),
            ("char-lstm (embedding, LSTM 2 x 48, head)", LoadCharLstm()),
        };
        foreach (var (name, weights) in models)
        {
            foreach (var options in new[] { BackendOptions.Managed, BackendOptions.TorchCpu })
            {
                var checks = new List<double>();
                var creations = new List<double>();
                var tried = 0;
                for (var i = 0; i < (quick ? 3 : 5); i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    using var backend = RecurrentBackends.Create(weights, options);
                    creations.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    checks.Add(backend.Kernels.Duration.TotalMilliseconds);
                    tried = backend.Kernels.Trials.Count;
                }

                text.AppendLine($"| {name} | {options.Kind} | {Median(checks):F0} ms | {Median(creations):F0} ms | {tried} |");
            }
        }

        text.AppendLine();
    }

    private static void EveryPath(StringBuilder text, bool quick)
    {
        text.AppendLine("Every path of every role, tried (`RecurrentBackends.CheckEveryPath`): largest |error| against the float64 reference.");
        text.AppendLine();
        text.AppendLine("| model | backend | layer | role | path | max error | verdict |");
        text.AppendLine("| --- | --- | --- | --- | --- | ---: | --- |");
        var specs = new List<(string Name, ModelWeights Weights, BackendOptions[] Options)>
        {
            ("W", Workloads.Weights(Workloads.W, seed: 1), [BackendOptions.Managed with { Width = KernelWidth.Vector512 }, BackendOptions.TorchCpu]),
            ("char-lstm", LoadCharLstm(), [BackendOptions.Managed with { Width = KernelWidth.Vector512 }, BackendOptions.TorchCpu]),
            ("GRU 2 x 64, bidirectional", Workloads.Weights(new RecurrentSpec(RecurrentMode.Gru, 32, 64, 2, Bidirectional: true), 2), [BackendOptions.Managed, BackendOptions.TorchCpu]),
            ("RNN relu 1 x 48", Workloads.Weights(new RecurrentSpec(RecurrentMode.RnnRelu, 16, 48), 3), [BackendOptions.TorchCpu]),
            ("LSTM 1 x 40, proj 24", Workloads.Weights(new RecurrentSpec(RecurrentMode.Lstm, 16, 40, ProjSize: 24), 4), [BackendOptions.Managed, BackendOptions.TorchCpu]),
        };
        foreach (var hidden in quick ? [16, 33] : LstmHiddenSizes)
        {
            specs.Add(($"LSTM 1 x {hidden}, input 16", Workloads.Weights(new RecurrentSpec(RecurrentMode.Lstm, 16, hidden), hidden), [BackendOptions.TorchCpu]));
        }

        foreach (var (name, weights, options) in specs)
        {
            foreach (var option in options)
            {
                var report = RecurrentBackends.CheckEveryPath(weights, option);
                foreach (var t in report.Trials)
                {
                    var verdict = t.Chosen ? "chosen" : t.Passed ? "passed" : "**rejected**";
                    text.AppendLine($"| {name} | {report.Backend} | {(t.Layer?.ToString() ?? "head")} | {t.Role.ToString().ToLowerInvariant()} | {t.Path} | {KernelReport.Format(t.MaxError)} | {verdict} |");
                }
            }
        }

        text.AppendLine();
    }

    // What serving with each path costs at workload W: a fallback is never free, and this says how much it takes.
    private static void PathCost(StringBuilder text, bool quick)
    {
        var spec = Workloads.W;
        var weights = Workloads.Weights(spec, seed: 1);
        var repetitions = quick ? 3 : 5;
        text.AppendLine($"Cost of each path at W, layer 0 alone (median of {repetitions}); ratios within a role are to its first path:");
        text.AppendLine();
        text.AppendLine("| backend | role | path | work | time | ratio |");
        text.AppendLine("| --- | --- | --- | --- | ---: | ---: |");
        foreach (var options in new[] { BackendOptions.TorchCpu, BackendOptions.Managed with { Width = KernelWidth.Vector512 } })
        {
            using var backend = RecurrentBackends.Create(weights, options);
            var layer = backend.Layers[0];
            var choices = (IKernelChoices)layer;
            foreach (var (role, work, run) in new (KernelRole, string, Action)[]
            {
                (KernelRole.Step, "1024 sessions x 1 step", StepWork(layer, 1024)),
                (KernelRole.Step, "64 sessions x 1 step", StepWork(layer, 64)),
                (KernelRole.Bulk, "1 sequence x 64 steps", BulkWork(layer, 64, 1)),
                (KernelRole.Bulk, "256 sequences x 16 steps", BulkWork(layer, 16, 256)),
            })
            {
                double? first = null;
                foreach (var path in choices.Candidates(role))
                {
                    if (path == "vector512" && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
                    {
                        text.AppendLine($"| {backend.Name} | {Lower(role)} | {path} | {work} | emulated here, not timed | |");
                        continue;
                    }

                    choices.Use(role, path);
                    var seconds = Measure.MedianSeconds(run, repetitions);
                    first ??= seconds;
                    text.AppendLine($"| {backend.Name} | {Lower(role)} | {path} | {work} | {seconds * 1e3:F2} ms | {seconds / first:F2} |");
                }
            }

            if (options.Kind == BackendKind.Torch)
            {
                NativeLstm(text, layer, choices, repetitions);
            }
        }

        text.AppendLine();
    }

    // libtorch's own LSTM without oneDNN (at::Context::setUserEnabledMkldnn(false), ATen's addmm implementation): a path
    // the product could take in-process where oneDNN is wrong; measured here to decide whether it is worth having.
    private static void NativeLstm(StringBuilder text, IRecurrentLayer layer, IKernelChoices choices, int repetitions)
    {
        var setter = MkldnnSwitch();
        if (setter is null)
        {
            text.AppendLine("| torch:cpu | bulk | libtorch-lstm without oneDNN | | symbol not found | |");
            return;
        }

        choices.Use(KernelRole.Bulk, "libtorch-lstm");
        choices.Use(KernelRole.Step, "libtorch-lstm");
        setter(false);
        try
        {
            foreach (var (role, work, run) in new (KernelRole, string, Action)[]
            {
                (KernelRole.Step, "1024 sessions x 1 step", StepWork(layer, 1024)),
                (KernelRole.Bulk, "1 sequence x 64 steps", BulkWork(layer, 64, 1)),
                (KernelRole.Bulk, "256 sequences x 16 steps", BulkWork(layer, 16, 256)),
            })
            {
                var seconds = Measure.MedianSeconds(run, repetitions);
                text.AppendLine($"| torch:cpu | {Lower(role)} | libtorch-lstm without oneDNN (ATen) | {work} | {seconds * 1e3:F2} ms | |");
            }
        }
        finally
        {
            setter(true);
        }
    }

    private static unsafe Action<bool>? MkldnnSwitch()
    {
        // libtorch is loaded by now; dlopen by name finds the copy in memory.
        var path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so");
        if (!(NativeLibrary.TryLoad("libtorch_cpu.so", out var library) || NativeLibrary.TryLoad(path, out library))
            || !NativeLibrary.TryGetExport(library, "_ZN2at13globalContextEv", out var global)
            || !NativeLibrary.TryGetExport(library, "_ZN2at7Context20setUserEnabledMkldnnEb", out var set))
        {
            return null;
        }

        var context = ((delegate* unmanaged<nint>)global)();
        return enabled => ((delegate* unmanaged<nint, byte, void>)set)(context, enabled ? (byte)1 : (byte)0);
    }

    private static Action StepWork(IRecurrentLayer layer, int sessions)
    {
        var slab = layer.CreateSlab(sessions);
        var slots = Enumerable.Range(0, sessions).Select(_ => slab.Allocate()).ToArray();
        var input = Workloads.Values(new Random(5), sessions * layer.Shape.InputSize);
        var output = new float[sessions * layer.Shape.OutputSize];
        return () => layer.Step(slab, slots, input, output);
    }

    private static Action BulkWork(IRecurrentLayer layer, int steps, int batch)
    {
        var s = layer.Shape;
        var input = Workloads.Values(new Random(6), steps * batch * s.InputSize);
        var output = new float[steps * batch * s.SequenceOutputSize];
        var hN = new float[s.Directions * batch * s.OutputSize];
        var cN = new float[s.Directions * batch * s.HiddenSize];
        return () => layer.Forward(input, steps, batch, default, default, output, hN, cN);
    }

    private static ModelWeights LoadCharLstm()
    {
        var manifest = ModelManifest.Load(Path.Combine(RepositoryRoot(), "config", "models", "char-lstm.json"));
        return manifest.LoadWeights();
    }

    private static string RepositoryRoot()
    {
        var folder = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(folder, "Streaming.sln")))
        {
            folder = Path.GetDirectoryName(folder) ?? throw new InvalidOperationException("run the benchmarks from inside the repository");
        }

        return folder;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Lower(KernelRole role) => role.ToString().ToLowerInvariant();
}
