using System.Collections.Concurrent;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// The registry's table: the one map from session id to the session's <see cref="SessionEntry"/> on this engine
/// (the place cluster sharding will take). Callers read it on their own threads, so an operation on a resident
/// session reaches its session without an actor hop; an id without an entry gets a new one, held until its
/// lifecycle actor has loaded the session from the store. Entries leave it only under their own lock, so an
/// operation either lands in the current entry or finds it gone and looks again.
/// </summary>
internal sealed class SessionDirectory(SessionContext context)
{
    private readonly ConcurrentDictionary<string, SessionEntry> _entries = new(StringComparer.Ordinal);
    // Passivated sessions and when they were last used (Environment.TickCount64), for expiry.
    private readonly ConcurrentDictionary<string, long> _passivated = new(StringComparer.Ordinal);
    private volatile string? _refusal;

    public SessionContext Context { get; } = context;

    /// <summary>Why new operations are refused (shutting down, pipeline failed); null while they are accepted.</summary>
    public string? Refusal => _refusal;

    public int Count => _entries.Count;

    /// <summary>A snapshot of the entries (for sweeps, shutdown and failure; never on the hot path).</summary>
    public IReadOnlyCollection<SessionEntry> Entries => (IReadOnlyCollection<SessionEntry>)_entries.Values;

    /// <summary>The session's entry, or a new held one (<paramref name="added"/>) that needs its actor; null once operations are refused.</summary>
    public SessionEntry? GetOrAdd(string sessionId, out bool added)
    {
        added = false;
        if (_refusal is not null)
        {
            return null;
        }

        if (_entries.TryGetValue(sessionId, out var entry))
        {
            return entry;
        }

        var created = new SessionEntry(sessionId, this);
        entry = _entries.GetOrAdd(sessionId, created);
        added = ReferenceEquals(entry, created);
        return entry;
    }

    /// <summary>Refuses new entries from now on (set before the entries are swept, so none slips past the sweep).</summary>
    public void Refuse(string why) => _refusal ??= why;

    /// <summary>Called by an entry under its lock when it becomes gone.</summary>
    public void Remove(SessionEntry entry) => _entries.TryRemove(KeyValuePair.Create(entry.Id, entry));

    /// <summary>The session's snapshot is in the store because it passivated (not because an engine shut down).</summary>
    public void MarkPassivated(string sessionId, long lastUsedTicks) => _passivated[sessionId] = lastUsedTicks;

    /// <summary>The passivated sessions last used before <paramref name="ticks"/>.</summary>
    public IReadOnlyList<string> PassivatedBefore(long ticks) => _passivated.Where(p => p.Value <= ticks).Select(p => p.Key).ToArray();

    /// <summary>The session's resident entry, or null.</summary>
    public SessionEntry? Find(string sessionId) => _entries.GetValueOrDefault(sessionId);

    /// <summary>Whether the session had passivated; forgets it.</summary>
    public bool TakePassivated(string sessionId) => _passivated.TryRemove(sessionId, out _);
}
