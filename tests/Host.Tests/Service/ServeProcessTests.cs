using System.Diagnostics;
using System.Text.RegularExpressions;
using Streaming;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using Streaming.Client;
using Streaming.Client.Protocol;
using Host.Tests.Server;

namespace Host.Tests.Service;

/// <summary>`serve` as users run it: a child process on the example model, configured by files, variables and flags.</summary>
public sealed partial class ServeProcessTests : IDisposable
{
    private static readonly string Program = Path.Combine(AppContext.BaseDirectory, "Streaming.Host.dll");

    // Every serve gets a SQLite file of its own here (many tests reuse session ids such as "a": a shared store would
    // resume another test's sessions). The tests of this class run one after another; each clears the folder.
    private static readonly string Stores = Path.Combine(Path.GetTempPath(), $"streaming-serve-tests-{Environment.ProcessId}");

    public void Dispose()
    {
        if (Directory.Exists(Stores))
        {
            Directory.Delete(Stores, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_in_a_child_process_gives_the_example_models_outputs_and_stops_cleanly_on_sigterm()
    {
        using var serve = Start("serve", "--port", "0");
        var port = await ListeningPort(serve);
        // The default model's vocabulary ships beside its manifest, in the host's config folder.
        var ids = CharVocabulary.Load(Path.Combine(AppContext.BaseDirectory, "config", "models", "char-english.vocab.json")).Encode("The cat");
        await using (var client = await StreamingClient.ConnectAsync("127.0.0.1", port))
        {
            Assert.Equal("char-english", client.Welcome.Model);
            Assert.Equal(96, client.Welcome.InputSize);
            await client.OpenAsync("tcp-user");
            var outputs = await Task.WhenAll(ids.Select(id => client.PushAsync("tcp-user", TokenInput.Id(id))));
            var expected = Bulk(ids);
            for (var t = 0; t < ids.Length; t++)
            {
                Assert.Equal(t + 1, outputs[t].Position);
                Assert.Equal(expected[t], outputs[t].Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
            }
        }

        using (var health = Start("health", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            await health.WaitForExitAsync(Guard());
            Assert.Equal(0, health.ExitCode);
            Assert.Contains("healthy: 127.0.0.1:", Output(health), StringComparison.Ordinal);
            AssertHealthNamesTheLoggedKernels(Output(serve), Output(health));
        }

        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        await serve.WaitForExitAsync(Guard());
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains("1 open session(s) were snapshotted into the store", Output(serve), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_tokens_batches_and_errors_by_code()
    {
        var metricsPort = FreePort();
        using var serve = Start(("serve\0--port\00", "STREAMING_METRICSPORT", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var port = await ListeningPort(serve);
        await using (var client = await StreamingClient.ConnectAsync("127.0.0.1", port))
        {
            await client.OpenAsync("m");
            await Task.WhenAll(new[] { 1, 2, 3, 4, 5 }.Select(id => client.PushAsync("m", TokenInput.Id(id))));
            // One past the default model's 96 ids.
            await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("m", TokenInput.Id(96)));
        }

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
        Assert.Contains("streaming_tokens_total 5", metrics, StringComparison.Ordinal);
        Assert.Contains("streaming_sessions_open 1", metrics, StringComparison.Ordinal);
        Assert.Contains("streaming_errors_total{code=\"1\"} 1", metrics, StringComparison.Ordinal);
        // The default model on the default (Managed) backend: the Auto layout runs the whole stack in one stage.
        Assert.Matches(@"streaming_stage_elements_total\{stage=""stack""\} [1-9]", metrics);
        Assert.Contains("streaming_stage_busy_seconds_total{stage=\"stack\"}", metrics, StringComparison.Ordinal);
        Assert.Matches(@"streaming_stage_queue_wait_seconds_total\{stage=""stack""\} [0-9.eE+-]*[1-9]", metrics);
        // The kernel check's verdict: each path tried, the chosen one flagged, none rejected on a correct machine's Managed kernels.
        Assert.Matches(@"streaming_kernel_max_error\{layer=""0"",role=""step"",path=""(vector512|vector256|scalar)"",chosen=""1"",rejected=""0""\} [0-9.eE+-]+", metrics);
        Assert.Matches(@"streaming_kernel_max_error\{layer=""head"",role=""head"",path=""[a-z0-9]+"",chosen=""1"",rejected=""0""\}", metrics);
        Assert.Matches(@"streaming_kernel_worst_error \d(\.\d+)?[eE]-0*([6-9]|[1-9]\d)\b", metrics);
        Assert.Contains("streaming_kernel_rejected_paths 0", metrics, StringComparison.Ordinal);
        Assert.Matches(@"streaming_kernel_check_seconds [0-9.]+", metrics);
        Assert.Matches(@"streaming_managed_heap_bytes [1-9][0-9.eE+]*", metrics);
        serve.Kill();
        await serve.WaitForExitAsync(Guard());
    }

    [Fact]
    public async Task The_health_check_fails_with_the_reason_when_nothing_listens()
    {
        var port = FreePort();
        using var health = Start("health", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "3");
        await health.WaitForExitAsync(Guard());
        Assert.Equal(1, health.ExitCode);
        Assert.Contains($"unhealthy: 127.0.0.1:{port}", Output(health), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_check_warns_of_each_rejected_path_and_names_the_one_used_instead()
    {
        var status = new StatusFrame(0, true, "torch:cpu", "AMD Ryzen 9 9950X (znver5; avx512f)", TimeSpan.FromMilliseconds(37), 1e-5,
        [
            new KernelStatus(0, "step", "libtorch-lstm", 3.5e-3, KernelVerdict.Rejected),
            new KernelStatus(0, "step", "addmm-cells", 2.98e-8, KernelVerdict.Chosen),
            new KernelStatus(0, "bulk", "libtorch-lstm", double.PositiveInfinity, KernelVerdict.Rejected),
            new KernelStatus(0, "bulk", "addmm-cells", 5.96e-8, KernelVerdict.Chosen),
            new KernelStatus(null, "head", "addmm", 1.19e-7, KernelVerdict.Chosen),
        ]);
        await using var server = ScriptedServer.Start(frame => frame switch
        {
            PingFrame ping => [ScriptedServer.Encode(new PongFrame(ping.Nonce))],
            StatusRequestFrame request => [ScriptedServer.Encode(status with { Nonce = request.Nonce })],
            _ => [],
        });
        using var health = Start("health", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await health.WaitForExitAsync(Guard());
        var output = Output(health);
        Assert.True(health.ExitCode == 0, output);
        Assert.Contains($"healthy: 127.0.0.1:{server.Port} serves 'scripted', ping ", output, StringComparison.Ordinal);
        Assert.Contains("  layer 0 step addmm-cells: max error 2.98e-8", output, StringComparison.Ordinal);
        Assert.Contains("  layer 0 bulk addmm-cells: max error 5.96e-8", output, StringComparison.Ordinal);
        Assert.Contains("  head addmm: max error 1.19e-7", output, StringComparison.Ordinal);
        Assert.Contains("worst error 1.19e-7 (tolerance 1.00e-5); kernels checked in 37 ms by torch:cpu on AMD Ryzen 9 9950X (znver5; avx512f)", output, StringComparison.Ordinal);
        Assert.Contains("warning: layer 0 step path libtorch-lstm was rejected (max error 3.50e-3, tolerance 1.00e-5); the server uses addmm-cells instead.", output, StringComparison.Ordinal);
        Assert.Contains("warning: layer 0 bulk path libtorch-lstm was rejected (max error infinite, tolerance 1.00e-5); the server uses addmm-cells instead.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("libtorch-lstm: max error", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_check_fails_when_the_server_answers_but_is_not_ready()
    {
        await using var server = ScriptedServer.Start(frame => frame switch
        {
            PingFrame ping => [ScriptedServer.Encode(new PongFrame(ping.Nonce))],
            StatusRequestFrame request => [ScriptedServer.Encode(new StatusFrame(request.Nonce, false, "managed", "cpu", TimeSpan.Zero, 1e-5, []))],
            _ => [],
        });
        using var health = Start("health", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await health.WaitForExitAsync(Guard());
        Assert.Equal(1, health.ExitCode);
        Assert.Contains($"unhealthy: 127.0.0.1:{server.Port}: the server answers but is not ready (starting, stopping or not yet part of its cluster).", Output(health), StringComparison.Ordinal);
        Assert.DoesNotMatch("(?m)^healthy:", Output(health));
    }

    [Fact]
    public async Task The_health_check_fails_on_a_malformed_status_naming_the_field()
    {
        await using var server = ScriptedServer.Start(frame => frame switch
        {
            PingFrame ping => [ScriptedServer.Encode(new PongFrame(ping.Nonce))],
            StatusRequestFrame request => [StatusTests.MalformedStatus(request.Nonce)],
            _ => [],
        });
        using var health = Start("health", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await health.WaitForExitAsync(Guard());
        Assert.Equal(1, health.ExitCode);
        Assert.Contains($"unhealthy: 127.0.0.1:{server.Port}: the server sent a frame this client cannot read: Status frame: the verdict of kernel 0 is 7", Output(health), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_check_fails_against_a_server_that_predates_the_status_frame_and_says_so()
    {
        await using var server = ScriptedServer.Start(frame => frame switch
        {
            PingFrame ping => [ScriptedServer.Encode(new PongFrame(ping.Nonce))],
            StatusRequestFrame => [ScriptedServer.Encode(new ErrorFrame("", 0, (ushort)ProtocolErrorCode.UnknownFrameType, "frame type 0x06 is unknown."))],
            _ => [],
        });
        using var health = Start("health", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await health.WaitForExitAsync(Guard());
        Assert.Equal(1, health.ExitCode);
        Assert.Contains("frame type 0x06 is unknown. (a server older than the Status frame refuses the status request).", Output(health), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_replay_command_ends_with_the_count_line_and_exits_zero_when_all_passed()
    {
        using var replay = Start("replay", Path.Combine(AppContext.BaseDirectory, "recordings", "char-lstm.jsonl"));
        await replay.WaitForExitAsync(Guard());
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("serving with managed: layer 0 step vector", Output(replay), StringComparison.Ordinal);
        Assert.Matches(@"largest \|error\|: \d\.\d{4}E-0(0[5-9]|1\d) at session '[^']+', line \d+ \(tolerance 1\.0E-004\)", Output(replay));
        Assert.EndsWith("52 passed, 0 failed", Output(replay).TrimEnd(), StringComparison.Ordinal);
    }

    // The Managed backend's element-wise math (TensorPrimitives) takes the widest vectors the runtime offers, so the
    // narrower paths run only in a runtime told not to use the wider ones: without AVX-512, and without any intrinsics.
    [Theory]
    [InlineData("DOTNET_EnableAVX512F", "vector256")]
    [InlineData("DOTNET_EnableHWIntrinsic", "scalar")]
    public async Task The_shipped_recordings_pass_in_a_runtime_limited_to_narrower_vectors(string variable, string widest)
    {
        foreach (var recording in new[] { "lstm.jsonl", "char-lstm.jsonl", "char-lstm-generate.jsonl" })
        {
            using var replay = Start(["replay", Path.Combine(AppContext.BaseDirectory, "recordings", recording)], new Dictionary<string, string?> { [variable] = "0" });
            await replay.WaitForExitAsync(Guard());
            Assert.True(replay.ExitCode == 0, Output(replay));
            // Without intrinsics the widest width is scalar; without AVX-512 it is AVX2's, where the CPU has FMA.
            var expected = widest == "scalar" || !System.Runtime.Intrinsics.X86.Fma.IsSupported ? "scalar" : "vector256";
            Assert.Contains($"layer 0 step {expected} ", Output(replay), StringComparison.Ordinal);

            Assert.Matches(@"\d+ passed, 0 failed$", Output(replay).TrimEnd());
        }
    }

    [Fact]
    public async Task The_replay_command_takes_its_backend_from_STREAMING_BACKEND_and_says_which_kernels_serve()
    {
        using var replay = Start(["replay", Path.Combine(AppContext.BaseDirectory, "recordings", "lstm.jsonl")], new Dictionary<string, string?> { ["STREAMING_BACKEND"] = "Torch" });
        await replay.WaitForExitAsync(Guard());
        Assert.True(replay.ExitCode == 0, Output(replay));
        Assert.Contains("serving with torch:cpu: layer 0 step ", Output(replay), StringComparison.Ordinal);
        Assert.Contains("; worst error ", Output(replay), StringComparison.Ordinal);
        Assert.Matches(@"\d+ passed, 0 failed$", Output(replay).TrimEnd());

        using var refused = Start(["replay", Path.Combine(AppContext.BaseDirectory, "recordings", "lstm.jsonl")], new Dictionary<string, string?> { ["STREAMING_BACKEND"] = "Gpu" });
        await refused.WaitForExitAsync(Guard());
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("the backend (--backend or STREAMING_BACKEND) is 'Gpu'; expected Managed or Torch", Output(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_replay_command_names_a_failed_expectation_and_exits_non_zero()
    {
        var directory = Directory.CreateTempSubdirectory("tampered-recording");
        try
        {
            var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "recordings", "lstm.jsonl"));
            lines[0] = lines[0].Replace("\"models/", $"\"{Path.Combine(AppContext.BaseDirectory, "recordings", "models")}/", StringComparison.Ordinal);
            var first = Array.FindIndex(lines, l => l.Contains("\"expect\"", StringComparison.Ordinal) && l.Contains("\"token\"", StringComparison.Ordinal));
            lines[first] = TamperedExpect().Replace(lines[first], m => $"{m.Groups[1].Value}{double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 0.5:R}", 1);
            var path = Path.Combine(directory.FullName, "lstm-tampered.jsonl");
            File.WriteAllLines(path, lines);

            using var replay = Start("replay", path);
            await replay.WaitForExitAsync(Guard());
            Assert.Equal(1, replay.ExitCode);
            var output = Output(replay);
            Assert.Contains($"line {first + 1} (token): output[0]: expected", output, StringComparison.Ordinal);
            // The operation's largest error, with more digits than the tolerance needs, and the run's largest error and where.
            Assert.Matches(@"largest \|error\| of the operation 5\.0000E-001 > tolerance 1\.0E-004", output);
            Assert.Contains($"largest |error|: 5.0000E-001 at session ", output, StringComparison.Ordinal);
            Assert.Contains($", line {first + 1} (tolerance 1.0E-004)", output, StringComparison.Ordinal);
            Assert.EndsWith("passed, 1 failed", output.TrimEnd(), StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_recording_replays_against_a_served_child_process()
    {
        var recording = Path.Combine(AppContext.BaseDirectory, "recordings", "gru.jsonl");
        using var serve = Start("serve", "--port", "0", "--model", Path.Combine(AppContext.BaseDirectory, "recordings", "models", "gru.json"));
        var port = await ListeningPort(serve);
        using var replay = Start("replay", recording, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await replay.WaitForExitAsync(Guard());
        Assert.True(replay.ExitCode == 0, Output(replay));
        Assert.EndsWith("52 passed, 0 failed", Output(replay).TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("Kernels checked against PyTorch's equations: managed: layer 0 step vector", Output(serve), StringComparison.Ordinal);
        serve.Kill();
        await serve.WaitForExitAsync(Guard());
    }

    [Theory]
    [InlineData("STREAMING_PORT", "99999", "Streaming:Port is 99999")]
    [InlineData("STREAMING_BACKEND", "Gpu", "Streaming:Backend is 'Gpu'; expected Managed or Torch")]
    [InlineData("STREAMING_MODEL", "models/missing.json", "Streaming:Model is 'models/missing.json', but no manifest exists")]
    [InlineData("STREAMING_BATCHSIZE", "5", "BATCHSIZE is not a setting")]
    [InlineData("STREAMING_STORE__KIND", "pg", "Streaming:Store:Kind is 'pg'; expected sqlite, postgresql or memory")]
    [InlineData("STREAMING_STORE__CONNECTIONSTRING", ":memory:", "Streaming:Store:ConnectionString is not usable for Sqlite")]
    public async Task A_bad_setting_stops_start_up_with_a_message_that_names_it(string variable, string value, string message)
    {
        using var serve = Start(("serve", variable, value));
        await serve.WaitForExitAsync(Guard());
        Assert.Equal(2, serve.ExitCode);
        Assert.Contains(message, Output(serve), StringComparison.Ordinal);
    }

    /// <summary>
    /// The health check prints, for each path the server's start-up log names as chosen, a line with its error, and the
    /// same worst error, check time and CPU: both come from the kernel check the server ran.
    /// </summary>
    private static void AssertHealthNamesTheLoggedKernels(string serveLog, string health)
    {
        var summary = KernelSummary().Match(serveLog);
        Assert.True(summary.Success, serveLog);
        var chosen = LoggedKernel().Matches(summary.Groups["paths"].Value);
        Assert.NotEmpty(chosen);
        foreach (Match kernel in chosen)
        {
            var part = kernel.Groups["layer"].Success ? $"layer {kernel.Groups["layer"].Value} {kernel.Groups["role"].Value}" : "head";
            Assert.Contains($"  {part} {kernel.Groups["path"].Value}: max error {kernel.Groups["error"].Value}{Environment.NewLine}", health, StringComparison.Ordinal);
        }

        Assert.Contains(
            $"worst error {summary.Groups["worst"].Value} (tolerance {summary.Groups["tolerance"].Value}); kernels checked in {summary.Groups["ms"].Value} ms by managed on {summary.Groups["cpu"].Value}{Environment.NewLine}",
            health, StringComparison.Ordinal);
    }

    private static Process Start(params string[] arguments) => Start((string.Join('\0', arguments), null, null));

    private static Process Start((string Arguments, string? Variable, string? Value) run) =>
        Start(run.Arguments.Split('\0'), run.Variable is null ? [] : new Dictionary<string, string?> { [run.Variable] = run.Value });

    private static Process Start(string[] arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Program);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["STREAMING_STORE__CONNECTIONSTRING"] = Path.Combine(Stores, Guid.NewGuid().ToString("N") + ".db");
        foreach (var (variable, value) in environment)
        {
            info.Environment[variable] = value;
        }

        var process = new Process { StartInfo = info };
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        Outputs.AddOrUpdate(process, output);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Process, System.Text.StringBuilder> Outputs = new();

    private static string Output(Process process)
    {
        var output = Outputs.GetOrCreateValue(process);
        lock (output)
        {
            return output.ToString();
        }
    }

    // Waits for the service's start-up line and reads the port it bound; a guard, not a timing assertion.
    private static async Task<int> ListeningPort(Process serve)
    {
        var guard = Guard();
        while (!guard.IsCancellationRequested)
        {
            if (ServingLine().Match(Output(serve)) is { Success: true } match)
            {
                return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }

            if (serve.HasExited)
            {
                Assert.Fail($"serve exited with {serve.ExitCode} before listening:\n{Output(serve)}");
            }

            await Task.Delay(50, CancellationToken.None);
        }

        Assert.Fail($"serve did not report listening within the guard:\n{Output(serve)}");
        return 0;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static CancellationToken Guard() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    private static float[][] Bulk(int[] ids)
    {
        var manifest = ModelManifest.Load(Path.Combine(AppContext.BaseDirectory, "config", "models", "char-english.json"));
        using var model = new RecurrentModel(RecurrentBackends.Create(manifest.LoadWeights(), BackendOptions.Managed));
        var output = model.Forward(SequenceInput.FromTokenIds(ids, ids.Length, 1)).Output.ToArray();
        return output.Chunk(model.Spec.OutputSize).ToArray();
    }

    [GeneratedRegex(@"(""expect"": ?\[)(-?[0-9.eE+-]+)")]
    private static partial Regex TamperedExpect();

    [GeneratedRegex(@"Kernels checked against PyTorch's equations: managed: (?<paths>.*?); worst error (?<worst>\S+) \(tolerance (?<tolerance>\S+)\); checked in (?<ms>\d+) ms on (?<cpu>[^\r\n]+)")]
    private static partial Regex KernelSummary();

    [GeneratedRegex(@"(?:layer (?<layer>\d+) (?<role>step|bulk)|head) (?<path>\S+) \((?<error>[^)]+)\)")]
    private static partial Regex LoggedKernel();

    [GeneratedRegex(@"at 127\.0\.0\.1:(\d+) on the")]
    private static partial Regex ServingLine();
}
