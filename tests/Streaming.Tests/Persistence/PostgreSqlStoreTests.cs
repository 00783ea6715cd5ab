using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>
/// The store contract on the PostgreSQL that scripts/setup.sh starts (or RNN_TEST_POSTGRES), each test in a
/// schema of its own. These tests fail, never skip, when PostgreSQL cannot be reached.
/// </summary>
public sealed class PostgreSqlStoreTests : SqlStoreContract
{
    protected override async Task<SqlStoreSettings> CreateSettingsAsync()
    {
        await StoreDatabases.RequirePostgresAsync();
        return SqlStoreSettings.PostgreSql(StoreDatabases.PostgresConnectionString) with { SchemaName = StoreDatabases.UniqueName("t") };
    }

    [Fact]
    public async Task The_schema_and_table_are_created_on_first_use()
    {
        var schema = Settings.SchemaName!;
        Assert.Equal(0, await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{schema}'"));

        await OpenAsync(Engine.TestModels.Create(Engine.TestModels.Gru2).Identity);

        Assert.Equal(1, await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = '{Settings.TableName}'"));
        Assert.Equal(0, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public async Task The_derived_budget_is_a_share_of_max_connections_and_the_pool_opens_no_more_connections_than_the_budget()
    {
        var max = await StoreDatabases.ScalarAsync(Settings, "SELECT setting::bigint FROM pg_settings WHERE name = 'max_connections'");
        var derived = await OpenAsync(Model(1));
        Assert.Equal(SqlStoreSettings.ConnectionBudget((int)max, 1), derived.Settings.MaxConnections);

        // A budget of 2, under an application name of its own so that its connections can be counted.
        var application = StoreDatabases.UniqueName("budget");
        var budgeted = Settings with { ConnectionString = Settings.ConnectionString + ";Application Name=" + application, MaxConnections = 2 };
        var store = await SqlSnapshotStore.OpenAsync(NewSystem(), budgeted, Model(1));
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => store.SaveAsync($"s{i}", Stored(1, i + 1))));

        Assert.InRange(await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '{application}'"), 1, 2);
        Assert.Equal(64, await StoreDatabases.RowsAsync(Settings));
    }
}
