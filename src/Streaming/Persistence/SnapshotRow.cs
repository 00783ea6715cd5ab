namespace Streaming.Persistence;

/// <summary>
/// One row of the plugin's snapshot table as a batch writes it: the persistence id and sequence number (the primary
/// key), the creation time in <see cref="DateTime.Ticks"/> (UTC) and the serialized payload. The serializer id and
/// manifest are the same for every row of a store (<see cref="SnapshotTable"/>).
/// </summary>
internal readonly record struct SnapshotRow(string PersistenceId, long SequenceNr, long CreatedTicks, byte[] Payload);
