namespace Streaming;

/// <summary>How the engine's pipeline lays its compute out over stages.</summary>
public enum PipelineLayout
{
    /// <summary>
    /// One stage per recurrent layer, then one for the head, each computing its batch on the thread pool: layer k+1
    /// computes batch n while layer k computes batch n+1, and each stage's kernels get an equal share of the cores.
    /// </summary>
    PerLayer,

    /// <summary>
    /// One stage steps the whole stack (every layer, then the head) for a batch, with every core in its kernels; the
    /// next batch forms while it computes. Fewer hand-offs per token, and no stage waits for another.
    /// </summary>
    Fused,

    /// <summary>
    /// The layout chosen for the backend from the benchmarks (docs/benchmarks.md): <see cref="PerLayer"/> for Torch, whose
    /// engine reached 0.75-0.90 of its batched step that way against 0.45-0.70 fused; <see cref="Fused"/> for the Managed
    /// backend, which spent less CPU time a token fused in 3 of 4 runs, and generated faster, while its throughput and
    /// tail at W were the same either way within the 2-core machines' noise.
    /// </summary>
    Auto,
}
