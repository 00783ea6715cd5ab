using System.Text;
using System.Text.Json;
using Streaming.Cells.Model;

namespace Streaming.Generators.Models;

/// <summary>
/// Writes a model manifest in the format of DESIGN.md (snake_case, PyTorch's constructor arguments), every
/// recurrent setting spelled out so a reader needs no defaults (dropout only when the module had it); key_prefixes only when they differ from the
/// defaults.
/// </summary>
internal static class ManifestWriter
{
    public static void Write(string path, string name, string weightsFileName, ModelSpec spec)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            var r = spec.Recurrent;
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("weights", weightsFileName);
            json.WriteStartObject("recurrent");
            json.WriteString("mode", r.Mode.ToTorchName());
            json.WriteNumber("input_size", r.InputSize);
            json.WriteNumber("hidden_size", r.HiddenSize);
            json.WriteNumber("num_layers", r.NumLayers);
            json.WriteBoolean("bias", r.Bias);
            json.WriteBoolean("bidirectional", r.Bidirectional);
            json.WriteNumber("proj_size", r.ProjSize);
            if (r.Dropout != 0)
            {
                // Inactive when served; written so the manifest says what the trained module had.
                json.WriteNumber("dropout", r.Dropout);
            }

            json.WriteEndObject();
            if (spec.Embedding is { } e)
            {
                json.WriteStartObject("embedding");
                json.WriteNumber("num_embeddings", e.NumEmbeddings);
                json.WriteNumber("embedding_dim", e.EmbeddingDim);
                json.WriteEndObject();
            }

            if (spec.Head is { } h)
            {
                json.WriteStartObject("head");
                json.WriteNumber("out_features", h.OutFeatures);
                json.WriteBoolean("bias", h.Bias);
                json.WriteEndObject();
            }

            if (spec.Prefixes is { } p && p != WeightKeyPrefixes.Default)
            {
                json.WriteStartObject("key_prefixes");
                json.WriteString("recurrent", p.Recurrent);
                json.WriteString("embedding", p.Embedding);
                json.WriteString("head", p.Head);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // '\n' line ends on every platform, so the bytes are the same wherever the generator runs.
        var text = Encoding.UTF8.GetString(buffer.ToArray()).ReplaceLineEndings("\n") + "\n";
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
