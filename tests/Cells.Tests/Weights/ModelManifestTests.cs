using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Weights;

public sealed class ModelManifestTests
{
    private const string Minimal =
        """{ "name": "tiny", "weights": "tiny.safetensors", "recurrent": { "mode": "GRU", "input_size": 4, "hidden_size": 8 } }""";

    [Fact]
    public void Optional_settings_take_pytorchs_defaults()
    {
        var manifest = ModelManifest.Parse(Minimal, "/models");

        Assert.Equal("tiny", manifest.Name);
        Assert.Equal(new RecurrentSpec(RecurrentMode.Gru, 4, 8, NumLayers: 1, Bias: true, Bidirectional: false, ProjSize: 0, Dropout: 0), manifest.Spec.Recurrent);
        Assert.Null(manifest.Spec.Embedding);
        Assert.Null(manifest.Spec.Head);
        Assert.Equal(WeightKeyPrefixes.Default, manifest.Spec.KeyPrefixes);
    }

    [Fact]
    public void The_documented_example_reads_every_setting()
    {
        const string json = """
            { "name": "char-lstm", "weights": "char-lstm.safetensors",
              "recurrent": {"mode": "LSTM", "input_size": 16, "hidden_size": 32, "num_layers": 2, "bias": true,
                            "bidirectional": false, "proj_size": 0, "dropout": 0.0, "batch_first": false,
                            "nonlinearity": "tanh"},
              "embedding": {"num_embeddings": 64, "embedding_dim": 16},
              "head": {"out_features": 64, "bias": true},
              "key_prefixes": {"recurrent": "rnn.", "embedding": "embedding.", "head": "head."} }
            """;

        var manifest = ModelManifest.Parse(json, "/models");

        Assert.Equal(
            new ModelSpec(
                new RecurrentSpec(RecurrentMode.Lstm, 16, 32, NumLayers: 2),
                new EmbeddingSpec(64, 16),
                new HeadSpec(64),
                new WeightKeyPrefixes("rnn.", "embedding.", "head.")),
            manifest.Spec);
        Assert.Equal(Path.GetFullPath("/models/char-lstm.safetensors"), manifest.WeightsPath);
    }

    [Fact]
    public void Every_recurrent_argument_is_read()
    {
        var json = """
            { "name": "m", "weights": "w.safetensors",
              "recurrent": { "mode": "lstm", "input_size": 3, "hidden_size": 9, "num_layers": 3, "bias": false,
                             "bidirectional": true, "proj_size": 4, "dropout": 0.25, "batch_first": true },
              "head": { "out_features": 2, "bias": false },
              "key_prefixes": { "recurrent": "lstm." } }
            """;

        var spec = ModelManifest.Parse(json, "/m").Spec;

        Assert.Equal(new RecurrentSpec(RecurrentMode.Lstm, 3, 9, 3, Bias: false, Bidirectional: true, ProjSize: 4, Dropout: 0.25), spec.Recurrent);
        Assert.Equal(new HeadSpec(2, Bias: false), spec.Head);
        Assert.Equal(new WeightKeyPrefixes("lstm.", "embedding.", "head."), spec.KeyPrefixes);
    }

    [Fact]
    public void Null_optional_settings_take_their_defaults()
    {
        var json = """
            { "name": "m", "weights": "w.safetensors", "embedding": null, "head": null, "key_prefixes": null,
              "recurrent": { "mode": "GRU", "input_size": 4, "hidden_size": 8, "num_layers": null, "bias": null } }
            """;

        var spec = ModelManifest.Parse(json, "/m").Spec;

        Assert.Equal(new ModelSpec(new RecurrentSpec(RecurrentMode.Gru, 4, 8)), spec);
    }

