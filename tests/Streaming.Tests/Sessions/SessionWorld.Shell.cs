using Streaming.Persistence;
using Streaming.Sessions;
using static Streaming.Sessions.SessionEffect;

namespace Streaming.Tests.Sessions;

/// <summary>The world's shell: it performs the machine's effects as SessionEntry does, and checks each against the model.</summary>
internal sealed partial class SessionWorld
{
    private static readonly ModelIdentity Identity = new("model", new string('0', 64));

    // False when the machine said Retry (the caller looks the session up again).
    private bool Perform(Entry entry, EffectList effects, Operation? operation, InFlight? element)
    {
        var accepted = true;
        for (var i = 0; i < effects.Count; i++)
        {
            switch (effects[i])
            {
                case QueueEffect:
                    operation!.Engine = entry.Engine;
                    entry.Waiting.Enqueue(operation);
                    break;
                case ApplyEffect:
                    Apply(entry, operation!);
                    break;
                case Refuse refuse:
                    var expected = _model.Expected(entry.Id, operation!.Command);
                    Check(expected == refuse.Error.Code, $"{operation} refused {refuse.Error.Code}; the model expects {expected?.ToString() ?? "it applied"}");
                    Answer(operation, refuse.Error.Code);
                    break;
                case ReplyEffect:
                    Check(element is { Role: ElementRole.Operation } && element.Operation == operation, $"{operation}: answered by its own element");
                    Answer(operation!, null);
                    break;
                case RetryEffect:
                    accepted = false;
                    break;
                case RefuseDuplicate or AwaitOriginal or KeepOutputs or ForgetOutputs:
                    PerformOutputs(entry, effects[i], operation, element);
                    break;
                default:
                    PerformLifecycle(entry, effects[i], element);
                    break;
            }
        }

        return accepted;
    }

    private void Apply(Entry entry, Operation operation)
    {
        operation.Engine = entry.Engine;
        var expected = _model.Expected(entry.Id, operation.Command);
        Check(expected is null, $"{operation} applied; the model expects {expected}");
        var position = _model.Apply(entry.Id, operation.Command);
        operation.Stream = _model[entry.Id].Stream;
        Check(operation.Command is SessionCommand.Close || position == entry.State.Position,
            $"{operation} applied at position {entry.State.Position}; the model says {position}");
        var role = operation.Command is SessionCommand.Close ? ElementRole.Close : ElementRole.Operation;
        if (role == ElementRole.Close)
        {
            entry.Closing = operation;
        }

        Send(entry, new InFlight(role, operation, entry.State.Position));
    }

    // The outputs kept and the resends answered from them: a resend gets the output of the very token it repeats, in the
    // stream the session is on, and every resend that waits for its original is answered.
    private void PerformOutputs(Entry entry, SessionEffect effect, Operation? operation, InFlight? element)
    {
        switch (effect)
        {
            case RefuseDuplicate duplicate:
                Check(_model.Expected(entry.Id, operation!.Command) == EngineErrorCode.DuplicateToken, $"{operation} refused as a duplicate; the model expects {_model.Expected(entry.Id, operation.Command)}");
                operation.Stream = _model[entry.Id].Stream;
                CheckKept(entry, duplicate.At, operation);
                _reached.Add("a duplicate answered with its kept output");
                Answer(operation, EngineErrorCode.DuplicateToken);
                break;
            case AwaitOriginal waiting:
                Check(_model.Expected(entry.Id, operation!.Command) == EngineErrorCode.DuplicateToken, $"{operation} waits as a duplicate; the model expects {_model.Expected(entry.Id, operation.Command)}");
                operation.Engine = entry.Engine;
                // It repeats a token of the stream the session is on now, whatever comes after it.
                operation.Stream = _model[entry.Id].Stream;
                entry.Duplicates.Add((operation, waiting.At));
                break;
            case KeepOutputs keep:
                var kept = element!.Operation!;
                var steps = kept.Command is SessionCommand.Replay replay ? replay.Steps : 1;
                Check(entry.Kept.Count == 0 || entry.Kept[^1].Position == element.Position - steps - 1, $"{entry.Id}: outputs kept out of order");
                for (var p = element.Position - steps; p < element.Position; p++)
                {
                    entry.Kept.Add((p, kept));
                }

                entry.Kept.RemoveAll(k => k.Position < keep.From);
                Check(entry.Kept.Count <= Rules.KeptOutputs, $"{entry.Id}: {entry.Kept.Count} outputs kept, more than {Rules.KeptOutputs}");
                foreach (var waiting in entry.Duplicates.Where(d => d.At < element.Position).ToArray())
                {
                    entry.Duplicates.Remove(waiting);
                    if (waiting.At >= keep.From)
                    {
                        CheckKept(entry, waiting.At, waiting.Operation);
                        _reached.Add("a duplicate answered once its original was back");
                    }

                    Answer(waiting.Operation, EngineErrorCode.DuplicateToken);
                }

                break;
            case ForgetOutputs:
                entry.Kept.Clear();
                foreach (var waiting in entry.Duplicates)
                {
                    Answer(waiting.Operation, EngineErrorCode.DuplicateToken);
                }

                entry.Duplicates.Clear();
                break;
        }
    }

