using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Weights;

public sealed class ModelWeightsFromTensorsTests
{
    private static readonly ModelSpec TwoLayerLstm = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 2, NumLayers: 2));

    [Fact]
    public void A_complete_state_dict_loads_with_every_tensor_in_its_place()
    {
        var spec = new ModelSpec(
            new RecurrentSpec(RecurrentMode.Lstm, InputSize: 4, HiddenSize: 6, NumLayers: 2, Bidirectional: true, ProjSize: 3),
            new EmbeddingSpec(10, 4),
            new HeadSpec(5));
        var tensors = StateDicts.For(spec);

        var weights = ModelWeights.FromTensors(spec, tensors);

        Assert.Same(tensors["weight_ih_l1_reverse"], weights.Layers[1][1].WeightIh);
        Assert.Equal([24, 6], weights.Layers[1][1].WeightIh.Shape);
        Assert.Equal([24, 3], weights.Layers[0][0].WeightHh.Shape);
        Assert.Equal([3, 6], weights.Layers[0][1].WeightHr!.Shape);
        Assert.Same(tensors["embedding.weight"], weights.Embedding);
        Assert.Same(tensors["head.bias"], weights.HeadBias);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), weights.ToTensors().Keys);
    }

    [Fact]
    public void A_missing_key_is_named_with_its_expected_shape()
    {
        var tensors = StateDicts.For(TwoLayerLstm);
        tensors.Remove("bias_hh_l1");

        var e = Assert.Throws<WeightsMismatchException>(() => ModelWeights.FromTensors(TwoLayerLstm, tensors));

        Assert.Contains("key 'bias_hh_l1' is missing; expected a tensor of shape [8]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrongly_shaped_tensor_is_named_with_the_expected_and_found_shapes()
    {
        var tensors = StateDicts.For(TwoLayerLstm);
        tensors["weight_ih_l1"] = FloatTensor.Zeros(8, 3);

        var e = Assert.Throws<WeightsMismatchException>(() => ModelWeights.FromTensors(TwoLayerLstm, tensors));

        Assert.Contains("key 'weight_ih_l1' has shape [8, 3]; expected [8, 2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_layer_more_than_the_spec_describes_is_refused()
    {
        var tensors = StateDicts.For(TwoLayerLstm);
        tensors["weight_ih_l2"] = FloatTensor.Zeros(8, 2);

        var e = Assert.Throws<WeightsMismatchException>(() => ModelWeights.FromTensors(TwoLayerLstm, tensors));

        Assert.Contains("unexpected recurrent key(s) 'weight_ih_l2'", e.Message, StringComparison.Ordinal);
        Assert.Contains("num_layers=2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Biases_in_a_state_dict_for_a_model_without_bias_are_refused()
    {
        var spec = new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, InputSize: 3, HiddenSize: 2, Bias: false));
        var tensors = StateDicts.For(spec);
        tensors["bias_ih_l0"] = FloatTensor.Zeros(6);
        tensors["bias_hh_l0"] = FloatTensor.Zeros(6);

        var e = Assert.Throws<WeightsMismatchException>(() => ModelWeights.FromTensors(spec, tensors));

        Assert.Contains("'bias_hh_l0', 'bias_ih_l0'", e.Message, StringComparison.Ordinal);
        Assert.Contains("bias=False", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reverse_direction_in_a_unidirectional_state_dict_is_refused()
    {
        var tensors = StateDicts.For(TwoLayerLstm);
        tensors["weight_hh_l0_reverse"] = FloatTensor.Zeros(8, 2);

        var e = Assert.Throws<WeightsMismatchException>(() => ModelWeights.FromTensors(TwoLayerLstm, tensors));

        Assert.Contains("'weight_hh_l0_reverse'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_of_other_modules_are_ignored()
    {
        var tensors = StateDicts.For(TwoLayerLstm);
        tensors["norm.weight"] = FloatTensor.Zeros(2);
        tensors["decoder.weight_ih_l5"] = FloatTensor.Zeros(1);

        var weights = ModelWeights.FromTensors(TwoLayerLstm, tensors);

        Assert.Equal(2, weights.Layers.Count);
    }

    [Fact]
    public void Key_prefixes_select_the_parameters_of_a_wrapper_module()
    {
        var spec = TwoLayerLstm with
        {
            Embedding = new EmbeddingSpec(7, 3),
            Head = new HeadSpec(4, Bias: false),
            Prefixes = new WeightKeyPrefixes("model.rnn.", "model.embed.", "model.out."),
        };
        var tensors = StateDicts.For(spec);

        var weights = ModelWeights.FromTensors(spec, tensors);

        Assert.Same(tensors["model.rnn.weight_hh_l1"], weights.Layers[1][0].WeightHh);
        Assert.Same(tensors["model.embed.weight"], weights.Embedding);
        Assert.Same(tensors["model.out.weight"], weights.HeadWeight);
        Assert.Null(weights.HeadBias);
        Assert.Contains("model.rnn.weight_ih_l0", weights.ToTensors().Keys);
    }

    [Fact]
    public void A_prefixed_spec_names_the_missing_key_with_its_prefix()
    {
        var spec = TwoLayerLstm with { Prefixes = new WeightKeyPrefixes(Recurrent: "rnn.") };
        var bare = StateDicts.For(TwoLayerLstm);

        var e = Assert.Throws<WeightsMismatchException>(() => ModelWeights.FromTensors(spec, bare));

        Assert.Contains("key 'rnn.weight_ih_l0' is missing; expected a tensor of shape [8, 3]", e.Message, StringComparison.Ordinal);
    }
}
