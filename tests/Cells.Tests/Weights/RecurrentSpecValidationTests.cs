using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Weights;

public sealed class RecurrentSpecValidationTests
{
    public static TheoryData<RecurrentSpec, string> InvalidSpecs => new()
    {
        { new(RecurrentMode.Lstm, 0, 8), "recurrent.input_size is 0; expected a positive integer." },
        { new(RecurrentMode.Lstm, 4, -1), "recurrent.hidden_size is -1; expected a positive integer." },
        { new(RecurrentMode.Gru, 4, 8, NumLayers: 0), "recurrent.num_layers is 0; expected a positive integer." },
        { new(RecurrentMode.Lstm, 4, 8, ProjSize: -2), "recurrent.proj_size is -2; expected 0 (no projection) or a positive size." },
        { new(RecurrentMode.RnnTanh, 4, 8, ProjSize: 2), "recurrent.proj_size is 2 but mode is RNN_TANH; proj_size is supported only for LSTM." },
        { new(RecurrentMode.Lstm, 4, 8, ProjSize: 8), "recurrent.proj_size is 8; it must be smaller than hidden_size (8)." },
        { new(RecurrentMode.Lstm, 4, 8, Dropout: -0.1), "recurrent.dropout is -0.1; expected a probability in [0, 1]." },
        { new(RecurrentMode.Lstm, 4, 8, Dropout: double.NaN), "recurrent.dropout is NaN; expected a probability in [0, 1]." },
        { new((RecurrentMode)9, 4, 8), "recurrent.mode is 9; expected RNN_TANH, RNN_RELU, LSTM or GRU." },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void Validate_names_the_invalid_argument_with_what_was_expected(RecurrentSpec spec, string message)
    {
        var e = Assert.Throws<InvalidModelSpecException>(spec.Validate);

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Validate_accepts_an_lstm_whose_projection_is_smaller_than_its_hidden_size()
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, 4, 8, NumLayers: 2, Bidirectional: true, ProjSize: 7, Dropout: 1);

        spec.Validate();

        Assert.Equal(7, spec.OutputSize);
        Assert.Equal(14, spec.LayerInputSize(1));
    }

    [Fact]
    public void Model_validate_refuses_an_embedding_that_does_not_feed_the_input_size()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, 4, 8), new EmbeddingSpec(10, 5));

        var e = Assert.Throws<InvalidModelSpecException>(spec.Validate);

        Assert.Equal("embedding.embedding_dim is 5 but recurrent.input_size is 4; they must be equal.", e.Message);
    }
}
