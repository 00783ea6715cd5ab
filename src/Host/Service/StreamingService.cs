using Akka.Actor;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Cells.Model;
using Streaming.Host.Recording;
using Streaming.Host.Server;
using Streaming.Host.Storage;

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
    private readonly ShutdownReport _report;
    private RecurrentEngine? _engine;
    private Streaming.Cluster.ShardedSessions? _sharded;
    private StreamingServer? _server;
    private MetricsExporter? _metrics;
    private TrafficRecorder? _recorder;
    public StreamingService(ActorSystem system, HostSettings settings, ILogger<StreamingService> log, ShutdownReport report)
    {
        _system = system;
        _settings = settings;
        _log = log;
        _report = report;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var manifest = ModelManifest.Load(_settings.Model);
        var weights = manifest.LoadWeights();
        var model = ModelIdentity.Of(manifest.Name, weights);

        // A database makes the snapshots taken at shutdown, on passivation and at checkpoints outlive the process: a
        // restarted server (or another one on the same PostgreSQL) resumes each session on its next operation.
        var store = await _settings.Store.OpenAsync(_system, model, cancellationToken).ConfigureAwait(false);
        _engine = await RecurrentEngine.StartAsync(_system, model, weights, _settings.ToEngineOptions() with { Store = store }).ConfigureAwait(false);
        KernelsChecked(_log, _engine.Kernels.Summary);
        foreach (var warning in _engine.Kernels.Warnings)
        {
            KernelRejected(_log, warning);
        }
        _recorder = _settings.RecordDirectory.Length > 0
            ? TrafficRecorder.Create(_settings.RecordDirectory, _settings.Model, manifest.Spec, _settings.RecordSessions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : null;
        ISessionService sessions = _engine;
        Streaming.Cluster.ShardedSessions? sharded = null;
        if (_settings.ToClusterNode() is not null)
        {
            // Any node's TCP port serves any session: the sharded sessions route each to the node that owns it.
            // A leaving node keeps a session whose hand-off save fails and retries it, within ShutdownSeconds.
            var sharding = Streaming.Cluster.ShardingOptions.Default with { HandOffSaveDeadline = TimeSpan.FromSeconds(_settings.ShutdownSeconds) };
            sessions = sharded = _sharded = await Streaming.Cluster.ShardedSessions.StartAsync(_system, _engine, sharding).ConfigureAwait(false);
        }

        _server = await StreamingServer.StartAsync(_system, sessions, ServerOptionsFor(manifest.Spec) with { Recorder = _recorder }, _log).ConfigureAwait(false);
        if (_settings.MetricsPort > 0)
        {
            _metrics = new MetricsExporter(_settings.Host, _settings.MetricsPort, _engine, _server);
        }

        Listening(_log, _server.Endpoint, _engine.Model, _settings.Backend);
        var storeDescription = _settings.Store.Describe();
        Storing(_log, storeDescription, _recorder?.Path ?? "nothing");
        if (store is Streaming.Persistence.SqlSnapshotStore sql)
        {
            StoreBudget(_log, sql.Settings.MaxConnections, sql.Settings.MaxQueuedCalls);
        }

        if (sharded is null)
        {
            Ready(_log, _server.Endpoint, "it serves its own sessions");
        }
        else
        {
            // Until then, session requests are refused NotReady and the Status frame says not ready.
            var endpoint = _server.Endpoint;
            _ = sharded.WhenReady.ContinueWith(_ => Ready(_log, endpoint, sharded.Readiness), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    // A client may have as many tokens in flight as a session keeps outputs of, so that every answer a crash or a dropped
    // connection could swallow is given again with the DuplicateToken that refuses its resend.
    private ServerOptions ServerOptionsFor(ModelSpec spec)
    {
        var options = _settings.ToServerOptions();
        var kept = _settings.ToEngineOptions().KeptOutputsFor(spec.OutputSize);
        if (kept > 0 && kept < options.Limits.MaxTokensInFlightPerSession)
        {
            InFlightLowered(_log, options.Limits.MaxTokensInFlightPerSession, kept, spec.OutputSize, _settings.KeptOutputBytesPerSession);
            options = options with { Limits = options.Limits with { MaxTokensInFlightPerSession = kept } };
        }

        return options;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _metrics?.Dispose();
        if (_server is not null)
        {
            await _server.StopAsync(TimeSpan.FromSeconds(_settings.ShutdownSeconds)).ConfigureAwait(false);
        }

        if (_sharded is not null)
        {
            // Leaving hands every shard off: each session this node owns is saved into the shared store and moves to
            // the remaining nodes; the engine then has nothing left to save.
            var handedOff = _engine!.Statistics.SessionsOpen;
            await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).ConfigureAwait(false);
            var unsaved = _sharded.UnsavedHandOffs;
            _report.Unsaved(unsaved);
            if (unsaved > 0)
            {
                LeftClusterUnsaved(_log, handedOff, unsaved, _settings.ShutdownSeconds);
            }
            else
            {
                LeftCluster(_log, handedOff);
            }
        }

        if (_engine is not null)
        {
            var open = _engine.Statistics.SessionsOpen;
            await _engine.DisposeAsync().ConfigureAwait(false);
            var unsaved = _engine.Statistics.ShutdownSavesFailed;
            _report.Unsaved(unsaved);
            if (unsaved > 0)
            {
                StoppedUnsaved(_log, open, unsaved, _settings.ShutdownSeconds);
            }
            else
            {
                Stopped(_log, open);
            }
        }

        _recorder?.Dispose();
    }

    /// <summary>Releases the metrics endpoint and the recording if the host is disposed without a stop.</summary>
    public void Dispose()
    {
        _metrics?.Dispose();
        _recorder?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model} at {Endpoint} on the {Backend} backend; stop with SIGTERM or Ctrl-C")]
    private static partial void Listening(ILogger logger, System.Net.IPEndPoint endpoint, ModelIdentity model, Cells.Backends.BackendKind backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tokens in flight per session lowered from {Configured} to {Kept}: a session keeps the outputs of {Kept} tokens of {Width} floats within KeptOutputBytesPerSession ({Bytes} bytes), and a client may have no more in flight than it keeps")]
    private static partial void InFlightLowered(ILogger logger, int configured, int kept, int width, int bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ready: {Endpoint} serves sessions; {How}")]
    private static partial void Ready(ILogger logger, System.Net.IPEndPoint endpoint, string how);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kernels checked against PyTorch's equations: {Summary}")]
    private static partial void KernelsChecked(ILogger logger, string summary);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void KernelRejected(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sessions are saved to {Store}; live traffic is recorded to {Recording}")]
    private static partial void Storing(ILogger logger, string store, string recording);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store budget: at most {Connections} database connection(s), {Queued} call(s) waiting (Streaming:Store:MaxConnections, MaxQueuedCalls)")]
    private static partial void StoreBudget(ILogger logger, int connections, int queued);

    [LoggerMessage(Level = LogLevel.Information, Message = "Left the cluster; {Sessions} session(s) were handed off to the other nodes")]
    private static partial void LeftCluster(ILogger logger, int sessions);

    [LoggerMessage(Level = LogLevel.Error, Message = "Left the cluster; {Sessions} session(s) were handed off, but {Unsaved} of them could not be saved into the store within {Seconds} s (ShutdownSeconds): they resume on the other nodes from their last persisted snapshot")]
    private static partial void LeftClusterUnsaved(ILogger logger, int sessions, int unsaved, int seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopped; of {Sessions} open session(s), {Unsaved} could not be saved into the store within {Seconds} s (ShutdownSeconds): they resume from their last persisted snapshot")]
    private static partial void StoppedUnsaved(ILogger logger, int sessions, int unsaved, int seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped; {Sessions} open session(s) were snapshotted into the store")]
    private static partial void Stopped(ILogger logger, int sessions);
}
