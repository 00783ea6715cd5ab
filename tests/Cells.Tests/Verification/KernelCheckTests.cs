using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Torch;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Verification;

/// <summary>
/// The guard against wrong native kernels: a path made wrong on purpose (as libtorch 2.10's oneDNN LSTM is on AMD Zen 5)
/// is caught by the check, named in a warning with the CPU and the error, and replaced by a path that agrees with the
/// float64 reference; when no path agrees, the backend refuses to start.
/// </summary>
public sealed class KernelCheckTests
{
    // A plain LSTM at hidden size 16: one of the sizes at which libtorch's oneDNN LSTM fails on Zen 5.
    private static readonly ModelSpec Lstm = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 10, HiddenSize: 16, NumLayers: 2));

    [Fact]
    public void A_wrong_library_sequence_kernel_is_caught_and_bulk_runs_fall_back_to_the_cells()
    {
        var weights = RandomWeights.For(Lstm, seed: 3);
        using var backend = Faulty(weights, BackendOptions.TorchCpu, layer: 0, KernelRole.Bulk, "libtorch-lstm", error: 0.7);

        var report = KernelCheck.Run(backend, weights, head: null);

        var rejected = Assert.Single(report.Rejected);
        Assert.Equal((0, KernelRole.Bulk, "libtorch-lstm"), (rejected.Layer!.Value, rejected.Role, rejected.Path));
        Assert.InRange(rejected.MaxError, 0.69, 0.71);
        Assert.Equal(TorchLayer.CellsPath, report.Chosen.Single(t => t.Layer == 0 && t.Role == KernelRole.Bulk).Path);
        Assert.Equal("libtorch-lstm", report.Chosen.Single(t => t.Layer == 1 && t.Role == KernelRole.Bulk).Path);
        var warning = Assert.Single(report.Warnings);
        Assert.Contains(CpuDescription.Current, warning, StringComparison.Ordinal);
        Assert.Contains("layer 0 bulk path libtorch-lstm of torch:cpu disagrees with the float64 reference by 7.00e-1", warning, StringComparison.Ordinal);
        Assert.Contains("using addmm-cells instead", warning, StringComparison.Ordinal);
        // The remedy only an operator can apply (oneDNN reads it natively, once), unless it is applied already.
        Assert.Equal(Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is null, warning.Contains("ONEDNN_MAX_CPU_ISA=AVX2", StringComparison.Ordinal));
        Assert.True(report.WorstError <= 1e-5, report.Summary);

        // What the backend now serves is right: the faulty kernel is out of the way.
        AssertBulkMatchesReference(backend, weights);
    }

    [Fact]
    public void A_library_step_kernel_wrong_only_from_its_batch_threshold_is_caught_and_steps_stay_on_the_cells()
    {
        var weights = RandomWeights.For(Lstm, seed: 4);
        var threshold = TorchLayer.DefaultLibraryKernelMinBatch(Lstm.Recurrent.Layer(1));
        using var backend = Faulty(weights, BackendOptions.TorchCpu, layer: 1, KernelRole.Step, "addmm-cells+libtorch-lstm", error: 0.05, fromBatch: threshold);

        var report = KernelCheck.Run(backend, weights, head: null);

        var rejected = Assert.Single(report.Rejected);
        Assert.Equal((1, KernelRole.Step, "addmm-cells+libtorch-lstm"), (rejected.Layer!.Value, rejected.Role, rejected.Path));
        Assert.Equal(TorchLayer.CellsPath, report.Chosen.Single(t => t.Layer == 1 && t.Role == KernelRole.Step).Path);
        Assert.Equal("addmm-cells+libtorch-lstm", report.Chosen.Single(t => t.Layer == 0 && t.Role == KernelRole.Step).Path);
    }

    [Fact]
    public void A_wrong_managed_kernel_width_falls_back_to_the_next_narrower_width()
    {
        var weights = RandomWeights.For(Lstm, seed: 5);
        using var real = RecurrentBackends.Create(weights, BackendOptions.Managed with { Width = KernelWidth.Vector512 });
        var widths = ((IKernelChoices)real.Layers[0]).Candidates(KernelRole.Step);
        Assert.Equal(["vector512", "vector256", "scalar"], widths);
        using var backend = Faulty(weights, BackendOptions.Managed with { Width = KernelWidth.Vector512 }, layer: 0, KernelRole.Step, "vector512", error: 1e-4);

        var report = KernelCheck.Run(backend, weights, head: null);

        Assert.Equal("vector256", report.Chosen.Single(t => t.Layer == 0 && t.Role == KernelRole.Step).Path);
        Assert.Equal("vector512", report.Chosen.Single(t => t.Layer == 0 && t.Role == KernelRole.Bulk).Path);
        // The error seen is the injected one, grown a little by the step that starts from the state it corrupted.
        Assert.InRange(Assert.Single(report.Rejected).MaxError, 0.99e-4, 1.5e-4);
    }

    [Fact]
    public void A_path_that_throws_is_a_failed_path_and_the_next_one_serves()
    {
        var weights = RandomWeights.For(Lstm, seed: 6);
        using var backend = Faulty(weights, BackendOptions.TorchCpu, layer: 0, KernelRole.Bulk, "libtorch-lstm", error: 0, throws: true);

        var report = KernelCheck.Run(backend, weights, head: null);

        var rejected = Assert.Single(report.Rejected);
        Assert.Equal(double.PositiveInfinity, rejected.MaxError);
        Assert.Equal("InvalidOperationException: the native kernel crashed", rejected.Failure);
        Assert.Contains("failed: InvalidOperationException: the native kernel crashed; using addmm-cells instead", Assert.Single(report.Warnings), StringComparison.Ordinal);
        Assert.Equal(TorchLayer.CellsPath, report.Chosen.Single(t => t.Layer == 0 && t.Role == KernelRole.Bulk).Path);
    }

    [Fact]
    public void A_path_that_answers_NaN_is_rejected_with_an_infinite_error()
    {
        var weights = RandomWeights.For(Lstm, seed: 7);
        using var backend = Faulty(weights, BackendOptions.TorchCpu, layer: 1, KernelRole.Bulk, "libtorch-lstm", error: double.NaN);

        var report = KernelCheck.Run(backend, weights, head: null);

        Assert.Equal(double.PositiveInfinity, Assert.Single(report.Rejected).MaxError);
        Assert.Contains("by infinite", Assert.Single(report.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void When_no_path_of_a_role_agrees_the_check_refuses_and_names_the_cpu_the_role_and_every_path_tried()
    {
        // A projected LSTM steps with the cells only: with that path wrong there is nothing to fall back to.
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 4, HiddenSize: 8, ProjSize: 3));
        var weights = RandomWeights.For(spec, seed: 8);
        using var backend = Faulty(weights, BackendOptions.TorchCpu, layer: 0, KernelRole.Step, TorchLayer.CellsPath, error: 0.2);

        var refused = Assert.Throws<KernelCheckException>(() => KernelCheck.Run(backend, weights, head: null));

        Assert.Contains("no compute path of torch:cpu for layer 0 step agrees with PyTorch's equations", refused.Message, StringComparison.Ordinal);
        Assert.Contains(CpuDescription.Current, refused.Message, StringComparison.Ordinal);
        Assert.Matches(@"layer 0 step addmm-cells: max error 2\.\d\de-1, rejected", refused.Message);
        Assert.Equal(TorchLayer.CellsPath, Assert.Single(refused.Report.Trials).Path);
    }

    [Fact]
    public void A_backend_whose_check_fails_is_never_handed_out()
    {
        // The constructors run the check; a layer type without choices cannot be checked and is refused outright.
        var weights = RandomWeights.For(Lstm, seed: 9);
        using var real = RecurrentBackends.Create(weights, BackendOptions.Managed);
        using var unchecked_ = new FaultyBackend(real, [new Unchecked(real.Layers[0]), real.Layers[1]]);

        var refused = Assert.Throws<InvalidOperationException>(() => KernelCheck.Run(unchecked_, weights, head: null));

        Assert.Contains("layer 0 of managed offers no kernel choices", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RecurrentMode.RnnTanh, false, 0)]
    [InlineData(RecurrentMode.RnnRelu, true, 0)]
    [InlineData(RecurrentMode.Gru, true, 0)]
    [InlineData(RecurrentMode.Lstm, true, 0)]
    [InlineData(RecurrentMode.Lstm, true, 3)]
    public void The_checks_float64_layer_agrees_with_the_tests_independent_transcription(RecurrentMode mode, bool bidirectional, int projSize)
    {
        var spec = new ModelSpec(new RecurrentSpec(mode, InputSize: 6, HiddenSize: 9, Bidirectional: bidirectional, ProjSize: projSize));
        var weights = RandomWeights.For(spec, seed: 10);
        var random = new Random(11);
        const int steps = 4, batch = 3;
        var input = RandomWeights.Vector(random, steps * batch * 6);
        var h0 = RandomWeights.Vector(random, spec.Recurrent.Directions * batch * spec.Recurrent.OutputSize, 0.7);
        var c0 = spec.Recurrent.HasCellState ? RandomWeights.Vector(random, spec.Recurrent.Directions * batch * 9, 0.7) : null;

        var expected = Float64Reference.Run(weights, input, steps, batch, h0, c0);
        var layer = new Float64Layer(spec.Recurrent.Layer(0), weights.Layers[0]);
        var (output, hn, cn) = layer.Forward(Widen(input), steps, batch, Widen(h0), c0 is null ? null : Widen(c0));

        Compare.Close(expected.Output, Narrow(output), "output", tolerance: 1e-6);
        Compare.Close(expected.HN, Narrow(hn), "h_n", tolerance: 1e-6);
        Compare.Close(expected.CN, Narrow(cn), "c_n", tolerance: 1e-6);
    }

    private static FaultyBackend Faulty(
        ModelWeights weights, BackendOptions options, int layer, KernelRole role, string path, double error, int fromBatch = 1, bool throws = false)
    {
        var real = RecurrentBackends.Create(weights, options);
        var layers = real.Layers.Select((l, i) => i == layer ? new FaultyLayer(l, role, path, error, fromBatch, throws) : l).ToArray();
        return new FaultyBackend(real, layers);
    }

    private static void AssertBulkMatchesReference(IRecurrentBackend backend, ModelWeights weights)
    {
        var random = new Random(12);
        const int steps = 5, batch = 2;
        var input = RandomWeights.Vector(random, steps * batch * weights.Spec.InputSize);
        var expected = Float64Reference.Run(weights, input, steps, batch);
        var actual = new RecurrentModel(backend, ownsBackend: false).Forward(SequenceInput.FromVectors(input, steps, batch));
        Compare.Close(expected.Output, actual.Output.Span, "output after the fallback");
    }

    private static double[] Widen(float[] v) => v.Select(x => (double)x).ToArray();

    private static float[] Narrow(double[] v) => v.Select(x => (float)x).ToArray();

    /// <summary>A layer that offers no choices, as a backend that forgot to implement them would.</summary>
    private sealed class Unchecked(IRecurrentLayer inner) : IRecurrentLayer
    {
        public LayerShape Shape => inner.Shape;

        public IStateSlab CreateSlab(int initialCapacity) => inner.CreateSlab(initialCapacity);

        public void Step(IStateSlab slab, ReadOnlyMemory<int> slots, ReadOnlyMemory<float> input, Memory<float> output) => inner.Step(slab, slots, input, output);

        public void Forward(ReadOnlyMemory<float> input, int sequenceLength, int batch, ReadOnlyMemory<float> h0, ReadOnlyMemory<float> c0, Memory<float> output, Memory<float> hN, Memory<float> cN) =>
            inner.Forward(input, sequenceLength, batch, h0, c0, output, hN, cN);

        public void Dispose()
        {
        }
    }
}
