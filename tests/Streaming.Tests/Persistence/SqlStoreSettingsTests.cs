using Akka.Actor;
using Streaming.Persistence;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Persistence;

public sealed class SqlStoreSettingsTests
{
    [Theory]
    [InlineData("", "connection string is empty")]
    [InlineData("   ", "connection string is empty")]
    [InlineData(":memory:", "in-memory")]
    [InlineData("Data Source=x.db;Mode=Memory", "in-memory")]
    [InlineData("Data Source=x.db;Mode=ReadOnly", "read-only")]
    [InlineData("Data Source=x.db;Frobnicate=1", "not valid")]
    public void Bad_sqlite_settings_name_what_is_wrong(string value, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => SqlStoreSettings.Sqlite(value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("sql store:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "connection string is empty")]
    [InlineData("Username=streaming;Database=x", "no Host")]
    [InlineData("Host=localhost;Frobnicate=1", "not valid")]
    [InlineData("Host=localhost;Port=notaport", "not valid")]
    public void Bad_postgresql_settings_name_what_is_wrong(string value, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => SqlStoreSettings.PostgreSql(value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad name", null, "table name 'bad name'")]
    [InlineData("1table", null, "table name '1table'")]
    [InlineData("t", "bad-schema", "schema name 'bad-schema'")]
    public void Bad_table_and_schema_names_are_refused(string table, string? schema, string expected)
    {
        var settings = SqlStoreSettings.PostgreSql("Host=localhost") with { TableName = table, SchemaName = schema };

        var error = Assert.Throws<ArgumentException>(settings.Validate);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_schema_for_sqlite_and_a_non_positive_timeout_are_refused()
    {
        var sqlite = SqlStoreSettings.Sqlite("x.db");

        Assert.Contains("schemas are PostgreSQL only", Assert.Throws<ArgumentException>((sqlite with { SchemaName = "s" }).Validate).Message, StringComparison.Ordinal);
        Assert.Contains("timeout", Assert.Throws<ArgumentException>((sqlite with { Timeout = TimeSpan.Zero }).Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Descriptions_name_the_database_but_never_the_password()
    {
        var postgres = SqlStoreSettings.PostgreSql("Host=db.example;Port=5433;Username=app;Password=s3cr3t;Database=sessions") with { SchemaName = "live" };

        Assert.Equal("PostgreSQL db.example:5433/sessions as app (table live.streaming_sessions)", postgres.Describe());
        Assert.Equal("SQLite /tmp/x.db (table streaming_sessions)", SqlStoreSettings.Sqlite("/tmp/x.db").Describe());
    }

    [Fact]
    public async Task An_unreachable_postgresql_fails_at_open_naming_the_store()
    {
        var system = ActorSystem.Create("store-settings-test", "akka.loglevel = OFF\nakka.stdout-loglevel = OFF");
        try
        {
            // Nothing listens on port 1.
            var settings = SqlStoreSettings.PostgreSql("Host=127.0.0.1;Port=1;Username=u;Password=secret;Database=d;Timeout=3");
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SqlSnapshotStore.OpenAsync(system, settings, TestModels.Create(TestModels.Gru2).Identity));

            Assert.Contains("PostgreSQL 127.0.0.1:1/d", error.Message, StringComparison.Ordinal);
            Assert.Contains("cannot be opened", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_sqlite_file_whose_folder_cannot_be_made_fails_at_open_naming_the_file()
    {
        var blocker = Path.GetTempFileName();
        var system = ActorSystem.Create("store-settings-test", "akka.loglevel = OFF\nakka.stdout-loglevel = OFF");
        try
        {
            // A folder cannot be made where a file is.
            var settings = SqlStoreSettings.Sqlite(Path.Combine(blocker, "sessions.db"));
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SqlSnapshotStore.OpenAsync(system, settings, TestModels.Create(TestModels.Gru2).Identity));

            Assert.Contains(Path.Combine(blocker, "sessions.db"), error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.Terminate();
            File.Delete(blocker);
        }
    }
}
