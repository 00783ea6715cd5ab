using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>The float64 reference stands in for libtorch only where libtorch agrees with it everywhere it can be asked.</summary>
public sealed class OracleAgreementTests
{
    [Theory]
    [InlineData(RecurrentMode.RnnTanh, true, false)]
    [InlineData(RecurrentMode.RnnRelu, false, true)]
    [InlineData(RecurrentMode.Lstm, true, true)]
    [InlineData(RecurrentMode.Lstm, false, false)]
    [InlineData(RecurrentMode.Gru, true, true)]
    [InlineData(RecurrentMode.Gru, false, false)]
    public void Float64_reference_matches_libtorch_modules(RecurrentMode mode, bool bias, bool bidirectional)
    {
        var spec = new RecurrentSpec(mode, InputSize: 5, HiddenSize: 7, NumLayers: 2, Bias: bias, Bidirectional: bidirectional);
        using var oracle = TorchOracle.Create(spec, seed: 11);
        var random = new Random(3);
        const int steps = 6, batch = 3;
        var input = RandomWeights.Vector(random, steps * batch * spec.InputSize);
        var stateCount = spec.NumLayers * spec.Directions * batch * spec.HiddenSize;
        var h0 = RandomWeights.Vector(random, stateCount, 0.5);
        var c0 = spec.HasCellState ? RandomWeights.Vector(random, stateCount, 0.5) : null;

        var torch = oracle.Run(input, steps, batch, h0, c0);
        var reference = Float64Reference.Run(oracle.Weights, input, steps, batch, h0, c0);

        Compare.Close(torch.Output, reference.Output, "output");
        Compare.Close(torch.HN, reference.HN, "h_n");
        Compare.Close(torch.CN, reference.CN, "c_n");
    }
}
