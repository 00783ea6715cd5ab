namespace Streaming.Cells.Tests.Oracle;

/// <summary>What a full-sequence run produces, in PyTorch's layouts (batch_first = false).</summary>
/// <param name="Output">(seq_len, batch, directions * output size).</param>
/// <param name="HN">(num_layers * directions, batch, output size).</param>
/// <param name="CN">(num_layers * directions, batch, hidden size) for LSTM; empty otherwise.</param>
internal sealed record SequenceResult(float[] Output, float[] HN, float[] CN);
