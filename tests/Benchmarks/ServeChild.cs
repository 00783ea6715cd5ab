using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Streaming.Benchmarks;

/// <summary>
/// <c>serve</c> in a child process, as operators run it (the example model, the SQLite store), so that its RSS,
/// descriptors and heap are its own: /proc/&lt;pid&gt;/status and /proc/&lt;pid&gt;/fd, and its metrics endpoint.
/// </summary>
internal sealed partial class ServeChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http = new();

    private ServeChild(Process process, int metricsPort)
    {
        _process = process;
        MetricsPort = metricsPort;
    }

    public int Port { get; private set; }

    public int MetricsPort { get; }

    public int Pid => _process.Id;

    /// <summary>Starts <c>serve --port 0 --store-connection <paramref name="storeFile"/></c> with metrics on, and waits until it listens.</summary>
    public static Task<ServeChild> StartAsync(string storeFile) => StartAsync(["--store-connection", storeFile]);

    /// <summary>Starts <c>serve --port 0</c> with <paramref name="arguments"/>, <paramref name="environment"/> and metrics on, and waits until it listens.</summary>
    public static async Task<ServeChild> StartAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var metricsPort = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Streaming.Host.dll"), "serve", "--port", "0" }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["STREAMING_METRICSPORT"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        var child = new ServeChild(new Process { StartInfo = info }, metricsPort);
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        child.Port = await child.ListeningPortAsync().ConfigureAwait(false);
        return child;
    }

    /// <summary>Resident set size, from /proc/&lt;pid&gt;/status (VmRSS).</summary>
    public long RssBytes()
    {
        var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return 1024 * long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>CPU time the child has used so far, every thread (utime + stime from /proc/&lt;pid&gt;/stat).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    // sysconf(_SC_CLK_TCK): 100 on every Linux this runs on.
    private const int ClockTicksPerSecond = 100;

    /// <summary>Open file descriptors (sockets included), from /proc/&lt;pid&gt;/fd.</summary>
    public int OpenDescriptors() => Directory.EnumerateFileSystemEntries($"/proc/{Pid}/fd").Count();

    /// <summary>The value of an unlabelled metric from the metrics endpoint.</summary>
    public async Task<double> MetricAsync(string name)
    {
        var text = await _http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}/metrics")).ConfigureAwait(false);
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"serve's metrics have no '{name}'.");
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>The child's output so far (the last 100 lines).</summary>
    public string Output()
    {
        lock (_log)
        {
            return string.Join('\n', _log.ToString().Split('\n').TakeLast(100));
        }
    }

    /// <summary>Stops it as a supervisor does (SIGTERM), killing it if it has not exited within a minute.</summary>
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync().ConfigureAwait(false);
            }

            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await _process.WaitForExitAsync(guard.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task<int> ListeningPortAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (ServingLine().Match(Output()) is { Success: true } match)
            {
                return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"serve exited with {_process.ExitCode} before listening:\n{Output()}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"serve did not report listening within 2 minutes:\n{Output()}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"at 127\.0\.0\.1:(\d+) on the")]
    private static partial Regex ServingLine();
}
