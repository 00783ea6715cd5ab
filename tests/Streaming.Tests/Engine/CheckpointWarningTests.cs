using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Streaming.Sessions;
using static Streaming.Tests.Engine.FaultyStore;

namespace Streaming.Tests.Engine;

/// <summary>
/// Failed checkpoints are told in one warning per checkpoint period for the whole engine, with counts and the first
/// failure, and one line when they are saved again; never one line per session, which would flood the log in an outage.
/// </summary>
public sealed partial class CheckpointWarningTests
{
    [Fact]
    public void A_period_in_which_ten_thousand_sessions_fail_their_checkpoints_is_one_warning_with_the_count_and_the_first_failure()
    {
        var log = new CapturingLog();
        var failures = new CheckpointFailures();

        for (var s = 0; s < 10_000; s++)
        {
            failures.Failed($"s{s}", s == 0 ? "connection refused" : "circuit breaker is open");
        }

        failures.Report(log, savedTotal: 3, TimeSpan.FromSeconds(2), now: 10_000);
        var line = Assert.Single(log.Warnings);
        Assert.Equal(
            "Checkpoints failed for 10000 session(s) in the last 2 s (3 saved); the first: session s0: connection refused. Each is tried again at the next checkpoint; until one is saved, a crash loses what it would have saved.",
            line);

        // Failing again, then saved again: one line each period, and one to say they are saved again.
        failures.Failed("s1", "circuit breaker is open");
        failures.Report(log, savedTotal: 3, TimeSpan.FromSeconds(2), now: 12_000);
        failures.Report(log, savedTotal: 10_004, TimeSpan.FromSeconds(2), now: 14_000);
        failures.Report(log, savedTotal: 10_010, TimeSpan.FromSeconds(2), now: 16_000);
        Assert.Equal(3, log.Warnings.Count);
        Assert.StartsWith("Checkpoints failed for 1 session(s) in the last 2 s (0 saved); the first: session s1: circuit breaker is open.", log.Warnings[1], StringComparison.Ordinal);
        Assert.Equal("Checkpoints are saved again: 10001 saved in the last 2 s and none failed; 10001 checkpoint(s) had failed over the 4 s before.", log.Warnings[2]);
    }

    [Fact]
    public void A_quiet_period_without_saves_or_failures_says_nothing_and_recovery_waits_for_a_save()
    {
        var log = new CapturingLog();
        var failures = new CheckpointFailures();

        failures.Report(log, savedTotal: 5, TimeSpan.FromSeconds(1), now: 1_000);
        failures.Failed("a", "timeout");
        failures.Report(log, savedTotal: 5, TimeSpan.FromSeconds(1), now: 2_000);
        // Nothing changed, nothing saved: the store has not been seen to answer yet.
        failures.Report(log, savedTotal: 5, TimeSpan.FromSeconds(1), now: 3_000);

        Assert.StartsWith("Checkpoints failed for 1 session(s)", Assert.Single(log.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_sessions_failing_their_checkpoints_through_an_outage_log_one_line_a_period_that_counts_every_failure()
    {
        const int Sessions = 1_000;
        var store = new FaultyStore();
        var system = ActorSystem.Create("checkpoint-warnings", "akka.loglevel = WARNING\nakka.stdout-loglevel = OFF");
        var warnings = new ConcurrentQueue<string>();
        system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new Collector(warnings))), typeof(Warning));
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var tokens = TestModels.RandomSequence(TestModels.Gru2, new Random(5), 2);
        var engine = await RecurrentEngine.StartAsync(system, identity, weights, new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(100) });
        long failed;
        try
        {
            var ids = Enumerable.Range(0, Sessions).Select(s => $"session-{s}").ToArray();
            await Task.WhenAll(ids.Select(async id =>
            {
                await engine.OpenAsync(id);
                await engine.PushAsync(id, tokens[0]);
            }));
            await Until(() => engine.Statistics.CheckpointsSaved >= Sessions, "every session's first checkpoint");

            store.GoDown();
            await Task.WhenAll(ids.Select(id => engine.PushAsync(id, tokens[1])));
            // Every session fails at least twice: two periods of failures or more.
            await Until(() => engine.Statistics.CheckpointsFailed >= 2 * Sessions, "two rounds of failed checkpoints");
            store.ComeBack();
            await Until(() => warnings.Any(w => w.StartsWith("Checkpoints are saved again", StringComparison.Ordinal)), "the line saying checkpoints are saved again");
            failed = engine.Statistics.CheckpointsFailed;
        }
        finally
        {
            await engine.DisposeAsync();
            await system.Terminate();
        }

        var lines = warnings.ToList();
        Assert.DoesNotContain(lines, w => w.StartsWith("Session ", StringComparison.Ordinal));
        var periods = lines.Select(w => FailedLine().Match(w)).Where(m => m.Success).ToList();
        // Every failure is told once, in far fewer lines than failures (one a period; a round may straddle two periods).
        Assert.Equal(failed, periods.Sum(m => long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture)));
        Assert.True(periods.Count * 100 <= failed, $"{periods.Count} lines for {failed} failed checkpoints:\n{string.Join('\n', lines)}");
        Assert.All(periods, m => Assert.Contains("could not save session", m.Value, StringComparison.Ordinal));
        var recovered = Assert.Single(lines, w => w.StartsWith("Checkpoints are saved again", StringComparison.Ordinal));
        Assert.Contains($"{failed} checkpoint(s) had failed", recovered, StringComparison.Ordinal);
        Assert.Equal(lines.Count, periods.Count + 1);
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!condition())
        {
            Assert.False(guard.IsCancellationRequested, $"gave up waiting for {what}");
            await Task.Delay(10, CancellationToken.None);
        }
    }

    [GeneratedRegex(@"^Checkpoints failed for (?<count>\d+) session\(s\) in the last 0\.1 s \(\d+ saved\); the first: session session-\d+: the test's store is down: could not save session 'session-\d+' \(connection refused\)\.")]
    private static partial Regex FailedLine();

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<string> warnings) => Receive<Warning>(w => warnings.Enqueue(w.Message.ToString()!));
    }

    /// <summary>A log that keeps its warnings, in order, as they are written.</summary>
    private sealed class CapturingLog() : LoggingAdapterBase(DefaultLogMessageFormatter.Instance)
    {
        public List<string> Warnings { get; } = [];

        public override bool IsDebugEnabled => true;

        public override bool IsInfoEnabled => true;

        public override bool IsWarningEnabled => true;

        public override bool IsErrorEnabled => true;

        protected override void NotifyLog(LogLevel logLevel, object message, Exception? cause)
        {
            Assert.Equal(LogLevel.WarningLevel, logLevel);
            Warnings.Add(message.ToString()!);
        }
    }
}
