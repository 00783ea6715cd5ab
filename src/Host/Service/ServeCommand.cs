using System.CommandLine;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Streaming.Host.Service;

/// <summary><c>serve</c>: runs the worker service until SIGTERM or Ctrl-C, then shuts down gracefully.</summary>
internal static class ServeCommand
{
    private static readonly Option<string> Config = new("--config")
    {
        Description = "Folder with appsettings.json, akka.hocon and the models (default: config/ beside the program)",
        DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "config"),
    };

    private static readonly Option<string?> Host = new("--host") { Description = "Address to listen on (Streaming:Host)" };
    private static readonly Option<int?> Port = new("--port") { Description = "TCP port, 0 for a free one (Streaming:Port)" };
    private static readonly Option<string?> Model = new("--model") { Description = "Model manifest (Streaming:Model)" };
    private static readonly Option<string?> Backend = new("--backend") { Description = "Managed or Torch (Streaming:Backend)" };
    private static readonly Option<string?> KernelWidth = new("--kernel-width") { Description = "Widest Managed kernel: Auto, Vector512, Vector256 or Scalar (Streaming:KernelWidth)" };
    private static readonly Option<string?> Device = new("--device") { Description = "Torch device: cpu, cuda, cuda:N (Streaming:Device)" };
    private static readonly Option<string?> Store = new("--store") { Description = "Where sessions are kept: sqlite (default), postgresql or memory (Streaming:Store:Kind)" };
    private static readonly Option<string?> StoreConnection = new("--store-connection") { Description = "SQLite file or connection string (default data/sessions.db), or PostgreSQL connection string (Streaming:Store:ConnectionString)" };
    private static readonly Option<int?> StoreMaxConnections = new("--store-max-connections") { Description = "Store budget: database connections this node holds at most; 0 derives it from max_connections and the nodes (Streaming:Store:MaxConnections)" };
    private static readonly Option<int?> ClusterPort = new("--cluster-port") { Description = "Akka.Remote port of this node in a cluster; 0 for a single server (Streaming:ClusterPort)" };
    private static readonly Option<string?> SeedNodes = new("--seed-nodes") { Description = "Cluster seed nodes, host:port comma-separated (Streaming:SeedNodes)" };
    private static readonly Option<string?> RecordDirectory = new("--record-dir") { Description = "Folder for recordings of live traffic (Streaming:RecordDirectory)" };
    private static readonly Option<string?> RecordSessions = new("--record-sessions") { Description = "Sessions to record: ids, prefixes ending in '*', or '*' (Streaming:RecordSessions)" };

    public static Command Create()
    {
        var command = new Command("serve", "Serve the configured model over TCP (default 127.0.0.1:7700).");
        foreach (var option in new Option[] { Config, Host, Port, Model, Backend, KernelWidth, Device, Store, StoreConnection, StoreMaxConnections, RecordDirectory, RecordSessions, ClusterPort, SeedNodes })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellation) => RunAsync(result, cancellation));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result, CancellationToken cancellation)
    {
        var configDirectory = Path.GetFullPath(result.GetValue(Config)!);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(configDirectory, "appsettings.json"), optional: true)
            .AddInMemoryCollection(EnvironmentOverrides())
            .AddInMemoryCollection(FlagOverrides(result));

        HostSettings settings;
        try
        {
            settings = HostSettings.From(builder.Configuration, configDirectory);
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"serve: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        var hocon = Path.Combine(configDirectory, "akka.hocon");
        builder.Services.AddSystemd();
        builder.Services.AddSingleton(settings);
        var report = new ShutdownReport();
        builder.Services.AddSingleton(report);
        builder.Services.AddAkka("streaming", akka =>
        {
            if (File.Exists(hocon))
            {
                akka.AddHocon(File.ReadAllText(hocon), HoconAddMode.Prepend);
            }

            // A cluster node's remoting, membership, split brain resolver and sharding settings come first.
            if (settings.ToClusterNode() is { } node)
            {
                akka.AddHocon(Streaming.Cluster.ClusterConfig.Hocon(node), HoconAddMode.Prepend);
                // The hand-off phase waits for sessions whose save is retried (up to ShutdownSeconds), with a margin.
                akka.AddHocon($"akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = {settings.ShutdownSeconds + 5}s", HoconAddMode.Prepend);
            }
        });
        builder.Services.AddHostedService<StreamingService>();
        using var host = builder.Build();
        try
        {
            await host.RunAsync(cancellation).ConfigureAwait(false);
        }
        catch (Storage.StoreUnavailableException e)
        {
            await Console.Error.WriteLineAsync($"serve: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (Cells.Backends.KernelCheckException e)
        {
            // No compute path gives PyTorch's numbers on this machine: refusing to start beats serving wrong outputs.
            await Console.Error.WriteLineAsync($"serve: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        if (report.UnsavedSessions > 0)
        {
            await Console.Error.WriteLineAsync($"serve: stopped, but {report.UnsavedSessions} session(s) could not be saved into the store; they resume from their last persisted snapshot.").ConfigureAwait(false);
            return ShutdownReport.UnsavedExitCode;
        }

        return 0;
    }

    // STREAMING_PORT=7701 -> Streaming:PORT (keys are case-insensitive); STREAMING_A__B -> Streaming:A:B.
    private static Dictionary<string, string?> EnvironmentOverrides()
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && key.StartsWith("STREAMING_", StringComparison.OrdinalIgnoreCase))
            {
                overrides[$"{HostSettings.Section}:{key["STREAMING_".Length..].Replace("__", ":", StringComparison.Ordinal)}"] = entry.Value as string;
            }
        }

        return overrides;
    }

    private static Dictionary<string, string?> FlagOverrides(ParseResult result)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        void Set(string name, string? value)
        {
            if (value is not null)
            {
                overrides[$"{HostSettings.Section}:{name}"] = value;
            }
        }

        Set(nameof(HostSettings.Host), result.GetValue(Host));
        Set(nameof(HostSettings.Port), result.GetValue(Port)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(nameof(HostSettings.Model), result.GetValue(Model) is { } model ? Path.GetFullPath(model) : null);
        Set(nameof(HostSettings.Backend), result.GetValue(Backend));
        Set(nameof(HostSettings.KernelWidth), result.GetValue(KernelWidth));
        Set(nameof(HostSettings.Device), result.GetValue(Device));
        Set(nameof(HostSettings.Store) + ":Kind", result.GetValue(Store));
        Set(nameof(HostSettings.Store) + ":ConnectionString", result.GetValue(StoreConnection));
        Set(nameof(HostSettings.Store) + ":MaxConnections", result.GetValue(StoreMaxConnections)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(nameof(HostSettings.RecordDirectory), result.GetValue(RecordDirectory) is { Length: > 0 } records ? Path.GetFullPath(records) : result.GetValue(RecordDirectory));
        Set(nameof(HostSettings.RecordSessions), result.GetValue(RecordSessions));
        Set(nameof(HostSettings.ClusterPort), result.GetValue(ClusterPort)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(nameof(HostSettings.SeedNodes), result.GetValue(SeedNodes));
        return overrides;
    }
}
