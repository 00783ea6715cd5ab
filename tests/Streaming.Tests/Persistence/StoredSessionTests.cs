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
}