    [Theory]
    [InlineData("RNN", null, RecurrentMode.RnnTanh)]
    [InlineData("RNN", "tanh", RecurrentMode.RnnTanh)]
    [InlineData("RNN", "relu", RecurrentMode.RnnRelu)]
    [InlineData("RNN_RELU", "relu", RecurrentMode.RnnRelu)]
    [InlineData("RNN_TANH", "TANH", RecurrentMode.RnnTanh)]
    [InlineData("GRU", "tanh", RecurrentMode.Gru)]
    public void Mode_and_nonlinearity_that_agree_are_accepted(string mode, string? nonlinearity, RecurrentMode expected)
    {
        var extra = nonlinearity is null ? "" : $", \"nonlinearity\": \"{nonlinearity}\"";
        var json = $$"""{ "name": "m", "weights": "w", "recurrent": { "mode": "{{mode}}", "input_size": 2, "hidden_size": 3{{extra}} } }""";

        Assert.Equal(expected, ModelManifest.Parse(json, "/m").Spec.Recurrent.Mode);
    }

    [Theory]
    [InlineData("RNN_TANH", "relu", "recurrent.nonlinearity is 'relu' but recurrent.mode is RNN_TANH, which uses tanh")]
    [InlineData("RNN_RELU", "tanh", "recurrent.nonlinearity is 'tanh' but recurrent.mode is RNN_RELU, which uses relu")]
    [InlineData("LSTM", "relu", "recurrent.nonlinearity is 'relu' but recurrent.mode is LSTM, which uses tanh")]
    [InlineData("RNN", "sigmoid", "recurrent.nonlinearity is 'sigmoid'; expected 'tanh' or 'relu'")]
    public void Mode_and_nonlinearity_that_disagree_are_refused(string mode, string nonlinearity, string message)
    {
        var json = $$"""{ "name": "m", "weights": "w", "recurrent": { "mode": "{{mode}}", "input_size": 2, "hidden_size": 3, "nonlinearity": "{{nonlinearity}}" } }""";

        AssertInvalid(json, message);
    }

