using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Cells.Managed;

/// <summary>
/// Per-session state in host arrays: slot s holds h at <c>H[s * SlotHSize ..]</c> and c at
/// <c>C[s * SlotCSize ..]</c>, forward direction first. Freed slots are reused; growth doubles the
/// arrays and keeps their contents.
/// </summary>
internal sealed class ManagedStateSlab : IStateSlab
{
    private float[] _h;
    private float[] _c;
    private bool[] _allocated;
    private int[] _free;
    private int _freeCount;
    private int _used;
    private int[] _marks;
    private int _mark;
    private bool _disposed;

    public ManagedStateSlab(ManagedLayer owner, int initialCapacity)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        Owner = owner;
        Shape = owner.Shape;
        _h = new float[initialCapacity * Shape.SlotHSize];
        _c = new float[initialCapacity * Shape.SlotCSize];
        _allocated = new bool[initialCapacity];
        _free = new int[initialCapacity];
        _marks = new int[initialCapacity];
        Capacity = initialCapacity;
    }

    /// <summary>The layer that created this slab; only it may step with it.</summary>
    public ManagedLayer Owner { get; }

    public LayerShape Shape { get; }

    public int Capacity { get; private set; }

    public int Count { get; private set; }

    /// <summary>All slots' h, slot-major.</summary>
    public float[] H => _h;

    /// <summary>All slots' c, slot-major; empty without cell state.</summary>
    public float[] C => _c;

    public int Allocate()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int slot;
        if (_freeCount > 0)
        {
            slot = _free[--_freeCount];
        }
        else
        {
            if (_used == Capacity)
            {
                Grow();
            }

            slot = _used++;
        }

        _allocated[slot] = true;
        Count++;
        ZeroState(slot);
        return slot;
    }

    public void Free(int slot)
    {
        RequireAllocated(slot);
        _allocated[slot] = false;
        _free[_freeCount++] = slot;
        Count--;
    }

    public void Zero(int slot)
    {
        RequireAllocated(slot);
        ZeroState(slot);
    }

    public SlotState Read(int slot)
    {
        RequireAllocated(slot);
        return new SlotState(
            _h.AsSpan(slot * Shape.SlotHSize, Shape.SlotHSize).ToArray(),
            _c.AsSpan(slot * Shape.SlotCSize, Shape.SlotCSize).ToArray());
    }

    public void Write(int slot, SlotState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        RequireAllocated(slot);
        if (state.H.Length != Shape.SlotHSize)
        {
            throw new ArgumentException(
                $"state.H has {state.H.Length} floats; layer {Shape.Index} expects {Shape.SlotHSize} " +
                $"(directions {Shape.Directions} x output size {Shape.OutputSize}).", nameof(state));
        }

        if (state.C.Length != Shape.SlotCSize)
        {
            throw new ArgumentException(
                Shape.HasCellState
                    ? $"state.C has {state.C.Length} floats; layer {Shape.Index} expects {Shape.SlotCSize} " +
                      $"(directions {Shape.Directions} x hidden size {Shape.HiddenSize})."
                    : $"state.C has {state.C.Length} floats; layer {Shape.Index} ({Shape.Mode.ToTorchName()}) has no cell state, so it must be empty.",
                nameof(state));
        }

        state.H.Span.CopyTo(_h.AsSpan(slot * Shape.SlotHSize));
        state.C.Span.CopyTo(_c.AsSpan(slot * Shape.SlotCSize));
    }

    /// <summary>Throws unless every slot is allocated and none appears twice.</summary>
    public void ValidateBatch(ReadOnlySpan<int> slots)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // A fresh mark per batch makes the duplicate check O(batch) without clearing anything.
        if (++_mark == int.MaxValue)
        {
            Array.Clear(_marks);
            _mark = 1;
        }

        for (var i = 0; i < slots.Length; i++)
        {
            var slot = slots[i];
            RequireAllocated(slot);
            if (_marks[slot] == _mark)
            {
                throw new ArgumentException(
                    $"slot {slot} appears more than once in the batch (again at position {i}); a session may take one step per batch.",
                    nameof(slots));
            }

            _marks[slot] = _mark;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _h = _c = [];
        _allocated = [];
        _free = _marks = [];
        Capacity = Count = 0;
    }

    private void RequireAllocated(int slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)slot >= (uint)_used || !_allocated[slot])
        {
            throw new ArgumentOutOfRangeException(
                nameof(slot), slot, $"slot {slot} is not allocated in this slab of layer {Shape.Index} ({Count} slots in use, capacity {Capacity}).");
        }
    }

    private void ZeroState(int slot)
    {
        _h.AsSpan(slot * Shape.SlotHSize, Shape.SlotHSize).Clear();
        _c.AsSpan(slot * Shape.SlotCSize, Shape.SlotCSize).Clear();
    }

    private void Grow()
    {
        var capacity = Math.Max(4, checked(Capacity * 2));
        Array.Resize(ref _h, capacity * Shape.SlotHSize);
        Array.Resize(ref _c, capacity * Shape.SlotCSize);
        Array.Resize(ref _allocated, capacity);
        Array.Resize(ref _free, capacity);
        Array.Resize(ref _marks, capacity);
        Capacity = capacity;
    }
}
