using System.Buffers.Binary;

namespace Streaming.Persistence;

/// <summary>
/// What a <see cref="ISnapshotStore"/> holds for one session: its latest persisted snapshot, or, once the session
/// expired, a tombstone that remembers it did (so a client that comes back is told, rather than silently given a
/// new session). <see cref="LastUsed"/> is when the session last took an operation; expiry counts from it.
/// </summary>
/// <param name="Snapshot">The session's state; null for a tombstone (the session expired).</param>
/// <param name="LastUsed">When the session last took an operation (UTC).</param>
public sealed record StoredSession(SessionSnapshot? Snapshot, DateTimeOffset LastUsed)
{
    // Version 1: header and snapshot. Version 2 (written since the sessions keep their recent outputs): header, the
    // recent outputs, then the snapshot. Both are read.
    private const byte FormatVersion = 2;
    private const byte FirstVersion = 1;
    private const byte ExpiredFlag = 1;
    private const int HeaderSize = 10;
    private const int OutputsHeaderSize = 16;

    // The range DateTimeOffset holds; FromUnixTimeMilliseconds throws outside it.
    private static readonly long MinUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>
    /// The outputs of the session's most recent tokens at <see cref="SessionSnapshot.Position"/> (null: none kept); a
    /// resent token among them is answered DuplicateToken with its output after the session resumes from this copy.
    /// </summary>
    public RecentOutputs? Outputs { get; init; }

    /// <summary>Whether this is a tombstone: the session expired and its state was deleted.</summary>
    public bool IsExpired => Snapshot is null;

    /// <summary>A tombstone for a session that expired after last being used at <paramref name="lastUsed"/>.</summary>
    public static StoredSession Expired(DateTimeOffset lastUsed) => new(null, lastUsed);

    /// <summary>
    /// The binary form stores keep, little-endian: a version byte (2), a flags byte (1 = tombstone), the last use as
    /// i64 Unix milliseconds; then, except for a tombstone, the recent outputs (the first one's position as i64, their
    /// count and width as i32, count x width f32) and the snapshot's own bytes (<see cref="SessionSnapshot.ToBytes"/>).
    /// Version 1, without the outputs, is still read.
    /// </summary>
    public byte[] ToBytes()
    {
        var snapshot = Snapshot?.ToBytes() ?? [];
        var outputs = IsExpired ? 0 : OutputsHeaderSize + 4 * (Outputs?.Values.Length ?? 0);
        var bytes = new byte[HeaderSize + outputs + snapshot.Length];
        bytes[0] = FormatVersion;
        bytes[1] = IsExpired ? ExpiredFlag : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), LastUsed.ToUnixTimeMilliseconds());
        if (!IsExpired)
        {
            WriteOutputs(bytes.AsSpan(HeaderSize, outputs), Outputs, Snapshot!.Position);
        }

        snapshot.CopyTo(bytes.AsSpan(HeaderSize + outputs));
        return bytes;
    }

    /// <summary>Reads the binary form.</summary>
    /// <exception cref="EngineException">The bytes are truncated or of another format (code <see cref="EngineErrorCode.MalformedSnapshot"/>).</exception>
    public static StoredSession FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize)
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot, $"a stored session has {bytes.Length} byte(s); expected at least {HeaderSize}.");
        }

        var version = bytes[0];
        if (version is not (FirstVersion or FormatVersion))
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot, $"a stored session has format version {version}; expected {FirstVersion} or {FormatVersion}.");
        }

        var flags = bytes[1];
        if ((flags & ~ExpiredFlag) != 0)
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot, $"a stored session has flags 0x{flags:X2}; expected 0 or 1.");
        }

        var milliseconds = BinaryPrimitives.ReadInt64LittleEndian(bytes[2..]);
        if (milliseconds < MinUnixMilliseconds || milliseconds > MaxUnixMilliseconds)
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot,
                $"a stored session's last use is {milliseconds} ms after 1970-01-01; expected {MinUnixMilliseconds} to {MaxUnixMilliseconds} (years 1 to 9999).");
        }

        var lastUsed = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        var rest = bytes[HeaderSize..];
        if (flags == ExpiredFlag)
        {
            if (!rest.IsEmpty)
            {
                throw new EngineException(EngineErrorCode.MalformedSnapshot, $"a stored tombstone has {rest.Length} byte(s) after its header; expected none.");
            }

            return Expired(lastUsed);
        }

        if (version == FirstVersion)
        {
            return new StoredSession(SessionSnapshot.FromBytes(rest), lastUsed);
        }

        var outputs = ReadOutputs(ref rest);
        var snapshot = SessionSnapshot.FromBytes(rest);
        if (outputs is not null && (outputs.End > snapshot.Position || outputs.First < 0))
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot,
                $"a stored session keeps outputs of positions {outputs.First} to {outputs.End - 1}, but its snapshot is at position {snapshot.Position}; expected them before it.");
        }

        return new StoredSession(snapshot, lastUsed) { Outputs = outputs };
    }

    private static void WriteOutputs(Span<byte> span, RecentOutputs? outputs, long position)
    {
        BinaryPrimitives.WriteInt64LittleEndian(span, outputs?.First ?? position);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], outputs?.Count ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], outputs?.Width ?? 0);
        var values = outputs is null ? [] : outputs.Values.Span;
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[(OutputsHeaderSize + 4 * i)..], values[i]);
        }
    }

    private static RecentOutputs? ReadOutputs(ref ReadOnlySpan<byte> rest)
    {
        if (rest.Length < OutputsHeaderSize)
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot, $"a stored session ends {rest.Length} byte(s) into its recent outputs' header; expected {OutputsHeaderSize}.");
        }

        var first = BinaryPrimitives.ReadInt64LittleEndian(rest);
        var count = BinaryPrimitives.ReadInt32LittleEndian(rest[8..]);
        var width = BinaryPrimitives.ReadInt32LittleEndian(rest[12..]);
        var floats = (long)count * width;
        if (count < 0 || width < 0 || (count > 0 && width == 0) || 4 * floats > rest.Length - OutputsHeaderSize)
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot,
                $"a stored session keeps {count} recent output(s) of {width} float(s); expected counts that fit the {rest.Length - OutputsHeaderSize} byte(s) left.");
        }

        var values = new float[floats];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(rest[(OutputsHeaderSize + 4 * i)..]);
        }

        rest = rest[(OutputsHeaderSize + 4 * (int)floats)..];
        return count == 0 ? null : new RecentOutputs(first, width, values);
    }
}
