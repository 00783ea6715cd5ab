using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>The server holds at most its connection limit; the ones over it are told so and closed, and it serves again once connections end.</summary>
public sealed class ConnectionLimitTests
{
    /// <summary>Connects until the server welcomes the connection: a slot frees only once an ended connection's socket is closed.</summary>
    internal static async Task<StreamingClient> ConnectWhenRoomAsync(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await StreamingClient.ConnectAsync("127.0.0.1", port);
            }
            catch (StreamingClientException refused) when (refused.ProtocolCode == ProtocolErrorCode.TooManyConnections && attempt < 10_000)
            {
                await Task.Yield();
            }
        }
    }

    [Fact]
    public async Task A_connection_over_the_limit_gets_TooManyConnections_and_is_closed_while_the_others_are_served()
    {
        await using var scope = await ServerScope.StartAsync(options: new ServerOptions { MaxConnections = 3 });
        Assert.Equal(3, scope.Server.MaxConnections);
        var held = new List<RawConnection>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await RawConnection.ConnectAsync(scope.Port));
        }

        await using (var over = await RawConnection.ConnectAsync(scope.Port, hello: false))
        {
            var refusal = await over.ReadErrorAsync();
            Assert.Equal((ushort)ProtocolErrorCode.TooManyConnections, refusal.Code);
            Assert.Equal("", refusal.Session);
            Assert.Equal(0UL, refusal.Sequence);
            Assert.True(refusal.EndsConnection);
            Assert.Contains("3 connection(s)", refusal.Message, StringComparison.Ordinal);
            Assert.Empty(await over.ReadToEndAsync());
        }

        Assert.Equal(1, scope.Server.Statistics.ConnectionsRefused);
        foreach (var connection in held)
        {
            await connection.SendAsync(new PingFrame(7));
            Assert.Equal(7UL, Assert.IsType<PongFrame>(await connection.ReadAsync()).Nonce);
        }

        await held[0].DisposeAsync();
        await using var next = await ConnectWhenRoomAsync(scope.Port);
        Assert.True(await next.PingAsync() >= TimeSpan.Zero);
        foreach (var connection in held.Skip(1))
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public void The_default_limit_is_what_the_descriptor_limit_leaves_less_an_eighth_of_it_and_at_least_64()
    {
        Assert.Equal(248, ServerOptions.DerivedMaxConnections(512, open: 200));
        Assert.Equal(696, ServerOptions.DerivedMaxConnections(1024, open: 200));
        Assert.Equal(57_144, ServerOptions.DerivedMaxConnections(65_536, open: 200));
        Assert.Equal(1, ServerOptions.DerivedMaxConnections(256, open: 200));
        Assert.Equal(16_384, ServerOptions.DerivedMaxConnections(null, open: 200));
    }

    [Fact]
    public void A_configured_limit_holds_where_the_descriptors_allow_it_and_is_lowered_to_the_derived_one_where_they_do_not()
    {
        Assert.Equal(3, ServerOptions.ConnectionLimit(3, descriptors: 512, open: 200));
        Assert.Equal(248, ServerOptions.ConnectionLimit(248, descriptors: 512, open: 200));
        Assert.Equal(248, ServerOptions.ConnectionLimit(100_000, descriptors: 512, open: 200));
        Assert.Equal(248, ServerOptions.ConnectionLimit(null, descriptors: 512, open: 200));
        Assert.Equal(100_000, ServerOptions.ConnectionLimit(100_000, descriptors: null, open: 200));
        Assert.Equal(16_384, ServerOptions.ConnectionLimit(null, descriptors: null, open: 200));
    }
}
