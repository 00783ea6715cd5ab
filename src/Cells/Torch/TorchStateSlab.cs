using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// One layer's per-session state resident on the device: h is (capacity, directions * output size)
/// and c is (capacity, directions * hidden size) for LSTM. Batched steps gather rows with
/// <c>index_select</c> and scatter them back with <c>index_copy_</c>. Growth doubles the capacity and
/// keeps every slot's contents. The tensors are long-lived on purpose: they belong to no dispose scope
/// and are released by <see cref="Dispose"/>.
/// </summary>
internal sealed class TorchStateSlab : IStateSlab
{
    private readonly Device _device;
    private readonly SlotTable _slots;
    private Tensor _h;
    private Tensor? _c;
    private bool _disposed;

    /// <summary>Creates an all-zero slab; <paramref name="owner"/> is the layer that may step it.</summary>
    public TorchStateSlab(object owner, LayerShape shape, Device device, int initialCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        Owner = owner;
        Shape = shape;
        _device = device;
        _slots = new SlotTable(initialCapacity);
        using var inference = inference_mode();
        _h = zeros(new long[] { initialCapacity, shape.SlotHSize }, ScalarType.Float32, device).DetachFromDisposeScope();
        _c = shape.HasCellState
            ? zeros(new long[] { initialCapacity, shape.SlotCSize }, ScalarType.Float32, device).DetachFromDisposeScope()
            : null;
    }

    /// <inheritdoc />
    public LayerShape Shape { get; }

    /// <inheritdoc />
    public int Capacity => _slots.Capacity;

    /// <inheritdoc />
    public int Count => _slots.Count;

    /// <summary>The layer that created this slab; only it may step it.</summary>
    internal object Owner { get; }

    /// <summary>Every slot's h: (capacity, directions * output size) on the device.</summary>
    internal Tensor H => Live(_h);

    /// <summary>Every slot's c: (capacity, directions * hidden size) for LSTM; null otherwise.</summary>
    internal Tensor? C => _c is null ? null : Live(_c);

    /// <summary>The allocation table, for the owning layer's batch checks.</summary>
    internal SlotTable Slots => _slots;

    /// <inheritdoc />
    public int Allocate()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_slots.IsFull)
        {
            Grow(Math.Max(1, checked(Capacity * 2)));
        }

        var slot = _slots.Take();

        // A reused slot still holds its previous session's state; never-used rows are zeros already,
        // but zeroing always is one tiny kernel and keeps the rule obvious.
        ZeroRows(slot);
        return slot;
    }

    /// <inheritdoc />
    public void Free(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _slots.Release(slot);
    }

    /// <inheritdoc />
    public void Zero(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _slots.RequireAllocated(slot, nameof(slot));
        ZeroRows(slot);
    }

    /// <inheritdoc />
    public SlotState Read(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _slots.RequireAllocated(slot, nameof(slot));
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var h = new float[Shape.SlotHSize];
        DeviceTransfer.Download(_h[slot], h);
        var c = Array.Empty<float>();
        if (_c is not null)
        {
            c = new float[Shape.SlotCSize];
            DeviceTransfer.Download(_c[slot], c);
        }

        return new SlotState(h, c);
    }

    /// <inheritdoc />
    public void Write(int slot, SlotState state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        _slots.RequireAllocated(slot, nameof(slot));
        BufferChecks.Length("state.H", Shape.SlotHSize, state.H.Length, $"directions ({Shape.Directions}) x output size ({Shape.OutputSize})");
        var cLayout = Shape.HasCellState
            ? $"directions ({Shape.Directions}) x hidden size ({Shape.HiddenSize})"
            : $"none: {Shape.Mode.ToTorchName()} has no cell state";
        BufferChecks.Length("state.C", Shape.SlotCSize, state.C.Length, cLayout);
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        DeviceTransfer.CopyInto(state.H.Span, _h[slot]);
        if (_c is not null)
        {
            DeviceTransfer.CopyInto(state.C.Span, _c[slot]);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _h.Dispose();
        _c?.Dispose();
    }

    private Tensor Live(Tensor t)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return t;
    }

    private void ZeroRows(int slot)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        _h[slot].zero_();
        _c?[slot].zero_();
    }

    private void Grow(int capacity)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        _h = Regrow(_h, capacity);
        if (_c is not null)
        {
            _c = Regrow(_c, capacity);
        }

        _slots.Grow(capacity);
    }

    private Tensor Regrow(Tensor old, int capacity)
    {
        var grown = zeros(new long[] { capacity, old.shape[1] }, ScalarType.Float32, _device);
        grown.narrow(0, 0, old.shape[0]).copy_(old);
        grown.DetachFromDisposeScope();
        old.Dispose();
        return grown;
    }
}
