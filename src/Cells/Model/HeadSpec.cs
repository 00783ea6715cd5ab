namespace Streaming.Cells.Model;

/// <summary>An nn.Linear on top of the last recurrent layer's output.</summary>
/// <param name="OutFeatures">Output features (<c>out_features</c>).</param>
/// <param name="Bias">Whether the Linear has a bias (default true, as in PyTorch).</param>
public sealed record HeadSpec(int OutFeatures, bool Bias = true);
