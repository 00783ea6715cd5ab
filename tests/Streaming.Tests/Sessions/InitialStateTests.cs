using Streaming.Cells.Model;

namespace Streaming.Tests.Sessions;

public sealed class InitialStateTests
{
    private static readonly RecurrentSpec Lstm = new(RecurrentMode.Lstm, 3, 4, NumLayers: 2, Bidirectional: true);

    [Fact]
    public void Pytorch_layout_splits_into_layers_forward_then_reverse()
    {
        var h0 = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var c0 = Enumerable.Range(100, 16).Select(i => (float)i).ToArray();
        var layers = new InitialState(h0, c0).ToLayers(Lstm);
        Assert.Equal(h0[..8], layers[0].H.ToArray());
        Assert.Equal(h0[8..], layers[1].H.ToArray());
        Assert.Equal(c0[8..], layers[1].C.ToArray());
    }

    [Fact]
    public void Empty_states_mean_zeros()
    {
        var layers = InitialState.Zeros.ToLayers(Lstm);
        Assert.All(layers, l => Assert.Equal(new float[8], l.H.ToArray()));
        Assert.All(layers, l => Assert.Equal(new float[8], l.C.ToArray()));
        Assert.True(InitialState.Zeros.ToLayers(Lstm with { Mode = RecurrentMode.Gru }).All(l => l.C.IsEmpty));
    }

    [Fact]
    public void Wrong_sizes_and_non_finite_values_are_refused_with_the_expected_layout()
    {
        var size = Assert.Throws<EngineException>(() => new InitialState(new float[15], default).ToLayers(Lstm));
        Assert.Equal(EngineErrorCode.InvalidState, size.Code);
        Assert.Contains("h0 has 15 values; expected 16", size.Message, StringComparison.Ordinal);

        var nan = new float[16];
        nan[3] = float.NaN;
        Assert.Contains("c0[3] is NaN", Assert.Throws<EngineException>(() => new InitialState(default, nan).ToLayers(Lstm)).Message, StringComparison.Ordinal);

        var gruC0 = Assert.Throws<EngineException>(() => new InitialState(default, new float[16]).ToLayers(Lstm with { Mode = RecurrentMode.Gru }));
        Assert.Contains("no cell state", gruC0.Message, StringComparison.Ordinal);
    }
}
