using Streaming.Persistence;
using Streaming.Tests.Sessions;

namespace Streaming.Tests.Engine;

/// <summary>The callers' operations: each sent, awaited, and its answer compared with the model.</summary>
internal sealed partial class EngineWorld
{
    private async Task CallAsync(Tracked session, EngineStep.Call call)
    {
        if (call.Kind == OperationKind.Restore && _snapshots.Count == 0)
        {
            return;
        }

        var length = session.Tokens.Length;
        long? at = call.Place switch
        {
            TokenPlace.Anywhere => null,
            TokenPlace.Right => length,
            TokenPlace.Behind => Math.Max(0, length - 1),
            _ => length + 1,
        };
        var expected = Expected(session, call.Kind, at);
        var answer = call.Kind switch
        {
            OperationKind.Open => Answer(_engine.OpenAsync(session.Id)),
            OperationKind.Push => Answer(_engine.PushAsync(session.Id, Token.Id(call.Token) with { At = at })),
            OperationKind.Snapshot => Answer(_engine.SnapshotAsync(session.Id)),
            OperationKind.Restore => Answer(_engine.RestoreAsync(session.Id, _snapshots[call.Amount % _snapshots.Count].Snapshot)),
            OperationKind.Replay => Answer(_engine.ReplayAsync(session.Id, Tokens(Enumerable.Range(call.Token, call.Amount).Select(t => t % 20)))),
            OperationKind.Reset => Answer(_engine.ResetAsync(session.Id)),
            _ => Answer(_engine.CloseAsync(session.Id)),
        };
        var (result, error) = await answer;
        if (expected is { } code)
        {
            Check(error?.Code == code, $"{session.Id}: {call} answered {error?.Code.ToString() ?? "done"}; the model expects {code}");
            if (code is EngineErrorCode.DuplicateToken or EngineErrorCode.PositionAhead)
            {
                Check(error!.Position == length, $"{session.Id}: the refusal says position {error.Position}; the model says {length}");
            }

            return;
        }

        Check(error is null, $"{session.Id}: {call} refused {error?.Code} ({error?.Message}); the model expects it to apply");
        await AppliedAsync(session, call, result);
    }

    private async Task AppliedAsync(Tracked session, EngineStep.Call call, object? result)
    {
        switch (call.Kind)
        {
            case OperationKind.Open:
                Became(session, [], open: true);
                session.ClosedForGood = false;
                break;
            case OperationKind.Restore:
                Became(session, _snapshots[call.Amount % _snapshots.Count].Tokens, open: true);
                session.ClosedForGood = false;
                break;
            case OperationKind.Push:
                Became(session, [.. session.Tokens, call.Token], open: true);
                CheckOutput(session, (TokenOutput)result!);
                break;
            case OperationKind.Snapshot:
                var snapshot = (SessionSnapshot)result!;
                Check(snapshot.Position == session.Tokens.Length, $"{session.Id}: snapshot at {snapshot.Position}; the model says {session.Tokens.Length}");
                Expect.Close(HiddenAfter(session.Tokens), snapshot.HiddenState(), $"{session.Id}: snapshot h");
                _snapshots.Add((snapshot, session.Tokens));
                break;
            case OperationKind.Replay:
                var replayed = Enumerable.Range(call.Token, call.Amount).Select(t => t % 20).ToArray();
                Became(session, [.. session.Tokens, .. replayed], open: true);
                var replay = (ReplayResult)result!;
                var outputs = _reference.Run(Tokens(session.Tokens)).Outputs;
                Check(replay.Position == session.Tokens.Length, $"{session.Id}: replay ends at {replay.Position}; the model says {session.Tokens.Length}");
                for (var t = 0; t < replayed.Length; t++)
                {
                    Expect.Close(outputs[^(replayed.Length - t)], replay.Outputs[t].Span, $"{session.Id}: replay step {t}");
                }

                break;
            case OperationKind.Reset:
                Became(session, [], open: true);
                break;
            default:
                session.Open = session.Expired = false;
                session.ClosedForGood = true;
                // Answered only once the stored copy is gone.
                Check(await _durable.LoadAsync(session.Id) is null, $"{session.Id}: the close is answered while the store still holds it");
                break;
        }
    }

