using Streaming.Cells.Managed;
using Streaming.Cells.Torch;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Backends;

// This file sits above Backends/, Managed/ and Torch/ on purpose: the factory knows the implementations, which
// themselves depend on the contracts in Backends/, so the folders' dependencies run one way.

/// <summary>Creates backends: the one entry point that picks an implementation from <see cref="BackendOptions"/>.</summary>
public static class RecurrentBackends
{
    /// <summary>
    /// Loads <paramref name="weights"/> onto the backend <paramref name="options"/> names, after checking every compute
    /// path it may use against the float64 reference on the model's own shapes (see <see cref="IRecurrentBackend.Kernels"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The options name an unknown backend kind or an unusable device.</exception>
    /// <exception cref="KernelCheckException">No path of some role agrees with PyTorch's equations on this machine.</exception>
    public static IRecurrentBackend Create(ModelWeights weights, BackendOptions options) => Create(weights, options, everyPath: false);

    /// <summary>
    /// Runs the kernel check over every path of every role, not only until one passes, and returns what it found (the
    /// backend is released). For diagnostics and benchmarks: the error each path shows on this machine.
    /// </summary>
    /// <exception cref="KernelCheckException">No path of some role agrees with PyTorch's equations on this machine.</exception>
    public static KernelReport CheckEveryPath(ModelWeights weights, BackendOptions options)
    {
        using var backend = Create(weights, options, everyPath: true);
        return backend.Kernels;
    }

    private static IRecurrentBackend Create(ModelWeights weights, BackendOptions options, bool everyPath)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Threads < 0)
        {
            throw new ArgumentException($"backend threads is {options.Threads}; expected 0 (all cores) or a positive count.", nameof(options));
        }

        if (!Enum.IsDefined(options.Width))
        {
            throw new ArgumentException($"kernel width is {(int)options.Width}; expected Auto, Vector512, Vector256 or Scalar.", nameof(options));
        }

        return options.Kind switch
        {
            BackendKind.Managed => new ManagedBackend(weights, options, everyPath),
            BackendKind.Torch => new TorchBackend(weights, options, everyPath),
            _ => throw new ArgumentException($"backend kind is {(int)options.Kind}; expected Managed or Torch.", nameof(options)),
        };
    }
}
