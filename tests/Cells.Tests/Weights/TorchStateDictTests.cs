using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Tests.Weights;

/// <summary>State_dicts produced by libtorch itself, written with our writer and loaded through a manifest.</summary>
public sealed class TorchStateDictTests
{
    private const string CharLstmManifest = """
        { "name": "char-lstm", "weights": "char-lstm.safetensors",
          "recurrent": {"mode": "LSTM", "input_size": 16, "hidden_size": 32, "num_layers": 2, "bias": true,
                        "bidirectional": false, "proj_size": 0, "dropout": 0.0, "batch_first": false,
                        "nonlinearity": "tanh"},
          "embedding": {"num_embeddings": 64, "embedding_dim": 16},
          "head": {"out_features": 64, "bias": true},
          "key_prefixes": {"recurrent": "rnn.", "embedding": "embedding.", "head": "head."} }
        """;

    [Fact]
    public void A_libtorch_lstm_with_embedding_and_head_loads_through_its_manifest_value_for_value()
    {
        manual_seed(11);
        using var embedding = nn.Embedding(64, 16);
        using var lstm = nn.LSTM(16, 32, numLayers: 2);
        using var head = nn.Linear(32, 64);
        var stateDict = new Dictionary<string, FloatTensor>();
        AddStateDict(stateDict, embedding, "embedding.");
        AddStateDict(stateDict, lstm, "rnn.");
        AddStateDict(stateDict, head, "head.");
        using var dir = new TempDirectory();
        Safetensors.Write(dir.File("char-lstm.safetensors"), stateDict);
        File.WriteAllText(dir.File("char-lstm.json"), CharLstmManifest);

        var weights = ModelManifest.Load(dir.File("char-lstm.json")).LoadWeights();

        Assert.Equal([128, 16], weights.Layers[0][0].WeightIh.Shape);
        Assert.Equal([128, 32], weights.Layers[1][0].WeightIh.Shape);
        Assert.Equal([128], weights.Layers[1][0].BiasHh!.Shape);
        Assert.Equal([64, 16], weights.Embedding!.Shape);
        Assert.Equal([64, 32], weights.HeadWeight!.Shape);
        AssertSameTensors(stateDict, weights.ToTensors());
    }

    [Fact]
    public void A_libtorch_bidirectional_two_layer_gru_without_bias_loads_through_its_manifest()
    {
        manual_seed(12);
        using var gru = nn.GRU(3, 5, numLayers: 2, bias: false, bidirectional: true);
        var stateDict = new Dictionary<string, FloatTensor>();
        AddStateDict(stateDict, gru, "");
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "weights"));
        Safetensors.Write(Path.Combine(dir.Path, "weights", "gru.safetensors"), stateDict);
        File.WriteAllText(dir.File("gru.json"), """
            { "name": "gru", "weights": "weights/gru.safetensors",
              "recurrent": { "mode": "GRU", "input_size": 3, "hidden_size": 5, "num_layers": 2, "bias": false, "bidirectional": true } }
            """);

        var weights = ModelManifest.Load(dir.File("gru.json")).LoadWeights();

        Assert.Equal(
            ["weight_hh_l0", "weight_hh_l0_reverse", "weight_hh_l1", "weight_hh_l1_reverse",
             "weight_ih_l0", "weight_ih_l0_reverse", "weight_ih_l1", "weight_ih_l1_reverse"],
            stateDict.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([15, 3], weights.Layers[0][1].WeightIh.Shape);
        Assert.Equal([15, 10], weights.Layers[1][1].WeightIh.Shape);
        Assert.Equal([15, 5], weights.Layers[1][0].WeightHh.Shape);
        Assert.All(weights.Layers.SelectMany(l => l), w => Assert.Null(w.BiasIh));
        AssertSameTensors(stateDict, weights.ToTensors());
    }

    [Fact]
    public void A_manifest_with_fewer_layers_than_the_libtorch_file_names_the_file_and_the_extra_keys()
    {
        manual_seed(13);
        using var lstm = nn.LSTM(4, 6, numLayers: 2);
        var stateDict = new Dictionary<string, FloatTensor>();
        AddStateDict(stateDict, lstm, "");
        using var dir = new TempDirectory();
        Safetensors.Write(dir.File("lstm.safetensors"), stateDict);
        File.WriteAllText(dir.File("lstm.json"), """
            { "name": "lstm", "weights": "lstm.safetensors", "recurrent": { "mode": "LSTM", "input_size": 4, "hidden_size": 6 } }
            """);
        var manifest = ModelManifest.Load(dir.File("lstm.json"));

        var e = Assert.Throws<WeightsMismatchException>(manifest.LoadWeights);

        Assert.StartsWith(dir.File("lstm.safetensors") + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("'bias_hh_l1', 'bias_ih_l1', 'weight_hh_l1', 'weight_ih_l1'", e.Message, StringComparison.Ordinal);
    }

    private static void AddStateDict(Dictionary<string, FloatTensor> into, nn.Module module, string prefix)
    {
        foreach (var (name, tensor) in module.state_dict())
        {
            into[prefix + name] = new FloatTensor(tensor.shape.Select(d => (int)d).ToArray(), tensor.data<float>().ToArray());
        }
    }

    private static void AssertSameTensors(IReadOnlyDictionary<string, FloatTensor> expected, IReadOnlyDictionary<string, FloatTensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, tensor) in expected)
        {
            Assert.Equal(tensor.Shape, actual[key].Shape);
            Assert.Equal(tensor.Data.ToArray(), actual[key].Data.ToArray());
        }
    }
}
