namespace Streaming.Cells.Torch;

/// <summary>
/// Host-side bookkeeping of a slab's slots: which are allocated, a free list for reuse, and a
/// per-batch mark that finds a slot listed twice in one step without allocating.
/// </summary>
internal sealed class SlotTable
{
    private readonly Stack<int> _free = new();
    private bool[] _allocated;
    private int[] _batchMark;
    private int _batchEpoch;
    private int _highWater;

    /// <summary>Creates a table with room for <paramref name="capacity"/> slots.</summary>
    public SlotTable(int capacity)
    {
        _allocated = new bool[capacity];
        _batchMark = new int[capacity];
    }

    /// <summary>Slots that fit before the owner must grow.</summary>
    public int Capacity => _allocated.Length;

    /// <summary>Slots allocated now.</summary>
    public int Count { get; private set; }

    /// <summary>Whether <see cref="Take"/> needs a larger capacity first.</summary>
    public bool IsFull => _free.Count == 0 && _highWater == Capacity;

    /// <summary>Extends the table to <paramref name="capacity"/> slots; existing slots keep their state.</summary>
    public void Grow(int capacity)
    {
        Array.Resize(ref _allocated, capacity);
        Array.Resize(ref _batchMark, capacity);
    }

    /// <summary>Marks a slot allocated: the most recently freed one first, else the next never-used one.</summary>
    public int Take()
    {
        var slot = _free.Count > 0 ? _free.Pop() : _highWater++;
        _allocated[slot] = true;
        Count++;
        return slot;
    }

    /// <summary>Returns an allocated slot to the free list.</summary>
    public void Release(int slot)
    {
        RequireAllocated(slot, nameof(slot));
        _allocated[slot] = false;
        _free.Push(slot);
        Count--;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the slot unless it is allocated.</summary>
    public void RequireAllocated(int slot, string parameterName)
    {
        if ((uint)slot >= (uint)_allocated.Length || !_allocated[slot])
        {
            throw new ArgumentOutOfRangeException(
                parameterName, slot, $"slot {slot} is not allocated in this slab (capacity {Capacity}, {Count} slots allocated).");
        }
    }

    /// <summary>Checks a step's slots: each allocated, none listed twice.</summary>
    public void RequireBatch(ReadOnlySpan<int> slots, string parameterName)
    {
        // A fresh epoch per batch makes "seen in this batch" a single int compare, with no clearing.
        if (++_batchEpoch == int.MaxValue)
        {
            Array.Clear(_batchMark);
            _batchEpoch = 1;
        }

        for (var i = 0; i < slots.Length; i++)
        {
            var slot = slots[i];
            if ((uint)slot >= (uint)_allocated.Length || !_allocated[slot])
            {
                throw new ArgumentOutOfRangeException(
                    parameterName, slot, $"{parameterName}[{i}] is slot {slot}, which is not allocated in this slab (capacity {Capacity}, {Count} slots allocated).");
            }

            if (_batchMark[slot] == _batchEpoch)
            {
                throw new ArgumentException(
                    $"{parameterName}[{i}] is slot {slot}, which appears earlier in the same batch; a session may appear at most once per step.", parameterName);
            }

            _batchMark[slot] = _batchEpoch;
        }
    }
}
