namespace Streaming.Cells.Backends;

/// <summary>
/// The widest instructions the Managed backend's matrix kernel may use. The kernel check starts there and falls back
/// to narrower widths if a width disagrees with the float64 reference. Forcing a narrower width covers the paths a
/// CPU without AVX-512 (or without AVX2) takes; forcing <see cref="Vector512"/> on such a CPU runs .NET's software
/// emulation of it (correct, and slow).
/// </summary>
public enum KernelWidth
{
    /// <summary>The widest width this CPU accelerates: Vector512 with AVX-512, Vector256 with AVX2 and FMA, else scalar.</summary>
    Auto,

    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512,

    /// <summary>256-bit vectors with fused multiply-add (AVX2 + FMA).</summary>
    Vector256,

    /// <summary>Scalar fused multiply-add: no vector extension needed.</summary>
    Scalar,
}
