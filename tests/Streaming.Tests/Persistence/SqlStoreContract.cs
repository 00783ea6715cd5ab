using Akka.Actor;
using Streaming.Cells.Model;
using Streaming.Persistence;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Persistence;

/// <summary>
/// What every SQL store must do, run on SQLite (<see cref="SqliteStoreTests"/>) and PostgreSQL
/// (<see cref="PostgreSqlStoreTests"/>). Each test has a database of its own (a SQLite file, or a PostgreSQL schema),
/// so tests and test classes never see each other's sessions.
/// </summary>
public abstract partial class SqlStoreContract : IAsyncLifetime
{
    private readonly List<ActorSystem> _systems = [];

    /// <summary>The test's own database; set in <see cref="InitializeAsync"/>.</summary>
    protected SqlStoreSettings Settings { get; private set; } = null!;

    /// <summary>Settings for a database no other test uses.</summary>
    protected abstract Task<SqlStoreSettings> CreateSettingsAsync();

    public async Task InitializeAsync() => Settings = await CreateSettingsAsync();

    public async Task DisposeAsync()
    {
        foreach (var system in _systems)
        {
            await system.Terminate();
        }

        await StoreDatabases.DropAsync(Settings);
    }

    public static TheoryData<string> ModelKinds() => new(Specs.Keys);

