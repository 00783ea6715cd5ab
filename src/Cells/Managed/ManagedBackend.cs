using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Managed;

/// <summary>
/// The pure .NET backend: layers on the project's own SIMD matrix kernel and TensorPrimitives, state
/// in host arrays, and a small worker pool (threads - 1 background threads) shared by all layers.
/// </summary>
internal sealed unsafe class ManagedBackend : IRecurrentBackend
{
    private readonly WorkerPool? _pool;
    private readonly ManagedLayer[] _layers;
    private readonly FloatTensor? _embedding;
    private readonly PackedMatrix? _head;
    private readonly MatrixProduct _headProduct;
    private readonly object _headGate = new();
    private readonly SimdChoices _headWidth;

    /// <summary>Packs <paramref name="weights"/> and checks every compute path it may use.</summary>
    /// <param name="weights">The model.</param>
    /// <param name="options">Threads and the widest kernel width.</param>
    /// <param name="everyPath">Try every width of every role in the kernel check, not only until one passes (diagnostics).</param>
    /// <exception cref="KernelCheckException">No width of some role agrees with the float64 reference on this machine.</exception>
    public ManagedBackend(ModelWeights weights, BackendOptions options, bool everyPath = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        Spec = weights.Spec;
        var widest = Widest(options.Width);
        var threads = options.EffectiveThreads;
        _pool = threads > 1 ? new WorkerPool(threads - 1) : null;
        var recurrent = Spec.Recurrent;
        _layers = new ManagedLayer[recurrent.NumLayers];
        for (var i = 0; i < _layers.Length; i++)
        {
            _layers[i] = new ManagedLayer(recurrent.Layer(i), weights.Layers[i], _pool, widest);
        }

        Layers = Array.AsReadOnly<IRecurrentLayer>(_layers);
        _embedding = weights.Embedding;
        if (weights.HeadWeight is { } headWeight)
        {
            _head = new PackedMatrix(
                headWeight.Data.Span, headWeight.Shape[0], headWeight.Shape[1], weights.HeadBias is { } bias ? bias.Data.Span : default);
        }

        _headProduct = new MatrixProduct(_pool);
        _headWidth = new SimdChoices(widest, [], KernelRole.Head);
        try
        {
            Kernels = KernelCheck.Run(this, weights, _head is null ? null : _headWidth, everyPath);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name => "managed";

    public ModelSpec Spec { get; }

    public IReadOnlyList<IRecurrentLayer> Layers { get; }

    public KernelReport Kernels { get; }

    public void Embed(ReadOnlyMemory<int> ids, Memory<float> output)
    {
        EmbeddingLookup.Copy(Spec, _embedding, ids, output);
    }

    public void ApplyHead(ReadOnlyMemory<float> input, int rows, Memory<float> output)
    {
        if (_head is null)
        {
            throw new InvalidOperationException(
                $"the model has no head: its output is the recurrent output of size {Spec.RecurrentOutputSize}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int inputSize = _head.Columns, outputSize = _head.Rows;
        if (input.Length != rows * inputSize)
        {
            throw new ArgumentException(
                $"input has {input.Length} floats; expected {rows * inputSize} ({rows} row(s) x recurrent output size {inputSize}).", nameof(input));
        }

        if (output.Length != rows * outputSize)
        {
            throw new ArgumentException(
                $"output has {output.Length} floats; expected {rows * outputSize} ({rows} row(s) x out_features {outputSize}).", nameof(output));
        }

        // The head has one product entry; callers on different threads take turns.
        lock (_headGate)
        {
            fixed (float* x = input.Span)
            fixed (float* y = output.Span)
            {
                _headProduct.Multiply(x, inputSize, rows, _head, y, outputSize, accumulate: false, _headWidth[KernelRole.Head]);
            }
        }
    }

    /// <summary>The width a <see cref="KernelWidth"/> setting starts the kernel check at.</summary>
    internal static SimdLevel Widest(KernelWidth width) => width switch
    {
        KernelWidth.Auto => Gemm.DefaultLevel,
        KernelWidth.Vector512 => SimdLevel.Vector512,
        KernelWidth.Vector256 => SimdLevel.Vector256,
        KernelWidth.Scalar => SimdLevel.Scalar,
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "expected Auto, Vector512, Vector256 or Scalar."),
    };

    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }

        _pool?.Dispose();
    }
}
