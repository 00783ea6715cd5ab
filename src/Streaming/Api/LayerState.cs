namespace Streaming;

/// <summary>
/// One session's state in one recurrent layer, in PyTorch's layout: h is (directions, output size) and
/// c is (directions, hidden size) for LSTM, empty otherwise.
/// </summary>
/// <param name="H">Hidden state, forward direction first.</param>
/// <param name="C">Cell state (LSTM), forward direction first; empty for RNN and GRU.</param>
public sealed record LayerState(ReadOnlyMemory<float> H, ReadOnlyMemory<float> C);
