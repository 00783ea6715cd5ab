namespace Streaming.Cells.Managed;

/// <summary>Which instruction width the matrix kernel uses; tests force the narrower ones to check every path.</summary>
internal enum SimdLevel
{
    Scalar,
    Vector256,
    Vector512,
}
