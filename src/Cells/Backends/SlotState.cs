namespace Streaming.Cells.Backends;

/// <summary>
/// One session's state in one layer: h of shape (directions, output size) and, for LSTM, c of shape
/// (directions, hidden size), forward direction first. C is empty for RNN and GRU.
/// </summary>
/// <param name="H">Hidden state, (directions, output size) row-major.</param>
/// <param name="C">Cell state, (directions, hidden size) row-major; empty when the layer has none.</param>
public sealed record SlotState(ReadOnlyMemory<float> H, ReadOnlyMemory<float> C);
