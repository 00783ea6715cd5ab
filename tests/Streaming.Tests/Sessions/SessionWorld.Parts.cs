using Streaming.Persistence;
using Streaming.Sessions;

namespace Streaming.Tests.Sessions;

/// <summary>The world's stops and restarts, its end, its checks, and the parts it is made of.</summary>
internal sealed partial class SessionWorld
{
    private void Stop(int lands, string how)
    {
        // What the store calls in flight did is up to chance (bit per session); the old engine hears nothing more.
        _engine.Dead = true;
        foreach (var id in _storeCalls.Keys.ToArray())
        {
            var index = int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture);
            EndStoreCall(id, (lands >> index & 1) == 1 ? StoreOutcome.FailsAfterWriting : StoreOutcome.Fails);
        }

        foreach (var operation in _operations.Where(o => o.Replies == 0 && o.Engine == _engine))
        {
            // Their callers went down with the process (a crash), or are answered below (a pipeline failure answered them).
            operation.Lost = true;
        }

        _pipeline.Clear();
        Restart(how);
    }

    private void Shutdown()
    {
        _engine.Refusing = true;
        ForEachEntry(entry => Handle(entry, SessionEvent.ShutdownRequested.Instance));
        Quiesce();
        Check(_engine.Entries.Count == 0, "every session left at shutdown");
        foreach (var id in _model.Ids)
        {
            var session = _model[id];
            if (session.Open && !_engine.ShutdownSaveFailed.Contains(id) && !_engine.Dropped.Contains(id))
            {
                Check(_store.TryGetValue(id, out var stored) && stored.Snapshot?.Position == session.Position,
                    $"{id}: after a graceful shutdown the store holds position {session.Position}, found {Describe(id)}");
            }
        }

        _engine.Dead = true;
        Restart("shutdown");
    }

    private void Restart(string after)
    {
        _engine = new Engine();
        foreach (var id in _model.Ids.ToArray())
        {
            _store.TryGetValue(id, out var stored);
            _model.Follow(id, stored);
        }

        _trace.Add($"  new engine after {after}; store: {string.Join(", ", _store.Keys.Order().Select(Describe))}");
    }

    // Lets everything (of one session, or of all) finish: every element comes back and every store call succeeds.
    private void Quiesce(string? only = null)
    {
        for (var guard = 0; guard < 10_000; guard++)
        {
            var element = _pipeline.FirstOrDefault(p => p.Value.Count > 0 && (only is null || p.Key == only)).Key;
            if (element is not null)
            {
                CompleteElement(element);
                continue;
            }

            var call = _storeCalls.Keys.FirstOrDefault(k => only is null || k == only);
            if (call is not null)
            {
                EndStoreCall(call, StoreOutcome.Succeeds);
                continue;
            }

            return;
        }

        throw new InvalidOperationException("the world did not come to rest");
    }

    // A session that passivated here is watched (for expiry) until an entry takes it again (while the engine runs).
    private void CheckPassivatedAreWatched()
    {
        if (_engine.Refusing)
        {
            return;
        }

        foreach (var id in _engine.PassivatedHere)
        {
            Check(_engine.Passivated.ContainsKey(id) || _engine.Entries.ContainsKey(id), $"{id}: passivated here, then forgotten");
        }
    }

    private void CheckEveryOperationAnsweredOnce()
    {
        foreach (var operation in _operations.Where(o => !o.Lost))
        {
            Check(operation.Replies == 1, $"operation {operation} got {operation.Replies} answer(s)");
        }
    }

    private string Describe(string id) => _store.TryGetValue(id, out var stored)
        ? stored.IsExpired ? $"{id}: tombstone" : $"{id}: at {stored.Snapshot!.Position}"
        : $"{id}: nothing";

    private static void Check(bool condition, string rule)
    {
        if (!condition)
        {
            throw new InvalidOperationException("broken: " + rule);
        }
    }

    /// <summary>A caller's operation and what became of it.</summary>
    private sealed class Operation(int number, string session, SessionCommand command)
    {
        public string Session { get; } = session;

        public SessionCommand Command { get; } = command;

        public Engine? Engine { get; set; }

        public int Replies { get; set; }

        public bool ElementCameBack { get; set; }

        public bool Lost { get; set; }

        /// <summary>The model's stream of the session when it applied (an open, reset or restore starts another).</summary>
        public int Stream { get; set; }

        public override string ToString() => $"#{number} {Command} of {Session}";
    }

    private sealed record InFlight(ElementRole Role, Operation? Operation, long Position);

    private sealed class Engine
    {
        public Dictionary<string, Entry> Entries { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Passivated { get; } = new(StringComparer.Ordinal);

        public HashSet<string> ShutdownSaveFailed { get; } = new(StringComparer.Ordinal);

        /// <summary>Sessions dropped without a save on this engine (their new owner resumes them from the store).</summary>
        public HashSet<string> Dropped { get; } = new(StringComparer.Ordinal);

        /// <summary>Sessions that passivated on this engine and have not been taken by an entry since.</summary>
        public HashSet<string> PassivatedHere { get; } = new(StringComparer.Ordinal);

        public bool Refusing { get; set; }

        public bool Dead { get; set; }
    }

    private sealed class Entry(string id, Engine engine)
    {
        public string Id { get; } = id;

        public Engine Engine { get; } = engine;

        public SessionState State { get; set; }

        public Queue<Operation> Waiting { get; } = new();

        public Queue<InFlight> InFlight { get; } = new();

        public Operation? Closing { get; set; }

        public int Evictions { get; set; }

        /// <summary>The outputs the shell keeps: each position with the operation whose element produced it.</summary>
        public List<(long Position, Operation Operation)> Kept { get; } = [];

        /// <summary>Resent tokens waiting for their original's output.</summary>
        public List<(Operation Operation, long At)> Duplicates { get; } = [];
    }
}