    private void CheckKept(Entry entry, long at, Operation resend)
    {
        var original = entry.Kept.FirstOrDefault(k => k.Position == at).Operation;
        Check(original is not null, $"{resend}: answered with the output of position {at}, which is not kept");
        Check(original!.Stream == resend.Stream, $"{resend}: answered with the output of {original}, from another stream than the one it was sent in");
        Check(original.Command is SessionCommand.Replay || (original.Command is SessionCommand.Push { At: var a } && (a is null || a == at)),
            $"{resend}: answered with the output of {original}, which is not a token at {at}");
    }

    private void PerformLifecycle(Entry entry, SessionEffect effect, InFlight? element)
    {
        var id = entry.Id;
        switch (effect)
        {
            case SendSnapshotEffect:
                Send(entry, new InFlight(ElementRole.StoreSnapshot, null, entry.State.Position));
                break;
            case SendCloseEffect:
                Send(entry, new InFlight(ElementRole.Internal, null, 0));
                break;
            case SendRestore restore:
                Send(entry, new InFlight(ElementRole.Internal, null, restore.Snapshot.Position));
                break;
            case LoadEffect or DeleteEffect:
                StartStoreCall(entry, effect, null);
                break;
            case SaveSnapshot save:
                Check(element is { Role: ElementRole.StoreSnapshot }, $"{id}: a snapshot is saved as its element comes back");
                StartStoreCall(entry, effect, new StoredSession(new SessionSnapshot(Identity, element!.Position, []), SessionClock.ToTime(save.LastUsed)));
                break;
            case SaveTombstone tombstone:
                Check(Rules.IsExpired(tombstone.LastUsed, _now), $"{id}: a tombstone before the time-to-live ran out");
                StartStoreCall(entry, effect, StoredSession.Expired(SessionClock.ToTime(tombstone.LastUsed)));
                break;
            case AnswerClose answer:
                AnswerTheClose(entry, answer.Error);
                break;
            case EvictionDone or EvictionFailed:
                _reached.Add(effect.ToString()!);
                Check(entry.Evictions > 0, $"{id}: an eviction answered that nobody asked for ({effect}; state {entry.State})");
                entry.Evictions = 0;
                break;
            case MarkPassivated passivated:
                // Never later than the stored last use (a later mark would let it outlive its time-to-live); earlier only
                // when a failed load sends it back to passivated with the last use it had, while another engine used it since.
                Check(_store.TryGetValue(id, out var stored) && stored.Snapshot is not null && SessionClock.ToMilliseconds(stored.LastUsed) >= passivated.LastUsed,
                    $"{id}: passivated with last use {passivated.LastUsed} while the store holds {Describe(id)}");
                entry.Engine.Passivated[id] = passivated.LastUsed;
                entry.Engine.PassivatedHere.Add(id);
                break;
            case Leave leave:
                Check(entry.Waiting.Count == 0, $"{id}: left with operations waiting");
                Check(entry.Duplicates.Count == 0, $"{id}: left with resent tokens waiting for their originals");
                Check(!_storeCalls.TryGetValue(id, out var call) || call.Entry != entry, $"{id}: left with a store call in flight");
                LeaveEngine(entry);
                break;
            case FailAll fail:
                foreach (var inFlight in entry.InFlight.Where(f => f.Operation is not null && f.Role == ElementRole.Operation))
                {
                    Answer(inFlight.Operation!, fail.Error.Code);
                }

                if (entry.Closing is { } closing)
                {
                    Answer(closing, fail.Error.Code);
                    entry.Closing = null;
                }

                while (entry.Waiting.Count > 0)
                {
                    Answer(entry.Waiting.Dequeue(), fail.Error.Code);
                }

                entry.Duplicates.ForEach(d => Answer(d.Operation, fail.Error.Code));
                entry.Duplicates.Clear();

                entry.Evictions = 0;
                LeaveEngine(entry);
                break;
        }
    }

