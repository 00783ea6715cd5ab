using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Torch;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Torch;

/// <summary>Bulk runs of the Torch backend equal libtorch's own modules, and the float64 reference for proj_size.</summary>
public sealed class TorchForwardTests
{
    private const int Steps = 5;
    private const int Batch = 3;

    public static TheoryData<RecurrentMode, bool, bool, string> ModesBiasesDirections() => TorchTestDevices.With(
        from mode in Enum.GetValues<RecurrentMode>()
        from bias in new[] { true, false }
        from bidirectional in new[] { false, true }
        select (mode, bias, bidirectional));

    [Theory]
    [MemberData(nameof(ModesBiasesDirections))]
    public void Forward_of_one_layer_matches_pytorchs_equations(RecurrentMode mode, bool bias, bool bidirectional, string device)
    {
        var spec = new RecurrentSpec(mode, InputSize: 5, HiddenSize: 6, Bias: bias, Bidirectional: bidirectional);
        using var oracle = ModuleOracle.Create(spec, seed: 21);
        using var backend = Create(oracle.Weights, device);
        var random = new Random(5);
        var input = RandomWeights.Vector(random, Steps * Batch * spec.InputSize);
        var stateCount = spec.Directions * Batch * spec.HiddenSize;
        var h0 = RandomWeights.Vector(random, stateCount, 0.5);
        var c0 = spec.HasCellState ? RandomWeights.Vector(random, stateCount, 0.5) : null;

        var expected = oracle.Run(input, Steps, Batch, h0, c0);
        var actual = RunStack(backend, input, Steps, Batch, h0, c0);

        AssertSame(expected, actual);
    }

    [Theory]
    [MemberData(nameof(ModesBiasesDirections))]
    public void Stacked_layers_chained_match_pytorchs_equations(RecurrentMode mode, bool bias, bool bidirectional, string device)
    {
        var spec = new RecurrentSpec(mode, InputSize: 4, HiddenSize: 5, NumLayers: 3, Bias: bias, Bidirectional: bidirectional);
        using var oracle = ModuleOracle.Create(spec, seed: 8);
        using var backend = Create(oracle.Weights, device);
        var random = new Random(6);
        var input = RandomWeights.Vector(random, Steps * Batch * spec.InputSize);
        var stateCount = spec.NumLayers * spec.Directions * Batch * spec.HiddenSize;
        var h0 = RandomWeights.Vector(random, stateCount, 0.5);
        var c0 = spec.HasCellState ? RandomWeights.Vector(random, stateCount, 0.5) : null;

        AssertSame(oracle.Run(input, Steps, Batch, h0, c0), RunStack(backend, input, Steps, Batch, h0, c0));
    }

    [Theory]
    [MemberData(nameof(ModesBiasesDirections))]
    public void Forward_without_initial_state_starts_from_zeros(RecurrentMode mode, bool bias, bool bidirectional, string device)
    {
        var spec = new RecurrentSpec(mode, InputSize: 3, HiddenSize: 4, NumLayers: 2, Bias: bias, Bidirectional: bidirectional);
        using var oracle = ModuleOracle.Create(spec, seed: 2);
        using var backend = Create(oracle.Weights, device);
        var input = RandomWeights.Vector(new Random(1), Steps * Batch * spec.InputSize);

        AssertSame(oracle.Run(input, Steps, Batch), RunStack(backend, input, Steps, Batch, null, null));
    }

    public static TheoryData<bool, bool, int, string> ProjectedCases() => TorchTestDevices.With(
        from bias in new[] { true, false }
        from bidirectional in new[] { false, true }
        from layers in new[] { 1, 2 }
        select (bias, bidirectional, layers));

    [Theory]
    [MemberData(nameof(ProjectedCases))]
    public void Projected_lstm_forward_matches_the_float64_reference(bool bias, bool bidirectional, int layers, string device)
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 5, HiddenSize: 7, NumLayers: layers, Bias: bias, Bidirectional: bidirectional, ProjSize: 3);
        var weights = RandomWeights.For(new ModelSpec(spec), seed: 17);
        using var backend = Create(weights, device);
        var random = new Random(9);
        var input = RandomWeights.Vector(random, Steps * Batch * spec.InputSize);
        var h0 = RandomWeights.Vector(random, layers * spec.Directions * Batch * spec.OutputSize, 0.5);
        var c0 = RandomWeights.Vector(random, layers * spec.Directions * Batch * spec.HiddenSize, 0.5);

        AssertSame(Float64Reference.Run(weights, input, Steps, Batch, h0, c0), RunStack(backend, input, Steps, Batch, h0, c0));
    }

    internal static TorchBackend Create(ModelWeights weights, string device) =>
        new(weights, new BackendOptions(BackendKind.Torch, device));

    /// <summary>Runs every layer's Forward in turn, slicing h0/c0 per layer, and gathers h_n/c_n in PyTorch's layout.</summary>
    internal static SequenceResult RunStack(TorchBackend backend, float[] input, int steps, int batch, float[]? h0, float[]? c0)
    {
        var hn = new List<float>();
        var cn = new List<float>();
        var layerInput = input;
        foreach (var layer in backend.Layers)
        {
            var s = layer.Shape;
            int hCount = s.Directions * batch * s.OutputSize, cCount = s.Directions * batch * s.HiddenSize;
            var output = new float[steps * batch * s.SequenceOutputSize];
            var h = new float[hCount];
            var c = s.HasCellState ? new float[cCount] : [];
            layer.Forward(
                layerInput,
                steps,
                batch,
                h0 is null ? ReadOnlyMemory<float>.Empty : h0.AsMemory(s.Index * hCount, hCount),
                c0 is null ? ReadOnlyMemory<float>.Empty : c0.AsMemory(s.Index * cCount, cCount),
                output,
                h,
                c);
            hn.AddRange(h);
            cn.AddRange(c);
            layerInput = output;
        }

        return new SequenceResult(layerInput, [.. hn], [.. cn]);
    }

    internal static void AssertSame(SequenceResult expected, SequenceResult actual)
    {
        Compare.Close(expected.Output, actual.Output, "output");
        Compare.Close(expected.HN, actual.HN, "h_n");
        Compare.Close(expected.CN, actual.CN, "c_n");
    }
}
