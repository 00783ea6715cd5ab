using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Client.Tests;

/// <summary>
/// <c>serve</c> in a child process, as an operator starts it: the example model (char-english), a free loopback port and
/// the memory store. Shared by the tests of a class; disposing stops it with SIGTERM.
/// </summary>
public sealed partial class ServeProcess : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private readonly string[] _store;
    private Process? _process;

    public ServeProcess()
        : this(["--store", "memory"])
    {
    }

    /// <summary>A serve on the store the flags name (e.g. <c>--store postgresql --store-connection ...</c>).</summary>
    internal ServeProcess(string[] store) => _store = store;

    public int Port { get; private set; }

    /// <summary>Where the build put the server, next to this project's own build (set by Client.Tests.csproj).</summary>
    public static string HostAssembly => typeof(ServeProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "HostAssembly").Value!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(HostAssembly), $"the server was not built at {HostAssembly}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in new[] { HostAssembly, "serve", "--port", "0" }.Concat(_store))
        {
            info.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Port = await ListeningPortAsync(_process);
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        await StopAsync();
        _process.Dispose();
    }

    /// <summary>Stops it with SIGTERM, as an operator does, and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        Assert.NotNull(_process);
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await _process.WaitForExitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>The child's output so far.</summary>
    public string Output()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task<int> ListeningPortAsync(Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (ServingLine().Match(Output()) is { Success: true } match)
            {
                return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            Assert.False(process.HasExited, $"serve exited with {(process.HasExited ? process.ExitCode : 0)} before listening:\n{Output()}");
            await Task.Delay(50);
        }

        throw new TimeoutException($"serve did not report listening within 2 minutes:\n{Output()}");
    }

    [GeneratedRegex(@"at 127\.0\.0\.1:(\d+) on the")]
    private static partial Regex ServingLine();
}
