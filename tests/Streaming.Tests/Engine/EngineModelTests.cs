using Akka.Actor;
using FsCheck.Xunit;
using Streaming.Persistence;
using Streaming.Tests.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>
/// Random scripts of operations (with and without positions), bursts, evictions, graceful shutdowns and crashes over
/// two sessions, run against real engines on the in-memory store and on SQLite (passivating and checkpointing every
/// 5 ms), each answer checked against a simple model (<see cref="EngineWorld"/>).
/// </summary>
public sealed class EngineModelTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("engine-model", "akka.loglevel = ERROR\nakka.stdout-loglevel = ERROR");
    private readonly SqlStoreSettings _sqlite = SqlStoreSettings.Sqlite(Path.Combine(Path.GetTempPath(), "streaming-store-tests", StoreDatabases.UniqueName("model"), "sessions.db"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        await StoreDatabases.DropAsync(_sqlite);
    }

    [Property(MaxTest = 200, EndSize = 40, Arbitrary = [typeof(EngineScriptArbitrary)])]
    public void On_the_in_memory_store_every_script_keeps_the_rules_of_the_simple_model(EngineStep[] script)
    {
        var store = new InMemorySnapshotStore();
        Run(() => Task.FromResult<ISnapshotStore>(store), script);
    }

    [Property(MaxTest = 100, EndSize = 40, Arbitrary = [typeof(EngineScriptArbitrary)])]
    public void On_SQLite_every_script_keeps_the_rules_of_the_simple_model(EngineStep[] script) =>
        Run(async () => await SqlSnapshotStore.OpenAsync(_system, _sqlite, EngineWorld.Identity), script);

    // Off the test's synchronization context: the world awaits engines whose continuations must not queue behind it.
    private void Run(Func<Task<ISnapshotStore>> openStore, EngineStep[] script) =>
        Task.Run(() => EngineWorld.RunAsync(_system, openStore, script)).GetAwaiter().GetResult();
}