    [Theory]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"proj_size\": 8", "recurrent.proj_size is 8; it must be smaller than hidden_size (8)")]
    [InlineData("\"mode\": \"GRU\", \"input_size\": 4, \"hidden_size\": 8, \"proj_size\": 2", "recurrent.proj_size is 2 but mode is GRU; proj_size is supported only for LSTM")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": -3", "recurrent.hidden_size is -3; expected a positive integer")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 0, \"hidden_size\": 8", "recurrent.input_size is 0; expected a positive integer")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"num_layers\": 0", "recurrent.num_layers is 0; expected a positive integer")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"proj_size\": -1", "recurrent.proj_size is -1; expected 0 (no projection) or a positive size")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"dropout\": 1.5", "recurrent.dropout is 1.5; expected a probability in [0, 1]")]
    [InlineData("\"mode\": \"TRANSFORMER\", \"input_size\": 4, \"hidden_size\": 8", "recurrent.mode is 'TRANSFORMER'; expected one of RNN_TANH, RNN_RELU, LSTM, GRU")]
    [InlineData("\"input_size\": 4, \"hidden_size\": 8", "recurrent.mode is missing; expected a non-empty string")]
    [InlineData("\"mode\": \"LSTM\", \"hidden_size\": 8", "recurrent.input_size is missing; expected an integer")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hiden_size\": 8", "unknown setting 'recurrent.hiden_size'; expected one of: mode, input_size, hidden_size,")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": \"16\", \"hidden_size\": 8", "recurrent.input_size is the string \"16\"; expected an integer")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 16.5, \"hidden_size\": 8", "recurrent.input_size is 16.5; expected an integer")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"bias\": \"yes\"", "recurrent.bias is the string \"yes\"; expected true or false")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"dropout\": false", "recurrent.dropout is false; expected a number")]
    [InlineData("\"mode\": 3, \"input_size\": 4, \"hidden_size\": 8", "recurrent.mode is 3; expected a string")]
    [InlineData("\"mode\": \"LSTM\", \"input_size\": 4, \"hidden_size\": 8, \"bias\": true, \"bias\": false", "recurrent.bias appears twice")]
    public void An_invalid_recurrent_section_is_refused_naming_the_setting(string recurrent, string message)
    {
        AssertInvalid($$"""{ "name": "m", "weights": "w", "recurrent": { {{recurrent}} } }""", message);
    }

    [Theory]
    [InlineData("""{ "weights": "w", "recurrent": {} }""", "name is missing; expected a non-empty string")]
    [InlineData("""{ "name": "m", "recurrent": {} }""", "weights is missing; expected a non-empty string")]
    [InlineData("""{ "name": "m", "weights": "" , "recurrent": {} }""", "weights is empty; expected a non-empty string")]
    [InlineData("""{ "name": "m", "weights": "w" }""", "recurrent is missing; expected a JSON object")]
    [InlineData("""{ "name": "m", "weights": "w", "recurrent": [] }""", "recurrent is an array; expected a JSON object")]
    [InlineData("""{ "name": "m", "weights": "w", "recurrent": {}, "decoder": {} }""", "unknown setting 'decoder'; expected one of: name, weights, recurrent, embedding, head, key_prefixes")]
    [InlineData("""[ "m" ]""", "the manifest is an array; expected a JSON object")]
    [InlineData("""{ "name": "m", """, "the manifest is not valid JSON")]
    public void An_invalid_top_level_is_refused_naming_the_setting(string json, string message)
    {
        AssertInvalid(json, message);
    }

    [Theory]
    [InlineData("\"embedding\": { \"num_embeddings\": 10, \"embedding_dim\": 5 }", "embedding.embedding_dim is 5 but recurrent.input_size is 4; they must be equal")]
    [InlineData("\"embedding\": { \"num_embeddings\": 0, \"embedding_dim\": 4 }", "embedding.num_embeddings is 0; expected a positive integer")]
    [InlineData("\"embedding\": { \"num_embeddings\": 10 }", "embedding.embedding_dim is missing; expected an integer")]
    [InlineData("\"embedding\": { \"num_embeddings\": 10, \"embedding_dim\": 4, \"padding_idx\": 0 }", "unknown setting 'embedding.padding_idx'")]
    [InlineData("\"head\": { \"out_features\": -2 }", "head.out_features is -2; expected a positive integer")]
    [InlineData("\"head\": { \"in_features\": 8, \"out_features\": 2 }", "unknown setting 'head.in_features'; expected one of: out_features, bias")]
    [InlineData("\"head\": 5", "head is 5; expected a JSON object")]
    [InlineData("\"key_prefixes\": { \"rnn\": \"lstm.\" }", "unknown setting 'key_prefixes.rnn'; expected one of: recurrent, embedding, head")]
    [InlineData("\"key_prefixes\": { \"recurrent\": 1 }", "key_prefixes.recurrent is 1; expected a string")]
    public void An_invalid_embedding_head_or_prefix_is_refused_naming_the_setting(string section, string message)
    {
        AssertInvalid(
            $$"""{ "name": "m", "weights": "w", "recurrent": { "mode": "LSTM", "input_size": 4, "hidden_size": 8 }, {{section}} }""",
            message);
    }

    [Fact]
    public void The_weights_path_resolves_against_the_manifests_folder()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "models", "weights"));
        var path = Path.Combine(dir.Path, "models", "tiny.json");
        File.WriteAllText(path, Minimal.Replace("\"tiny.safetensors\"", "\"weights/../weights/tiny.safetensors\"", StringComparison.Ordinal));

        var manifest = ModelManifest.Load(path);

        Assert.Equal(Path.Combine(dir.Path, "models", "weights", "tiny.safetensors"), manifest.WeightsPath);
    }

    [Fact]
    public void An_absolute_weights_path_is_kept()
    {
        var absolute = Path.GetFullPath("/srv/weights/tiny.safetensors");
        var json = Minimal.Replace("\"tiny.safetensors\"", $"\"{absolute}\"", StringComparison.Ordinal);

        Assert.Equal(absolute, ModelManifest.Parse(json, "/elsewhere").WeightsPath);
    }

    [Fact]
    public void Errors_in_a_manifest_file_start_with_its_path()
    {
        using var dir = new TempDirectory();
        var path = dir.File("bad.json");
        File.WriteAllText(path, """{ "name": "m", "weights": "w", "recurrent": { "mode": "LSTM", "input_size": 4, "hidden_size": -3 } }""");

        var e = Assert.Throws<InvalidModelSpecException>(() => ModelManifest.Load(path));

        Assert.Equal($"{path}: recurrent.hidden_size is -3; expected a positive integer.", e.Message);
    }

    [Fact]
    public void Loading_weights_that_do_not_exist_names_the_resolved_path()
    {
        using var dir = new TempDirectory();
        var path = dir.File("tiny.json");
        File.WriteAllText(path, Minimal);
        var manifest = ModelManifest.Load(path);

        var e = Assert.Throws<FileNotFoundException>(manifest.LoadWeights);

        Assert.Contains($"weights file '{dir.File("tiny.safetensors")}' does not exist", e.Message, StringComparison.Ordinal);
        Assert.Equal(dir.File("tiny.safetensors"), e.FileName);
    }

    // Found by fuzzing the manifest reader (scripts/fuzz.sh manifest; the NUL by reading the code, confirmed with the
    // harness): each input escaped ModelManifest.Load as an ArgumentException (a NUL in the weights path, from
    // Path.GetFullPath) or an InvalidOperationException (JSON escapes spelling an unpaired UTF-16 surrogate, from
    // System.Text.Json) instead of an InvalidModelSpecException.
    public static TheoryData<byte[], string> UnreadableManifests => new()
    {
        { """{"name":"m","weights":"w\u0000.safetensors","recurrent":{"mode":"GRU","input_size":1,"hidden_size":1}}"""u8.ToArray(), "weights holds the character U+0000 at index 1, which no path may hold" },
        { """{"name":"\ud800","weights":"w","recurrent":{"mode":"GRU","input_size":1,"hidden_size":1}}"""u8.ToArray(), "name is the string \"\\ud800\", which is not valid Unicode" },
        { """{"name":"m","weights":"w","recurrent":{"mode":"GRU","input_size":"\udc00","hidden_size":1}}"""u8.ToArray(), "recurrent.input_size is the string \"\\udc00\"; expected an integer" },
        { """{"name":"m","weights":"w","recurrent":{"mode":"GRU","input_size":1,"hidden_size":1,"\ud800x":1}}"""u8.ToArray(), "recurrent has a key that is not valid Unicode" },
        { """{"\udfff":1}"""u8.ToArray(), "the manifest has a key that is not valid Unicode" },
        // afl-fuzz's input (manifest campaign, 160 s in), byte for byte.
        { Convert.FromHexString(
            "2f2f2061740a7b226e616d65223a2263222c2277656967687473223a222f61626f7273222c22726563757272656e74223a7b226d6f6465223a224752" +
            "55222c22696e7075745f73697a65223a312c2268696464656e5f73697a65223a312c7d2c226b65795f7072656669786573223a7b22725c75643830" +
            "306e74223a6e756c6c7d7d"), "key_prefixes has a key that is not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(UnreadableManifests))]
    public void A_manifest_with_text_no_path_or_string_can_hold_is_refused_naming_the_setting(byte[] manifest, string message)
    {
        using var dir = new TempDirectory();
        var path = dir.File("fuzzed.json");
        File.WriteAllBytes(path, manifest);

        var e = Assert.Throws<InvalidModelSpecException>(() => ModelManifest.Load(path));

        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"expected \"{message}\" in: {e.Message}");
    }

    private static void AssertInvalid(string json, string message)
    {
        var e = Assert.Throws<InvalidModelSpecException>(() => ModelManifest.Parse(json, "/m"));
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"expected \"{message}\" in: {e.Message}");
    }
}
