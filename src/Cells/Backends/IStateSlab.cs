using Streaming.Cells.Model;

namespace Streaming.Cells.Backends;

/// <summary>
/// The per-layer state of many sessions, one slot each, resident where the backend computes (host
/// memory for Managed, the device for Torch). Batched steps gather and scatter slots by index. Not
/// thread-safe: one owner (a layer stage) uses it at a time.
/// </summary>
public interface IStateSlab : IDisposable
{
    /// <summary>The layer whose state this holds.</summary>
    LayerShape Shape { get; }

    /// <summary>Slots available before the slab grows.</summary>
    int Capacity { get; }

    /// <summary>Slots currently allocated.</summary>
    int Count { get; }

    /// <summary>Allocates a slot whose h and c are zeros (PyTorch's default h_0/c_0), growing the slab if needed.</summary>
    int Allocate();

    /// <summary>Returns <paramref name="slot"/> to the free list; a later <see cref="Allocate"/> may reuse it, zeroed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The slot is not allocated.</exception>
    void Free(int slot);

    /// <summary>Sets the slot's h and c to zeros.</summary>
    void Zero(int slot);

    /// <summary>Copies the slot's state out (for snapshots).</summary>
    SlotState Read(int slot);

    /// <summary>Overwrites the slot's state (for restores).</summary>
    /// <exception cref="ArgumentException">H or C does not have the layer's slot sizes.</exception>
    void Write(int slot, SlotState state);
}
