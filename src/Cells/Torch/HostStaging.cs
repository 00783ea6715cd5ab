using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// Host tensors reused across batched steps of one layer, so a step allocates no host memory when the
/// batch size repeats (or shrinks). On the CPU the staged tensors are the device tensors, and the input
/// costs exactly one copy. Not thread-safe: a layer is not re-entrant.
/// </summary>
internal sealed class HostStaging : IDisposable
{
    private readonly Device _device;
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private Tensor? _input;
    private Tensor? _indices;
    private Tensor? _output;

    /// <summary>Creates empty staging for rows of <paramref name="inputWidth"/> floats in and <paramref name="outputWidth"/> out.</summary>
    public HostStaging(Device device, int inputWidth, int outputWidth)
    {
        _device = device;
        _inputWidth = inputWidth;
        _outputWidth = outputWidth;
    }

    /// <summary>
    /// The rows as a (rows, width) tensor on the device. The result joins the caller's dispose scope;
    /// on the CPU it is a view of the staging buffer, valid until the next call.
    /// </summary>
    public Tensor Input(ReadOnlySpan<float> values, int rows)
    {
        _input = Reserve(_input, rows, _inputWidth, ScalarType.Float32);
        var view = _input.narrow(0, 0, rows);
        MemoryMarshal.AsBytes(values).CopyTo(view.bytes);
        return _device.type == DeviceType.CPU ? view : view.to(_device);
    }

    /// <summary>The slots as an int64 index tensor on the device (index_select and index_copy_ want int64).</summary>
    public Tensor Indices(ReadOnlySpan<int> slots)
    {
        _indices = Reserve(_indices, slots.Length, 0, ScalarType.Int64);
        var view = _indices.narrow(0, 0, slots.Length);
        var target = MemoryMarshal.Cast<byte, long>(view.bytes);
        for (var i = 0; i < slots.Length; i++)
        {
            target[i] = slots[i];
        }

        return _device.type == DeviceType.CPU ? view : view.to(_device);
    }

    /// <summary>Copies a (rows, output width) device tensor to <paramref name="destination"/>, through a reused host buffer off the CPU.</summary>
    public void Output(Tensor source, Span<float> destination)
    {
        if (_device.type == DeviceType.CPU)
        {
            DeviceTransfer.Download(source, destination);
            return;
        }

        var rows = (int)source.shape[0];
        _output = Reserve(_output, rows, _outputWidth, ScalarType.Float32);
        var view = _output.narrow(0, 0, rows);
        view.copy_(source);
        MemoryMarshal.Cast<byte, float>(view.bytes).CopyTo(destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _input?.Dispose();
        _indices?.Dispose();
        _output?.Dispose();
        _input = _indices = _output = null;
    }

    // Grows by doubling so a slowly rising batch size reallocates only O(log n) times; the buffer is
    // long-lived, so it is detached from whatever dispose scope is open.
    private static Tensor Reserve(Tensor? current, int rows, int columns, ScalarType type)
    {
        if (current is not null && current.shape[0] >= rows)
        {
            return current;
        }

        var capacity = Math.Max(rows, current is null ? 0 : (int)Math.Min(int.MaxValue, current.shape[0] * 2));
        current?.Dispose();
        var shape = columns > 0 ? new long[] { capacity, columns } : new long[] { capacity };
        return empty(shape, type).DetachFromDisposeScope();
    }
}
