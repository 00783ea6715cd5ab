using System.Collections.Concurrent;
using System.Globalization;
using Streaming.Host.Client;
using Streaming.Host.Protocol;
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
            var done = 0;
            var passed = 0;
            var sessions = operations.GroupBy(o => o.Session, StringComparer.Ordinal).ToList();
            await Task.WhenAll(sessions.Select((session, index) => Task.Run(async () =>
            {
                var client = clients[index % connections];
                foreach (var operation in session)
                {
                    var failure = await CheckAsync(client, operation, tolerance).ConfigureAwait(false);
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
            return new ReplayReport(passed, ordered.Count, ordered);
        }
        finally
        {
            foreach (var client in clients.Where(c => c is not null))
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Runs one operation; null when it behaved as recorded, else what went wrong.
    private static async Task<string?> CheckAsync(StreamingClient client, RecordedOperation operation, double tolerance)
    {
        string? mismatch;
        try
        {
            mismatch = await RunAsync(client, operation, tolerance).ConfigureAwait(false);
        }
        catch (StreamingClientException e) when (!e.ConnectionLost)
        {
            return operation.ExpectError ? null : $"refused unexpectedly: {e.Message}";
        }

        return operation.ExpectError ? "expected an error, but the operation was accepted" : mismatch;
    }

    private static async Task<string?> RunAsync(StreamingClient client, RecordedOperation operation, double tolerance)
    {
        switch (operation)
        {
            case RecordedOpen open:
                await client.OpenAsync(open.Session, State(open.H0, open.C0)).ConfigureAwait(false);
                return null;
            case RecordedToken token:
                {
                    var output = await client.PushAsync(token.Session, token.Kind == TokenKind.Ids ? Token.Id(token.Id) : Token.Vector(token.Input)).ConfigureAwait(false);
                    return token.Expect is { } expect ? Difference("output", expect.Span, output.Output.Span, tolerance) : null;
                }

            case RecordedReplay replay:
                {
                    var inputs = replay.Kind == TokenKind.Ids
                        ? replay.Ids.ToArray().Select(Token.Id).ToList()
                        : Enumerable.Range(0, replay.Inputs!.Rows).Select(r => Token.Vector(replay.Inputs.Row(r))).ToList();
                    var from = replay.H0 is null && replay.C0 is null ? null : State(replay.H0, replay.C0);
                    var result = await client.ReplayAsync(replay.Session, inputs, from).ConfigureAwait(false);
                    if (replay.Expect is not { } expect)
                    {
                        return null;
                    }

                    if (result.Outputs.Count != expect.Rows)
                    {
                        return $"expected {expect.Rows} output steps, got {result.Outputs.Count}";
                    }

                    for (var step = 0; step < expect.Rows; step++)
                    {
                        if (Difference($"output of step {step}", expect.Row(step).Span, result.Outputs[step].Span, tolerance) is { } problem)
                        {
                            return problem;
                        }
                    }

                    return null;
                }

            case RecordedSnapshot snapshot:
                {
                    var state = await client.SnapshotAsync(snapshot.Session).ConfigureAwait(false);
                    return (snapshot.ExpectH is { } h ? Difference("h", h.Values.Span, state.HiddenState(), tolerance) : null)
                        ?? (snapshot.ExpectC is { } c ? Difference("c", c.Values.Span, state.CellState(), tolerance) : null);
                }

            case RecordedReset reset:
                await client.ResetAsync(reset.Session).ConfigureAwait(false);
                return null;
            case RecordedClose close:
                await client.CloseAsync(close.Session).ConfigureAwait(false);
                return null;
            default:
                return $"unknown operation '{operation.Op}'";
        }
    }

    private static InitialState? State(FloatMatrix? h0, FloatMatrix? c0) =>
        h0 is null && c0 is null ? null : new InitialState(h0?.Values ?? ReadOnlyMemory<float>.Empty, c0?.Values ?? ReadOnlyMemory<float>.Empty);

    private static string? Difference(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance)
    {
        if (expected.Length != actual.Length)
        {
            return $"{what}: expected {expected.Length} values, got {actual.Length}";
        }

        var worst = -1;
        var max = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d) || d > max)
            {
                max = double.IsNaN(d) ? double.PositiveInfinity : d;
                worst = i;
            }
        }

        return max <= tolerance
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"{what}[{worst}]: expected {expected[worst]:G9}, got {actual[worst]:G9} (max |diff| {max:E2} > tolerance {tolerance:E1})");
    }
}
