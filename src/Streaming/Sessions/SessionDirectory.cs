using System.Collections.Concurrent;

namespace Streaming.Sessions;

/// <summary>
/// The one map from session id to the session's <see cref="SessionEntry"/> on this engine, and the list of sessions
/// that passivated here (with their last use, for expiry). Callers read it on their own threads, so an operation on a
/// resident session reaches it without an actor hop. An id without an entry gets a new one, which loads the session
/// from the store; entries leave it themselves (under their own lock), so an operation either lands in the current
/// entry or finds it gone and looks again.
/// </summary>
internal sealed class SessionDirectory(SessionContext context)
{
    private readonly ConcurrentDictionary<string, SessionEntry> _entries = new(StringComparer.Ordinal);
    // Passivated sessions and their last use (the one saved with them), for expiry.
    private readonly ConcurrentDictionary<string, long> _passivated = new(StringComparer.Ordinal);
    // New entries are made one at a time, so taking a session's passivated mark and adding its entry is one step.
    private readonly Lock _creating = new();
    private readonly TaskCompletionSource _emptied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _refusal;

    public SessionContext Context { get; } = context;

    /// <summary>Why new operations are refused (shutting down, pipeline failed); null while they are accepted.</summary>
    public string? Refusal => _refusal;

    /// <summary>A snapshot of the entries (for sweeps, shutdown and failure; never on the hot path).</summary>
    public IReadOnlyCollection<SessionEntry> Entries => (IReadOnlyCollection<SessionEntry>)_entries.Values;

    /// <summary>Completes once new entries are refused and every entry has left.</summary>
    public Task Emptied => _emptied.Task;

    /// <summary>The session's entry, or a new one that loads it; null once operations are refused.</summary>
    public SessionEntry? GetOrAdd(string sessionId)
    {
        if (_entries.TryGetValue(sessionId, out var entry))
        {
            return entry;
        }

        SessionEntry created;
        lock (_creating)
        {
            if (_refusal is not null)
            {
                return null;
            }

            if (_entries.TryGetValue(sessionId, out entry))
            {
                return entry;
            }

            long? passivatedLastUse = _passivated.TryRemove(sessionId, out var lastUsed) ? lastUsed : null;
            created = new SessionEntry(sessionId, this, SessionMachine.Start(Context.Clock.Now, passivatedLastUse, probe: false));
            _entries[sessionId] = created;
        }

        created.Activate();
        return created;
    }

    /// <summary>
    /// For the sweep: a passivated session past its time-to-live gets an entry that checks the store (which may say it
    /// was used later) and expires it, or lets it stay passivated. Nothing when the session has an entry already.
    /// </summary>
    public void Probe(string sessionId)
    {
        SessionEntry created;
        lock (_creating)
        {
            if (_refusal is not null || _entries.ContainsKey(sessionId) || !_passivated.TryRemove(sessionId, out var lastUsed))
            {
                return;
            }

            created = new SessionEntry(sessionId, this, SessionMachine.Start(lastUsed, lastUsed, probe: true));
            _entries[sessionId] = created;
        }

        created.Activate();
    }

    /// <summary>Refuses new entries from now on (set before the entries are told, so none slips past).</summary>
    public void Refuse(string why)
    {
        lock (_creating)
        {
            _refusal ??= why;
        }

        SignalIfEmpty();
    }

    /// <summary>Called by an entry under its lock when it leaves.</summary>
    public void Remove(SessionEntry entry)
    {
        _entries.TryRemove(KeyValuePair.Create(entry.Id, entry));
        SignalIfEmpty();
    }

    /// <summary>The session's snapshot is in the store because it passivated here, last used at <paramref name="lastUsed"/>.</summary>
    public void MarkPassivated(string sessionId, long lastUsed) => _passivated[sessionId] = lastUsed;

    /// <summary>The passivated sessions past their time-to-live at <paramref name="now"/>, by the last use saved with them.</summary>
    public IReadOnlyList<string> PassivatedAndExpired(long now) =>
        _passivated.Where(p => Context.Rules.IsExpired(p.Value, now)).Select(p => p.Key).ToArray();

    /// <summary>The session's resident entry, or null.</summary>
    public SessionEntry? Find(string sessionId) => _entries.GetValueOrDefault(sessionId);

    private void SignalIfEmpty()
    {
        if (_refusal is not null && _entries.IsEmpty)
        {
            _emptied.TrySetResult();
        }
    }
}
