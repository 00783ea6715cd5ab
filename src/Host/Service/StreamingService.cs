using Akka.Actor;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Host.Server;

namespace Streaming.Host.Service;

/// <summary>
/// The worker service: starts the engine for the configured model and the TCP server in front of it, and on
/// shutdown stops accepting connections, lets the tokens in flight finish, then stops the engine, which
/// snapshots every open session into its store.
/// </summary>
internal sealed partial class StreamingService : IHostedService, IDisposable
{
    private readonly ActorSystem _system;
    private readonly HostSettings _settings;
    private readonly ILogger<StreamingService> _log;
    private RecurrentEngine? _engine;
    private StreamingServer? _server;
    private MetricsExporter? _metrics;

    public StreamingService(ActorSystem system, HostSettings settings, ILogger<StreamingService> log)
    {
        _system = system;
        _settings = settings;
        _log = log;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _engine = await RecurrentEngine.StartAsync(_system, _settings.Model, _settings.ToEngineOptions()).ConfigureAwait(false);
        _server = await StreamingServer.StartAsync(_system, _engine, _settings.ToServerOptions(), _log).ConfigureAwait(false);
        if (_settings.MetricsPort > 0)
        {
            _metrics = new MetricsExporter(_settings.Host, _settings.MetricsPort, _engine, _server);
        }

        Listening(_log, _server.Endpoint, _engine.Model, _settings.Backend);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _metrics?.Dispose();
        if (_server is not null)
        {
            await _server.StopAsync(TimeSpan.FromSeconds(_settings.ShutdownSeconds)).ConfigureAwait(false);
        }

        if (_engine is not null)
        {
            var open = _engine.Statistics.SessionsOpen;
            await _engine.DisposeAsync().ConfigureAwait(false);
            Stopped(_log, open);
        }
    }

    /// <summary>Releases the metrics endpoint if the host is disposed without a stop.</summary>
    public void Dispose() => _metrics?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model} at {Endpoint} on the {Backend} backend; stop with SIGTERM or Ctrl-C")]
    private static partial void Listening(ILogger logger, System.Net.IPEndPoint endpoint, Sessions.ModelIdentity model, Cells.Backends.BackendKind backend);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped; {Sessions} open session(s) were snapshotted into the store")]
    private static partial void Stopped(ILogger logger, int sessions);
}
