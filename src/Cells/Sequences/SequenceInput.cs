namespace Streaming.Cells.Sequences;

/// <summary>
/// A batch of equal-length sequences for a bulk run, as PyTorch's modules take it: float vectors
/// (seq_len, batch, input_size), or token ids (seq_len, batch) for a model with an embedding;
/// (batch, seq_len, ...) when <see cref="BatchFirst"/>. Build one with <see cref="FromVectors"/> or
/// <see cref="FromTokenIds"/>.
/// </summary>
public sealed record SequenceInput
{
    private SequenceInput(ReadOnlyMemory<float> values, ReadOnlyMemory<int> tokenIds, int sequenceLength, int batchSize)
    {
        if (sequenceLength <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, "a sequence needs at least one step");
        }

        if (batchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "a batch needs at least one sequence");
        }

        Values = values;
        TokenIds = tokenIds;
        SequenceLength = sequenceLength;
        BatchSize = batchSize;
    }

    /// <summary>Float inputs, (seq_len, batch, input_size) or batch-first; empty for token ids.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <summary>Token ids, (seq_len, batch) or batch-first; empty for float inputs.</summary>
    public ReadOnlyMemory<int> TokenIds { get; }

    /// <summary>Steps per sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>Sequences in the batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether the inputs and outputs are (batch, seq_len, ...); never changes the layout of h_0/h_n.</summary>
    public bool BatchFirst { get; init; }

    /// <summary>Initial hidden state, (num_layers * directions, batch, output size); empty means zeros.</summary>
    public ReadOnlyMemory<float> H0 { get; init; }

    /// <summary>Initial cell state for LSTM, (num_layers * directions, batch, hidden_size); empty means zeros.</summary>
    public ReadOnlyMemory<float> C0 { get; init; }

    /// <summary>Whether the input is token ids.</summary>
    public bool IsTokenIds => Values.IsEmpty;

    /// <summary>Float-vector input; optional arguments (for F# and C# alike) set the layout and initial state.</summary>
    /// <param name="values">(seq_len, batch, input_size), or (batch, seq_len, input_size) when <paramref name="batchFirst"/>.</param>
    /// <param name="sequenceLength">Steps per sequence.</param>
    /// <param name="batchSize">Sequences in the batch.</param>
    /// <param name="batchFirst">Whether values and outputs are batch-first (default false).</param>
    /// <param name="h0">Initial hidden state (default empty: zeros).</param>
    /// <param name="c0">Initial cell state for LSTM (default empty: zeros).</param>
    public static SequenceInput FromVectors(
        ReadOnlyMemory<float> values,
        int sequenceLength,
        int batchSize,
        bool batchFirst = false,
        ReadOnlyMemory<float> h0 = default,
        ReadOnlyMemory<float> c0 = default) =>
        new(values, ReadOnlyMemory<int>.Empty, sequenceLength, batchSize) { BatchFirst = batchFirst, H0 = h0, C0 = c0 };

    /// <summary>Token-id input for a model with an embedding; optional arguments as for <see cref="FromVectors"/>.</summary>
    /// <param name="tokenIds">(seq_len, batch), or (batch, seq_len) when <paramref name="batchFirst"/>.</param>
    /// <param name="sequenceLength">Steps per sequence.</param>
    /// <param name="batchSize">Sequences in the batch.</param>
    /// <param name="batchFirst">Whether ids and outputs are batch-first (default false).</param>
    /// <param name="h0">Initial hidden state (default empty: zeros).</param>
    /// <param name="c0">Initial cell state for LSTM (default empty: zeros).</param>
    public static SequenceInput FromTokenIds(
        ReadOnlyMemory<int> tokenIds,
        int sequenceLength,
        int batchSize,
        bool batchFirst = false,
        ReadOnlyMemory<float> h0 = default,
        ReadOnlyMemory<float> c0 = default) =>
        new(ReadOnlyMemory<float>.Empty, tokenIds, sequenceLength, batchSize) { BatchFirst = batchFirst, H0 = h0, C0 = c0 };
}
