using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Sessions;

namespace Streaming.Benchmarks;

/// <summary>
/// Soak: 10,000 sessions over 50 connections against <c>serve</c> in a child process (the example char-lstm model,
/// the SQLite store) for a given time. Each of 50 clients owns 200 sessions; it connects, goes through 20 of its
/// sessions (opening a closed one, pushing a token, closing it one time in four), then closes the connection and
/// connects again, so connections and sessions open and close all the time. Every 30 s it prints the server's RSS,
/// managed heap (after the last GC), open descriptors and the store's rows; the target is flat after warm-up, within 10%.
/// </summary>
internal static class SoakScenario
{
    private const int Sessions = 10_000;
    private const int Clients = 50;
    private const int SessionsPerConnection = 20;
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(30);

    /// <summary>How long to run; null: 10 minutes, or 2 with --quick. Set by <c>--duration=SECONDS</c>.</summary>
    public static TimeSpan? Duration { get; set; }

    public static string Run(bool quick) => RunAsync(quick).GetAwaiter().GetResult();

    private static async Task<string> RunAsync(bool quick)
    {
        var duration = Duration ?? TimeSpan.FromMinutes(quick ? 2 : 10);
        var warmUp = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(2).Ticks, duration.Ticks / 4));
        var folder = Directory.CreateTempSubdirectory("streaming-soak-");
        var store = Path.Combine(folder.FullName, "sessions.db");
        var traffic = new Traffic();
        var samples = new List<Sample>();
        Sample? idle = null;
        var text = new StringBuilder();
        text.AppendLine($"### Soak: {Sessions:N0} sessions over {Clients} churning connections, `serve` in a child process, {duration.TotalMinutes:0.#} min");
        text.AppendLine();
        try
        {
            await using (var serve = await ServeChild.StartAsync(store).ConfigureAwait(false))
            {
                Console.WriteLine($"soak: serve (pid {serve.Pid}) listens on {serve.Port}; {Sessions} sessions, {Clients} clients, {duration.TotalMinutes:0.#} min");
                Console.WriteLine(Sample.Header);
                var clock = Stopwatch.StartNew();
                samples.Add(await Sample.TakeAsync(serve, store, traffic, clock.Elapsed).ConfigureAwait(false));
                Console.WriteLine(samples[^1].Row);
                using var stop = new CancellationTokenSource();
                var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c, serve.Port, traffic, stop.Token))).ToArray();
                while (clock.Elapsed < duration)
                {
                    var wait = duration - clock.Elapsed;
                    await Task.Delay(wait < SampleEvery ? wait : SampleEvery).ConfigureAwait(false);
                    samples.Add(await Sample.TakeAsync(serve, store, traffic, clock.Elapsed).ConfigureAwait(false));
                    Console.WriteLine(samples[^1].Row);
                }

                // One more reading once every client has disconnected: what the server keeps when nobody is there.
                await stop.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(clients).ConfigureAwait(false);
                idle = await Sample.TakeAsync(serve, store, traffic, clock.Elapsed).ConfigureAwait(false);
                Console.WriteLine(idle.Row + " (clients gone)");
            }

            text.AppendLine("| " + Sample.Header.TrimStart('|', ' '));
            text.AppendLine(Sample.Rule);
            foreach (var sample in samples)
            {
                text.AppendLine(sample.Row);
            }

            text.AppendLine("| after the clients left, " + idle!.Row[2..]);

            text.AppendLine();
            text.AppendLine(Verdict(samples, warmUp));
            return text.ToString();
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    /// <summary>One client: connect, work through a few of its sessions, disconnect, again, until <paramref name="stop"/>.</summary>
    private static async Task ClientAsync(int client, int port, Traffic traffic, CancellationToken stop)
    {
        var random = new Random(client);
        var sessions = Enumerable.Range(0, Sessions / Clients).Select(k => $"soak-{client + (k * Clients)}").ToArray();
        var open = new bool[sessions.Length];
        var next = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await StreamingClient.ConnectAsync("127.0.0.1", port, stop).ConfigureAwait(false);
                Interlocked.Increment(ref traffic.Connections);
                for (var i = 0; i < SessionsPerConnection && !stop.IsCancellationRequested; i++)
                {
                    var k = next++ % sessions.Length;
                    try
                    {
                        await StepAsync(connection, sessions[k], open[k], random, traffic).ConfigureAwait(false);
                        open[k] = random.Next(4) != 0;
                        if (!open[k])
                        {
                            await connection.CloseAsync(sessions[k]).ConfigureAwait(false);
                            Interlocked.Increment(ref traffic.Closed);
                        }
                    }
                    catch (StreamingClientException e) when (!e.ConnectionLost)
                    {
                        // A refused operation leaves the connection usable; the session's state follows the refusal.
                        open[k] = e.SessionCode != SessionErrorCode.UnknownSession;
                        Report(client, e, traffic);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StreamingClientException or IOException or System.Net.Sockets.SocketException)
            {
                // The connection is lost: counted and reported; the client connects again.
                Report(client, e, traffic);
            }
        }
    }

    /// <summary>Opens the session unless it is open, then pushes one token.</summary>
    private static async Task StepAsync(StreamingClient connection, string session, bool open, Random random, Traffic traffic)
    {
        if (!open)
        {
            await connection.OpenAsync(session).ConfigureAwait(false);
            Interlocked.Increment(ref traffic.Opened);
        }

        await connection.PushAsync(session, TokenInput.Id(random.Next(64))).ConfigureAwait(false);
        Interlocked.Increment(ref traffic.Tokens);
    }

    private static void Report(int client, Exception e, Traffic traffic)
    {
        if (Interlocked.Increment(ref traffic.Errors) <= 3)
        {
            Console.WriteLine($"soak: client {client}: {e.GetType().Name}: {e.Message}");
        }
    }

    private static string Verdict(List<Sample> samples, TimeSpan warmUp)
    {
        var baseline = samples.First(s => s.Elapsed >= warmUp);
        var last = samples[^1];
        string Growth(string what, double from, double to, bool strict)
        {
            var change = from == 0 ? (to == 0 ? 0 : double.PositiveInfinity) : (to - from) / from;
            var flat = Math.Abs(change) <= 0.10;
            return $"{what} {Sample.Show(from)} -> {Sample.Show(to)} ({change:+0.0%;-0.0%;0%}{(strict && !flat ? ", beyond 10%" : "")})";
        }

        var rssChange = (last.Rss - baseline.Rss) / (double)baseline.Rss;
        var connections = last.Connections - baseline.Connections;
        var perConnection = connections > 0 ? (last.Rss - baseline.Rss) / (double)connections : 0;
        return $"From {baseline.Elapsed.TotalMinutes:0.#} min (after warm-up) to the end: " +
               string.Join("; ", Growth("RSS", baseline.Rss, last.Rss, true), Growth("managed heap", baseline.Heap, last.Heap, true),
                   Growth("descriptors", baseline.Descriptors, last.Descriptors, true), Growth("store rows", baseline.Rows, last.Rows, true)) +
               $". {connections:N0} connections in that time, {perConnection / 1024:0.0} KB of RSS each. " +
               (Math.Abs(rssChange) <= 0.10 ? "RSS flat within 10%." : "RSS not flat: beyond 10%.") +
               $" Client errors over the run: {last.Errors:N0}.";
    }

    /// <summary>The clients' running totals.</summary>
    private sealed class Traffic
    {
        public long Connections;
        public long Opened;
        public long Closed;
        public long Tokens;
        public long Errors;
    }

    /// <summary>One reading of the server and the clients.</summary>
    private sealed record Sample(TimeSpan Elapsed, long Rss, double Heap, int Descriptors, long Rows, double SessionsOpen, double ConnectionsOpen,
        long Connections, long Opened, long Closed, long Tokens, long Errors)
    {
        public const string Header = "| time | RSS | managed heap | descriptors | store rows | sessions open | connections open | connections made | sessions opened | closed | tokens | errors |";

        public const string Rule = "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";

        public string Row =>
            $"| {Elapsed:mm\\:ss} | {Show(Rss)} | {Show(Heap)} | {Descriptors} | {Rows:N0} | {SessionsOpen:N0} | {ConnectionsOpen:N0} | {Connections:N0} | {Opened:N0} | {Closed:N0} | {Tokens:N0} | {Errors:N0} |";

        public static async Task<Sample> TakeAsync(ServeChild serve, string store, Traffic traffic, TimeSpan elapsed) =>
            new(elapsed, serve.RssBytes(), await serve.MetricAsync("streaming_managed_heap_bytes").ConfigureAwait(false), serve.OpenDescriptors(),
                await StoreRowsAsync(store).ConfigureAwait(false), await serve.MetricAsync("streaming_sessions_open").ConfigureAwait(false),
                await serve.MetricAsync("streaming_connections_open").ConfigureAwait(false),
                Interlocked.Read(ref traffic.Connections), Interlocked.Read(ref traffic.Opened), Interlocked.Read(ref traffic.Closed),
                Interlocked.Read(ref traffic.Tokens), Interlocked.Read(ref traffic.Errors));

        public static string Show(double bytes) => bytes >= 1 << 20 ? $"{bytes / (1 << 20):0.0} MB" : $"{bytes:N0}";

        private static async Task<long> StoreRowsAsync(string file)
        {
            if (!File.Exists(file))
            {
                return 0;
            }

            await using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync().ConfigureAwait(false);
            await using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'streaming_sessions'";
            if (Convert.ToInt64(await count.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return 0;
            }

            count.CommandText = "SELECT COUNT(*) FROM streaming_sessions";
            return Convert.ToInt64(await count.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
