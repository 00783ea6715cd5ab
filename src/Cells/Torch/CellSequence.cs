using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// Bulk run of one direction of a layer with the hand-written cells: the input half of every gate for all steps
/// in one matrix product, then the recurrence step by step with <see cref="TorchCells"/>. It serves projected
/// LSTMs (TorchSharp's nn.LSTM has no proj_size) and every layer whose library sequence kernel failed the kernel
/// check. Call inside a dispose scope; each step's temporaries get their own.
/// </summary>
internal static class CellSequence
{
    /// <summary>
    /// Runs direction <paramref name="direction"/> (1 walks the steps backwards) over <paramref name="input"/>
    /// (seq_len, batch, input size) from h0 (batch, output size) and, for LSTM, c0 (batch, hidden_size), writing h of
    /// every step into its column block of <paramref name="output"/> (seq_len, batch, directions * output size).
    /// </summary>
    /// <returns>The final h and c (null for RNN and GRU), in the caller's scope.</returns>
    public static (Tensor H, Tensor? C) Run(TorchDirectionWeights weights, Tensor input, Tensor h0, Tensor? c0, int direction, Tensor output)
    {
        var steps = input.shape[0];
        var batch = input.shape[1];
        var outputSize = h0.shape[1];
        var gates = TorchCells.InputGates(weights, input.reshape(steps * batch, input.shape[2])).view(steps, batch, -1);
        var h = h0.clone();
        var c = c0?.clone();
        for (var s = 0L; s < steps; s++)
        {
            var t = direction == 0 ? s : steps - 1 - s;
            using var stepScope = NewDisposeScope();

            // The step's gate rows are used once, so the cell may overwrite them in place.
            var (hNext, cNext) = TorchCells.Step(weights, gates[t], h, c);
            output[t].narrow(1, direction * outputSize, outputSize).copy_(hNext);
            h.copy_(hNext);
            c?.copy_(cNext!);
        }

        return (h, c);
    }
}
