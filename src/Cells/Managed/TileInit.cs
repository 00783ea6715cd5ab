namespace Streaming.Cells.Managed;

/// <summary>What a micro-tile's accumulators start from.</summary>
internal enum TileInit
{
    Zero,
    Bias,
    Load,
}
