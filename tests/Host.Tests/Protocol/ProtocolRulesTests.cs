using Streaming;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

public sealed class ProtocolRulesTests
{
    [Theory]
    [InlineData(ProtocolErrorCode.FrameTooLarge, null, true)]
    [InlineData(ProtocolErrorCode.TruncatedFrame, null, true)]
    [InlineData(ProtocolErrorCode.UnknownFrameType, null, true)]
    [InlineData(ProtocolErrorCode.BadHandshake, null, true)]
    [InlineData(ProtocolErrorCode.UnsupportedVersion, null, true)]
    [InlineData(ProtocolErrorCode.IdleTimeout, null, true)]
    [InlineData(ProtocolErrorCode.MalformedFrame, null, true)]
    [InlineData(ProtocolErrorCode.MalformedFrame, 4UL, false)]
    [InlineData(ProtocolErrorCode.InvalidSessionId, null, true)]
    [InlineData(ProtocolErrorCode.InvalidSessionId, 4UL, false)]
    [InlineData(ProtocolErrorCode.TooManySessions, 4UL, false)]
    [InlineData(ProtocolErrorCode.TooManyTokensInFlight, 4UL, false)]
    [InlineData(ProtocolErrorCode.UnexpectedFrame, null, false)]
    public void Framing_and_handshake_violations_close_the_connection_and_addressable_ones_do_not(ProtocolErrorCode code, ulong? sequence, bool closes) =>
        Assert.Equal(closes, new ProtocolException(code, "m", null, sequence).ClosesConnection);

    [Fact]
    public void Protocol_codes_start_at_100_above_every_engine_code()
    {
        Assert.All(Enum.GetValues<EngineErrorCode>(), c => Assert.InRange((int)c, 1, 99));
        Assert.All(Enum.GetValues<ProtocolErrorCode>(), c => Assert.InRange((int)c, 100, ushort.MaxValue));
    }

    [Fact]
    public void The_default_limits_are_the_documented_ones()
    {
        var limits = ProtocolLimits.Default;
        Assert.Equal(1 << 20, limits.MaxFrameBytes);
        Assert.Equal(1024, limits.MaxSessionsPerConnection);
        Assert.Equal(256, limits.MaxTokensInFlightPerSession);
        Assert.Equal(TimeSpan.FromMinutes(5), limits.IdleTimeout);
        limits.Validate();
    }

    public static TheoryData<ProtocolLimits, string> BadLimits => new()
    {
        { new ProtocolLimits { MaxFrameBytes = 1023 }, "MaxFrameBytes is 1023; expected 1024 to 1073741824 bytes." },
        { new ProtocolLimits { MaxFrameBytes = (1 << 30) + 1 }, "MaxFrameBytes is 1073741825" },
        { new ProtocolLimits { MaxSessionsPerConnection = 0 }, "MaxSessionsPerConnection is 0; expected at least 1." },
        { new ProtocolLimits { MaxTokensInFlightPerSession = -3 }, "MaxTokensInFlightPerSession is -3; expected at least 1." },
        { new ProtocolLimits { IdleTimeout = TimeSpan.FromSeconds(-1) }, "IdleTimeout is -00:00:01" },
        { new ProtocolLimits { IdleTimeout = TimeSpan.FromDays(50) }, "IdleTimeout is 50.00:00:00; expected zero (never) up to 4294967295 ms." },
    };

    [Theory]
    [MemberData(nameof(BadLimits))]
    public void Limits_out_of_range_are_refused_naming_the_setting(ProtocolLimits limits, string mention)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new FrameCodec(limits));
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_idle_timeout_travels_in_whole_milliseconds()
    {
        var codec = new FrameCodec();
        var welcome = new WelcomeFrame(1, "m", TokenKind.Vectors, 1, 1, ProtocolLimits.Default with { IdleTimeout = TimeSpan.FromTicks(150_009) });
        Assert.Equal(TimeSpan.FromMilliseconds(15), ((WelcomeFrame)codec.Decode(codec.Encode(welcome))).Limits.IdleTimeout);
    }
}
