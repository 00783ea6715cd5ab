using System.Numerics.Tensors;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Managed;

/// <summary>
/// One direction's weights packed for the matrix kernel. LSTM gate rows are reordered from PyTorch's
/// i, f, g, o to i, f, o, g (see <see cref="CellMath.Lstm"/>). For RNN and LSTM, b_ih + b_hh is folded
/// into the input product's bias, so the hidden product can accumulate straight onto it; GRU keeps
/// them apart because b_hn sits inside r ⊙ (W_hn h + b_hn).
/// </summary>
internal sealed class DirectionParameters
{
    public DirectionParameters(LayerShape shape, LayerWeights weights)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(weights);
        var gates = shape.GateCount * shape.HiddenSize;
        var order = shape.Mode == RecurrentMode.Lstm ? LstmRowOrder(shape.HiddenSize) : [];
        float[] inputBias = [], hiddenBias = [];
        if (weights.BiasIh is { } bih && weights.BiasHh is { } bhh)
        {
            if (shape.Mode == RecurrentMode.Gru)
            {
                inputBias = bih.Data.ToArray();
                hiddenBias = bhh.Data.ToArray();
            }
            else
            {
                inputBias = new float[gates];
                TensorPrimitives.Add(bih.Data.Span, bhh.Data.Span, inputBias);
            }
        }

        Input = new PackedMatrix(weights.WeightIh.Data.Span, gates, shape.InputSize, inputBias, order);
        Hidden = new PackedMatrix(weights.WeightHh.Data.Span, gates, shape.OutputSize, hiddenBias, order);
        if (weights.WeightHr is { } whr)
        {
            Projection = new PackedMatrix(whr.Data.Span, shape.OutputSize, shape.HiddenSize);
        }
    }

    /// <summary>W_ih with the input-side bias.</summary>
    public PackedMatrix Input { get; }

    /// <summary>W_hh; with b_hh only for GRU.</summary>
    public PackedMatrix Hidden { get; }

    /// <summary>W_hr for an LSTM with proj_size, else null.</summary>
    public PackedMatrix? Projection { get; }

    /// <summary>Packed row j comes from PyTorch row order[j]: gates i, f, o from blocks 0, 1, 3, then g from block 2.</summary>
    private static int[] LstmRowOrder(int hidden)
    {
        var order = new int[4 * hidden];
        int[] blocks = [0, 1, 3, 2];
        for (var gate = 0; gate < 4; gate++)
        {
            for (var j = 0; j < hidden; j++)
            {
                order[gate * hidden + j] = blocks[gate] * hidden + j;
            }
        }

        return order;
    }
}
