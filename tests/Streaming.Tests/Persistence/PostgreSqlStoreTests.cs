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

    [Fact]
    public async Task While_its_table_is_unreachable_an_engine_answers_tokens_refuses_loads_StoreFailed_and_resumes_checkpoints_after()
    {
        var settings = Settings with { BreakerResetTimeout = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(5) };
        var (identity, weights) = Engine.TestModels.Create(Engine.TestModels.Gru2);
        var tokens = Engine.TestModels.RandomSequence(Engine.TestModels.Gru2, new Random(31), 8);
        var system = NewSystem();
        var store = await SqlSnapshotStore.OpenAsync(system, settings, identity);
        var engine = await RecurrentEngine.StartAsync(system, identity, weights, new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(20) });
        var table = $"{settings.SchemaName}.{settings.TableName}";
        try
        {
            foreach (var id in new[] { "a", "c" })
            {
                await engine.OpenAsync(id);
                for (var t = 0; t < 3; t++)
                {
                    await engine.PushAsync(id, tokens[t] with { At = t });
                }
            }

            Assert.True(await engine.EvictAsync("c"));

            // The database answers, but the table is gone: every store call fails, as in an outage.
            await StoreDatabases.ScalarAsync(settings, $"ALTER TABLE {table} RENAME TO {settings.TableName}_away");
            for (var t = 3; t < 6; t++)
            {
                Assert.Equal(t + 1, (await engine.PushAsync("a", tokens[t] with { At = t })).Position);
            }

            var refused = await Assert.ThrowsAsync<EngineException>(() => engine.PushAsync("c", tokens[3] with { At = 3 }));
            Assert.Equal(EngineErrorCode.StoreFailed, refused.Code);
            await Eventually(() => Task.FromResult(engine.Statistics.CheckpointsFailed > 0), "a checkpoint to fail");

            await StoreDatabases.ScalarAsync(settings, $"ALTER TABLE {settings.SchemaName}.{settings.TableName}_away RENAME TO {settings.TableName}");
            await Eventually(async () => await PositionAsync(store, "a") == 6, "the checkpoint of position 6 once the table is back");
            Assert.Equal(4, (await engine.PushAsync("c", tokens[3] with { At = 3 })).Position);
        }
        finally
        {
            await engine.DisposeAsync();
        }
    }

    [Fact]
    public async Task Saves_waiting_for_a_table_that_is_renamed_away_all_fail_and_nothing_of_them_is_written()
    {
        var store = await OpenAsync(Model(1), settings: Settings with { MaxConnections = 1 });
        await store.SaveAsync("kept", Stored(1, 1));
        var ids = Enumerable.Range(0, 30).Select(i => $"w{i}").Append("kept").ToArray();
        Task[] saves;
        await using (var hold = await TableHold.StartAsync(Settings))
        {
            // The first batch waits for the table with the only connection, the others queue behind it; then the
            // table goes, as in an outage.
            saves = ids.Select(id => store.SaveAsync(id, Stored(1, 2))).ToArray();
            await hold.ExecuteAsync($"ALTER TABLE {StoreDatabases.Table(Settings)} RENAME TO {Settings.TableName}_away");
            await hold.CommitAsync();
        }

        for (var i = 0; i < ids.Length; i++)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => saves[i]);
            Assert.Contains($"could not save session '{ids[i]}'", e.Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(31, store.SaveBatches.FailedSaves);
        Assert.Equal(1, await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(*) FROM {Settings.SchemaName}.{Settings.TableName}_away"));
        await StoreDatabases.ScalarAsync(Settings, $"ALTER TABLE {Settings.SchemaName}.{Settings.TableName}_away RENAME TO {Settings.TableName}; SELECT 0");
        Assert.Equal(1, (await store.LoadAsync("kept"))!.Snapshot!.Position);
        Assert.Null(await store.LoadAsync("w0"));

        // Nothing of the store is broken: the next saves land.
        await Task.WhenAll(ids.Select(id => store.SaveAsync(id, Stored(1, 3))));
        Assert.Equal(ids.Length, await StoreDatabases.RowsAsync(Settings));
    }

    private static async Task<long?> PositionAsync(SqlSnapshotStore store, string sessionId)
    {
        try
        {
            return (await store.LoadAsync(sessionId))?.Snapshot?.Position;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // The plugin's circuit breaker may still be open for a moment after the table is back.
            return null;
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}");
            await Task.Delay(20);
        }
    }
}
