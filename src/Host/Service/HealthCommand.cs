using System.CommandLine;
using System.Globalization;
using Streaming.Host.Client;

namespace Streaming.Host.Service;

/// <summary>
/// <c>health [--host H] [--port P]</c>: the check a supervisor calls. It connects, completes the handshake
/// and a ping, prints one line and exits 0; any failure prints why and exits 1.
/// </summary>
internal static class HealthCommand
{
    private static readonly Option<string> Host = new("--host") { Description = "Server address", DefaultValueFactory = _ => "127.0.0.1" };
    private static readonly Option<int> Port = new("--port") { Description = "Server port", DefaultValueFactory = _ => 7700 };
    private static readonly Option<int> Timeout = new("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5 };

    public static Command Create()
    {
        var command = new Command("health", "Check that a server answers: handshake and ping; exit 0 when healthy.");
        foreach (var option in new Option[] { Host, Port, Timeout })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, _) => RunAsync(result.GetValue(Host)!, result.GetValue(Port), result.GetValue(Timeout)));
        return command;
    }

    private static async Task<int> RunAsync(string host, int port, int timeoutSeconds)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, timeoutSeconds)));
        try
        {
            await using var client = await StreamingClient.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            var roundTrip = await client.PingAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"healthy: {host}:{port} serves '{client.Welcome.Model}', ping {roundTrip.TotalMilliseconds:F2} ms"));
            return 0;
        }
        catch (Exception e) when (e is StreamingClientException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"unhealthy: {host}:{port}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
