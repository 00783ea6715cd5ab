namespace Streaming.Generators.Reference;

/// <summary>A whole-sequence forward: one output row per step, and the final state (h_n, c_n).</summary>
internal sealed record ForwardResult(float[][] Outputs, RecurrentState Final);
