using Streaming.Cells.Model;

namespace Streaming;

/// <summary>
/// A session's starting state in PyTorch's layout without the batch axis: h0 is
/// (num_layers * num_directions, output size) and c0 (num_layers * num_directions, hidden size) for LSTM.
/// Either may be empty, meaning zeros (PyTorch's default).
/// </summary>
/// <param name="H0">Initial hidden state, or empty for zeros.</param>
/// <param name="C0">Initial cell state (LSTM only), or empty for zeros.</param>
public sealed record InitialState(ReadOnlyMemory<float> H0, ReadOnlyMemory<float> C0)
{
    /// <summary>Zeros everywhere, as PyTorch starts.</summary>
    public static InitialState Zeros { get; } = new(ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty);

    /// <summary>Splits the state into per-layer states, checking its sizes against <paramref name="spec"/>.</summary>
    /// <exception cref="EngineException">H0 or C0 has the wrong number of values (code <see cref="EngineErrorCode.InvalidState"/>).</exception>
    public IReadOnlyList<LayerState> ToLayers(RecurrentSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int rows = spec.NumLayers * spec.Directions, hSize = spec.Directions * spec.OutputSize, cSize = spec.Directions * spec.HiddenSize;
        Check(H0, rows * spec.OutputSize, "h0", $"(num_layers * num_directions = {rows}, {spec.OutputSize})");
        if (!spec.HasCellState && !C0.IsEmpty)
        {
            throw new EngineException(EngineErrorCode.InvalidState,
                $"c0 has {C0.Length} values but the model is {spec.Mode.ToTorchName()}, which has no cell state; send c0 only for LSTM.");
        }

        Check(C0, spec.HasCellState ? rows * spec.HiddenSize : 0, "c0", $"(num_layers * num_directions = {rows}, {spec.HiddenSize})");
        var layers = new LayerState[spec.NumLayers];
        for (var layer = 0; layer < spec.NumLayers; layer++)
        {
            var h = H0.IsEmpty ? new float[hSize] : H0.Slice(layer * hSize, hSize);
            var c = !spec.HasCellState ? ReadOnlyMemory<float>.Empty : C0.IsEmpty ? new float[cSize] : C0.Slice(layer * cSize, cSize);
            layers[layer] = new LayerState(h, c);
        }

        return layers;
    }

    private static void Check(ReadOnlyMemory<float> values, int expected, string name, string layout)
    {
        if (values.IsEmpty)
        {
            return;
        }

        if (values.Length != expected)
        {
            throw new EngineException(EngineErrorCode.InvalidState,
                $"{name} has {values.Length} values; expected {expected} for {layout}.");
        }

        var span = values.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (!float.IsFinite(span[i]))
            {
                throw new EngineException(EngineErrorCode.InvalidState, $"{name}[{i}] is {span[i]}; states must be finite numbers.");
            }
        }
    }
}
