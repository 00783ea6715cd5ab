using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;

namespace Host.Tests.Service;

/// <summary>
/// Three <c>serve</c> processes on PostgreSQL form a cluster on loopback; with tokens in flight through every node, one
/// node is killed with SIGKILL and another stopped with SIGTERM, and clients resend whatever was not answered.
/// </summary>
public sealed partial class ServeProcessTests
{
    [Fact]
    public async Task With_one_node_killed_and_another_stopped_mid_stream_every_position_is_answered_once_and_every_output_equals_the_bulk_call()
    {
        var schema = "cluster_" + Guid.NewGuid().ToString("N")[..12];
        await PostgresAsync($"CREATE SCHEMA {schema}");
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var seeds = $"127.0.0.1:{ports[0]}";
        var environment = new Dictionary<string, string?>
        {
            ["STREAMING_CLUSTERSTABLEAFTERSECONDS"] = "3",
            ["STREAMING_CHECKPOINTSECONDS"] = "1",
        };
        var nodes = new List<Process>();
        var clients = new List<StreamingClient>();
        try
        {
            foreach (var port in ports)
            {
                nodes.Add(Start(
                    ["serve", "--port", "0", "--cluster-port", port.ToString(CultureInfo.InvariantCulture), "--seed-nodes", seeds,
                     "--store", "postgresql", "--store-connection", $"{PostgresConnectionString};Search Path={schema}"],
                    environment));
            }

            foreach (var node in nodes)
            {
                var client = await StreamingClient.ConnectAsync("127.0.0.1", await ListeningPort(node));
                clients.Add(client);
                await ReadyAsync(client, node);
            }

            Assert.All(nodes, node => Assert.Contains("Ready: 127.0.0.1:", Output(node), StringComparison.Ordinal));

            // Every session is fed through one node; positions 0 to 9 are answered (and checkpointed) before the failures.
            const int sessions = 300, before = 10, length = 40;
            var random = new Random(21);
            var ids = Enumerable.Range(0, sessions).Select(_ => Enumerable.Range(0, length).Select(_ => random.Next(64)).ToArray()).ToArray();
            var answers = new ConcurrentDictionary<(int Session, int Position), float[]>();
            await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
            {
                var client = clients[s % 3];
                await client.OpenAsync($"s{s}");
                for (var t = 0; t < before; t++)
                {
                    answers[(s, t)] = (await client.PushAsync($"s{s}", TokenInput.Id(ids[s][t]).WithAt(t))).Output.ToArray();
                }
            }));
            await Task.Delay(TimeSpan.FromSeconds(2)); // two checkpoint periods

