using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// A model on TorchSharp (libtorch): CPU by default, CUDA when a CUDA TorchSharp package is referenced
/// and a GPU is present. Weights are copied to the device once; per-session state lives in device slabs;
/// every computation runs under <c>inference_mode</c> with its temporaries in a dispose scope opened and
/// closed within the call (scopes are per thread, so none is ever held across an await).
/// </summary>
/// <remarks>
/// The thread count is libtorch's intra-op pool, which is process-global: creating a backend sets it
/// for every libtorch user in the process, and the last backend created wins.
/// </remarks>
internal sealed class TorchBackend : IRecurrentBackend
{
    private readonly TorchLayer[] _layers;
    private readonly FloatTensor? _embedding;
    private readonly Tensor? _headWeight;
    private readonly Tensor? _headBias;
    private bool _disposed;

    /// <summary>Loads <paramref name="weights"/> onto <paramref name="options"/>' device and checks every compute path it may use.</summary>
    /// <param name="weights">The model.</param>
    /// <param name="options">Device and threads.</param>
    /// <param name="everyPath">Try every path of every role in the kernel check, not only until one passes (diagnostics).</param>
    /// <exception cref="ArgumentException">The device string names no supported device.</exception>
    /// <exception cref="InvalidOperationException">CUDA was requested and is unavailable.</exception>
    /// <exception cref="KernelCheckException">No path of some role agrees with the float64 reference on this machine.</exception>
    public TorchBackend(ModelWeights weights, BackendOptions options, bool everyPath = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Spec = weights.Spec;
        var device = TorchDevices.Parse(options.Device, nameof(options));
        Name = $"torch:{device}";
        set_num_threads(options.EffectiveThreads);

        // Embedding rows are copied straight from the host weights: a lookup needs no device work, and
        // its output is wanted on the host anyway.
        _embedding = weights.Embedding;
        var layers = new List<TorchLayer>(Spec.Recurrent.NumLayers);
        try
        {
            for (var i = 0; i < Spec.Recurrent.NumLayers; i++)
            {
                layers.Add(new TorchLayer(Spec.Recurrent.Layer(i), weights.Layers[i], device));
            }

            if (weights.HeadWeight is { } hw)
            {
                _headWeight = Upload(hw, device);
                _headBias = weights.HeadBias is { } hb ? Upload(hb, device) : null;
            }
        }
        catch
        {
            layers.ForEach(l => l.Dispose());
            _headWeight?.Dispose();
            throw;
        }

        _layers = [.. layers];
        try
        {
            Kernels = KernelCheck.Run(this, weights, _headWeight is null ? null : new SinglePath(KernelRole.Head, HeadPath), everyPath);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The head's only path: libtorch's linear (addmm).</summary>
    public const string HeadPath = "libtorch-linear";

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public ModelSpec Spec { get; }

    /// <inheritdoc />
    public IReadOnlyList<IRecurrentLayer> Layers => _layers;

    /// <inheritdoc />
    public KernelReport Kernels { get; }

    /// <inheritdoc />
    public void Embed(ReadOnlyMemory<int> ids, Memory<float> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EmbeddingLookup.Copy(Spec, _embedding, ids, output);
    }

    /// <inheritdoc />
    public void ApplyHead(ReadOnlyMemory<float> input, int rows, Memory<float> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_headWeight is null || Spec.Head is not { } head)
        {
            throw new InvalidOperationException(
                $"the model has no head: its output is the recurrent output of {Spec.RecurrentOutputSize} features per step.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        var features = Spec.RecurrentOutputSize;
        BufferChecks.Length(nameof(input), (long)rows * features, input.Length, $"rows ({rows}) x recurrent output size ({features})");
        BufferChecks.Length(nameof(output), (long)rows * head.OutFeatures, output.Length, $"rows ({rows}) x out_features ({head.OutFeatures})");
        if (rows == 0)
        {
            return;
        }

        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var x = DeviceTransfer.Upload(input.Span, [rows, features], _headWeight.device);
        DeviceTransfer.Download(nn.functional.linear(x, _headWeight, _headBias), output.Span);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }

        _headWeight?.Dispose();
        _headBias?.Dispose();
    }

    private static Tensor Upload(FloatTensor t, Device device)
    {
        using var scope = NewDisposeScope();
        return DeviceTransfer.Upload(t.Data.Span, t.Shape.Select(d => (long)d).ToArray(), device).DetachFromDisposeScope();
    }
}
