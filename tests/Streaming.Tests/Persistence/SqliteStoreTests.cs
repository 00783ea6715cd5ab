using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>The store contract on a SQLite file of the test's own.</summary>
public sealed class SqliteStoreTests : SqlStoreContract
{
    protected override Task<SqlStoreSettings> CreateSettingsAsync() =>
        Task.FromResult(SqlStoreSettings.Sqlite(Path.Combine(Path.GetTempPath(), "streaming-store-tests", StoreDatabases.UniqueName("s"), "sessions.db")));

    [Fact]
    public async Task The_database_file_and_its_folder_are_created_on_first_use()
    {
        Assert.False(File.Exists(Settings.SqliteFile));

        await OpenAsync(TestModelsIdentity());

        Assert.True(File.Exists(Settings.SqliteFile));
        Assert.Equal(0, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public void A_path_becomes_a_connection_string_and_a_connection_string_is_kept()
    {
        var fromPath = SqlStoreSettings.Sqlite("data/sessions.db");
        var fromString = SqlStoreSettings.Sqlite("Data Source=/tmp/x.db;Cache=Shared");

        Assert.Equal(Path.GetFullPath("data/sessions.db"), fromPath.SqliteFile);
        Assert.Equal("Data Source=/tmp/x.db;Cache=Shared", fromString.ConnectionString);
        Assert.Equal("/tmp/x.db", fromString.SqliteFile);
        Assert.Equal("SQLite.MS", fromPath.ProviderName);
        Assert.Contains(fromPath.SqliteFile!, fromPath.Describe(), StringComparison.Ordinal);
    }

    private static ModelIdentity TestModelsIdentity() => Engine.TestModels.Create(Engine.TestModels.Gru2).Identity;
}
