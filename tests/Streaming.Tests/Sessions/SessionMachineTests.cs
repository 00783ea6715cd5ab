using Streaming.Persistence;
using Streaming.Sessions;
using static Streaming.Sessions.SessionEffect;

namespace Streaming.Tests.Sessions;

/// <summary>The session machine's rules one at a time: events in, state and effects out; no actors, no store, no clock.</summary>
public sealed class SessionMachineTests
{
    private static readonly SessionRules Rules = new(MaxInFlight: 4, PassivateAfterMs: 100, ExpireAfterMs: 1000);
    private static readonly ModelIdentity Model = new("model", new string('0', 64));

    [Fact]
    public void A_close_that_meets_a_checkpoint_save_in_flight_deletes_only_after_the_save_ended_and_is_answered_after_the_delete()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere).Then(SessionEvent.ElementDone.Operation);
        Assert.IsType<SendSnapshotEffect>(session.Then(SessionEvent.CheckpointDue.Instance).Single());
        Assert.IsType<SaveSnapshot>(session.Then(SessionEvent.ElementDone.StoreSnapshot).Single());

        // The close applies at once, but with the save in flight nothing may be deleted or answered yet.
        Assert.IsType<ApplyEffect>(session.Then(SessionCommand.Close.Instance).Last());
        Assert.Empty(session.Then(SessionEvent.ElementDone.Close));
        Assert.Equal(SessionPhase.Closing, session.State.Phase);

        Assert.IsType<DeleteEffect>(session.Then(SessionEvent.Saved.Instance).Single());
        var answered = session.Then(SessionEvent.Deleted.Instance);
        Assert.Same(AnswerClose.Done, answered[0]);
        Assert.IsType<Leave>(answered[1]);
    }

    [Fact]
    public void A_checkpoint_snapshot_that_a_close_overtook_is_not_saved()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere).Then(SessionEvent.ElementDone.Operation).Then(SessionEvent.CheckpointDue.Instance);
        session.Then(SessionCommand.Close.Instance);

        Assert.Empty(session.Then(SessionEvent.ElementDone.StoreSnapshot));
        // Never saved, so nothing to delete: the close is answered as its element comes back.
        Assert.Same(AnswerClose.Done, session.Then(SessionEvent.ElementDone.Close)[0]);
    }

    [Fact]
    public void Operations_sent_while_the_session_loads_wait_and_follow_the_restore_in_order()
    {
        var session = new Machine(SessionMachine.Start(now: 0, wasPassivated: false, probe: false));
        Assert.Same(Queue, session.Then(SessionCommand.Push.Anywhere).Single());
        Assert.Same(Queue, session.Then(new SessionCommand.Push(8)).Single());
        Assert.Equal(2, session.State.Waiting);

        var loaded = session.Then(new SessionEvent.Loaded(Stored(position: 7, lastUsed: 0)));
        Assert.Equal(7, Assert.IsType<SendRestore>(loaded[0]).Snapshot.Position);
        Assert.True(SessionMachine.Accepts(Rules, session.State));
        Assert.Same(Apply, session.Then(new SessionEvent.Dequeued(SessionCommand.Push.Anywhere)).Single());
        Assert.Equal(8, session.State.Position);
        Assert.Same(Apply, session.Then(new SessionEvent.Dequeued(new SessionCommand.Push(8))).Single());
        Assert.Equal(9, session.State.Position);
    }

    [Fact]
    public void A_token_beyond_a_resumed_sessions_position_is_refused_with_where_to_resend()
    {
        var session = new Machine(SessionMachine.Start(now: 0, wasPassivated: false, probe: false));
        session.Then(new SessionEvent.Loaded(Stored(position: 10, lastUsed: 0))).Then(SessionEvent.ElementDone.Internal);

        var refused = Assert.IsType<Refuse>(session.Then(new SessionCommand.Push(15)).Single()).Error;
        Assert.Equal(EngineErrorCode.PositionAhead, refused.Code);
        Assert.Equal(10, refused.Position);
        Assert.Contains("resumed at position 10 from its last persisted snapshot", refused.Message, StringComparison.Ordinal);
        Assert.Equal(10, session.State.Position);
    }

    [Fact]
    public void A_probe_that_finds_a_later_last_use_in_the_store_keeps_the_session_passivated_from_that_last_use()
    {
        // The sweep thought it expired (last use 0, time-to-live 1000); the store says it was used at 500.
        var probe = new Machine(SessionMachine.Start(now: 0, wasPassivated: true, probe: true), now: 1200);
        var effects = probe.Then(new SessionEvent.Loaded(Stored(position: 3, lastUsed: 500)));

        Assert.Equal(500, Assert.IsType<MarkPassivated>(effects[0]).LastUsed);
        Assert.IsType<Leave>(effects.Last());
        Assert.Equal(SessionPhase.Gone, probe.State.Phase);

        // Checked again past that last use, it expires.
        var later = new Machine(SessionMachine.Start(now: 500, wasPassivated: true, probe: true), now: 1500);
        Assert.Equal(500, Assert.IsType<SaveTombstone>(later.Then(new SessionEvent.Loaded(Stored(position: 3, lastUsed: 500))).Last()).LastUsed);
    }

    [FsCheck.Xunit.Property(MaxTest = 2000)]
    public bool A_probe_either_expires_a_passivated_session_or_keeps_watching_it_from_its_stored_last_use(ushort usedLater, ushort checkedLater)
    {
        // Passivated with last use 0 (time-to-live 1000); the store may say it was used later; checked at 1000 or after.
        long stored = usedLater, now = 1000 + checkedLater;
        var probe = new Machine(SessionMachine.Start(now: 0, wasPassivated: true, probe: true), now);
        var effects = probe.Then(new SessionEvent.Loaded(Stored(position: 3, lastUsed: stored)));
        return now - stored >= 1000
            ? effects.OfType<SaveTombstone>().Single().LastUsed == stored
            : effects.OfType<MarkPassivated>().Single().LastUsed == stored && probe.State.Phase == SessionPhase.Gone;
    }

    [Fact]
    public void An_idle_session_past_its_time_to_live_expires_and_operations_that_came_meanwhile_are_told_so()
    {
        var session = Open();
        session.Now = 1000;
        Assert.IsType<SaveTombstone>(session.Then(SessionEvent.Swept.Instance).Single());
        Assert.Same(Queue, session.Then(SessionCommand.Push.Anywhere).Single());

        var saved = session.Then(SessionEvent.Saved.Instance);
        Assert.IsType<SendCloseEffect>(saved[1]);
        Assert.Equal(SessionPhase.Expired, session.State.Phase);
        var refused = Assert.IsType<Refuse>(session.Then(new SessionEvent.Dequeued(SessionCommand.Push.Anywhere)).Single());
        Assert.Equal(EngineErrorCode.SessionExpired, refused.Error.Code);
    }

    [Fact]
    public void A_close_that_came_back_from_the_pipeline_is_not_answered_not_applied_when_the_pipeline_fails()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere).Then(SessionEvent.ElementDone.Operation).Then(SessionEvent.CheckpointDue.Instance)
            .Then(SessionEvent.ElementDone.StoreSnapshot).Then(SessionEvent.Saved.Instance);
        session.Then(SessionCommand.Close.Instance);
        Assert.IsType<DeleteEffect>(session.Then(SessionEvent.ElementDone.Close).Single());

        var failed = session.Then(new SessionEvent.PipelineFailed("a stage failed"));
        Assert.Equal(EngineErrorCode.StoreFailed, Assert.IsType<AnswerClose>(failed[0]).Error!.Code);
        Assert.Equal(EngineErrorCode.EngineStopped, Assert.IsType<FailAll>(failed[1]).Error.Code);
    }

    [Fact]
    public void An_eviction_asked_while_busy_waits_for_idle_then_saves_frees_the_slots_and_leaves()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere);
        Assert.Empty(session.Then(SessionEvent.EvictRequested.Instance));

        Assert.IsType<SendSnapshotEffect>(session.Then(SessionEvent.ElementDone.Operation)[1]);
        Assert.Equal(LeaveReason.Evict, session.State.Leaving);
        session.Then(SessionEvent.ElementDone.StoreSnapshot);
        var left = session.Then(SessionEvent.Saved.Instance);
        Assert.Equal([typeof(SendCloseEffect), typeof(Count), typeof(EvictionDone), typeof(Leave)], left.Select(e => e.GetType()));
        Assert.Same(EvictionDone.Yes, left[2]);
    }

    private static StoredSession Stored(long position, long lastUsed) =>
        new(new SessionSnapshot(Model, position, []), SessionClock.ToTime(lastUsed));

    // A new session: its open waits for the load (which finds nothing), then applies; its element is back.
    [Fact]
    public void A_generation_moves_the_position_with_each_step_it_sends_and_other_operations_wait_until_it_ends()
    {
        var session = Open();
        Assert.Same(Apply, session.Then(new SessionCommand.Generate(FirstSteps: 5)).Single());
        Assert.Equal(5, session.State.Position);
        Assert.True(session.State.Generating);

        // A push and a snapshot sent meanwhile wait: the generation's tokens are consecutive in the session.
        Assert.Same(Queue, session.Then(SessionCommand.Push.Anywhere).Single());
        Assert.Same(Queue, session.Then(SessionCommand.Snapshot.Instance).Single());
        Assert.False(SessionMachine.Accepts(Rules, session.State));

        Assert.Same(ContinueGeneration, session.Then(SessionEvent.GenerationStepDone.More).Single());
        Assert.Equal(6, session.State.Position);
        Assert.Same(ContinueGeneration, session.Then(SessionEvent.GenerationStepDone.More).Single());
        Assert.Equal(7, session.State.Position);

        Assert.Same(Reply, session.Then(SessionEvent.GenerationStepDone.Finished).Single());
        Assert.False(session.State.Generating);
        Assert.Equal(7, session.State.Position);
        Assert.True(SessionMachine.Accepts(Rules, session.State));
        Assert.Same(Apply, session.Then(new SessionEvent.Dequeued(SessionCommand.Push.Anywhere)).Single());
        Assert.Equal(8, session.State.Position);
    }

    [Fact]
    public void A_close_stops_a_generation_at_its_next_step_and_then_applies()
    {
        var session = Open();
        session.Then(new SessionCommand.Generate(FirstSteps: 1));
        Assert.Same(Queue, session.Then(SessionCommand.Close.Instance).Single());

        var stopped = Assert.IsType<InterruptGeneration>(session.Then(SessionEvent.GenerationStepDone.More).Single()).Error;
        Assert.Equal(EngineErrorCode.GenerationInterrupted, stopped.Code);
        Assert.Equal(1, stopped.Position);
        Assert.Contains("a close of the session", stopped.Message, StringComparison.Ordinal);
        Assert.True(SessionMachine.Accepts(Rules, session.State));
        Assert.IsType<ApplyEffect>(session.Then(new SessionEvent.Dequeued(SessionCommand.Close.Instance)).Last());
        Assert.Equal(SessionPhase.Closing, session.State.Phase);
    }

    [Fact]
    public void A_generation_that_reaches_its_own_end_as_a_close_arrives_ends_normally()
    {
        var session = Open();
        session.Then(new SessionCommand.Generate(FirstSteps: 0)).Then(SessionCommand.Close.Instance);

        Assert.Same(Reply, session.Then(SessionEvent.GenerationStepDone.Finished).Single());
        Assert.Equal(0, session.State.Position);
    }

    [Fact]
    public void A_shutdown_or_an_eviction_stops_a_generation_at_its_next_step_and_the_session_then_leaves_saved()
    {
        foreach (var request in new SessionEvent[] { SessionEvent.ShutdownRequested.Instance, SessionEvent.EvictRequested.Instance })
        {
            var session = Open();
            session.Then(new SessionCommand.Generate(FirstSteps: 1)).Then(SessionEvent.GenerationStepDone.More);
            Assert.Empty(session.Then(request));

            var effects = session.Then(SessionEvent.GenerationStepDone.More);
            Assert.Equal(EngineErrorCode.GenerationInterrupted, Assert.IsType<InterruptGeneration>(effects[0]).Error.Code);
            Assert.Equal(2, Assert.IsType<InterruptGeneration>(effects[0]).Error.Position);
            Assert.Same(SendSnapshot, effects[1]);
            Assert.Equal(SessionPhase.Leaving, session.State.Phase);
        }
    }

    [Fact]
    public void A_session_is_neither_passivated_nor_expired_while_it_generates_but_a_checkpoint_goes_between_its_steps()
    {
        var session = Open();
        session.Then(new SessionCommand.Generate(FirstSteps: 1));
        session.Now = 5000;
        Assert.Empty(session.Then(SessionEvent.Swept.Instance));
        Assert.Equal(SessionPhase.Open, session.State.Phase);

        Assert.Same(SendSnapshot, session.Then(SessionEvent.CheckpointDue.Instance).Single());
        Assert.Same(ContinueGeneration, session.Then(SessionEvent.GenerationStepDone.More).Single());
        Assert.IsType<SaveSnapshot>(session.Then(SessionEvent.ElementDone.StoreSnapshot).Single());
        Assert.True(session.State.Generating);
    }

    private static Machine Open()
    {
        var session = new Machine(SessionMachine.Start(now: 0, wasPassivated: false, probe: false));
        session.Then(SessionCommand.Open.Instance).Then(new SessionEvent.Loaded(null));
        session.Then(new SessionEvent.Dequeued(SessionCommand.Open.Instance)).Then(SessionEvent.ElementDone.Operation);
        Assert.Equal(SessionPhase.Open, session.State.Phase);
        return session;
    }

    /// <summary>One session's machine, fed one event at a time.</summary>
    private sealed class Machine(Decision start, long now = 0)
    {
        public SessionState State { get; private set; } = start.State;

        public long Now { get; set; } = now;

        public EffectsOf Then(SessionEvent happened)
        {
            var decision = SessionMachine.Decide(Rules, "a", State, happened, Now);
            State = decision.State;
            return new EffectsOf(this, decision.Effects.ToArray());
        }
    }

    /// <summary>A decision's effects, from which the next event can follow.</summary>
    private sealed class EffectsOf(Machine machine, SessionEffect[] effects) : List<SessionEffect>(effects)
    {
        public EffectsOf Then(SessionEvent happened) => machine.Then(happened);
    }
}
