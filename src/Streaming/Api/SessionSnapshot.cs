using Streaming.Cells.Model;

namespace Streaming;

/// <summary>
/// A session's complete state at one point in its stream: every layer's h (and c), how many tokens it
/// had consumed, and which exact model produced it. A value: it serializes to bytes
/// (<see cref="ToBytes"/>) and to JSON (<see cref="ToJson"/>), both exact, and restoring it anywhere on
/// the same backend continues bit for bit where the original would have.
/// </summary>
/// <param name="Model">The model the state belongs to; restoring into another model is refused.</param>
/// <param name="Position">Tokens the session had consumed (replayed steps included).</param>
/// <param name="Layers">Per layer, from the input up: h (directions, output size), c (directions, hidden size) or empty.</param>
public sealed record SessionSnapshot(ModelIdentity Model, long Position, IReadOnlyList<LayerState> Layers)
{
    /// <summary>h of every layer in PyTorch's h_n layout without the batch axis: (num_layers * num_directions, output size).</summary>
    public float[] HiddenState() => Layers.SelectMany(l => l.H.ToArray()).ToArray();

    /// <summary>c of every layer in PyTorch's c_n layout without the batch axis; empty for RNN and GRU.</summary>
    public float[] CellState() => Layers.SelectMany(l => l.C.ToArray()).ToArray();

    /// <summary>The compact binary form (little-endian, versioned).</summary>
    public byte[] ToBytes() => SnapshotBinary.Write(this);

    /// <summary>Reads the binary form.</summary>
    /// <exception cref="EngineException">The bytes are truncated, of another format, or inconsistent (code <see cref="EngineErrorCode.MalformedSnapshot"/>).</exception>
    public static SessionSnapshot FromBytes(ReadOnlySpan<byte> bytes) => SnapshotBinary.Read(bytes);

    /// <summary>The JSON form: <c>{"format":"rnn-snapshot/1","model":..,"weights_sha256":..,"position":..,"layers":[{"h":[..],"c":[..]}]}</c>, floats round-trip exactly.</summary>
    public string ToJson() => SnapshotJson.Write(this);

    /// <summary>Reads the JSON form.</summary>
    /// <exception cref="EngineException">The JSON is malformed or lacks a field (code <see cref="EngineErrorCode.MalformedSnapshot"/>).</exception>
    public static SessionSnapshot FromJson(string json) => SnapshotJson.Read(json);

    /// <summary>Checks that this snapshot belongs to <paramref name="model"/>, fits <paramref name="spec"/> and holds a usable state.</summary>
    /// <exception cref="EngineException">
    /// It is of another model or shape (code <see cref="EngineErrorCode.ModelMismatch"/>, naming what differs), its position
    /// is negative (<see cref="EngineErrorCode.MalformedSnapshot"/>), or its h or c holds a NaN or an infinity
    /// (<see cref="EngineErrorCode.InvalidState"/>, naming the layer and index), as an Open's h0/c0 would be refused.
    /// </exception>
    public void EnsureFits(ModelIdentity model, RecurrentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(spec);
        if (Model != model)
        {
            throw new EngineException(EngineErrorCode.ModelMismatch,
                $"the snapshot is of model {Model} but this engine serves {model}; a state only continues in the model that made it.");
        }

        if (Position < 0)
        {
            // No model makes a negative position: the bytes are corrupt, whatever model they name.
            throw new EngineException(EngineErrorCode.MalformedSnapshot, $"the snapshot's position is {Position}; expected 0 or more tokens.");
        }

        if (Layers.Count != spec.NumLayers)
        {
            throw new EngineException(EngineErrorCode.ModelMismatch,
                $"the snapshot has {Layers.Count} layer(s); the model has num_layers = {spec.NumLayers}.");
        }

        for (var layer = 0; layer < Layers.Count; layer++)
        {
            var shape = spec.Layer(layer);
            var state = Layers[layer];
            if (state.H.Length != shape.SlotHSize)
            {
                throw new EngineException(EngineErrorCode.ModelMismatch,
                    $"the snapshot's layer {layer} h has {state.H.Length} values; expected {shape.SlotHSize} (directions {shape.Directions} x output size {shape.OutputSize}).");
            }

            if (state.C.Length != shape.SlotCSize)
            {
                throw new EngineException(EngineErrorCode.ModelMismatch,
                    $"the snapshot's layer {layer} c has {state.C.Length} values; expected {shape.SlotCSize}" +
                    (shape.HasCellState ? $" (directions {shape.Directions} x hidden size {shape.HiddenSize})." : " (only LSTM has a cell state)."));
            }

            RequireFinite(state.H, layer, "h");
            RequireFinite(state.C, layer, "c");
        }
    }

    // The same rule as an Open's h0/c0: a NaN or infinity would poison every output after it.
    private static void RequireFinite(ReadOnlyMemory<float> values, int layer, string name)
    {
        var span = values.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (!float.IsFinite(span[i]))
            {
                throw new EngineException(EngineErrorCode.InvalidState,
                    $"the snapshot's layer {layer} {name}[{i}] is {span[i]}; states must be finite numbers.");
            }
        }
    }
}
