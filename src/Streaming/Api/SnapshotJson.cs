using System.Text.Json;
using System.Text.Json.Nodes;

namespace Streaming;

/// <summary>
/// The JSON snapshot format: <c>{"format":"rnn-snapshot/1","model":"..","weights_sha256":"..","position":n,
/// "layers":[{"h":[..],"c":[..]}]}</c>. .NET writes floats in their shortest round-trip form, so values survive exactly.
/// </summary>
internal static class SnapshotJson
{
    public const string Format = "rnn-snapshot/1";

    public static string Write(SessionSnapshot snapshot)
    {
        var layers = new JsonArray();
        foreach (var layer in snapshot.Layers)
        {
            layers.Add(new JsonObject
            {
                ["h"] = ToArray(layer.H.Span),
                ["c"] = ToArray(layer.C.Span),
            });
        }

        return new JsonObject
        {
            ["format"] = Format,
            ["model"] = snapshot.Model.Name,
            ["weights_sha256"] = snapshot.Model.WeightsSha256,
            ["position"] = snapshot.Position,
            ["layers"] = layers,
        }.ToJsonString();
    }

    public static SessionSnapshot Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw Malformed("the JSON is not an object.");
            var format = Required(root, "format").GetValue<string>();
            if (format != Format)
            {
                throw Malformed($"format is '{format}'; expected '{Format}'.");
            }

            var model = new ModelIdentity(Required(root, "model").GetValue<string>(), Required(root, "weights_sha256").GetValue<string>());
            var position = Required(root, "position").GetValue<long>();
            var layers = Required(root, "layers") as JsonArray ?? throw Malformed("layers is not an array.");
            var states = layers.Select((node, i) =>
            {
                var layer = node as JsonObject ?? throw Malformed($"layers[{i}] is not an object.");
                return new LayerState(Floats(Required(layer, "h"), $"layers[{i}].h"), Floats(Required(layer, "c"), $"layers[{i}].c"));
            }).ToArray();
            return new SessionSnapshot(model, position, states);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw Malformed(e.Message);
        }
    }

    private static JsonArray ToArray(ReadOnlySpan<float> values)
    {
        var array = new JsonArray();
        foreach (var v in values)
        {
            array.Add(v);
        }

        return array;
    }

    private static float[] Floats(JsonNode node, string path) =>
        (node as JsonArray ?? throw Malformed($"{path} is not an array of numbers."))
        .Select((v, i) => v?.GetValue<float>() ?? throw Malformed($"{path}[{i}] is null; expected a number."))
        .ToArray();

    private static JsonNode Required(JsonObject parent, string name) =>
        parent[name] ?? throw Malformed($"'{name}' is missing.");

    private static EngineException Malformed(string message) => new(EngineErrorCode.MalformedSnapshot, "malformed snapshot: " + message);
}
