using System.Buffers.Binary;
using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

public sealed class StoredSessionTests
{
    // Found by scripts/fuzz.sh snapshot (afl-fuzz, 30 s in): a stored session whose last use lies outside the years
    // DateTimeOffset holds escaped StoredSession.FromBytes as ArgumentOutOfRangeException instead of MalformedSnapshot.
    private const string LastUseBeyondTheCalendar =
        "01000016fb96a1efff00524e4e5370415031110000006772752d653038326602003639393864306471356333643836333132393036306564393637333737626330626432326266312d6269646972696f6e6105000000000000640100000008000000000000bf0000c0bc000080be0074696f6e616c40000000336437373538356634650000be522100000000003e20000000803e0000643064653563336438363331326164366330323139383930363065643936c03e00000000";

    [Fact]
    public void A_last_use_beyond_the_calendar_is_refused_as_a_malformed_snapshot()
    {
        var e = Assert.Throws<EngineException>(() => StoredSession.FromBytes(Convert.FromHexString(LastUseBeyondTheCalendar)));

        Assert.Equal(EngineErrorCode.MalformedSnapshot, e.Code);
        Assert.Contains("last use is 72039596363027968 ms after 1970-01-01; expected -62135596800000 to 253402300799999", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-62_135_596_800_000L)]
    [InlineData(0L)]
    [InlineData(253_402_300_799_999L)]
    public void A_tombstone_at_either_end_of_the_calendar_reads_back(long milliseconds)
    {
        var tombstone = StoredSession.Expired(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));

        var read = StoredSession.FromBytes(tombstone.ToBytes());

        Assert.True(read.IsExpired);
        Assert.Equal(milliseconds, read.LastUsed.ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData(-62_135_596_800_001L)]
    [InlineData(253_402_300_800_000L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    public void A_last_use_one_past_either_end_is_refused(long milliseconds)
    {
        var bytes = StoredSession.Expired(DateTimeOffset.UnixEpoch).ToBytes();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), milliseconds);

        var e = Assert.Throws<EngineException>(() => StoredSession.FromBytes(bytes));

        Assert.Equal(EngineErrorCode.MalformedSnapshot, e.Code);
    }

    private static readonly ModelIdentity Model = new("m", new string('a', 64));

    [Fact]
    public void A_stored_session_written_before_outputs_were_kept_still_loads_without_outputs()
    {
        var snapshot = new SessionSnapshot(Model, 3, [new LayerState(new float[] { 0.5f, -1 }, ReadOnlyMemory<float>.Empty)]);
        // Version 1: version, flags, last use, then the snapshot's bytes.
        var bytes = new byte[10].Concat(snapshot.ToBytes()).ToArray();
        bytes[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), 1234);

        var read = StoredSession.FromBytes(bytes);

        Assert.Equal((3L, 1234L), (read.Snapshot!.Position, read.LastUsed.ToUnixTimeMilliseconds()));
        Assert.Equal(snapshot.ToBytes(), read.Snapshot.ToBytes());
        Assert.Null(read.Outputs);
    }

    [Fact]
    public void Recent_outputs_round_trip_bit_for_bit_and_cost_16_bytes_plus_4_a_float()
    {
        var snapshot = new SessionSnapshot(Model, 7, [new LayerState(new float[] { 1, 2 }, new float[] { 3, 4 })]);
        var outputs = new RecentOutputs(4, 2, new[] { 0.25f, float.Epsilon, -0f, 1e30f, BitConverter.Int32BitsToSingle(0x7FC00123), 6 });
        var without = new StoredSession(snapshot, DateTimeOffset.UnixEpoch).ToBytes();

        var bytes = new StoredSession(snapshot, DateTimeOffset.UnixEpoch) { Outputs = outputs }.ToBytes();
        var read = StoredSession.FromBytes(bytes);

        Assert.Equal(without.Length + 4 * 6, bytes.Length);
        Assert.Equal(10 + 16 + snapshot.ToBytes().Length, without.Length);
        Assert.Equal((4L, 2, 3), (read.Outputs!.First, read.Outputs.Width, read.Outputs.Count));
        Assert.Equal(outputs.Values.ToArray().Select(BitConverter.SingleToInt32Bits), read.Outputs.Values.ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(snapshot.ToBytes(), read.Snapshot!.ToBytes());
    }

    [Fact]
    public void Outputs_that_reach_past_the_snapshots_position_are_refused_as_malformed()
    {
        var snapshot = new SessionSnapshot(Model, 5, []);
        var bytes = new StoredSession(snapshot, DateTimeOffset.UnixEpoch) { Outputs = new RecentOutputs(4, 1, new float[] { 1, 2 }) }.ToBytes();

        var e = Assert.Throws<EngineException>(() => StoredSession.FromBytes(bytes));

        Assert.Equal(EngineErrorCode.MalformedSnapshot, e.Code);
        Assert.Contains("keeps outputs of positions 4 to 5, but its snapshot is at position 5", e.Message, StringComparison.Ordinal);
    }
}
