using Streaming.Host.Storage;
using Streaming.Sessions;

namespace Host.Tests.Storage;

/// <summary>The file store keeps exact snapshots per model, under any session id, and forgets them on delete.</summary>
public sealed class FileSnapshotStoreTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("snapshot-store-");

    private static readonly ModelIdentity Model = new("char-lstm", new string('a', 64));

    private static readonly DateTimeOffset Used = DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_123);

    private static StoredSession Snapshot(float seed) =>
        new(new SessionSnapshot(Model, 7, [new LayerState(new[] { seed, -seed, float.Epsilon }, new[] { 1f, 2f, 3f })]), Used);

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task A_saved_snapshot_loads_back_bit_for_bit_from_a_new_store_on_the_same_folder()
    {
        await new FileSnapshotStore(_folder.FullName, Model).SaveAsync("chat/1 é", Snapshot(0.25f));
        var loaded = await new FileSnapshotStore(_folder.FullName, Model).LoadAsync("chat/1 é");
        Assert.NotNull(loaded);
        Assert.Equal(Snapshot(0.25f).ToBytes(), loaded.ToBytes());
    }

    [Fact]
    public async Task Saving_again_replaces_and_deleting_forgets_and_a_missing_session_is_null()
    {
        var store = new FileSnapshotStore(_folder.FullName, Model);
        await store.SaveAsync("a", Snapshot(1));
        await store.SaveAsync("a", Snapshot(2));
        Assert.Equal(Snapshot(2).ToBytes(), (await store.LoadAsync("a"))!.ToBytes());
        Assert.Equal(1, store.Count);
        await store.DeleteAsync("a");
        await store.DeleteAsync("never-saved");
        Assert.Null(await store.LoadAsync("a"));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task A_tombstone_round_trips_as_expired_with_its_last_use()
    {
        var store = new FileSnapshotStore(_folder.FullName, Model);
        await store.SaveAsync("a", Snapshot(1));
        await store.SaveAsync("a", StoredSession.Expired(Used));
        var loaded = await store.LoadAsync("a");
        Assert.NotNull(loaded);
        Assert.True(loaded.IsExpired);
        Assert.Equal(Used, loaded.LastUsed);
    }

    [Fact]
    public async Task Another_model_or_weights_version_never_sees_the_sessions_of_the_first()
    {
        await new FileSnapshotStore(_folder.FullName, Model).SaveAsync("a", Snapshot(1));
        Assert.Null(await new FileSnapshotStore(_folder.FullName, Model with { WeightsSha256 = new string('b', 64) }).LoadAsync("a"));
        Assert.Null(await new FileSnapshotStore(_folder.FullName, Model with { Name = "other" }).LoadAsync("a"));
    }

    [Fact]
    public async Task The_longest_session_ids_fit_in_a_file_name()
    {
        var store = new FileSnapshotStore(_folder.FullName, Model);
        var longest = new string('é', 64);
        var other = new string('é', 63) + "e";
        await store.SaveAsync(longest, Snapshot(1));
        await store.SaveAsync(other, Snapshot(2));
        Assert.Equal(Snapshot(1).ToBytes(), (await store.LoadAsync(longest))!.ToBytes());
        Assert.Equal(Snapshot(2).ToBytes(), (await store.LoadAsync(other))!.ToBytes());
    }
}
