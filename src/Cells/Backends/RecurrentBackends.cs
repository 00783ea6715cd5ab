using Streaming.Cells.Managed;
using Streaming.Cells.Torch;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Backends;

/// <summary>Creates backends: the one entry point that picks an implementation from <see cref="BackendOptions"/>.</summary>
public static class RecurrentBackends
{
    /// <summary>Loads <paramref name="weights"/> onto the backend <paramref name="options"/> names.</summary>
    /// <exception cref="ArgumentException">The options name an unknown backend kind or an unusable device.</exception>
    public static IRecurrentBackend Create(ModelWeights weights, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Threads < 0)
        {
            throw new ArgumentException($"backend threads is {options.Threads}; expected 0 (all cores) or a positive count.", nameof(options));
        }

        return options.Kind switch
        {
            BackendKind.Managed => new ManagedBackend(weights, options),
            BackendKind.Torch => new TorchBackend(weights, options),
            _ => throw new ArgumentException($"backend kind is {(int)options.Kind}; expected Managed or Torch.", nameof(options)),
        };
    }
}