    private void AnswerTheClose(Entry entry, EngineException? error)
    {
        var close = entry.Closing!;
        entry.Closing = null;
        if (error is not null)
        {
            // The copy may still be there: the session may come back from it, as the error says.
            Check(error.Code == EngineErrorCode.StoreFailed, $"{close} refused {error.Code}");
            _model[entry.Id].Unsure = true;
            _model[entry.Id].CloseUnfinished = true;
            _reached.Add("a close answered " + error.Code);
            Answer(close, error.Code);
            return;
        }

        Check(!_store.ContainsKey(entry.Id), $"{entry.Id}: the close is answered while the store holds {Describe(entry.Id)}");
        Check(!_storeCalls.ContainsKey(entry.Id), $"{entry.Id}: the close is answered with a store call in flight");
        _model[entry.Id].ClosedForGood = true;
        Answer(close, null);
    }

    private void LeaveEngine(Entry entry)
    {
        if (entry.Engine.Entries.TryGetValue(entry.Id, out var current) && current == entry)
        {
            entry.Engine.Entries.Remove(entry.Id);
        }
    }

    private void Send(Entry entry, InFlight element)
    {
        entry.InFlight.Enqueue(element);
        if (!_pipeline.TryGetValue(entry.Id, out var queue))
        {
            _pipeline[entry.Id] = queue = new Queue<(Entry, InFlight)>();
        }

        queue.Enqueue((entry, element));
    }

    private void StartStoreCall(Entry entry, SessionEffect call, StoredSession? saving)
    {
        Check(!_storeCalls.ContainsKey(entry.Id), $"{entry.Id}: a second store call starts while one is in flight");
        _storeCalls[entry.Id] = (entry, call, saving);
    }

    private static void Answer(Operation operation, EngineErrorCode? code)
    {
        operation.Replies++;
        Check(code != EngineErrorCode.EngineStopped || !operation.ElementCameBack, $"{operation}: answered 'not applied' (EngineStopped) after it was applied");
    }

    // The machine's own counts agree with what the shell holds.
    private void CheckShell(Entry entry)
    {
        var state = entry.State;
        Check(state.InFlight == entry.InFlight.Count, $"{entry.Id}: the machine counts {state.InFlight} element(s) in flight, the pipeline holds {entry.InFlight.Count}");
        if (state.Phase == SessionPhase.Gone)
        {
            return;
        }

        Check(state.Waiting == entry.Waiting.Count, $"{entry.Id}: the machine counts {state.Waiting} waiting, the queue holds {entry.Waiting.Count}");
        var calling = _storeCalls.TryGetValue(entry.Id, out var call) && call.Entry == entry;
        Check(state.StoreBusy == calling, $"{entry.Id}: the machine says a store call is {(state.StoreBusy ? "" : "not ")}in flight");
        Check((state.Phase == SessionPhase.Closing) == (entry.Closing is not null), $"{entry.Id}: a close is answered at the end of Closing, and only then");
    }
}
