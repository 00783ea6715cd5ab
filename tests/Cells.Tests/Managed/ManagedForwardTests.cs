using Streaming.Cells.Backends;
using Streaming.Cells.Managed;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>Bulk runs over whole sequences equal libtorch's modules (and the float64 reference for proj_size).</summary>
public sealed class ManagedForwardTests
{
    public static TheoryData<RecurrentMode, bool, bool> ModesBiasesDirections()
    {
        var data = new TheoryData<RecurrentMode, bool, bool>();
        foreach (var mode in Enum.GetValues<RecurrentMode>())
        {
            foreach (var bias in new[] { true, false })
            {
                foreach (var bidirectional in new[] { false, true })
                {
                    data.Add(mode, bias, bidirectional);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModesBiasesDirections))]
    public void A_single_layer_matches_pytorchs_equations_from_zero_state(RecurrentMode mode, bool bias, bool bidirectional)
    {
        var spec = new RecurrentSpec(mode, InputSize: 5, HiddenSize: 7, NumLayers: 1, Bias: bias, Bidirectional: bidirectional);
        AssertMatchesLibtorch(spec, steps: 6, batch: 3, withState: false, threads: 1);
    }

    [Theory]
    [MemberData(nameof(ModesBiasesDirections))]
    public void Stacked_layers_match_pytorchs_equations_from_given_state(RecurrentMode mode, bool bias, bool bidirectional)
    {
        var spec = new RecurrentSpec(mode, InputSize: 9, HiddenSize: 33, NumLayers: 3, Bias: bias, Bidirectional: bidirectional);
        AssertMatchesLibtorch(spec, steps: 5, batch: 4, withState: true, threads: 2);
    }

    [Theory]
    [InlineData(RecurrentMode.Lstm, false)]
    [InlineData(RecurrentMode.Lstm, true)]
    [InlineData(RecurrentMode.Gru, true)]
    [InlineData(RecurrentMode.RnnTanh, false)]
    public void Layers_large_enough_to_use_both_threads_match_pytorchs_equations(RecurrentMode mode, bool bidirectional)
    {
        var spec = new RecurrentSpec(mode, InputSize: 96, HiddenSize: 160, NumLayers: 2, Bidirectional: bidirectional);
        AssertMatchesLibtorch(spec, steps: 7, batch: 48, withState: true, threads: 2);
    }

    [Theory]
    [InlineData(false, true, 1)]
    [InlineData(true, true, 2)]
    [InlineData(false, false, 2)]
    [InlineData(true, false, 1)]
    public void Lstm_with_proj_size_matches_the_float64_reference(bool bidirectional, bool bias, int threads)
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 6, HiddenSize: 40, NumLayers: 2, Bias: bias, Bidirectional: bidirectional, ProjSize: 17));
        var weights = RandomWeights.For(spec, seed: 9);
        var random = new Random(4);
        const int steps = 5, batch = 3;
        var r = spec.Recurrent;
        var input = RandomWeights.Vector(random, steps * batch * r.InputSize);
        var h0 = RandomWeights.Vector(random, r.NumLayers * r.Directions * batch * r.OutputSize, 0.5);
        var c0 = RandomWeights.Vector(random, r.NumLayers * r.Directions * batch * r.HiddenSize, 0.5);
        using var backend = new ManagedBackend(weights, new BackendOptions(Threads: threads));

        var expected = Float64Reference.Run(weights, input, steps, batch, h0, c0);
        var actual = StackedRun.Forward(backend, input, steps, batch, h0, c0);

        Compare.Close(expected.Output, actual.Output, "output");
        Compare.Close(expected.HN, actual.HN, "h_n");
        Compare.Close(expected.CN, actual.CN, "c_n");
    }

    [Fact]
    public void Sequences_longer_than_one_input_chunk_match_pytorchs_equations()
    {
        // 4 x 256 gate values per step: 1024 steps per chunk, so 2500 steps take three chunks each way.
        var spec = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 64, NumLayers: 1, Bidirectional: true);
        AssertMatchesLibtorch(spec, steps: 2500, batch: 4, withState: true, threads: 2);
    }

    [Fact]
    public void Forward_refuses_buffers_of_the_wrong_length_naming_expected_and_found()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 4, Bidirectional: true));
        using var backend = new ManagedBackend(RandomWeights.For(spec, 1), BackendOptions.Managed);
        var layer = backend.Layers[0];
        const int steps = 2, batch = 3;
        float[] Floats(int n) => new float[n];
        var input = Floats(steps * batch * 3);
        var output = Floats(steps * batch * 8);
        var state = Floats(2 * batch * 4);

        var badInput = Assert.Throws<ArgumentException>(() => layer.Forward(Floats(17), steps, batch, default, default, output, state, state));
        Assert.Equal("input", badInput.ParamName);
        Assert.Contains("has 17 floats; expected 18", badInput.Message, StringComparison.Ordinal);
        var badOutput = Assert.Throws<ArgumentException>(() => layer.Forward(input, steps, batch, default, default, Floats(24), state, state));
        Assert.Contains("has 24 floats; expected 48", badOutput.Message, StringComparison.Ordinal);
        var badH0 = Assert.Throws<ArgumentException>(() => layer.Forward(input, steps, batch, Floats(12), default, output, state, state));
        Assert.Equal("h0", badH0.ParamName);
        var badCn = Assert.Throws<ArgumentException>(() => layer.Forward(input, steps, batch, default, default, output, state, Floats(0)));
        Assert.Equal("cN", badCn.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(input, 0, batch, default, default, output, state, state));
    }

    private static void AssertMatchesLibtorch(RecurrentSpec spec, int steps, int batch, bool withState, int threads)
    {
        using var oracle = ModuleOracle.Create(spec, seed: 21);
        var random = new Random(8);
        var input = RandomWeights.Vector(random, steps * batch * spec.InputSize);
        var stateCount = spec.NumLayers * spec.Directions * batch * spec.HiddenSize;
        var h0 = withState ? RandomWeights.Vector(random, stateCount, 0.5) : null;
        var c0 = withState && spec.HasCellState ? RandomWeights.Vector(random, stateCount, 0.5) : null;
        using var backend = new ManagedBackend(oracle.Weights, new BackendOptions(Threads: threads));

        var expected = oracle.Run(input, steps, batch, h0, c0);
        var actual = StackedRun.Forward(backend, input, steps, batch, h0, c0);

        Compare.Close(expected.Output, actual.Output, "output");
        Compare.Close(expected.HN, actual.HN, "h_n");
        Compare.Close(expected.CN, actual.CN, "c_n");
    }
}
