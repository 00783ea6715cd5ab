using Microsoft.Extensions.Configuration;
using Streaming.Host.Service;
using Streaming.Host.Storage;
using Streaming.Persistence;

namespace Host.Tests.Storage;

/// <summary>The Streaming:Store settings (and the engine timings beside them) as serve reads them.</summary>
public sealed class StoreSettingsTests
{
    private static readonly string ConfigDirectory = Path.Combine(AppContext.BaseDirectory, "config");

    private static HostSettings Read(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("Streaming:" + v.Key, v.Value)))
            .Build();
        return HostSettings.From(configuration, ConfigDirectory);
    }

    [Fact]
    public void By_default_sessions_go_to_data_sessions_db_under_the_current_directory_with_checkpoints_every_2_s()
    {
        var settings = Read();

        Assert.Equal(StoreKind.Sqlite, settings.Store.Kind);
        Assert.Equal(Path.GetFullPath("data/sessions.db"), settings.Store.Sql!.SqliteFile);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.ToEngineOptions().CheckpointEvery);
        Assert.Null(settings.ToEngineOptions().ExpireAfter);
    }

    [Fact]
    public void The_shipped_appsettings_choose_the_same_default_store()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(ConfigDirectory, "appsettings.json")).Build();
        var settings = HostSettings.From(configuration, ConfigDirectory);

        Assert.Equal(StoreSettings.Default, settings.Store);
        Assert.Equal(2, settings.CheckpointSeconds);
        Assert.Equal(0, settings.ExpireAfterSeconds);
    }

    [Theory]
    [InlineData("sqlite", "/tmp/x/s.db", "SQLite /tmp/x/s.db (table streaming_sessions)")]
    [InlineData("SQLite", "Data Source=/tmp/y.db", "SQLite /tmp/y.db (table streaming_sessions)")]
    [InlineData("postgresql", "Host=db;Username=u;Password=p;Database=d", "PostgreSQL db:5432/d as u (table streaming_sessions)")]
    [InlineData("memory", "", "memory (they do not survive a restart)")]
    public void Kinds_and_connection_strings_are_read(string kind, string connection, string described)
    {
        var settings = Read(("Store:Kind", kind), ("Store:ConnectionString", connection));

        Assert.Equal(described, settings.Store.Describe());
        Assert.Equal(kind.Equals("memory", StringComparison.OrdinalIgnoreCase), settings.Store.Sql is null);
    }

    [Theory]
    [InlineData("Store:Kind", "mysql", "setting Streaming:Store:Kind is 'mysql'; expected sqlite, postgresql or memory (set it in config/appsettings.json, as STREAMING_STORE__KIND")]
    [InlineData("Store:Kind", "1", "setting Streaming:Store:Kind is '1'")]
    [InlineData("Store:Table", "x", "setting Streaming:Store:Table is not a setting; expected one of Kind, ConnectionString, MaxConnections, MaxQueuedCalls")]
    [InlineData("Store:ConnectionString", "Data Source=x.db;Mode=Memory", "setting Streaming:Store:ConnectionString is not usable for Sqlite: sql store: the SQLite connection string 'Data Source=x.db;Mode=Memory' is an in-memory database")]
    [InlineData("CheckpointSeconds", "-1", "setting Streaming:CheckpointSeconds is -1; expected an integer from 0 to 86400")]
    [InlineData("ExpireAfterSeconds", "soon", "setting Streaming:ExpireAfterSeconds is 'soon'")]
    public void Bad_values_are_refused_naming_the_setting(string key, string value, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read((key, value)));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Postgresql_needs_a_connection_string()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read(("Store:Kind", "postgresql")));
        Assert.Contains("Streaming:Store:ConnectionString is not usable for PostgreSql: sql store: the PostgreSQL connection string is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expiry_and_checkpoints_become_engine_options_and_expiry_must_follow_passivation()
    {
        var options = Read(("CheckpointSeconds", "0"), ("ExpireAfterSeconds", "3600"), ("PassivateAfterSeconds", "60")).ToEngineOptions();

        Assert.Null(options.CheckpointEvery);
        Assert.Equal(TimeSpan.FromHours(1), options.ExpireAfter);
        var error = Assert.Throws<InvalidOperationException>(() => Read(("ExpireAfterSeconds", "60"), ("PassivateAfterSeconds", "60")));
        Assert.StartsWith("setting Streaming:ExpireAfterSeconds is 60, not more than PassivateAfterSeconds (60)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sqlite_store_opens_for_a_model_and_keeps_its_sessions_across_openings()
    {
        var folder = Directory.CreateTempSubdirectory("host-store-");
        var system = Akka.Actor.ActorSystem.Create("host-store-test", "akka.loglevel = WARNING");
        try
        {
            var settings = StoreSettings.Of(StoreKind.Sqlite, Path.Combine(folder.FullName, "nested", "sessions.db"));
            var model = new Streaming.ModelIdentity("char-lstm", new string('a', 64));
            var stored = new Streaming.Persistence.StoredSession(
                new Streaming.SessionSnapshot(model, 3, [new Streaming.LayerState(new[] { 1f, -2f }, new[] { 0.5f, 4f })]),
                DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_000));

            await (await settings.OpenAsync(system, model)).SaveAsync("a", stored);
            var loaded = await (await settings.OpenAsync(system, model)).LoadAsync("a");

            Assert.IsType<SqlSnapshotStore>(await settings.OpenAsync(system, model));
            Assert.Equal(stored.ToBytes(), loaded!.ToBytes());
            Assert.IsType<Streaming.Persistence.InMemorySnapshotStore>(await StoreSettings.Memory.OpenAsync(system, model));
        }
        finally
        {
            await system.Terminate();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_unreachable_postgresql_stops_with_a_message_naming_the_setting()
    {
        var system = Akka.Actor.ActorSystem.Create("host-store-test", "akka.loglevel = OFF");
        try
        {
            var settings = StoreSettings.Of(StoreKind.PostgreSql, "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d");
            var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => settings.OpenAsync(system, new Streaming.ModelIdentity("m", new string('b', 64))));

            Assert.Contains("PostgreSQL 127.0.0.1:1/d", error.Message, StringComparison.Ordinal);
            Assert.Contains("check Streaming:Store:ConnectionString", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void The_store_budget_is_read_and_a_cluster_shares_the_database_among_its_seed_nodes()
    {
        var single = Read(("Store:Kind", "postgresql"), ("Store:ConnectionString", "Host=db;Username=u;Password=p;Database=d"), ("Store:MaxConnections", "12"), ("Store:MaxQueuedCalls", "100"));
        Assert.Equal((12, 100, 1), (single.Store.Sql!.MaxConnections, single.Store.Sql.MaxQueuedCalls, single.Store.Sql.Nodes));

        var cluster = Read(("Store:Kind", "postgresql"), ("Store:ConnectionString", "Host=db;Username=u;Password=p;Database=d"), ("ClusterPort", "4053"), ("SeedNodes", "a:4053, b:4053,c:4053"));
        Assert.Equal((0, 3), (cluster.Store.Sql!.MaxConnections, cluster.Store.Sql.Nodes));
    }

    [Theory]
    [InlineData("MaxConnections", "-1", "setting Streaming:Store:MaxConnections is -1")]
    [InlineData("MaxConnections", "many", "setting Streaming:Store:MaxConnections is 'many'")]
    [InlineData("MaxQueuedCalls", "-5", "setting Streaming:Store:MaxQueuedCalls is -5")]
    [InlineData("Budget", "3", "setting Streaming:Store:Budget is not a setting")]
    public void A_bad_store_budget_setting_is_named(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read(("Store:" + key, value)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
