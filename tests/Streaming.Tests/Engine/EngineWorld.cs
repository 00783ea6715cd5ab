using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Persistence;
using Streaming.Tests.Sessions;

namespace Streaming.Tests.Engine;

/// <summary>
/// A script run against real engines, one after another on the same durable store, checked against a simple model:
/// per session, whether it is open or expired and the tokens applied since zeros. Every answer is compared with the
/// model (refusals by code, outputs and snapshots with the bulk call over the tokens applied); a close must have
/// deleted the stored copy when it is answered; a graceful shutdown must have saved every open session where it is;
/// after a crash every session must be at a state it really had (found among its history by its h), and a closed
/// session must not come back. Passivation (every 5 ms idle) and checkpoints (every 5 ms) run throughout.
/// </summary>
internal sealed partial class EngineWorld : IAsyncDisposable
{
    private static readonly (ModelIdentity Identity, Cells.Weights.ModelWeights Weights) Model = TestModels.Create(TestModels.EmbeddingHead);
    private static int s_cases;
    private readonly ActorSystem _system;
    private readonly Func<Task<ISnapshotStore>> _openStore;
    private readonly Reference _reference = new(Model.Weights, BackendOptions.Managed);
    private readonly Tracked[] _sessions;
    private readonly List<(SessionSnapshot Snapshot, int[] Tokens)> _snapshots = [];
    private readonly List<string> _trace = [];
    private ISnapshotStore _durable = null!;
    private CrashableStore _store = null!;
    private RecurrentEngine _engine = null!;

    private EngineWorld(ActorSystem system, Func<Task<ISnapshotStore>> openStore)
    {
        _system = system;
        _openStore = openStore;
        var prefix = $"c{Interlocked.Increment(ref s_cases)}";
        _sessions = Enumerable.Range(0, EngineScriptArbitrary.Sessions).Select(s => new Tracked($"{prefix}-s{s}")).ToArray();
    }

    /// <summary>The model every engine here serves.</summary>
    public static ModelIdentity Identity => Model.Identity;

