using System.Buffers.Binary;
using Akka.Actor;
using Akka.Persistence;
using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>
/// Batched saves on a real database: many sessions per transaction, the latest save of a session wins with one row
/// left, a failing batch fails all its saves and writes none of them, and rows written by the plugin (every version
/// before saves were batched) still load and are replaced like any other.
/// </summary>
public abstract partial class SqlStoreContract
{
    [Fact]
    public async Task Concurrent_saves_of_many_sessions_are_written_in_a_few_transactions()
    {
        var store = await OpenAsync(Model(1), settings: Settings with { MaxConnections = 1, MaxBatchRows = 64 });
        const int sessions = 200;
        Task[] saves;
        await using (var hold = await TableHold.StartAsync(Settings))
        {
            saves = Enumerable.Range(0, sessions).Select(s => store.SaveAsync($"m{s}", Stored(1, s + 1))).ToArray();
            await hold.CommitAsync();
        }

        await Task.WhenAll(saves);

        // The first batch took what had arrived when it began (1 to 64 saves) and waited for the hold with the only
        // connection; the others queued behind it and went 64 at a time: 4 or 5 transactions for 200 sessions.
        var batches = store.SaveBatches;
        Assert.InRange(batches.Batches, 4, 5);
        Assert.Equal((200L, 200L, 64, 1), (batches.Rows, batches.Saves, batches.LargestBatch, batches.MostInFlight));
        Assert.Equal((0L, 0L), (batches.FailedBatches, batches.FailedSaves));
        Assert.Equal(sessions, await StoreDatabases.RowsAsync(Settings));
        foreach (var s in new[] { 0, 63, 64, 199 })
        {
            Assert.Equal(s + 1, (await store.LoadAsync($"m{s}"))!.Snapshot!.Position);
        }
    }

    [Fact]
    public async Task Concurrent_saves_of_one_session_leave_the_last_one_called_in_a_single_row()
    {
        var store = await OpenAsync(Model(1), settings: Settings with { MaxConnections = 4 });
        var saves = new List<Task>();
        for (var position = 1; position <= 60; position++)
        {
            saves.Add(store.SaveAsync("a", Stored(1, position)));
            saves.Add(store.SaveAsync($"other{position % 7}", Stored(1, position)));
        }

        await Task.WhenAll(saves);

        Assert.Equal(60, (await store.LoadAsync("a"))!.Snapshot!.Position);
        Assert.Equal(1, await StoreDatabases.RowsAsync(Settings, store.PersistenceIdOf("a")));
        for (var k = 0; k < 7; k++)
        {
            var last = Enumerable.Range(1, 60).Last(position => position % 7 == k);
            Assert.Equal(last, (await store.LoadAsync($"other{k}"))!.Snapshot!.Position);
        }

        Assert.Equal(8, await StoreDatabases.RowsAsync(Settings));
        Assert.Equal(120, store.SaveBatches.Saves);
        // SQLite writes one batch at a time; PostgreSQL up to the budget.
        Assert.InRange(store.SaveBatches.MostInFlight, 1, Settings.Kind == SqlStoreKind.Sqlite ? 1 : 4);
    }

