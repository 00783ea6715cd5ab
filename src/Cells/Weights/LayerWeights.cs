namespace Streaming.Cells.Weights;

/// <summary>
/// The parameters of one direction of one recurrent layer, in PyTorch's layout and gate order
/// (LSTM i, f, g, o; GRU r, z, n).
/// </summary>
/// <param name="WeightIh"><c>weight_ih_l{k}</c>: (gates * hidden_size, layer input size).</param>
/// <param name="WeightHh"><c>weight_hh_l{k}</c>: (gates * hidden_size, output size).</param>
/// <param name="BiasIh"><c>bias_ih_l{k}</c>: (gates * hidden_size), or null without bias.</param>
/// <param name="BiasHh"><c>bias_hh_l{k}</c>: (gates * hidden_size), or null without bias.</param>
/// <param name="WeightHr"><c>weight_hr_l{k}</c>: (proj_size, hidden_size), or null without projection.</param>
public sealed record LayerWeights(
    FloatTensor WeightIh,
    FloatTensor WeightHh,
    FloatTensor? BiasIh,
    FloatTensor? BiasHh,
    FloatTensor? WeightHr);
