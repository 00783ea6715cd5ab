using System.Text.Json;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Model;

/// <summary>
/// A model manifest: a JSON file naming the model, its safetensors weights and the PyTorch constructor
/// arguments of its layers, with snake_case keys exactly as PyTorch spells them:
/// <code>
/// { "name": "char-lstm", "weights": "char-lstm.safetensors",
///   "recurrent": { "mode": "LSTM", "input_size": 16, "hidden_size": 32, "num_layers": 2 },
///   "embedding": { "num_embeddings": 64, "embedding_dim": 16 },
///   "head": { "out_features": 64 },
///   "key_prefixes": { "recurrent": "rnn.", "embedding": "embedding.", "head": "head." } }
/// </code>
/// <c>recurrent</c> also takes <c>bias</c> (default true), <c>bidirectional</c> (false), <c>proj_size</c> (0),
/// <c>dropout</c> (0), <c>batch_first</c> (accepted and ignored: it never changes the state layout) and
/// <c>nonlinearity</c> (<c>tanh</c> or <c>relu</c>; mode <c>RNN</c> with it stands for RNN_TANH or RNN_RELU);
/// <c>head</c> takes <c>bias</c> (true). <c>embedding</c>, <c>head</c> and <c>key_prefixes</c> are optional;
/// an absent or null optional setting takes its default. Unknown keys are errors.
/// </summary>
/// <param name="Name">The model's name.</param>
/// <param name="WeightsPath">The safetensors file, absolute (a manifest's relative path is resolved against the manifest's folder).</param>
/// <param name="Spec">The validated model description.</param>
public sealed record ModelManifest(string Name, string WeightsPath, ModelSpec Spec)
{
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads the manifest at <paramref name="path"/>; its weights path is resolved against the manifest's folder.</summary>
    /// <exception cref="InvalidModelSpecException">The manifest is invalid; the message starts with its path and names the setting.</exception>
    public static ModelManifest Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var json = File.ReadAllText(full);
        return Parse(json, Path.GetDirectoryName(full) ?? full, full);
    }

    /// <summary>Parses manifest JSON; a relative weights path is resolved against <paramref name="baseDirectory"/>.</summary>
    /// <exception cref="InvalidModelSpecException">The manifest is invalid; the message names the setting by its JSON path.</exception>
    public static ModelManifest Parse(string json, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        return Parse(json, baseDirectory, source: null);
    }

    /// <summary>
    /// Reads the weights file and checks it against <see cref="Spec"/>; only the tensors the model needs are
    /// converted, so other entries of a state_dict (of any dtype) do no harm.
    /// </summary>
    /// <exception cref="FileNotFoundException">The weights file does not exist; the message names the resolved path.</exception>
    /// <exception cref="SafetensorsFormatException">The weights file is not valid safetensors.</exception>
    /// <exception cref="WeightsMismatchException">The file does not match the spec: a key is missing, has the wrong shape, or is unexpected.</exception>
    public ModelWeights LoadWeights()
    {
        if (!File.Exists(WeightsPath))
        {
            throw new FileNotFoundException(
                $"model '{Name}': weights file '{WeightsPath}' does not exist.", WeightsPath);
        }

        var file = Safetensors.Read(WeightsPath);
        try
        {
            return ModelWeights.FromTensors(Spec, file.AsFloatTensors());
        }
        catch (WeightsMismatchException e)
        {
            throw new WeightsMismatchException($"{WeightsPath}: {e.Message}", e);
        }
    }

    private static ModelManifest Parse(string json, string baseDirectory, string? source)
    {
        try
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(json, JsonOptions);
            }
            catch (JsonException e)
            {
                throw new InvalidModelSpecException($"the manifest is not valid JSON: {e.Message}", e);
            }

            using (document)
            {
                var root = ManifestSection.Of(document.RootElement, "", "name", "weights", "recurrent", "embedding", "head", "key_prefixes");
                var name = root.RequiredString("name");
                var weights = root.RequiredString("weights");
                if (weights.IndexOfAny(Path.GetInvalidPathChars()) is var at and >= 0)
                {
                    throw new InvalidModelSpecException(
                        $"weights holds the character U+{(int)weights[at]:X4} at index {at}, which no path may hold; expected the safetensors file's path.");
                }

                var spec = new ModelSpec(
                    ReadRecurrent(root),
                    ReadEmbedding(root),
                    ReadHead(root),
                    ReadPrefixes(root));
                spec.Validate();
                return new ModelManifest(name, Path.GetFullPath(weights, Path.GetFullPath(baseDirectory)), spec);
            }
        }
        catch (InvalidModelSpecException e) when (source is not null)
        {
            throw new InvalidModelSpecException($"{source}: {e.Message}", e);
        }
    }

    private static RecurrentSpec ReadRecurrent(ManifestSection root)
    {
        var r = root.RequiredSection(
            "recurrent",
            "mode", "input_size", "hidden_size", "num_layers", "bias", "bidirectional", "proj_size", "dropout", "batch_first", "nonlinearity");
        var mode = ReadMode(r);
        var inputSize = r.RequiredInt("input_size");
        var hiddenSize = r.RequiredInt("hidden_size");

        // batch_first only says how a bulk call lays out its input; it is read for its type and ignored.
        _ = r.OptionalBool("batch_first", false);
        return new RecurrentSpec(
            mode,
            inputSize,
            hiddenSize,
            r.OptionalInt("num_layers", 1),
            r.OptionalBool("bias", true),
            r.OptionalBool("bidirectional", false),
            r.OptionalInt("proj_size", 0),
            r.OptionalNumber("dropout", 0));
    }

    private static RecurrentMode ReadMode(ManifestSection r)
    {
        var text = r.RequiredString("mode");
        var written = r.OptionalString("nonlinearity");
        var nonlinearity = written?.ToLowerInvariant();
        if (nonlinearity is not null and not "tanh" and not "relu")
        {
            throw new InvalidModelSpecException($"{r.Name("nonlinearity")} is '{written}'; expected 'tanh' or 'relu'.");
        }

        // PyTorch's nn.RNN takes mode and nonlinearity apart; "RNN" plus nonlinearity reads the same way.
        if (string.Equals(text, "RNN", StringComparison.OrdinalIgnoreCase))
        {
            return nonlinearity == "relu" ? RecurrentMode.RnnRelu : RecurrentMode.RnnTanh;
        }

        RecurrentMode mode;
        try
        {
            mode = RecurrentModes.Parse(text);
        }
        catch (InvalidModelSpecException e)
        {
            throw new InvalidModelSpecException(
                $"{r.Name("mode")} is '{text}'; expected one of RNN_TANH, RNN_RELU, LSTM, GRU (or RNN with nonlinearity).", e);
        }

        var implied = mode == RecurrentMode.RnnRelu ? "relu" : "tanh";
        if (nonlinearity is not null && nonlinearity != implied)
        {
            throw new InvalidModelSpecException(
                $"{r.Name("nonlinearity")} is '{nonlinearity}' but {r.Name("mode")} is {mode.ToTorchName()}, which uses {implied}; " +
                "remove nonlinearity or make the two agree (mode RNN with nonlinearity picks RNN_TANH or RNN_RELU).");
        }

        return mode;
    }

    private static EmbeddingSpec? ReadEmbedding(ManifestSection root)
    {
        var e = root.OptionalSection("embedding", "num_embeddings", "embedding_dim");
        return e is null ? null : new EmbeddingSpec(e.RequiredInt("num_embeddings"), e.RequiredInt("embedding_dim"));
    }

    private static HeadSpec? ReadHead(ManifestSection root)
    {
        var h = root.OptionalSection("head", "out_features", "bias");
        return h is null ? null : new HeadSpec(h.RequiredInt("out_features"), h.OptionalBool("bias", true));
    }

    private static WeightKeyPrefixes? ReadPrefixes(ManifestSection root)
    {
        var p = root.OptionalSection("key_prefixes", "recurrent", "embedding", "head");
        if (p is null)
        {
            return null;
        }

        var defaults = WeightKeyPrefixes.Default;
        return new WeightKeyPrefixes(
            p.OptionalString("recurrent") ?? defaults.Recurrent,
            p.OptionalString("embedding") ?? defaults.Embedding,
            p.OptionalString("head") ?? defaults.Head);
    }
}
