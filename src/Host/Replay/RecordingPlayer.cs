using System.Collections.Concurrent;
using System.Globalization;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Recording;

namespace Streaming.Host.Replay;

/// <summary>
/// Plays a recording against a server over TCP: sessions run concurrently, spread over several connections,
/// each session's operations in file order; every operation is checked against what was recorded.
/// </summary>
public static class RecordingPlayer
{
    /// <summary>Plays <paramref name="operations"/> against the server at <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <param name="operations">The recording's operations, in file order.</param>
    /// <param name="tolerance">Largest absolute difference an expectation allows.</param>
    /// <param name="host">Server address.</param>
    /// <param name="port">Server port.</param>
    /// <param name="connections">Connections to spread the sessions over (at least 1).</param>
    /// <param name="progress">Called with the number of operations done so far, from any thread (optional).</param>
    public static async Task<ReplayReport> PlayAsync(
        IReadOnlyList<RecordedOperation> operations,
        double tolerance,
        string host,
        int port,
        int connections = 4,
        Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        var clients = new StreamingClient[connections];
        try
        {
            for (var i = 0; i < connections; i++)
            {
                clients[i] = await StreamingClient.ConnectAsync(host, port).ConfigureAwait(false);
            }

            var failures = new ConcurrentBag<(int Line, string Text)>();
            var errors = new ConcurrentBag<(double Error, int Line, string Session)>();
            var done = 0;
            var passed = 0;
            var sessions = operations.GroupBy(o => o.Session, StringComparer.Ordinal).ToList();
            await Task.WhenAll(sessions.Select((session, index) => Task.Run(async () =>
            {
                var client = clients[index % connections];
                foreach (var operation in session)
                {
                    var (failure, error) = await CheckAsync(client, operation, tolerance).ConfigureAwait(false);
                    errors.Add((error, operation.Line, operation.Session));
                    if (failure is null)
                    {
                        Interlocked.Increment(ref passed);
                    }
                    else
                    {
                        failures.Add((operation.Line, $"session '{operation.Session}', line {operation.Line} ({operation.Op}): {failure}"));
                    }

                    progress?.Invoke(Interlocked.Increment(ref done));
                }
            }))).ConfigureAwait(false);

            var ordered = failures.OrderBy(f => f.Line).Select(f => f.Text).ToList();
            var worst = errors.OrderByDescending(e => e.Error).ThenBy(e => e.Line).FirstOrDefault();
            return new ReplayReport(passed, ordered.Count, ordered)
            {
                Tolerance = tolerance,
                MaxError = worst.Error,
                MaxErrorAt = worst.Session is null ? string.Empty : $"session '{worst.Session}', line {worst.Line}",
            };
        }
        finally
        {
            foreach (var client in clients.Where(c => c is not null))
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Runs one operation: what went wrong (null when it behaved as recorded) and its largest error over every value compared.
    private static async Task<(string? Failure, double Error)> CheckAsync(StreamingClient client, RecordedOperation operation, double tolerance)
    {
        Comparison comparison;
        try
        {
            comparison = await RunAsync(client, operation, tolerance).ConfigureAwait(false);
        }
        catch (StreamingClientException e) when (!e.ConnectionLost)
        {
            return (operation.ExpectError ? null : $"refused unexpectedly: {e.Message}", 0);
        }

        return (operation.ExpectError ? "expected an error, but the operation was accepted" : comparison.Failure, comparison.Error);
    }

    private static async Task<Comparison> RunAsync(StreamingClient client, RecordedOperation operation, double tolerance)
    {
        var comparison = new Comparison(tolerance);
        switch (operation)
        {
            case RecordedOpen open:
                await client.OpenAsync(open.Session, State(open.H0, open.C0)).ConfigureAwait(false);
                break;
            case RecordedToken token:
                {
                    var output = await client.PushAsync(token.Session, token.Kind == TokenKind.Ids ? TokenInput.Id(token.Id) : TokenInput.Vector(token.Input)).ConfigureAwait(false);
                    if (token.Expect is { } expect)
                    {
                        comparison.Add("output", expect.Span, output.Output.Span);
                    }

                    break;
                }

            case RecordedReplay replay:
                {
                    var inputs = replay.Kind == TokenKind.Ids
                        ? replay.Ids.ToArray().Select(TokenInput.Id).ToList()
                        : Enumerable.Range(0, replay.Inputs!.Rows).Select(r => TokenInput.Vector(replay.Inputs.Row(r))).ToList();
                    var from = replay.H0 is null && replay.C0 is null ? null : State(replay.H0, replay.C0);
                    var result = await client.ReplayAsync(replay.Session, inputs, from).ConfigureAwait(false);
                    if (replay.Expect is not { } expect)
                    {
                        break;
                    }

                    if (result.Outputs.Count != expect.Rows)
                    {
                        comparison.Mismatch($"expected {expect.Rows} output steps, got {result.Outputs.Count}");
                        break;
                    }

                    // Every step is compared, so a failure reports the largest error of the whole replay and where it is.
                    for (var step = 0; step < expect.Rows; step++)
                    {
                        comparison.Add($"output of step {step}", expect.Row(step).Span, result.Outputs[step].Span);
                    }

                    break;
                }

            case RecordedSnapshot snapshot:
                {
                    var state = await client.SnapshotAsync(snapshot.Session).ConfigureAwait(false);
                    if (snapshot.ExpectH is { } h)
                    {
                        comparison.Add("h", h.Values.Span, state.HiddenState());
                    }

                    if (snapshot.ExpectC is { } c)
                    {
                        comparison.Add("c", c.Values.Span, state.CellState());
                    }

                    break;
                }

            case RecordedReset reset:
                await client.ResetAsync(reset.Session).ConfigureAwait(false);
                break;
            case RecordedClose close:
                await client.CloseAsync(close.Session).ConfigureAwait(false);
                break;
            case RecordedGenerate generate:
                await GeneratedSteps.PlayAsync(client, generate, comparison).ConfigureAwait(false);
                break;
            default:
                comparison.Mismatch($"unknown operation '{operation.Op}'");
                break;
        }

        return comparison;
    }

    private static StartState? State(FloatMatrix? h0, FloatMatrix? c0) =>
        h0 is null && c0 is null ? null : new StartState(h0?.Values ?? ReadOnlyMemory<float>.Empty, c0?.Values ?? ReadOnlyMemory<float>.Empty);
}
