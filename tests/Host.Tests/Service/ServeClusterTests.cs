using System.Diagnostics;
using System.Globalization;
using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;

namespace Host.Tests.Service;

/// <summary>Three <c>serve</c> processes form a cluster on loopback; one is killed with SIGKILL mid-stream.</summary>
public sealed partial class ServeProcessTests
{
    [Fact]
    public async Task A_killed_node_s_sessions_resume_on_the_others_from_persisted_snapshots_and_clients_resend_from_the_position_they_are_told()
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
                clients.Add(await StreamingClient.ConnectAsync("127.0.0.1", await ListeningPort(node)));
            }

            // Sessions opened and fed through every node; each lives on whichever node owns its shard.
            const int sessions = 24, before = 6, length = 12;
            var random = new Random(21);
            var ids = Enumerable.Range(0, sessions).Select(_ => Enumerable.Range(0, length).Select(_ => random.Next(64)).ToArray()).ToArray();
            var outputs = new float[sessions][][];
            for (var s = 0; s < sessions; s++)
            {
                outputs[s] = new float[length][];
                var client = clients[s % 3];
                await client.OpenAsync($"s{s}");
                for (var t = 0; t < before; t++)
                {
                    outputs[s][t] = (await client.PushAsync($"s{s}", TokenInput.Id(ids[s][t]).WithAt(t))).Output.ToArray();
                }
            }

            // Checkpoints persist those tokens; the next one, answered just before the kill, is most likely not persisted.
            await Task.Delay(TimeSpan.FromSeconds(3));
            for (var s = 0; s < sessions; s++)
            {
                outputs[s][before] = (await clients[0].PushAsync($"s{s}", TokenInput.Id(ids[s][before]).WithAt(before))).Output.ToArray();
            }

            nodes[2].Kill();
            await nodes[2].WaitForExitAsync(Guard());
            var killedAt = Stopwatch.StartNew();

            // Every session goes on through the first node; a session that lost its last token is told where to resend from.
            var told = new List<long>();
            for (var s = 0; s < sessions; s++)
            {
                var t = before + 1;
                while (t < length)
                {
                    try
                    {
                        outputs[s][t] = (await clients[0].PushAsync($"s{s}", TokenInput.Id(ids[s][t]).WithAt(t))).Output.ToArray();
                        t++;
                    }
                    catch (StreamingClientException e) when (e.SessionCode == SessionErrorCode.PositionAhead)
                    {
                        Assert.NotNull(e.Position);
                        Assert.InRange(e.Position.Value, before, t - 1);
                        told.Add(e.Position.Value);
                        t = (int)e.Position.Value;
                    }
                }
            }

            var recovered = killedAt.Elapsed;
            Assert.NotEmpty(told);
            for (var s = 0; s < sessions; s++)
            {
                var expected = Bulk(ids[s]);
                for (var t = 0; t < length; t++)
                {
                    for (var i = 0; i < expected[t].Length; i++)
                    {
                        Assert.True(Math.Abs(expected[t][i] - outputs[s][t][i]) <= 1e-5f, $"session {s} step {t} value {i}: {outputs[s][t][i]} against {expected[t][i]}");
                    }
                }
            }

            await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "streaming-cluster-recovery.txt"),
                $"{sessions} sessions, {told.Count} told to resend; all answered {recovered.TotalSeconds:F1} s after the kill\n");
        }
        finally
        {
            foreach (var client in clients.Take(2))
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
}
