using Streaming.Persistence;

namespace Streaming.Sessions;

/// <summary>
/// What <see cref="SessionMachine"/> asks its shell (<see cref="SessionEntry"/>) to do: send an element, answer a
/// caller, call the store, count, leave. Values: the shell performs them in the order given, and holds no rules of
/// its own. Positions are those of the state the decision returns.
/// </summary>
internal abstract record SessionEffect
{
    private protected SessionEffect()
    {
    }

    /// <summary>Park the caller's operation at the end of the session's queue.</summary>
    public static SessionEffect Queue { get; } = new QueueEffect();

    /// <summary>Send the caller's operation into the pipeline; its element carries the new state's position.</summary>
    public static SessionEffect Apply { get; } = new ApplyEffect();

    /// <summary>Answer the caller whose element just came back, with the element's result.</summary>
    public static SessionEffect Reply { get; } = new ReplyEffect();

    /// <summary>The session left before the operation reached it: the caller looks the session up again.</summary>
    public static SessionEffect Retry { get; } = new RetryEffect();

    /// <summary>Send a snapshot element for the store, at the state's position.</summary>
    public static SessionEffect SendSnapshot { get; } = new SendSnapshotEffect();

    /// <summary>Send the session's own close element, which frees its slots.</summary>
    public static SessionEffect SendClose { get; } = new SendCloseEffect();

    /// <summary>Send the generation's next element (whose element just came back); it carries the new state's position.</summary>
    public static SessionEffect ContinueGeneration { get; } = new ContinueGenerationEffect();

    /// <summary>Read what the store holds of the session.</summary>
    public static SessionEffect Load { get; } = new LoadEffect();

    /// <summary>Delete the store's copy.</summary>
    public static SessionEffect Delete { get; } = new DeleteEffect();

    public sealed record QueueEffect : SessionEffect;

    public sealed record ApplyEffect : SessionEffect;

    public sealed record ReplyEffect : SessionEffect;

    public sealed record RetryEffect : SessionEffect;

    public sealed record SendSnapshotEffect : SessionEffect;

    public sealed record SendCloseEffect : SessionEffect;

    public sealed record ContinueGenerationEffect : SessionEffect;

    public sealed record LoadEffect : SessionEffect;

    public sealed record DeleteEffect : SessionEffect;

    /// <summary>Refuse the caller's operation with <paramref name="Error"/>; nothing was applied.</summary>
    public sealed record Refuse(EngineException Error) : SessionEffect;

    /// <summary>End the generation whose element just came back with <paramref name="Error"/>: a close, shutdown or eviction stopped it.</summary>
    public sealed record InterruptGeneration(EngineException Error) : SessionEffect;

    /// <summary>Refuse the caller's resent token with <paramref name="Error"/>, carrying the output kept for position <paramref name="At"/>.</summary>
    public sealed record RefuseDuplicate(EngineException Error, long At) : SessionEffect;

    /// <summary>
    /// The caller's resent token at <paramref name="At"/> is a duplicate of one still in the pipeline: refuse it with
    /// <paramref name="Error"/> and the original's output once that is kept (or without, if it is forgotten first).
    /// </summary>
    public sealed record AwaitOriginal(EngineException Error, long At) : SessionEffect;

    /// <summary>
    /// Keep the outputs of the element that just came back after those kept, forget those before
    /// <paramref name="From"/>, and answer the duplicates waiting for them.
    /// </summary>
    public sealed record KeepOutputs(long From) : SessionEffect;

    /// <summary>Forget every output kept; the next ones kept start at <paramref name="At"/>. Duplicates still waiting are answered without output.</summary>
    public sealed record ForgetOutputs(long At) : SessionEffect;

    /// <summary>Keep the last <paramref name="Keep"/> of the outputs a loaded session's stored copy kept.</summary>
    public sealed record ResumeOutputs(RecentOutputs Outputs, int Keep) : SessionEffect;

    /// <summary>Send the restore of <paramref name="Snapshot"/> (the state loaded from the store) ahead of everything waiting.</summary>
    public sealed record SendRestore(SessionSnapshot Snapshot) : SessionEffect;

    /// <summary>Save the snapshot that just came back from the pipeline, with its last use.</summary>
    public sealed record SaveSnapshot(long LastUsed) : SessionEffect;

    /// <summary>Save a tombstone: the session expired after its last use at <paramref name="LastUsed"/>.</summary>
    public sealed record SaveTombstone(long LastUsed) : SessionEffect;

    /// <summary>Answer the caller's close: done (null), or refused with <paramref name="Error"/>.</summary>
    public sealed record AnswerClose(EngineException? Error) : SessionEffect
    {
        public static AnswerClose Done { get; } = new((EngineException?)null);
    }

    /// <summary>Complete every eviction asked for with whether the session left.</summary>
    public sealed record EvictionDone(bool Evicted) : SessionEffect
    {
        public static EvictionDone Yes { get; } = new(true);

        public static EvictionDone No { get; } = new(false);
    }

    /// <summary>Fail every eviction asked for with <paramref name="Error"/> (the session stays).</summary>
    public sealed record EvictionFailed(EngineException Error) : SessionEffect;

    /// <summary>Remember that the session passivated, last used at <paramref name="LastUsed"/> (its time-to-live counts from there).</summary>
    public sealed record MarkPassivated(long LastUsed) : SessionEffect;

    /// <summary>Add one to a counter of the engine's statistics.</summary>
    public sealed record Count(SessionCounter Counter) : SessionEffect
    {
        private static readonly Count[] All = Enum.GetValues<SessionCounter>().Select(c => new Count(c)).ToArray();

        public static Count Of(SessionCounter counter) => All[(int)counter];
    }

    /// <summary>Log a warning (a store call failed; what the session does about it is in the same decision).</summary>
    public sealed record Warn(string Message) : SessionEffect;

    /// <summary>
    /// The save at shutdown failed (<paramref name="Why"/>, attempt <paramref name="Attempt"/>): tell the engine's shutdown
    /// report, and after <paramref name="DelayMs"/> feed the session <see cref="SessionEvent.SaveRetryDue"/>.
    /// </summary>
    public sealed record RetrySaveAfter(long DelayMs, string Why, int Attempt) : SessionEffect;

    /// <summary>The save at shutdown failed <paramref name="Attempts"/> times, the last for <paramref name="Why"/>, and the deadline has come: the session leaves unsaved.</summary>
    public sealed record ShutdownSaveLost(string Why, int Attempts) : SessionEffect;

    /// <summary>The checkpoint could not be saved (<paramref name="Why"/>): told in the engine's one line per checkpoint period, not by the session.</summary>
    public sealed record CheckpointFailed(string Why) : SessionEffect;

    /// <summary>Leave the engine's directory; operations still waiting are refused with <paramref name="Refusal"/> (or a generic EngineStopped).</summary>
    public sealed record Leave(EngineException? Refusal) : SessionEffect;

    /// <summary>The pipeline is gone: fail every operation in flight or waiting, the close and the evictions, with <paramref name="Error"/>, and leave.</summary>
    public sealed record FailAll(EngineException Error) : SessionEffect;
}
