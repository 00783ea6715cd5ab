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
    private const byte FormatVersion = 1;
    private const byte ExpiredFlag = 1;
    private const int HeaderSize = 10;

    // The range DateTimeOffset holds; FromUnixTimeMilliseconds throws outside it.
    private static readonly long MinUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>Whether this is a tombstone: the session expired and its state was deleted.</summary>
    public bool IsExpired => Snapshot is null;

    /// <summary>A tombstone for a session that expired after last being used at <paramref name="lastUsed"/>.</summary>
    public static StoredSession Expired(DateTimeOffset lastUsed) => new(null, lastUsed);

    /// <summary>
    /// The binary form stores keep: a version byte (1), a flags byte (1 = tombstone), the last use as i64 Unix
    /// milliseconds (little-endian), then the snapshot's own bytes (<see cref="SessionSnapshot.ToBytes"/>), absent
    /// for a tombstone.
    /// </summary>
    public byte[] ToBytes()
    {
        var snapshot = Snapshot?.ToBytes() ?? [];
        var bytes = new byte[HeaderSize + snapshot.Length];
        bytes[0] = FormatVersion;
        bytes[1] = IsExpired ? ExpiredFlag : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), LastUsed.ToUnixTimeMilliseconds());
        snapshot.CopyTo(bytes.AsSpan(HeaderSize));
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

        if (bytes[0] != FormatVersion)
        {
            throw new EngineException(EngineErrorCode.MalformedSnapshot, $"a stored session has format version {bytes[0]}; expected {FormatVersion}.");
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

        return new StoredSession(SessionSnapshot.FromBytes(rest), lastUsed);
    }
}
