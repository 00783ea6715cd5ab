namespace Streaming.Host.Server;

/// <summary>
/// Frames encoded once, ready to be written: their bytes, how many frames they are, and the codes of the Error frames
/// among them (counted when written).
/// </summary>
internal sealed record EncodedFrames(byte[] Bytes, int Count, IReadOnlyList<ushort> ErrorCodes)
{
    public long Length => Bytes.LongLength;
}
