using Streaming.Cells.Model;

namespace Streaming.Generators.Reference;

/// <summary>
/// One session's state in PyTorch's h_n/c_n layout without the batch axis: H is
/// (num_layers * num_directions, output size) and C (LSTM only, else null) is
/// (num_layers * num_directions, hidden_size), both row-major.
/// </summary>
internal sealed record RecurrentState(float[] H, float[]? C)
{
    public static RecurrentState Zeros(RecurrentSpec spec)
    {
        var rows = spec.NumLayers * spec.Directions;
        return new RecurrentState(new float[rows * spec.OutputSize], spec.HasCellState ? new float[rows * spec.HiddenSize] : null);
    }
}
