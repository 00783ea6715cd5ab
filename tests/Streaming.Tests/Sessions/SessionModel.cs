using Streaming.Persistence;
using Streaming.Sessions;

namespace Streaming.Tests.Sessions;

/// <summary>
/// The deliberately simple model the session machine is checked against: per session, whether it is open or expired,
/// its position, and whether it was closed for good (a close answered and no open since). Lifecycle decisions whose
/// timing is the engine's (expiry, a failed load) move it when they happen, after their own checks; a restart makes
/// it what the store holds, which is what "every session resumes at its last persisted snapshot" means.
/// </summary>
internal sealed class SessionModel
{
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public Session this[string id] => _sessions.TryGetValue(id, out var session) ? session : _sessions[id] = new Session();

    /// <summary>What the model expects of <paramref name="command"/> now: null when it applies, else the refusal's code.</summary>
    public EngineErrorCode? Expected(string id, SessionCommand command)
    {
        var session = this[id];
        if (session.LoadFailed)
        {
            // Whether the store holds it is not known: only a restore (which replaces it) applies.
            return command is SessionCommand.Restore ? null : EngineErrorCode.StoreFailed;
        }

        if (!session.Open)
        {
            return command is SessionCommand.Open or SessionCommand.Restore ? null
                : session.Expired ? EngineErrorCode.SessionExpired
                : session.CloseUnfinished ? EngineErrorCode.StoreFailed
                : EngineErrorCode.UnknownSession;
        }

        return command switch
        {
            SessionCommand.Open => EngineErrorCode.SessionAlreadyOpen,
            SessionCommand.Push { At: { } at } when at < session.Position => EngineErrorCode.DuplicateToken,
            SessionCommand.Push { At: { } at } when at > session.Position => EngineErrorCode.PositionAhead,
            _ => null,
        };
    }

    /// <summary>Applies <paramref name="command"/>; returns the position its element must carry.</summary>
    public long Apply(string id, SessionCommand command)
    {
        var session = this[id];
        switch (command)
        {
            case SessionCommand.Open:
                session.LoadFailed = session.CloseUnfinished = false;
                session.Open = true;
                session.Expired = false;
                session.ClosedForGood = false;
                session.Position = 0;
                session.Stream++;
                break;
            case SessionCommand.Restore restore:
                session.LoadFailed = session.CloseUnfinished = false;
                session.Open = true;
                session.Expired = false;
                session.ClosedForGood = false;
                session.Position = restore.Position;
                session.Stream++;
                break;
            case SessionCommand.Push:
                session.Position++;
                break;
            case SessionCommand.Replay replay:
                session.Position += replay.Steps;
                break;
            case SessionCommand.Reset:
                session.Position = 0;
                session.Stream++;
                break;
            case SessionCommand.Close:
                session.Open = false;
                session.Expired = false;
                break;
        }

        return session.Position;
    }

    /// <summary>After a restart, or a load that follows a failed one: the session is what the store holds.</summary>
    public void Follow(string id, StoredSession? stored)
    {
        var session = this[id];
        session.Open = stored is { Snapshot: not null };
        session.Expired = stored is { IsExpired: true };
        session.Position = stored?.Snapshot?.Position ?? 0;
        session.Unsure = false;
        session.LoadFailed = false;
        session.CloseUnfinished = false;
        session.ClosedForGood = session.ClosedForGood && stored is null;
    }

    public IEnumerable<string> Ids => _sessions.Keys;

    public sealed class Session
    {
        public bool Open { get; set; }

        public bool Expired { get; set; }

        public long Position { get; set; }

        /// <summary>Which stream of tokens the session is on: an open, reset or restore starts the next one.</summary>
        public int Stream { get; set; }

        /// <summary>A close was answered as done, and nothing opened the session since: the store must never hold it.</summary>
        public bool ClosedForGood { get; set; }

        /// <summary>What the store holds is what the session is, whatever the engine applied since (a failed delete, a drop): the next load decides.</summary>
        public bool Unsure { get; set; }

        /// <summary>Its close's delete failed and nothing opened it since: operations other than open and restore are refused StoreFailed.</summary>
        public bool CloseUnfinished { get; set; }

        /// <summary>Its entry's load failed and the entry has not left: the store could not be asked, so it is neither open nor closed here.</summary>
        public bool LoadFailed { get; set; }
    }
}
