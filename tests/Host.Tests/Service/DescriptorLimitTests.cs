using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Host.Tests.Server;
using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;

namespace Host.Tests.Service;

/// <summary>
/// `serve` under a low descriptor limit (`ulimit -n`), as a child process: it holds no more connections than its
/// descriptors allow (lowering a configured limit above that, with a warning), stays up, refuses the connections over the
/// limit with TooManyConnections, and serves again once connections close. The back-off when accepting fails anyway (the
/// descriptors taken by something else) is in AcceptLoopTests.
/// </summary>
public sealed partial class DescriptorLimitTests
{
    private static readonly string Program = Path.Combine(AppContext.BaseDirectory, "Streaming.Host.dll");

    [Fact]
    public async Task Serve_under_a_low_descriptor_limit_refuses_the_connections_over_its_limit_and_serves_again_when_they_close()
    {
        using var serve = StartUnderUlimit(512);
        var (port, limit) = await ListeningAsync(serve);
        Assert.InRange(limit, 100, 512 - 64);
        Assert.DoesNotMatch(LoweredLine(), Output(serve));
        await AssertRefusesOverTheLimitAndServesAgainAsync(serve, port, limit);
    }

    // Before the limit was lowered, this serve held connections until accept failed for want of descriptors; then any
    // file the runtime opened (a thread's pipe, /proc/meminfo for the garbage collector, an assembly) failed too, and the
    // runtime ended the process with "Out of memory." (about one run in three on a 2-core machine).
    [Fact]
    public async Task Serve_with_a_connection_limit_above_its_descriptors_lowers_it_with_a_warning_and_never_runs_out_of_descriptors()
    {
        using var serve = StartUnderUlimit(512, ("STREAMING_MAXCONNECTIONS", "100000"));
        var (port, limit) = await ListeningAsync(serve);
        Assert.InRange(limit, 100, 512 - 64);
        var lowered = LoweredLine().Match(Output(serve));
        Assert.True(lowered.Success, $"expected the lowered limit explained:\n{Output(serve)}");
        Assert.Equal("100000", lowered.Groups[1].Value);
        Assert.Equal("512", lowered.Groups[2].Value);

        await AssertRefusesOverTheLimitAndServesAgainAsync(serve, port, limit);
        Assert.DoesNotMatch(AcceptFailing(), Output(serve));
        Assert.DoesNotContain("Out of memory", Output(serve), StringComparison.Ordinal);
    }

    private static async Task AssertRefusesOverTheLimitAndServesAgainAsync(Process serve, int port, int limit)
    {
        var welcomed = new List<RawConnection>();
        var refused = 0;
        for (var i = 0; i < limit + 20; i++)
        {
            var connection = await RawConnection.ConnectAsync(port, hello: false);
            await connection.SendAsync(HelloFrame.Current);
            switch (await connection.ReadAsync())
            {
                case WelcomeFrame:
                    welcomed.Add(connection);
                    break;
                case ErrorFrame { Code: (ushort)ProtocolErrorCode.TooManyConnections } error:
                    Assert.True(error.EndsConnection);
                    Assert.Empty(await connection.ReadToEndAsync());
                    await connection.DisposeAsync();
                    refused++;
                    break;
                case var other:
                    Assert.Fail($"connection {i}: expected a Welcome or TooManyConnections, got {other?.ToString() ?? "the end of the stream"}\n{Output(serve)}");
                    break;
            }
        }

        Assert.True(welcomed.Count == limit && refused == 20, $"{welcomed.Count} welcomed and {refused} refused; expected {limit} and 20\n{Output(serve)}");
        Assert.False(serve.HasExited, Output(serve));

        foreach (var connection in welcomed.Take(10))
        {
            await connection.DisposeAsync();
        }

        await AssertServesAsync(port);
        foreach (var connection in welcomed.Skip(10))
        {
            await connection.DisposeAsync();
        }

        await StopAsync(serve);
    }

    private static async Task AssertServesAsync(int port)
    {
        await using var client = await ConnectionLimitTests.ConnectWhenRoomAsync(port);
        await client.OpenAsync("after");
        var output = await client.PushAsync("after", TokenInput.Id(3));
        Assert.Equal(1, output.Position);
        Assert.True(await client.PingAsync() >= TimeSpan.Zero);
    }

    private static async Task StopAsync(Process serve)
    {
        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        await serve.WaitForExitAsync(Guard());
        Assert.True(serve.ExitCode == 0, $"serve exited with {serve.ExitCode}:\n{Output(serve)}");
    }

    private static Process StartUnderUlimit(int descriptors, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"ulimit -n {descriptors} && exec dotnet \"$0\" serve --port 0");
        info.ArgumentList.Add(Program);
        info.Environment["STREAMING_STORE__KIND"] = "memory";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        Outputs.AddOrUpdate(process, output);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Process, StringBuilder> Outputs = new();

    private static string Output(Process process)
    {
        var output = Outputs.GetOrCreateValue(process);
        lock (output)
        {
            return output.ToString();
        }
    }

    // Waits for the start-up lines and reads the port and the connection limit; a guard, not a timing assertion.
    private static async Task<(int Port, int Limit)> ListeningAsync(Process serve)
    {
        var guard = Guard();
        while (!guard.IsCancellationRequested)
        {
            var output = Output(serve);
            if (ServingLine().Match(output) is { Success: true } serving && LimitLine().Match(output) is { Success: true } limit)
            {
                return (int.Parse(serving.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(limit.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }

            if (serve.HasExited)
            {
                Assert.Fail($"serve exited with {serve.ExitCode} before listening:\n{output}");
            }

            await Task.Delay(50, CancellationToken.None);
        }

        Assert.Fail($"serve did not report listening within the guard:\n{Output(serve)}");
        return default;
    }

    private static CancellationToken Guard() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    [GeneratedRegex(@"at 127\.0\.0\.1:(\d+) on the")]
    private static partial Regex ServingLine();

    [GeneratedRegex(@"Holding at most (\d+) connection\(s\) at once")]
    private static partial Regex LimitLine();

    [GeneratedRegex(@"Accepting on \S+ failed \(TooManyOpenSockets")]
    private static partial Regex AcceptFailing();

    [GeneratedRegex(@"MaxConnections (\d+) is more than the descriptor limit (\d+) allows")]
    private static partial Regex LoweredLine();
}
