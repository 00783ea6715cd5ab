namespace Streaming.Cells.Model;

/// <summary>The sizes of one recurrent layer, both directions included.</summary>
/// <param name="Index">Layer index, from 0 at the input.</param>
/// <param name="Mode">Cell type.</param>
/// <param name="InputSize">Features per step fed to this layer.</param>
/// <param name="HiddenSize">Hidden units; the size of c for LSTM.</param>
/// <param name="OutputSize">Size of h per direction (proj_size when set).</param>
/// <param name="Directions">1, or 2 for a bidirectional layer.</param>
/// <param name="Bias">Whether the layer has biases.</param>
public sealed record LayerShape(
    int Index,
    RecurrentMode Mode,
    int InputSize,
    int HiddenSize,
    int OutputSize,
    int Directions,
    bool Bias)
{
    /// <summary>Gate rows per hidden unit: 1, 4 (LSTM) or 3 (GRU).</summary>
    public int GateCount => Mode.GateCount();

    /// <summary>Whether there is a cell state c (LSTM).</summary>
    public bool HasCellState => Mode == RecurrentMode.Lstm;

    /// <summary>Whether an LSTM projection W_hr applies.</summary>
    public bool HasProjection => OutputSize != HiddenSize;

    /// <summary>Features per step this layer emits: <c>Directions * OutputSize</c>.</summary>
    public int SequenceOutputSize => Directions * OutputSize;

    /// <summary>Floats of h one session holds in this layer: <c>Directions * OutputSize</c>.</summary>
    public int SlotHSize => Directions * OutputSize;

    /// <summary>Floats of c one session holds in this layer: <c>Directions * HiddenSize</c> for LSTM, else 0.</summary>
    public int SlotCSize => HasCellState ? Directions * HiddenSize : 0;
}