            // The rest of every stream goes out at once, through the session's node; node 2 is killed and node 1 stopped
            // while those tokens are in flight. Whatever was answered is kept; the rest is resent below.
            var inFlight = Enumerable.Range(0, sessions).SelectMany(s => Enumerable.Range(before, length - before).Select(async t =>
            {
                try
                {
                    answers[(s, t)] = (await clients[s % 3].PushAsync($"s{s}", TokenInput.Id(ids[s][t]).WithAt(t))).Output.ToArray();
                }
                catch (StreamingClientException)
                {
                    // Lost with its connection, refused by a draining node, or ahead of a lost one: resent below.
                }
            })).ToArray();
            nodes[2].Kill();
            await nodes[2].WaitForExitAsync(Guard());
            var failedAt = Stopwatch.StartNew();
            using (var term = Process.Start("kill", ["-TERM", nodes[1].Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync(Guard());
            }

            await Task.WhenAll(inFlight);
            var unansweredAtFailure = sessions * length - answers.Count;

            // Every session is resent through node 0 from its first unanswered position: an applied token comes back as a
            // DuplicateToken with its output, a token after the resumed position as an Output, and a PositionAhead says
            // from where the session resumed (its last checkpoint).
            var resumedBack = new ConcurrentBag<int>();
            var duplicatesWithOutput = 0;
            await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
            {
                var t = Enumerable.Range(0, length).First(p => p == length - 1 || !answers.ContainsKey((s, p)));
                while (t < length)
                {
                    try
                    {
                        var output = (await clients[0].PushAsync($"s{s}", TokenInput.Id(ids[s][t]).WithAt(t))).Output.ToArray();
                        Assert.True(!answers.TryGetValue((s, t), out var earlier) || earlier.SequenceEqual(output), $"session {s} position {t}: a second, different output");
                        answers[(s, t)] = output;
                        t++;
                    }
                    catch (StreamingClientException e) when (e.SessionCode == SessionErrorCode.DuplicateToken)
                    {
                        Assert.True(e.Output is not null, $"session {s} position {t}: DuplicateToken without its output ({e.Message})");
                        Interlocked.Increment(ref duplicatesWithOutput);
                        answers[(s, t)] = e.Output.Value.ToArray();
                        t++;
                    }
                    catch (StreamingClientException e) when (e.SessionCode == SessionErrorCode.PositionAhead)
                    {
                        resumedBack.Add(t - (int)e.Position!.Value);
                        t = (int)e.Position.Value;
                    }
                    catch (StreamingClientException e) when (e.SessionCode is SessionErrorCode.SessionUnavailable or SessionErrorCode.NotReady)
                    {
                        // The session's shard is moving to node 0: retryable, from the same position.
                        await Task.Delay(200);
                    }
                }
            }));
            var recovered = failedAt.Elapsed;
            await nodes[1].WaitForExitAsync(Guard());
            Assert.True(nodes[1].ExitCode == 0, $"the stopped node exited with {nodes[1].ExitCode}:\n{Output(nodes[1])}");

            Assert.Equal(sessions * length, answers.Count);
            for (var s = 0; s < sessions; s++)
            {
                var expected = Bulk(ids[s]);
                for (var t = 0; t < length; t++)
                {
                    var got = answers[(s, t)];
                    for (var i = 0; i < expected[t].Length; i++)
                    {
                        Assert.True(Math.Abs(expected[t][i] - got[i]) <= 1e-5f, $"session {s} step {t} value {i}: {got[i]} against {expected[t][i]}");
                    }
                }
            }

            Assert.All(nodes, node => Assert.DoesNotContain("Deserialization failed", Output(node), StringComparison.Ordinal));
            var heartbeatWarnings = nodes.Sum(node => CountOf(Output(node), "heartbeat interval is growing too large"));
            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "streaming-cluster-recovery.txt"),
                $"{sessions} sessions x {length} positions; node 2 killed, node 1 stopped with {unansweredAtFailure} position(s) unanswered; " +
                $"{duplicatesWithOutput} answered by a DuplicateToken with its output, {resumedBack.Count} session resume(s) from a checkpoint " +
                $"(back {(resumedBack.IsEmpty ? 0 : resumedBack.Max())} position(s) at most, {(resumedBack.IsEmpty ? 0 : resumedBack.Average()):F1} on average); " +
                $"all {sessions * length} answered {recovered.TotalSeconds:F1} s after the kill; 0 wrong; {heartbeatWarnings} heartbeat warning(s)\n");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var node in nodes.Where(n => !n.HasExited))
            {
                node.Kill();
                await node.WaitForExitAsync(CancellationToken.None);
            }

            nodes.ForEach(n => n.Dispose());
            await PostgresAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    // A node answers before it has joined its cluster: ask its status until it says ready (a guard, not a timing assertion).
    private static async Task ReadyAsync(StreamingClient client, Process node)
    {
        var guard = Guard();
        while (!(await client.StatusAsync()).Ready)
        {
            Assert.False(guard.IsCancellationRequested, $"the node did not become ready within the guard:\n{Output(node)}");
            await Task.Delay(100, CancellationToken.None);
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