    [Fact]
    public async Task A_batch_that_fails_fails_every_save_in_it_and_writes_none_of_them()
    {
        var store = await OpenAsync(Model(1), settings: Settings with { MaxConnections = 1 });
        var saved = Enumerable.Range(0, 11).Select(i => $"s{i}").ToArray();
        var fresh = Enumerable.Range(0, 10).Select(i => $"n{i}").ToArray();
        await Task.WhenAll(saved.Select(id => store.SaveAsync(id, Stored(1, 1))));
        // The database refuses the clean-up of older rows, which comes after the batch's new rows are inserted.
        await RefuseDeletesAsync(true);

        // s0, n0, s1, n1, ..., n9, s10: however the hold splits them into two batches, each has a saved session.
        var order = saved.Zip(fresh, (s, n) => new[] { s, n }).SelectMany(pair => pair).Append(saved[^1]).ToArray();
        var before = store.SaveBatches;
        Task[] saves;
        await using (var hold = await TableHold.StartAsync(Settings))
        {
            saves = order.Select(id => store.SaveAsync(id, Stored(1, 2))).ToArray();
            await hold.CommitAsync();
        }

        for (var i = 0; i < order.Length; i++)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => saves[i]);
            Assert.Contains($"could not save session '{order[i]}'", e.Message, StringComparison.Ordinal);
            Assert.Contains("deletes refused by the test", e.Message, StringComparison.Ordinal);
        }

        var after = store.SaveBatches;
        Assert.InRange(after.FailedBatches, 1, 2);
        Assert.Equal((21L, before.Batches, before.Rows), (after.FailedSaves, after.Batches, after.Rows));
        Assert.Equal(saved.Length, await StoreDatabases.RowsAsync(Settings));
        foreach (var id in saved)
        {
            Assert.Equal(1, (await store.LoadAsync(id))!.Snapshot!.Position);
        }

        foreach (var id in fresh)
        {
            Assert.Null(await store.LoadAsync(id));
        }

        await RefuseDeletesAsync(false);
        await Task.WhenAll(order.Select(id => store.SaveAsync(id, Stored(1, 3))));
        Assert.All(await Task.WhenAll(order.Select(id => store.LoadAsync(id))), loaded => Assert.Equal(3, loaded!.Snapshot!.Position));
        Assert.Equal(order.Length, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public async Task Rows_the_plugin_wrote_still_load_are_replaced_by_batched_saves_and_carry_the_same_serializer_and_manifest()
    {
        var model = Model(1);
        var system = NewSystem();
        var old = await OpenAsync(model, system);
        // What this store did before its saves were batched: a SaveSnapshot to the plugin, sequence number = ticks.
        var plugin = Akka.Persistence.Persistence.Instance.Apply(system).SnapshotStoreFor(old.PluginId);
        var version1 = StoredVersion1(model, position: 3, lastUsedMs: 1_234);
        await SaveThroughPluginAsync(plugin, old.PersistenceIdOf("v1"), version1);
        await SaveThroughPluginAsync(plugin, old.PersistenceIdOf("v2"), Stored(1, 4).ToBytes());

        // A restarted process loads them.
        var store = await OpenAsync(model, NewSystem());
        var v1 = await store.LoadAsync("v1");
        Assert.Equal((3L, 1_234L), (v1!.Snapshot!.Position, v1.LastUsed.ToUnixTimeMilliseconds()));
        Assert.Null(v1.Outputs);
        Assert.Equal(Stored(1, 4).ToBytes(), (await store.LoadAsync("v2"))!.ToBytes());

        await store.SaveAsync("v1", Stored(1, 5));
        await store.SaveAsync("new", Stored(1, 1));

        Assert.Equal(5, (await store.LoadAsync("v1"))!.Snapshot!.Position);
        Assert.Equal(5, (await old.LoadAsync("v1"))!.Snapshot!.Position);
        Assert.Equal(1, await StoreDatabases.RowsAsync(Settings, store.PersistenceIdOf("v1")));
        // "v2" is the plugin's row, "v1" and "new" the batches': one serializer id and one manifest among them.
        var table = StoreDatabases.Table(Settings);
        Assert.Equal(3, await StoreDatabases.RowsAsync(Settings));
        Assert.Equal(1, await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(DISTINCT serializer_id) FROM {table}"));
        Assert.Equal(1, await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(DISTINCT manifest) FROM {table}"));
        Assert.Equal(3, await StoreDatabases.ScalarAsync(Settings, $"SELECT COUNT(*) FROM {table} WHERE serializer_id = 4 AND manifest = ''"));
    }

    private async Task RefuseDeletesAsync(bool refuse)
    {
        var table = StoreDatabases.Table(Settings);
        if (Settings.Kind == SqlStoreKind.Sqlite)
        {
            await StoreDatabases.ScalarAsync(Settings, refuse
                ? $"CREATE TRIGGER refuse_deletes BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, 'deletes refused by the test'); END; SELECT 0"
                : "DROP TRIGGER refuse_deletes; SELECT 0");
        }
        else
        {
            var function = $"{Settings.SchemaName}.refuse_deletes";
            await StoreDatabases.ScalarAsync(Settings, refuse
                ? $"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'deletes refused by the test'; END $$; CREATE TRIGGER refuse_deletes BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}(); SELECT 0"
                : $"DROP TRIGGER refuse_deletes ON {table}; SELECT 0");
        }
    }

    private static async Task SaveThroughPluginAsync(IActorRef plugin, string persistenceId, byte[] payload)
    {
        var metadata = new SnapshotMetadata(persistenceId, DateTime.UtcNow.Ticks, DateTime.UtcNow);
        Assert.IsType<SaveSnapshotSuccess>(await plugin.Ask<object>(new SaveSnapshot(metadata, payload), TimeSpan.FromSeconds(30)));
    }

    // Version 1 of StoredSession (before outputs were kept): version, flags, last use, then the snapshot's bytes.
    private static byte[] StoredVersion1(ModelIdentity model, long position, long lastUsedMs)
    {
        var snapshot = new SessionSnapshot(model, position, [new LayerState(new float[] { position, -1f }, new float[] { 0.5f, 2f })]);
        var bytes = new byte[10].Concat(snapshot.ToBytes()).ToArray();
        bytes[0] = 1;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), lastUsedMs);
        return bytes;
    }
}
