using Microsoft.Extensions.Configuration;
using Streaming.Client.Protocol;
using Streaming.Host.Server;
using Streaming.Host.Service;

namespace Host.Tests.Service;

/// <summary>What the shipped settings make `serve` announce and enforce on connections.</summary>
public sealed class ConnectionSettingsTests
{
    private static readonly string ConfigDirectory = Path.Combine(AppContext.BaseDirectory, "config");

    private static HostSettings Shipped() =>
        HostSettings.From(new ConfigurationBuilder().AddJsonFile(Path.Combine(ConfigDirectory, "appsettings.json")).Build(), ConfigDirectory);

    [Fact]
    public void Serve_announces_the_protocols_default_of_256_tokens_in_flight_apart_from_the_pipeline_depth_of_64()
    {
        var settings = Shipped();
        Assert.Equal(ProtocolLimits.Default.MaxTokensInFlightPerSession, settings.ToServerOptions().Limits.MaxTokensInFlightPerSession);
        Assert.Equal(256, settings.ToServerOptions().Limits.MaxTokensInFlightPerSession);
        Assert.Equal(64, settings.ToEngineOptions().MaxInFlightPerSession);
    }

    [Fact]
    public void Serve_derives_its_connection_limit_and_bounds_each_connections_pending_bytes_by_default()
    {
        var options = Shipped().ToServerOptions();
        Assert.Null(options.MaxConnections);
        Assert.Equal(16 << 20, options.MaxPendingBytesPerConnection);
        Assert.Equal(ServerOptions.Default.MaxPendingBytesPerConnection, options.MaxPendingBytesPerConnection);
    }

    [Fact]
    public void A_connection_limit_setting_reaches_the_server_options()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Streaming:MaxConnections"] = "300" }).Build();
        Assert.Equal(300, HostSettings.From(configuration, ConfigDirectory).ToServerOptions().MaxConnections);
    }
}
