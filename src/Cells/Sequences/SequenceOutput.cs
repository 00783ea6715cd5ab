namespace Streaming.Cells.Sequences;

/// <summary>The result of a bulk run, in the layouts of the matching <see cref="SequenceInput"/>.</summary>
/// <param name="Output">The model's output per step: the head's when present, else the recurrent output;
/// (seq_len, batch, features) or batch-first.</param>
/// <param name="RecurrentOutput">The last recurrent layer's output per step, (seq_len, batch, directions * output size)
/// or batch-first; the same memory as <paramref name="Output"/> when there is no head.</param>
/// <param name="HN">Final hidden state, (num_layers * directions, batch, output size).</param>
/// <param name="CN">Final cell state for LSTM, (num_layers * directions, batch, hidden_size); empty otherwise.</param>
public sealed record SequenceOutput(
    ReadOnlyMemory<float> Output,
    ReadOnlyMemory<float> RecurrentOutput,
    ReadOnlyMemory<float> HN,
    ReadOnlyMemory<float> CN);