    private static readonly Dictionary<string, ModelSpec> Specs = new()
    {
        ["rnn-tanh"] = new(new RecurrentSpec(RecurrentMode.RnnTanh, InputSize: 3, HiddenSize: 5)),
        ["rnn-relu"] = TestModels.RnnRelu,
        ["lstm"] = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 4, HiddenSize: 6)),
        ["lstm-proj"] = TestModels.ProjectedLstm,
        ["gru"] = new(new RecurrentSpec(RecurrentMode.Gru, InputSize: 4, HiddenSize: 6)),
        ["multi-layer"] = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 5, HiddenSize: 8, NumLayers: 3)),
        ["bidirectional"] = TestModels.BidirectionalGru,
        ["embedding-head"] = TestModels.EmbeddingHead,
    };

    [Theory]
    [MemberData(nameof(ModelKinds))]
    public async Task Snapshots_of_every_model_kind_round_trip_bit_exactly(string kind)
    {
        var spec = Specs[kind];
        var (identity, weights) = TestModels.Create(spec, seed: 5, name: kind);
        SessionSnapshot snapshot;
        await using (var scope = await EngineScope.StartAsync(identity, weights))
        {
            await scope.Engine.OpenAsync("s");
            var tokens = TestModels.RandomSequence(spec, new Random(3), 7);
            if (spec.Recurrent.Bidirectional)
            {
                // A bidirectional model serves whole sequences only.
                await scope.Engine.ReplayAsync("s", tokens);
            }
            else
            {
                foreach (var token in tokens)
                {
                    await scope.Engine.PushAsync("s", token);
                }
            }

            snapshot = await scope.Engine.SnapshotAsync("s");
        }

        var store = await OpenAsync(identity);
        var stored = new StoredSession(snapshot, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        await store.SaveAsync("s", stored);
        var loaded = await store.LoadAsync("s");

        Assert.NotNull(loaded);
        Assert.Equal(stored.ToBytes(), loaded.ToBytes());
        Assert.Equal(7, loaded.Snapshot!.Position);
        Assert.Equal(identity, loaded.Snapshot.Model);
        Assert.Equal(snapshot.HiddenState(), loaded.Snapshot.HiddenState());
        Assert.Equal(snapshot.CellState(), loaded.Snapshot.CellState());
    }

    [Fact]
    public async Task A_tombstone_round_trips_and_a_missing_session_is_null()
    {
        var store = await OpenAsync(Model(1));
        var lastUsed = DateTimeOffset.FromUnixTimeMilliseconds(1_650_000_000_000);

        Assert.Null(await store.LoadAsync("never-saved"));
        await store.SaveAsync("gone", StoredSession.Expired(lastUsed));
        var loaded = await store.LoadAsync("gone");

        Assert.NotNull(loaded);
        Assert.True(loaded.IsExpired);
        Assert.Equal(lastUsed, loaded.LastUsed);
        Assert.Null(await store.LoadAsync("never-saved"));
    }

    [Fact]
    public async Task Delete_forgets_a_session_and_deleting_a_missing_one_is_no_error()
    {
        var store = await OpenAsync(Model(1));
        await store.SaveAsync("a", Stored(1, 10));
        await store.SaveAsync("b", Stored(1, 20));

        await store.DeleteAsync("a");
        await store.DeleteAsync("a");
        await store.DeleteAsync("never-saved");

        Assert.Null(await store.LoadAsync("a"));
        Assert.Equal(20, (await store.LoadAsync("b"))!.Snapshot!.Position);
        Assert.Equal(1, await StoreDatabases.RowsAsync(Settings));

        await store.SaveAsync("a", Stored(1, 30));
        Assert.Equal(30, (await store.LoadAsync("a"))!.Snapshot!.Position);
    }

    [Fact]
    public async Task Each_save_replaces_the_last_and_the_table_keeps_one_row_per_session()
    {
        var store = await OpenAsync(Model(1));
        for (var position = 1; position <= 12; position++)
        {
            await store.SaveAsync("a", Stored(1, position));
            Assert.Equal(position, (await store.LoadAsync("a"))!.Snapshot!.Position);
        }

        await store.SaveAsync("a", StoredSession.Expired(DateTimeOffset.FromUnixTimeMilliseconds(5)));
        Assert.True((await store.LoadAsync("a"))!.IsExpired);
        await store.SaveAsync("b", Stored(1, 2));

        Assert.Equal(2, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public async Task Two_model_identities_never_see_each_others_sessions()
    {
        var first = Model(1);
        var second = Model(2);
        Assert.NotEqual(first.WeightsSha256, second.WeightsSha256);
        var sameNameOtherWeights = await OpenAsync(second);
        var original = await OpenAsync(first);
        var otherName = await OpenAsync(first with { Name = "another-name" });

        await original.SaveAsync("a", Stored(1, 5));

        Assert.Null(await sameNameOtherWeights.LoadAsync("a"));
        Assert.Null(await otherName.LoadAsync("a"));
        await sameNameOtherWeights.SaveAsync("a", Stored(2, 9));
        await sameNameOtherWeights.DeleteAsync("a");
        Assert.Equal(5, (await original.LoadAsync("a"))!.Snapshot!.Position);
    }

    [Fact]
    public async Task A_second_store_in_another_actor_system_sees_what_the_first_saved_and_its_saves_become_the_latest()
    {
        var model = Model(1);
        var first = await OpenAsync(model);
        await first.SaveAsync("a", Stored(1, 3));
        await first.SaveAsync("a", Stored(1, 4));

        // Another engine (a restarted process, or the next owner after a shard hand-off) loads, then saves.
        var second = await OpenAsync(model, NewSystem());
        Assert.Equal(4, (await second.LoadAsync("a"))!.Snapshot!.Position);
        await second.SaveAsync("a", Stored(1, 5));

        Assert.Equal(5, (await first.LoadAsync("a"))!.Snapshot!.Position);
        await first.SaveAsync("a", Stored(1, 6));
        Assert.Equal(6, (await second.LoadAsync("a"))!.Snapshot!.Position);
        Assert.Equal(1, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public async Task Session_ids_of_any_text_up_to_128_bytes_keep_rows_of_their_own()
    {
        var store = await OpenAsync(Model(1));
        string[] ids =
        [
            "a", "A", "a ", "sessión-ü-東京-🙂", new string('x', 128), new string('é', 64), "~tilde", "line\nbreak", "nul\0char",
            "quote'\"; DROP TABLE x; --", "/slash/", "%_wildcards_%",
        ];
        for (var i = 0; i < ids.Length; i++)
        {
            await store.SaveAsync(ids[i], Stored(1, i + 1));
        }

        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(i + 1, (await store.LoadAsync(ids[i]))!.Snapshot!.Position);
        }

        Assert.Equal(ids.Length, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public async Task Many_concurrent_saves_of_different_sessions_all_land()
    {
        var store = await OpenAsync(Model(1));
        const int sessions = 64, rounds = 3;
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
        {
            for (var round = 1; round <= rounds; round++)
            {
                await store.SaveAsync($"c{s}", Stored(1, (s * 10) + round));
            }
        }));

        var loaded = await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => store.LoadAsync($"c{s}")));
        for (var s = 0; s < sessions; s++)
        {
            Assert.Equal((s * 10) + rounds, loaded[s]!.Snapshot!.Position);
        }

        Assert.Equal(sessions, await StoreDatabases.RowsAsync(Settings));
    }

    [Fact]
    public async Task An_engine_passivates_into_the_store_and_resumes_with_identical_outputs()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(13), 12);
        var resident = await EngineScope.OutputsAloneAsync(identity, weights, tokens);

        var store = new ObservingStore(await OpenAsync(identity));
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { PassivateAfter = TimeSpan.FromMilliseconds(50), Store = store });
        await scope.Engine.OpenAsync("a");
        for (var t = 0; t < tokens.Length; t++)
        {
            if (t is 4 or 8)
            {
                // Idle now: the session passivates into the database and the next token loads it back.
                SessionSnapshot? stored;
                do
                {
                    Assert.Equal("a", await store.NextSaveAsync());
                    stored = (await store.LoadAsync("a"))?.Snapshot;
                }
                while (stored is null || stored.Position < t);

                Assert.Equal(t, stored.Position);
            }

            var output = await scope.Engine.PushAsync("a", tokens[t]);
            Assert.Equal(t + 1, output.Position);
            Expect.BitExact(resident[t], output.Output.Span, $"step {t}");
        }

        await scope.Engine.CloseAsync("a");
        Assert.Null(await store.LoadAsync("a"));
    }

    [Fact]
    public async Task Sessions_open_when_an_engine_stops_resume_exactly_in_a_new_engine_on_the_same_database()
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(21), 10);
        var resident = await EngineScope.OutputsAloneAsync(identity, weights, tokens);

        await using (var before = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = await OpenAsync(identity) }))
        {
            await before.Engine.OpenAsync("a");
            for (var t = 0; t < 6; t++)
            {
                await before.Engine.PushAsync("a", tokens[t]);
            }
        }

        await using var after = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = await OpenAsync(identity, NewSystem()) });
        for (var t = 6; t < tokens.Length; t++)
        {
            var output = await after.Engine.PushAsync("a", tokens[t]);
            Assert.Equal(t + 1, output.Position);
            Expect.BitExact(resident[t], output.Output.Span, $"step {t} after the restart");
        }
    }

    [Fact]
    public void The_plugin_configuration_names_the_provider_table_and_auto_initialisation()
    {
        var hocon = Akka.Configuration.ConfigurationFactory.ParseString(Settings.ToHocon("my.plugin"));
        var plugin = hocon.GetConfig("my.plugin");

        Assert.Equal("Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql", plugin.GetString("class"));
        Assert.Equal(Settings.ConnectionString, plugin.GetString("connection-string"));
        Assert.Equal(Settings.Kind == SqlStoreKind.Sqlite ? "SQLite.MS" : "PostgreSQL.15", plugin.GetString("provider-name"));
        Assert.True(plugin.GetBoolean("auto-initialize"));
        Assert.Equal(Settings.TableName, plugin.GetString("default.snapshot.table-name"));
        Assert.Throws<ArgumentException>(() => Settings.ToHocon("bad plugin id"));
    }

    protected async Task<SqlSnapshotStore> OpenAsync(ModelIdentity model, ActorSystem? system = null, SqlStoreSettings? settings = null) =>
        await SqlSnapshotStore.OpenAsync(system ?? NewSystem(), settings ?? Settings, model);

    protected ActorSystem NewSystem()
    {
        var system = ActorSystem.Create("store-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        _systems.Add(system);
        return system;
    }

    protected static ModelIdentity Model(int seed) => TestModels.Create(TestModels.Lstm2, seed).Identity;

    // A made-up snapshot (one LSTM layer of two units) at position, of the seed's model.
    protected static StoredSession Stored(int seed, long position)
    {
        var snapshot = new SessionSnapshot(Model(seed), position, [new LayerState(new float[] { position, -1f }, new float[] { 0.5f, 2f })]);
        return new StoredSession(snapshot, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + position));
    }
}
