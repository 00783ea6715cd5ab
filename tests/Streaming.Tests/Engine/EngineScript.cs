using FsCheck;
using FsCheck.Fluent;
using Streaming.Tests.Sessions;

namespace Streaming.Tests.Engine;

/// <summary>One step of a script run against a real engine: a caller's operation, or something that happens to the engine.</summary>
public abstract record EngineStep
{
    /// <summary>An operation, awaited. <paramref name="Amount"/>: a replay's length, or which earlier snapshot a restore installs.</summary>
    public sealed record Call(int Session, OperationKind Kind, TokenPlace Place, int Amount, int Token) : EngineStep
    {
        public override string ToString() => Kind switch
        {
            OperationKind.Push => $"push {Token} to s{Session} ({Place})",
            OperationKind.Replay => $"replay {Amount} token(s) to s{Session}",
            OperationKind.Restore => $"restore snapshot #{Amount} into s{Session}",
            _ => $"{Kind.ToString().ToLowerInvariant()} s{Session}",
        };
    }

    /// <summary>Several tokens pushed to one session at once (none awaited before the next is sent).</summary>
    public sealed record Burst(int Session, int Count, int Token) : EngineStep
    {
        public override string ToString() => $"burst of {Count} to s{Session}";
    }

    /// <summary>
    /// Time passes with nothing sent, so the engine's own timers act at this point of the script: sessions idle for
    /// 5 ms passivate, changed ones are checkpointed (it waits for nothing in particular).
    /// </summary>
    public sealed record Pause(int Milliseconds) : EngineStep
    {
        public override string ToString() => $"pause {Milliseconds} ms";
    }

    /// <summary>The session is evicted into the store (its next operation loads it).</summary>
    public sealed record Evict(int Session) : EngineStep
    {
        public override string ToString() => $"evict s{Session}";
    }

    /// <summary>The engine shuts down gracefully; a new one starts on the same store.</summary>
    public sealed record Shutdown : EngineStep
    {
        public override string ToString() => "shutdown and restart";
    }

    /// <summary>The process dies (nothing more reaches the store); a new engine starts, <paramref name="HoursLater"/> hours later (sessions stored before then have expired).</summary>
    public sealed record Crash(bool HoursLater) : EngineStep
    {
        public override string ToString() => HoursLater ? "crash, restart hours later" : "crash and restart";
    }
}

/// <summary>FsCheck generators for scripts against a real engine.</summary>
public static class EngineScriptArbitrary
{
    public const int Sessions = 2;

    public static Arbitrary<EngineStep[]> Scripts() => Arb.From(Gen.ArrayOf(Steps()), Shrink);

    /// <summary>Shorter scripts first (<see cref="ScriptShrink.WithoutRuns{T}"/>).</summary>
    public static IEnumerable<EngineStep[]> Shrink(EngineStep[] script) => ScriptShrink.WithoutRuns(script);

    private static Gen<EngineStep> Steps()
    {
        var session = Gen.Choose(0, Sessions - 1);
        var call =
            from s in session
            from kind in Gen.Frequency(
                (3, Gen.Constant(OperationKind.Open)),
                (1, Gen.Constant(OperationKind.Restore)),
                (8, Gen.Constant(OperationKind.Push)),
                (1, Gen.Constant(OperationKind.Snapshot)),
                (1, Gen.Constant(OperationKind.Replay)),
                (1, Gen.Constant(OperationKind.Reset)),
                (2, Gen.Constant(OperationKind.Close)))
            from place in Gen.Frequency(
                (3, Gen.Constant(TokenPlace.Anywhere)),
                (4, Gen.Constant(TokenPlace.Right)),
                (1, Gen.Constant(TokenPlace.Behind)),
                (1, Gen.Constant(TokenPlace.Ahead)))
            from amount in Gen.Choose(1, 4)
            from token in Gen.Choose(0, 19)
            select (EngineStep)new EngineStep.Call(s, kind, place, amount, token);
        return Gen.Frequency(
            (30, call),
            (4, from s in session from count in Gen.Choose(2, 6) from token in Gen.Choose(0, 19) select (EngineStep)new EngineStep.Burst(s, count, token)),
            (3, session.Select(s => (EngineStep)new EngineStep.Evict(s))),
            (4, Gen.Choose(1, 12).Select(ms => (EngineStep)new EngineStep.Pause(ms))),
            (1, Gen.Constant((EngineStep)new EngineStep.Shutdown())),
            (1, Gen.Elements(false, true).Select(later => (EngineStep)new EngineStep.Crash(later))));
    }
}