    /// <summary>Runs <paramref name="script"/> on engines in <paramref name="system"/> whose store <paramref name="openStore"/> opens (once per engine, like a process).</summary>
    public static async Task RunAsync(ActorSystem system, Func<Task<ISnapshotStore>> openStore, IEnumerable<EngineStep> script)
    {
        var world = new EngineWorld(system, openStore);
        await using (world)
        {
            await world.StartEngineAsync();
            foreach (var step in script)
            {
                world._trace.Add(step.ToString()!);
                try
                {
                    await world.TakeAsync(step).WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new InvalidOperationException($"{e.Message}\ntrace:\n  {string.Join("\n  ", world._trace.TakeLast(80))}", e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _engine.DisposeAsync();
        _reference.Dispose();
    }

    private Task TakeAsync(EngineStep step) => step switch
    {
        EngineStep.Call call => CallAsync(_sessions[call.Session], call),
        EngineStep.Burst burst => BurstAsync(_sessions[burst.Session], burst.Count, burst.Token),
        EngineStep.Evict evict => _engine.EvictAsync(_sessions[evict.Session].Id),
        EngineStep.Pause pause => Task.Delay(pause.Milliseconds),
        EngineStep.Shutdown => ShutdownAsync(),
        EngineStep.Crash crash => CrashAsync(crash.HoursLater),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "not a step"),
    };

    private int _starts;

    private async Task StartEngineAsync()
    {
        _durable = await _openStore();
        _store = new CrashableStore(_durable);
        var options = new EngineOptions
        {
            Backend = BackendOptions.Managed with { Threads = 1 },
            // Each start of a world's engine takes the other layout, so a script that restarts runs on both.
            Layout = _starts++ % 2 == 0 ? PipelineLayout.PerLayer : PipelineLayout.Fused,
            Store = _store,
            MaxInFlightPerSession = 3,
            PassivateAfter = TimeSpan.FromMilliseconds(5),
            CheckpointEvery = TimeSpan.FromMilliseconds(5),
            ExpireAfter = TimeSpan.FromHours(1),
        };
        _engine = await RecurrentEngine.StartAsync(_system, Model.Identity, Model.Weights, options);
    }

    private async Task ShutdownAsync()
    {
        await _engine.DisposeAsync();
        foreach (var session in _sessions)
        {
            var stored = await _durable.LoadAsync(session.Id);
            if (session.Open)
            {
                // Everything it accepted is in the store.
                Check(stored?.Snapshot is { } snapshot && snapshot.Position == session.Tokens.Length, $"{session.Id}: saved at shutdown at {session.Tokens.Length}, found {Describe(stored)}");
                Expect.Close(HiddenAfter(session.Tokens), stored!.Snapshot!.HiddenState(), $"{session.Id}: h saved at shutdown");
            }

            CheckClosedStaysClosed(session, stored);
        }

        _trace.Add("  restarted");
        await StartEngineAsync();
    }

    private async Task CrashAsync(bool hoursLater)
    {
        // Nothing reaches the store from now on; what was on its way landed. The old engine then goes quietly.
        await _store.KillAsync();
        await _engine.DisposeAsync();
        var expiredBefore = DateTimeOffset.UtcNow - TimeSpan.FromHours(2);
        await StartEngineAsync();
        foreach (var session in _sessions)
        {
            var stored = await _durable.LoadAsync(session.Id);
            CheckClosedStaysClosed(session, stored);
            if (stored?.Snapshot is { } snapshot)
            {
                // The session resumes at its last persisted snapshot: a state it really had.
                var h = snapshot.HiddenState();
                var had = session.History.FirstOrDefault(t => t.Length == snapshot.Position && Matches(HiddenAfter(t), h));
                Check(had is not null, $"{session.Id}: the store holds position {snapshot.Position} with an h the session never had");
                session.Tokens = had!;
                if (hoursLater)
                {
                    stored = stored with { LastUsed = expiredBefore };
                    await _durable.SaveAsync(session.Id, stored);
                }
            }

            // A stored session past its time-to-live expires on its next use.
            var expired = stored is { IsExpired: true } || (stored is not null && DateTimeOffset.UtcNow - stored.LastUsed >= TimeSpan.FromHours(1));
            session.Open = stored?.Snapshot is not null && !expired;
            session.Expired = expired;
        }

        _trace.Add($"  restarted: {string.Join(", ", _sessions.Select(s => s.ToString()))}");
    }

    private void CheckClosedStaysClosed(Tracked session, StoredSession? stored) =>
        Check(!session.ClosedForGood || stored is null, $"{session.Id}: closed, yet the store holds {Describe(stored)}");

    // h_n after the tokens from zeros (zeros for none).
    private float[] HiddenAfter(int[] tokens)
    {
        var recurrent = TestModels.EmbeddingHead.Recurrent;
        return tokens.Length == 0 ? new float[recurrent.NumLayers * recurrent.Directions * recurrent.OutputSize] : _reference.Run(Tokens(tokens)).H;
    }

    private static bool Matches(float[] expected, float[] actual) =>
        expected.Length == actual.Length && expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-5f);

    private static Token[] Tokens(IEnumerable<int> ids) => ids.Select(Token.Id).ToArray();

    private static string Describe(StoredSession? stored) =>
        stored is null ? "nothing" : stored.IsExpired ? "a tombstone" : $"position {stored.Snapshot!.Position}";

    private static void Check(bool condition, string rule)
    {
        if (!condition)
        {
            throw new InvalidOperationException("broken: " + rule);
        }
    }

    /// <summary>What the model knows of one session.</summary>
    private sealed class Tracked(string id)
    {
        public string Id { get; } = id;

        public bool Open { get; set; }

        public bool Expired { get; set; }

        public int[] Tokens { get; set; } = [];

        /// <summary>Every state (tokens since zeros) the session has had, for recognising the one a crash resumes.</summary>
        public List<int[]> History { get; } = [];

        /// <summary>A close was answered and nothing opened the session since: the store must never hold it.</summary>
        public bool ClosedForGood { get; set; }

        public override string ToString() => $"{Id} {(Open ? $"open at {Tokens.Length}" : Expired ? "expired" : "closed")}";
    }
}
