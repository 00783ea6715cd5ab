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
    /// The layout measured better for the backend (docs/benchmarks.md): <see cref="Fused"/> for the Managed backend, which
    /// ran faster, with a shorter tail and less work a token that way; <see cref="PerLayer"/> for Torch, whose throughput
    /// is higher with a stage per layer.
    /// </summary>
    Auto,
}