    private async Task BurstAsync(Tracked session, int count, int token)
    {
        var ids = Enumerable.Range(token, count).Select(t => t % 20).ToArray();
        var pushes = ids.Select(id => Answer(_engine.PushAsync(session.Id, Token.Id(id)))).ToArray();
        var answers = await Task.WhenAll(pushes);
        var expected = Expected(session, OperationKind.Push, at: null);
        foreach (var (result, error) in answers)
        {
            Check(error?.Code == expected, $"{session.Id}: a burst's push answered {error?.Code.ToString() ?? "done"}; the model expects {expected?.ToString() ?? "done"}");
        }

        if (expected is null)
        {
            // Sent one after another, so applied in that order.
            for (var i = 0; i < ids.Length; i++)
            {
                Became(session, [.. session.Tokens, ids[i]], open: true);
                CheckOutput(session, (TokenOutput)answers[i].Result!);
            }
        }
    }

    private void CheckOutput(Tracked session, TokenOutput output)
    {
        Check(output.Position == session.Tokens.Length, $"{session.Id}: output at position {output.Position}; the model says {session.Tokens.Length}");
        Expect.Close(_reference.Run(Tokens(session.Tokens)).Outputs[^1], output.Output.Span, $"{session.Id}: output at {output.Position}");
    }

    private static void Became(Tracked session, int[] tokens, bool open)
    {
        session.Tokens = tokens;
        session.Open = open;
        session.Expired = false;
        session.History.Add(tokens);
    }

    // The simple model's answer: null when the operation applies, else the refusal's code.
    private static EngineErrorCode? Expected(Tracked session, OperationKind kind, long? at)
    {
        if (!session.Open)
        {
            return kind is OperationKind.Open or OperationKind.Restore ? null
                : session.Expired ? EngineErrorCode.SessionExpired : EngineErrorCode.UnknownSession;
        }

        return kind switch
        {
            OperationKind.Open => EngineErrorCode.SessionAlreadyOpen,
            OperationKind.Push when at < session.Tokens.Length => EngineErrorCode.DuplicateToken,
            OperationKind.Push when at > session.Tokens.Length => EngineErrorCode.PositionAhead,
            _ => null,
        };
    }

    private static async Task<(object? Result, EngineException? Error)> Answer<T>(Task<T> task)
    {
        try
        {
            return (await task, null);
        }
        catch (EngineException e)
        {
            return (null, e);
        }
    }

    private static async Task<(object? Result, EngineException? Error)> Answer(Task task)
    {
        try
        {
            await task;
            return (null, null);
        }
        catch (EngineException e)
        {
            return (null, e);
        }
    }

    /// <summary>The engine's view of the durable store: killed at a crash, after which nothing more reaches the store.</summary>
    private sealed class CrashableStore(ISnapshotStore durable) : ISnapshotStore
    {
        private readonly Lock _gate = new();
        private readonly List<Task> _inFlight = [];
        private bool _dead;

        public async Task KillAsync()
        {
            Task[] landing;
            lock (_gate)
            {
                _dead = true;
                landing = [.. _inFlight];
            }

            // A write on its way when the process died either landed or not; here it lands.
            await Task.WhenAll(landing.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        }

        public Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default) =>
            Forward(() => durable.SaveAsync(sessionId, stored, cancellationToken));

        public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
            Forward(() => durable.DeleteAsync(sessionId, cancellationToken));

        public Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => durable.LoadAsync(sessionId, cancellationToken);

        private Task Forward(Func<Task> write)
        {
            lock (_gate)
            {
                if (_dead)
                {
                    return Task.CompletedTask;
                }

                var task = write();
                _inFlight.RemoveAll(t => t.IsCompleted);
                _inFlight.Add(task);
                return task;
            }
        }
    }
}
