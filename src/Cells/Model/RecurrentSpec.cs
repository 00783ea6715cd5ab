namespace Streaming.Cells.Model;

/// <summary>
/// The recurrent part of a model, mirroring the constructor arguments of PyTorch's nn.RNN, nn.LSTM and
/// nn.GRU. <c>batch_first</c> is not here: it is a property of a bulk call, never of the state layout.
/// </summary>
/// <param name="Mode">Cell type.</param>
/// <param name="InputSize">Features per input step (<c>input_size</c>).</param>
/// <param name="HiddenSize">Hidden units (<c>hidden_size</c>); also the size of the LSTM cell state.</param>
/// <param name="NumLayers">Stacked layers (<c>num_layers</c>, default 1).</param>
/// <param name="Bias">Whether b_ih and b_hh exist (<c>bias</c>, default true).</param>
/// <param name="Bidirectional">Whether each layer also runs in reverse (<c>bidirectional</c>); such models serve bulk replay only.</param>
/// <param name="ProjSize">LSTM projection size (<c>proj_size</c>); 0 means none. Then h has this size and c keeps <paramref name="HiddenSize"/>.</param>
/// <param name="Dropout">Accepted for compatibility (<c>dropout</c>); inactive at inference.</param>
public sealed record RecurrentSpec(
    RecurrentMode Mode,
    int InputSize,
    int HiddenSize,
    int NumLayers = 1,
    bool Bias = true,
    bool Bidirectional = false,
    int ProjSize = 0,
    double Dropout = 0)
{
    /// <summary>1, or 2 when bidirectional.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Size of h per direction: <see cref="ProjSize"/> when set, else <see cref="HiddenSize"/>.</summary>
    public int OutputSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>Whether the cell carries c besides h (LSTM).</summary>
    public bool HasCellState => Mode == RecurrentMode.Lstm;

    /// <summary>Features per step fed to layer <paramref name="layer"/>.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : Directions * OutputSize;

    /// <summary>The shape of layer <paramref name="layer"/>.</summary>
    public LayerShape Layer(int layer)
    {
        if (layer < 0 || layer >= NumLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0..{NumLayers - 1}");
        }

        return new LayerShape(layer, Mode, LayerInputSize(layer), HiddenSize, OutputSize, Directions, Bias);
    }

    /// <summary>Throws <see cref="InvalidModelSpecException"/> naming the first invalid argument.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Mode))
        {
            throw new InvalidModelSpecException($"recurrent.mode is {(int)Mode}; expected RNN_TANH, RNN_RELU, LSTM or GRU.");
        }

        RequirePositive(InputSize, "input_size");
        RequirePositive(HiddenSize, "hidden_size");
        RequirePositive(NumLayers, "num_layers");
        if (ProjSize < 0)
        {
            throw new InvalidModelSpecException($"recurrent.proj_size is {ProjSize}; expected 0 (no projection) or a positive size.");
        }

        if (ProjSize > 0 && Mode != RecurrentMode.Lstm)
        {
            throw new InvalidModelSpecException(
                $"recurrent.proj_size is {ProjSize} but mode is {Mode.ToTorchName()}; proj_size is supported only for LSTM.");
        }

        if (ProjSize >= HiddenSize)
        {
            throw new InvalidModelSpecException(
                $"recurrent.proj_size is {ProjSize}; it must be smaller than hidden_size ({HiddenSize}).");
        }

        if (double.IsNaN(Dropout) || Dropout < 0 || Dropout > 1)
        {
            throw new InvalidModelSpecException($"recurrent.dropout is {Dropout.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected a probability in [0, 1].");
        }
    }

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0)
        {
            throw new InvalidModelSpecException($"recurrent.{name} is {value}; expected a positive integer.");
        }
    }
}
