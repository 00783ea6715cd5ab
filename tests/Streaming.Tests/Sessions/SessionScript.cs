using FsCheck;
using FsCheck.Fluent;

namespace Streaming.Tests.Sessions;

/// <summary>What a step of a script asks a caller to do.</summary>
public enum OperationKind
{
    Open,
    Restore,
    Push,
    Snapshot,
    Replay,
    Reset,
    Close,
}

/// <summary>Where a pushed token says it is, relative to where the simple model says the session is.</summary>
public enum TokenPlace
{
    /// <summary>No position: applied wherever the session is.</summary>
    Anywhere,

    /// <summary>The session's position: applied.</summary>
    Right,

    /// <summary>One behind: a duplicate.</summary>
    Behind,

    /// <summary>One ahead: tokens missing.</summary>
    Ahead,
}

/// <summary>One step of a script: a caller's operation, or something the world does (pipeline, store, clock, lifecycle).</summary>
public abstract record Step
{
    /// <summary>A caller sends an operation to a session.</summary>
    public sealed record Submit(int Session, OperationKind Kind, TokenPlace Place, int Amount) : Step
    {
        public override string ToString() => Kind switch
        {
            OperationKind.Push => $"push s{Session} {Place}",
            OperationKind.Restore => $"restore s{Session} at {Amount}",
            OperationKind.Replay => $"replay s{Session} x{Amount}",
            _ => $"{Kind.ToString().ToLowerInvariant()} s{Session}",
        };
    }

    /// <summary>The pipeline hands back the session's oldest element (nothing when none is in flight).</summary>
    public sealed record Complete(int Session) : Step
    {
        public override string ToString() => $"element of s{Session} back";
    }

    /// <summary>The session's store call ends: succeeded, failed, or failed after all reaching the store.</summary>
    public sealed record StoreEnds(int Session, StoreOutcome Outcome) : Step
    {
        public override string ToString() => $"store call of s{Session} {Outcome}";
    }

    /// <summary>The session comes to rest: its elements come back and its store calls succeed, until none is left.</summary>
    public sealed record Rest(int Session) : Step
    {
        public override string ToString() => $"s{Session} comes to rest";
    }

    /// <summary>Another engine on the store used the session (its stored copy gets a later last use, nothing else).</summary>
    public sealed record UsedElsewhere(int Session) : Step
    {
        public override string ToString() => $"s{Session} used elsewhere";
    }

    /// <summary>Time passes.</summary>
    public sealed record Wait(int Milliseconds) : Step
    {
        public override string ToString() => $"wait {Milliseconds} ms";
    }

    /// <summary>The registry's sweep (passivation, expiry, probes of passivated sessions).</summary>
    public sealed record Sweep : Step
    {
        public override string ToString() => "sweep";
    }

    /// <summary>Checkpoint time.</summary>
    public sealed record Checkpoint : Step
    {
        public override string ToString() => "checkpoint";
    }

    /// <summary>An eviction of the session is asked for.</summary>
    public sealed record Evict(int Session) : Step
    {
        public override string ToString() => $"evict s{Session}";
    }

    /// <summary>The session moved to another owner without its latest state: it is dropped without a save.</summary>
    public sealed record Drop(int Session) : Step
    {
        public override string ToString() => $"drop s{Session}";
    }

    /// <summary>A graceful shutdown, run to its end; then a new engine starts on the same store.</summary>
    public sealed record Shutdown : Step
    {
        public override string ToString() => "shutdown and restart";
    }

    /// <summary>The process dies; store calls in flight land or not (bit i for session i); a new engine starts on the same store.</summary>
    public sealed record Crash(int Lands) : Step
    {
        public override string ToString() => $"crash (store calls landing: {Lands:b3}) and restart";
    }

    /// <summary>A pipeline stage fails; a new engine starts on the same store.</summary>
    public sealed record PipelineFails : Step
    {
        public override string ToString() => "pipeline fails and restart";
    }
}

/// <summary>How a store call ends.</summary>
public enum StoreOutcome
{
    Succeeds,
    Fails,

    /// <summary>The call reports a failure (a timeout, say), yet its write reached the store.</summary>
    FailsAfterWriting,
}

/// <summary>FsCheck generators for scripts: mostly operations and completions, sometimes lifecycle events.</summary>
public static class ScriptArbitrary
{
    public const int Sessions = 3;

    public static Arbitrary<Step[]> Scripts() => Arb.From(Gen.ArrayOf(Steps()), Shrink);

    /// <summary>Shorter scripts first (<see cref="ScriptShrink.WithoutRuns{T}"/>).</summary>
    public static IEnumerable<Step[]> Shrink(Step[] script) => ScriptShrink.WithoutRuns(script);

    private static Gen<Step> Steps()
    {
        var session = Gen.Choose(0, Sessions - 1);
        var submit =
            from s in session
            from kind in Gen.Frequency(
                (2, Gen.Constant(OperationKind.Open)),
                (1, Gen.Constant(OperationKind.Restore)),
                (6, Gen.Constant(OperationKind.Push)),
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
            select (Step)new Step.Submit(s, kind, place, amount);
        var outcome = Gen.Frequency(
            (8, Gen.Constant(StoreOutcome.Succeeds)),
            (1, Gen.Constant(StoreOutcome.Fails)),
            (1, Gen.Constant(StoreOutcome.FailsAfterWriting)));
        return Gen.Frequency(
            (30, submit),
            (30, session.Select(s => (Step)new Step.Complete(s))),
            (15, from s in session from o in outcome select (Step)new Step.StoreEnds(s, o)),
            (8, session.Select(s => (Step)new Step.Rest(s))),
            (2, session.Select(s => (Step)new Step.UsedElsewhere(s))),
            (12, Gen.Choose(10, 150).Select(ms => (Step)new Step.Wait(ms))),
            (8, Gen.Constant((Step)new Step.Sweep())),
            (6, Gen.Constant((Step)new Step.Checkpoint())),
            (3, session.Select(s => (Step)new Step.Evict(s))),
            (1, session.Select(s => (Step)new Step.Drop(s))),
            (1, Gen.Constant((Step)new Step.Shutdown())),
            (1, Gen.Choose(0, 7).Select(lands => (Step)new Step.Crash(lands))),
            (1, Gen.Constant((Step)new Step.PipelineFails())));
    }
}
