namespace Streaming.Cells.Backends;

/// <summary>How to create a backend.</summary>
/// <param name="Kind">Managed or Torch (default Managed).</param>
/// <param name="Device">Torch device: <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c>. Ignored by Managed.</param>
/// <param name="Threads">Compute threads: libtorch's intra-op threads for Torch, workers for Managed's matrix kernel;
/// 0 (default) means the processor count.</param>
public sealed record BackendOptions(BackendKind Kind = BackendKind.Managed, string Device = "cpu", int Threads = 0)
{
    /// <summary>
    /// The widest instructions the Managed backend's matrix kernel may use (default <see cref="KernelWidth.Auto"/>:
    /// the widest this CPU accelerates). Ignored by Torch.
    /// </summary>
    public KernelWidth Width { get; init; } = KernelWidth.Auto;

    /// <summary>The Managed backend with default settings.</summary>
    public static BackendOptions Managed { get; } = new();

    /// <summary>The Torch backend on the CPU.</summary>
    public static BackendOptions TorchCpu { get; } = new(BackendKind.Torch);

    /// <summary>The thread count in force: <see cref="Threads"/>, or the processor count when 0.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
