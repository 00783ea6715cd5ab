using Streaming.Persistence;
using Streaming.Sessions;
using static Streaming.Sessions.SessionEffect;

namespace Streaming.Tests.Sessions;

/// <summary>The session machine's rules one at a time: events in, state and effects out; no actors, no store, no clock.</summary>
public sealed class SessionMachineTests
{
    private static readonly SessionRules Rules = new(MaxInFlight: 4, PassivateAfterMs: 100, ExpireAfterMs: 1000);
    // Three outputs kept, so that the oldest are forgotten after a few tokens.
    private static readonly SessionRules Keeping = Rules with { KeptOutputs = 3 };
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
        var session = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: null, probe: false));
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
        var session = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: null, probe: false));
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
        var probe = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: 0, probe: true), now: 1200);
        var effects = probe.Then(new SessionEvent.Loaded(Stored(position: 3, lastUsed: 500)));

        Assert.Equal(500, Assert.IsType<MarkPassivated>(effects[0]).LastUsed);
        Assert.IsType<Leave>(effects.Last());
        Assert.Equal(SessionPhase.Gone, probe.State.Phase);

        // Checked again past that last use, it expires.
        var later = new Machine(SessionMachine.Start(now: 500, passivatedLastUse: 500, probe: true), now: 1500);
        Assert.Equal(500, Assert.IsType<SaveTombstone>(later.Then(new SessionEvent.Loaded(Stored(position: 3, lastUsed: 500))).Last()).LastUsed);
    }

    [FsCheck.Xunit.Property(MaxTest = 2000)]
    public bool A_probe_either_expires_a_passivated_session_or_keeps_watching_it_from_its_stored_last_use(ushort usedLater, ushort checkedLater)
    {
        // Passivated with last use 0 (time-to-live 1000); the store may say it was used later; checked at 1000 or after.
        long stored = usedLater, now = 1000 + checkedLater;
        var probe = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: 0, probe: true), now);
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

    [Fact]
    public void A_session_whose_load_failed_is_refused_StoreFailed_never_unknown_and_its_next_operation_asks_the_store_again()
    {
        var session = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: null, probe: false));
        session.Then(SessionCommand.Push.Anywhere).Then(SessionCommand.Open.Instance);

        var failed = session.Then(new SessionEvent.LoadFailed("Circuit Breaker is open"));
        Assert.Contains(failed, e => e is Warn);
        Assert.Equal(SessionPhase.LoadFailed, session.State.Phase);
        foreach (var command in new SessionCommand[] { SessionCommand.Push.Anywhere, SessionCommand.Open.Instance })
        {
            var refused = Assert.IsType<Refuse>(session.Then(new SessionEvent.Dequeued(command))[0]).Error;
            Assert.Equal(EngineErrorCode.StoreFailed, refused.Code);
            Assert.Contains("Circuit Breaker is open", refused.Message, StringComparison.Ordinal);
            Assert.Contains("neither reset nor forgotten", refused.Message, StringComparison.Ordinal);
        }

        // Idle, it leaves, so the next operation gets a new entry, which loads again.
        Assert.Equal(SessionPhase.Gone, session.State.Phase);
    }

    [Fact]
    public void A_restore_applies_to_a_session_whose_load_failed_since_it_replaces_whatever_the_store_holds()
    {
        var session = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: null, probe: false));
        session.Then(new SessionCommand.Restore(5)).Then(new SessionEvent.LoadFailed("timeout"));

        Assert.Same(Apply, session.Then(new SessionEvent.Dequeued(new SessionCommand.Restore(5)))[1]);
        Assert.Equal(SessionPhase.Open, session.State.Phase);
        Assert.Equal(5, session.State.Position);
        // The store may hold an older copy: a close must delete it.
        Assert.True(session.State.Stored);
    }

    [Fact]
    public void A_passivated_session_whose_load_failed_goes_back_to_passivated_with_the_last_use_saved_with_it()
    {
        var session = new Machine(SessionMachine.Start(now: 900, passivatedLastUse: 300, probe: false), now: 900);
        session.Then(SessionCommand.Push.Anywhere).Then(new SessionEvent.LoadFailed("timeout"));

        var effects = session.Then(new SessionEvent.Dequeued(SessionCommand.Push.Anywhere));
        Assert.Equal(EngineErrorCode.StoreFailed, Assert.IsType<Refuse>(effects[0]).Error.Code);
        Assert.Equal(300, Assert.IsType<MarkPassivated>(effects[1]).LastUsed);
        Assert.Equal(SessionCounter.Passivated, Assert.IsType<Count>(effects[2]).Counter);
        Assert.IsType<Leave>(effects[3]);
    }

    [Fact]
    public void An_operation_that_waited_behind_a_close_whose_delete_failed_is_refused_StoreFailed_not_unknown()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere).Then(SessionEvent.ElementDone.Operation).Then(SessionEvent.CheckpointDue.Instance)
            .Then(SessionEvent.ElementDone.StoreSnapshot).Then(SessionEvent.Saved.Instance);
        session.Then(SessionCommand.Close.Instance).Then(SessionCommand.Push.Anywhere);
        Assert.IsType<DeleteEffect>(session.Then(SessionEvent.ElementDone.Close).Single());

        var answered = session.Then(new SessionEvent.DeleteFailed("connection refused"));
        Assert.Equal(EngineErrorCode.StoreFailed, Assert.IsType<AnswerClose>(answered[1]).Error!.Code);
        var refused = Assert.IsType<Refuse>(session.Then(new SessionEvent.Dequeued(SessionCommand.Push.Anywhere))[0]).Error;
        Assert.Equal(EngineErrorCode.StoreFailed, refused.Code);
        Assert.Contains("Retry the close", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_checkpoint_is_counted_and_reported_for_the_engines_warning_and_the_next_checkpoint_tries_again()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere).Then(SessionEvent.ElementDone.Operation).Then(SessionEvent.CheckpointDue.Instance)
            .Then(SessionEvent.ElementDone.StoreSnapshot);

        var failed = session.Then(new SessionEvent.SaveFailed("connection refused"));
        Assert.Equal([SessionCounter.StoreCallFailed, SessionCounter.CheckpointFailed], failed.OfType<Count>().Select(c => c.Counter));
        Assert.Equal("connection refused", Assert.Single(failed.OfType<CheckpointFailed>()).Why);
        Assert.DoesNotContain(failed, e => e is Warn);
        Assert.IsType<SendSnapshotEffect>(session.Then(SessionEvent.CheckpointDue.Instance).Single());
    }

    [Fact]
    public void Evictions_asked_while_a_session_expires_are_answered_once()
    {
        var session = Open();
        session.Now = 1000;
        session.Then(SessionEvent.Swept.Instance).Then(SessionEvent.EvictRequested.Instance);
        session.Then(SessionEvent.Saved.Instance);
        Assert.Equal(SessionPhase.Expired, session.State.Phase);

        // The second request is answered at once, and that answer covers the first: leaving answers none again.
        Assert.Same(EvictionDone.No, session.Then(SessionEvent.EvictRequested.Instance).Single());
        var left = session.Then(SessionEvent.ElementDone.Internal);
        Assert.IsType<Leave>(left.Single());
    }

    [Fact]
    public void A_dropped_session_takes_no_checkpoint_and_leaves_once_idle_without_saving()
    {
        var session = Open();
        session.Then(SessionCommand.Push.Anywhere).Then(SessionEvent.DropRequested.Instance);
        Assert.Empty(session.Then(SessionEvent.CheckpointDue.Instance));

        var left = session.Then(SessionEvent.ElementDone.Operation);
        Assert.Equal([typeof(ReplyEffect), typeof(Count), typeof(SendCloseEffect), typeof(Leave)], left.Select(e => e.GetType()));
        Assert.DoesNotContain(left, e => e is SaveSnapshot or SendSnapshotEffect);
        Assert.Empty(session.Then(SessionEvent.ShutdownRequested.Instance));
    }

    [Fact]
    public void A_resent_token_the_session_applied_is_refused_with_its_original_output_while_the_session_keeps_it()
    {
        var session = Open(Keeping);
        session.Then(new SessionCommand.Push(0)).Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(0), 1));
        Assert.Equal(new KeepOutputs(0), session.Then(new SessionCommand.Push(1)).Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(1), 2)).Last());

        var refused = Assert.IsType<RefuseDuplicate>(session.Then(new SessionCommand.Push(0)).Single());
        Assert.Equal((EngineErrorCode.DuplicateToken, 2L, 0L), (refused.Error.Code, refused.Error.Position!.Value, refused.At));
        Assert.Equal(2, session.State.Position);
    }

    [Fact]
    public void A_resent_token_whose_original_is_still_in_the_pipeline_is_answered_once_the_original_is_back()
    {
        var session = Open(Keeping);
        Assert.Same(Apply, session.Then(new SessionCommand.Push(0)).Single());
        var waiting = Assert.IsType<AwaitOriginal>(session.Then(new SessionCommand.Push(0)).Single());
        Assert.Equal((EngineErrorCode.DuplicateToken, 0L), (waiting.Error.Code, waiting.At));

        // The original's reply, then its output kept: the shell answers the waiting copy with it.
        var back = session.Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(0), 1));
        Assert.Equal(new[] { Reply, new KeepOutputs(0) }, back);
        Assert.Equal((1L, 1), (session.State.KeptThrough, session.State.Kept));
    }

    [Fact]
    public void Only_the_most_recent_outputs_are_kept_and_an_older_resend_is_refused_without_one()
    {
        var session = Open(Keeping);
        for (var t = 0; t < 5; t++)
        {
            session.Then(new SessionCommand.Push(t)).Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(t), t + 1));
        }

        Assert.Equal((5L, 3), (session.State.KeptThrough, session.State.Kept));
        Assert.Equal(EngineErrorCode.DuplicateToken, Assert.IsType<Refuse>(session.Then(new SessionCommand.Push(1)).Single()).Error.Code);
        Assert.Equal(2, Assert.IsType<RefuseDuplicate>(session.Then(new SessionCommand.Push(2)).Single()).At);
    }

    [Fact]
    public void Outputs_kept_before_a_reset_answer_no_resend_of_the_stream_after_it()
    {
        var session = Open(Keeping);
        session.Then(new SessionCommand.Push(0)).Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(0), 1));
        session.Then(new SessionCommand.Push(1)).Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(1), 2));
        session.Then(SessionCommand.Reset.Instance).Then(new SessionCommand.Push(0));

        // While the reset is in the pipeline, what is kept is of the stream it left: a resend of the new token 0 gets no output.
        Assert.IsType<Refuse>(session.Then(new SessionCommand.Push(0)).Single());
        Assert.Equal(new[] { Reply, new ForgetOutputs(0) }, session.Then(SessionEvent.ElementDone.Of(SessionCommand.Reset.Instance, 0)));
        Assert.Equal(new[] { Reply, new KeepOutputs(0) }, session.Then(SessionEvent.ElementDone.Of(new SessionCommand.Push(0), 1)));
        Assert.Equal(0, Assert.IsType<RefuseDuplicate>(session.Then(new SessionCommand.Push(0)).Single()).At);
    }

    [Fact]
    public void A_session_loaded_from_the_store_answers_resends_with_the_outputs_its_stored_copy_kept()
    {
        var session = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: null, probe: false), rules: Keeping);
        var stored = Stored(position: 8, lastUsed: 0) with { Outputs = new RecentOutputs(4, 1, new float[] { 4, 5, 6, 7 }) };
        var loaded = session.Then(new SessionEvent.Loaded(stored));
        Assert.Equal(new ResumeOutputs(stored.Outputs!, 3), loaded.OfType<ResumeOutputs>().Single());
        session.Then(SessionEvent.ElementDone.Internal);

        Assert.Equal(5, Assert.IsType<RefuseDuplicate>(session.Then(new SessionCommand.Push(5)).Single()).At);
        Assert.IsType<Refuse>(session.Then(new SessionCommand.Push(4)).Single());
        Assert.Equal(EngineErrorCode.PositionAhead, Assert.IsType<Refuse>(session.Then(new SessionCommand.Push(9)).Single()).Error.Code);
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

    [Fact]
    public void A_save_refused_at_shutdown_is_tried_again_with_a_fresh_snapshot_after_a_back_off_and_the_session_leaves_once_saved()
    {
        var session = Open(Rules with { ShutdownSaveMs = 10_000 });
        Assert.Same(SendSnapshot, session.Then(SessionEvent.ShutdownRequested.Instance).Single());
        session.Then(SessionEvent.ElementDone.StoreSnapshot);

        session.Now = 50;
        var first = session.Then(new SessionEvent.SaveFailed("connection refused"));
        Assert.Equal(new RetrySaveAfter(100, "connection refused", 1), first.OfType<RetrySaveAfter>().Single());
        Assert.DoesNotContain(first, e => e is Leave or Warn || e is Count { Counter: SessionCounter.ShutdownSaveFailed });
        Assert.Equal((SessionPhase.Leaving, true), (session.State.Phase, session.State.StoreBusy));

        // Waits double: 100, 200, 400 ms...
        Assert.Same(SendSnapshot, session.Then(SessionEvent.SaveRetryDue.Instance).Single());
        session.Then(SessionEvent.ElementDone.StoreSnapshot);
        Assert.Equal(200, session.Then(new SessionEvent.SaveFailed("timeout")).OfType<RetrySaveAfter>().Single().DelayMs);
        Assert.Same(SendSnapshot, session.Then(SessionEvent.SaveRetryDue.Instance).Single());
        Assert.IsType<SaveSnapshot>(session.Then(SessionEvent.ElementDone.StoreSnapshot).Single());

        var saved = session.Then(SessionEvent.Saved.Instance);
        Assert.IsType<Leave>(saved.Last());
        Assert.DoesNotContain(saved, e => e is Count { Counter: SessionCounter.ShutdownSaveFailed });
        Assert.Equal(SessionPhase.Gone, session.State.Phase);
    }

    [Fact]
    public void A_save_at_shutdown_that_the_store_still_refuses_when_the_next_try_would_pass_the_deadline_leaves_unsaved_and_is_counted()
    {
        var session = Open(Rules with { ShutdownSaveMs = 1_000 });
        session.Then(SessionEvent.ShutdownRequested.Instance).Then(SessionEvent.ElementDone.StoreSnapshot);
        session.Now = 800;
        session.Then(new SessionEvent.SaveFailed("timeout")).Then(SessionEvent.SaveRetryDue.Instance).Then(SessionEvent.ElementDone.StoreSnapshot);

        // Refused again at 950: the next try, 200 ms later, would come after the deadline (1,000 ms after the shutdown began).
        session.Now = 950;
        var lost = session.Then(new SessionEvent.SaveFailed("timeout"));
        Assert.Equal(new ShutdownSaveLost("timeout", 2), lost.OfType<ShutdownSaveLost>().Single());
        Assert.Contains(lost, e => e is Count { Counter: SessionCounter.ShutdownSaveFailed });
        Assert.IsType<Leave>(lost.Last());
        Assert.Equal(EngineErrorCode.EngineStopped, ((Leave)lost.Last()).Refusal!.Code);

        // Without a deadline, the first refusal is the last.
        var once = Open();
        once.Then(SessionEvent.ShutdownRequested.Instance).Then(SessionEvent.ElementDone.StoreSnapshot);
        Assert.Equal(new ShutdownSaveLost("timeout", 1), once.Then(new SessionEvent.SaveFailed("timeout")).OfType<ShutdownSaveLost>().Single());
    }

    [Fact]
    public void A_session_dropped_while_its_shutdown_save_waits_to_be_tried_again_leaves_without_saving()
    {
        var session = Open(Rules with { ShutdownSaveMs = 10_000 });
        session.Then(SessionEvent.ShutdownRequested.Instance).Then(SessionEvent.ElementDone.StoreSnapshot).Then(new SessionEvent.SaveFailed("timeout"));
        session.Then(SessionEvent.DropRequested.Instance);

        var due = session.Then(SessionEvent.SaveRetryDue.Instance);

        Assert.DoesNotContain(due, e => e is SendSnapshotEffect or SaveSnapshot);
        Assert.IsType<Leave>(due.Last());
        Assert.Equal(SessionPhase.Gone, session.State.Phase);
    }

    private static Machine Open(SessionRules? rules = null)
    {
        var session = new Machine(SessionMachine.Start(now: 0, passivatedLastUse: null, probe: false), rules: rules);
        session.Then(SessionCommand.Open.Instance).Then(new SessionEvent.Loaded(null));
        session.Then(new SessionEvent.Dequeued(SessionCommand.Open.Instance)).Then(SessionEvent.ElementDone.Of(SessionCommand.Open.Instance, 0));
        Assert.Equal(SessionPhase.Open, session.State.Phase);
        return session;
    }

    /// <summary>One session's machine, fed one event at a time.</summary>
    private sealed class Machine(Decision start, long now = 0, SessionRules? rules = null)
    {
        public SessionState State { get; private set; } = start.State;

        public long Now { get; set; } = now;

        public EffectsOf Then(SessionEvent happened)
        {
            var decision = SessionMachine.Decide(rules ?? Rules, "a", State, happened, Now);
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
