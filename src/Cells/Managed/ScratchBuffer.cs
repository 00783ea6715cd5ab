using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Streaming.Cells.Managed;

/// <summary>
/// A pinned, zero-initialised float buffer that grows only when asked for more than it holds, so the
/// steady state reuses it without allocating and without pinning on every call.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    private float[] _array = [];

    /// <summary>A pointer to at least <paramref name="length"/> floats; contents survive only until the buffer grows.</summary>
    public float* Ensure(int length)
    {
        if (length > _array.Length || Pointer == null)
        {
            // Half again on each growth, so a batch creeping up one session at a time reallocates rarely.
            _array = GC.AllocateArray<float>(Math.Max(Math.Max(length, 1), _array.Length + _array.Length / 2), pinned: true);
            Pointer = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        }

        return Pointer;
    }

    /// <summary>The current buffer, or null before the first <see cref="Ensure"/>.</summary>
    public float* Pointer { get; private set; }
}
