using System.CommandLine;
using System.Globalization;
using Streaming.Client;
using Streaming.Client.Protocol;

namespace Streaming.Host.Service;

/// <summary>
/// <c>health [--host H] [--port P]</c>: the check a supervisor calls. It connects, completes the handshake, a ping and
/// a status request, prints the server's kernel paths (one line per chosen path, the worst error and the check time, a
/// warning per rejected path) and exits 0 when the server is ready; any failure, or a server not ready, prints why and
/// exits 1.
/// </summary>
internal static class HealthCommand
{
    private static readonly Option<string> Host = new("--host") { Description = "Server address", DefaultValueFactory = _ => "127.0.0.1" };
    private static readonly Option<int> Port = new("--port") { Description = "Server port", DefaultValueFactory = _ => 7700 };
    private static readonly Option<int> Timeout = new("--timeout") { Description = "Seconds to wait for the answer", DefaultValueFactory = _ => 5 };

    public static Command Create()
    {
        var command = new Command("health", "Check that a server answers and is ready: handshake, ping and status; exit 0 when healthy.");
        foreach (var option in new Option[] { Host, Port, Timeout })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, _) => RunAsync(result.GetValue(Host)!, result.GetValue(Port), result.GetValue(Timeout)));
        return command;
    }

    private static async Task<int> RunAsync(string host, int port, int timeoutSeconds)
    {
        var timeout = TimeSpan.FromSeconds(Math.Max(1, timeoutSeconds));
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await using var client = await StreamingClient.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            var roundTrip = await client.PingAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
            var status = await client.StatusAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
            if (!status.Ready)
            {
                return await UnhealthyAsync(host, port, "the server answers but is not ready (starting, stopping or not yet part of its cluster).").ConfigureAwait(false);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"healthy: {host}:{port} serves '{client.Welcome.Model}', ping {roundTrip.TotalMilliseconds:F2} ms"));
            await ReportAsync(status).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return await UnhealthyAsync(host, port, $"no answer within {timeout.TotalSeconds:0} s.").ConfigureAwait(false);
        }
        catch (StreamingClientException e) when (e.ProtocolCode == ProtocolErrorCode.UnknownFrameType)
        {
            return await UnhealthyAsync(host, port, $"{e.Message} (a server older than the Status frame refuses the status request).").ConfigureAwait(false);
        }
        catch (Exception e) when (e is StreamingClientException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return await UnhealthyAsync(host, port, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>One line per chosen path, then the worst error and the check, then a warning per rejected path.</summary>
    private static async Task ReportAsync(StatusFrame status)
    {
        foreach (var kernel in status.Chosen)
        {
            Console.WriteLine($"  {kernel.Part} {kernel.Path}: max error {Format(kernel.MaxError)}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"worst error {Format(status.WorstError)} (tolerance {Format(status.Tolerance)}); kernels checked in {status.CheckTime.TotalMilliseconds:0} ms by {status.Backend} on {status.Cpu}"));
        foreach (var rejected in status.Rejected)
        {
            var instead = status.Chosen.FirstOrDefault(k => k.Layer == rejected.Layer && k.Role == rejected.Role);
            var replacement = instead is null ? "no other path is reported" : $"the server uses {instead.Path} instead";
            await Console.Error.WriteLineAsync(
                $"warning: {rejected.Part} path {rejected.Path} was rejected (max error {Format(rejected.MaxError)}, tolerance {Format(status.Tolerance)}); {replacement}.").ConfigureAwait(false);
        }
    }

    private static async Task<int> UnhealthyAsync(string host, int port, string why)
    {
        await Console.Error.WriteLineAsync($"unhealthy: {host}:{port}: {why}").ConfigureAwait(false);
        return 1;
    }

    /// <summary>Three significant digits in exponent form, as the start-up log prints errors.</summary>
    private static string Format(double error) =>
        double.IsFinite(error) ? error.ToString("0.00e+0", CultureInfo.InvariantCulture) : "infinite";
}
