using Streaming;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>The engine's error codes and the client's session error codes are one list of docs/protocol.md, in two assemblies.</summary>
public sealed class ErrorCodeTests
{
    [Fact]
    public void Every_engine_error_code_is_the_session_error_code_of_the_same_name_and_number_and_no_other_exists()
    {
        var engine = Enum.GetValues<EngineErrorCode>().Select(c => (c.ToString(), (int)c)).ToList();
        var session = Enum.GetValues<SessionErrorCode>().Select(c => (c.ToString(), (int)c)).ToList();
        Assert.Equal(engine, session);
        Assert.All(session, c => Assert.InRange(c.Item2, 1, 99));
    }
}
