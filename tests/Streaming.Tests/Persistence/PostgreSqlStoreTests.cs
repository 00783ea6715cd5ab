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
}
