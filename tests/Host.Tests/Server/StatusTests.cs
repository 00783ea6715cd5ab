using Akka.Actor;
using Streaming;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;
using Streaming.Sessions;

namespace Host.Tests.Server;

/// <summary>
/// StatusRequest and Status over TCP: the server reports its service's kernel check and readiness, the client returns
/// it, and both sides treat a status frame sent the wrong way, too early or malformed as the protocol says.
/// </summary>
public sealed class StatusTests
{
    private static readonly ProtocolLimits SmallFrames = new() { MaxFrameBytes = 1024 };

    /// <summary>A report with every verdict: a rejected path, one that failed with a NaN, one that passed unused.</summary>
    private static readonly KernelReport Mixed = new("torch:cpu", "AMD Ryzen 9 9950X (znver5; avx512f)", 1e-5,
    [
        new KernelTrial(0, KernelRole.Step, "libtorch-lstm", 3.5e-3, Passed: false, Chosen: false),
        new KernelTrial(0, KernelRole.Step, "addmm-cells", 2.9802322387695312e-8, Passed: true, Chosen: true),
        new KernelTrial(0, KernelRole.Bulk, "libtorch-lstm", double.NaN, Passed: false, Chosen: false),
        new KernelTrial(0, KernelRole.Bulk, "addmm-cells", 5.9604644775390625e-8, Passed: true, Chosen: true),
        new KernelTrial(0, KernelRole.Bulk, "cell-loop", 6e-8, Passed: true, Chosen: false),
        new KernelTrial(null, KernelRole.Head, "addmm", 1.1920928955078125e-7, Passed: true, Chosen: true),
        new KernelTrial(null, KernelRole.Head, "matmul", double.PositiveInfinity, Passed: false, Chosen: false, Failure: "NotSupportedException: no kernel"),
    ], TimeSpan.FromMilliseconds(41.7));

    [Fact]
    public async Task StatusAsync_returns_the_engines_kernel_report_and_ready()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var status = await client.StatusAsync();

        var report = scope.Engine.Kernels;
        Assert.True(status.Ready);
        Assert.Equal((report.Backend, report.Cpu, report.Tolerance), (status.Backend, status.Cpu, status.Tolerance));
        Assert.Equal(Math.Round(report.Duration.TotalMilliseconds, MidpointRounding.AwayFromZero), status.CheckTime.TotalMilliseconds);
        Assert.Equal(
            report.Trials.Select(t => (t.Layer, t.Role.ToString().ToLowerInvariant(), t.Path, t.MaxError, t.Chosen ? KernelVerdict.Chosen : KernelVerdict.Rejected)),
            status.Kernels.Select(k => (k.Layer, k.Role, k.Path, k.MaxError, k.Verdict)));
        Assert.Equal(report.WorstError, status.WorstError);
        Assert.Equal([0, 0, 1, 1], status.Chosen.Select(k => k.Layer));
    }

    [Fact]
    public async Task A_status_carries_rejected_and_unused_paths_with_their_verdicts_and_a_failed_path_as_infinite()
    {
        await using var scope = await ServiceScope.StartAsync(Mixed);
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", scope.Port);
        var status = await client.StatusAsync();

        Assert.Equal(new StatusFrame(status.Nonce, true, "torch:cpu", "AMD Ryzen 9 9950X (znver5; avx512f)", TimeSpan.FromMilliseconds(42), 1e-5,
        [
            new KernelStatus(0, "step", "libtorch-lstm", 3.5e-3, KernelVerdict.Rejected),
            new KernelStatus(0, "step", "addmm-cells", 2.9802322387695312e-8, KernelVerdict.Chosen),
            new KernelStatus(0, "bulk", "libtorch-lstm", double.PositiveInfinity, KernelVerdict.Rejected),
            new KernelStatus(0, "bulk", "addmm-cells", 5.9604644775390625e-8, KernelVerdict.Chosen),
            new KernelStatus(0, "bulk", "cell-loop", 6e-8, KernelVerdict.Passed),
            new KernelStatus(null, "head", "addmm", 1.1920928955078125e-7, KernelVerdict.Chosen),
            new KernelStatus(null, "head", "matmul", double.PositiveInfinity, KernelVerdict.Rejected),
        ]), status);
        Assert.Equal(1.1920928955078125e-7, status.WorstError);
    }

    [Fact]
    public void A_report_too_large_for_the_frame_size_is_sent_with_its_chosen_paths_only()
    {
        var codec = new FrameCodec(SmallFrames);
        var rejected = Enumerable.Range(0, 40).Select(i => new KernelTrial(0, KernelRole.Step, $"broken-{i}", double.PositiveInfinity, false, false));
        var report = Mixed with { Trials = [.. rejected, .. Mixed.Trials] };

        var status = ServerStatus.For(3, true, report, codec);

        Assert.NotNull(status);
        Assert.Equal(["addmm-cells", "addmm-cells", "addmm"], status.Kernels.Select(k => k.Path));
        Assert.All(status.Kernels, k => Assert.Equal(KernelVerdict.Chosen, k.Verdict));
        Assert.Equal(Mixed.Trials.Count, ServerStatus.For(3, true, Mixed, codec)!.Kernels.Count);
    }

    [Fact]
    public async Task A_report_whose_chosen_paths_alone_do_not_fit_is_answered_with_InternalError_and_the_connection_goes_on()
    {
        var chosen = Enumerable.Range(0, 40).Select(i => new KernelTrial(i, KernelRole.Step, "vector512", 1e-7, true, true)).ToArray();
        Assert.Null(ServerStatus.For(3, true, Mixed with { Trials = chosen }, new FrameCodec(SmallFrames)));

        await using var scope = await ServiceScope.StartAsync(Mixed with { Trials = chosen }, SmallFrames);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new StatusRequestFrame(8));
        var error = await raw.ReadErrorAsync();
        Assert.Equal(("", 0ul, (ushort)ProtocolErrorCode.InternalError), (error.Session, error.Sequence, error.Code));
        Assert.Contains("the Status answering nonce 8 cannot be sent: even its chosen kernels take more than the maximum frame size of 1024 bytes.", error.Message, StringComparison.Ordinal);
        await raw.SendAsync(new PingFrame(9));
        Assert.Equal(new PongFrame(9), await raw.ReadAsync());
    }

    [Fact]
    public async Task A_status_request_sent_right_after_the_hello_is_answered_after_the_welcome_with_its_nonce()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port, hello: false);
        var codec = new FrameCodec();
        await raw.SendAsync([.. codec.Encode(HelloFrame.Current), .. codec.Encode(new StatusRequestFrame(0xFEED))]);
        Assert.IsType<WelcomeFrame>(await raw.ReadAsync());
        var status = Assert.IsType<StatusFrame>(await raw.ReadAsync());
        Assert.Equal(0xFEEDul, status.Nonce);
        Assert.True(status.Ready);
    }

    [Fact]
    public async Task A_status_request_instead_of_the_hello_is_a_bad_handshake()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port, hello: false);
        await raw.SendAsync(new StatusRequestFrame(1));
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)ProtocolErrorCode.BadHandshake, error.Code);
        Assert.Contains("the first frame is a StatusRequest frame", error.Message, StringComparison.Ordinal);
        Assert.Empty(await raw.ReadToEndAsync());
    }

    [Fact]
    public async Task A_status_sent_to_the_server_gets_UnexpectedFrame_and_the_connection_goes_on()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new StatusFrame(4, true, "managed", "cpu", TimeSpan.Zero, 1e-5, []));
        var error = await raw.ReadErrorAsync();
        Assert.Equal(("", 0ul, (ushort)ProtocolErrorCode.UnexpectedFrame), (error.Session, error.Sequence, error.Code));
        Assert.Equal("a Status frame is sent by the server, never to it; the frame was ignored.", error.Message);
        await raw.SendAsync(new StatusRequestFrame(5));
        Assert.Equal(5ul, Assert.IsType<StatusFrame>(await raw.ReadAsync()).Nonce);
    }

    [Fact]
    public async Task A_malformed_status_request_closes_the_connection_like_a_malformed_ping()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(Host.Tests.Protocol.Raw.Frame(0x06, new byte[10]));
        var error = await raw.ReadErrorAsync();
        Assert.Equal(("", 0ul, (ushort)ProtocolErrorCode.MalformedFrame), (error.Session, error.Sequence, error.Code));
        Assert.Contains("StatusRequest frame: 2 byte(s) follow the last field", error.Message, StringComparison.Ordinal);
        Assert.Empty(await raw.ReadToEndAsync());
    }

    [Fact]
    public async Task A_status_request_sent_to_a_client_is_ignored_and_the_connection_goes_on()
    {
        await using var server = ScriptedServer.Start(frame => frame switch
        {
            PingFrame ping => [ScriptedServer.Encode(new StatusRequestFrame(77)), ScriptedServer.Encode(new PongFrame(ping.Nonce))],
            StatusRequestFrame request => [ScriptedServer.Encode(new StatusFrame(request.Nonce, false, "scripted", "none", TimeSpan.Zero, 0, []))],
            _ => [],
        });
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port);
        Assert.True(await client.PingAsync() >= TimeSpan.Zero);
        var status = await client.StatusAsync();
        Assert.False(status.Ready);
        Assert.Equal("scripted", status.Backend);
    }

    [Fact]
    public async Task A_malformed_status_fails_the_request_and_the_connection_naming_the_field()
    {
        await using var server = ScriptedServer.Start(frame => frame is StatusRequestFrame request ? [MalformedStatus(request.Nonce)] : []);
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port);
        var error = await Assert.ThrowsAsync<StreamingClientException>(client.StatusAsync);
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.ProtocolCode);
        Assert.True(error.ConnectionLost);
        Assert.Contains("Status frame: the verdict of kernel 0 is 7; expected 0 (rejected), 1 (passed, not used) or 2 (chosen).", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_predates_the_status_frame_fails_the_request_with_UnknownFrameType()
    {
        await using var server = ScriptedServer.Start(frame => frame is StatusRequestFrame
            ? [ScriptedServer.Encode(new ErrorFrame("", 0, (ushort)ProtocolErrorCode.UnknownFrameType, "frame type 0x06 is unknown; expected 0x01-0x05, 0x10-0x16 or 0x20-0x23 (protocol version 1)."))]
            : []);
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Port);
        var error = await Assert.ThrowsAsync<StreamingClientException>(client.StatusAsync);
        Assert.Equal(ProtocolErrorCode.UnknownFrameType, error.ProtocolCode);
        Assert.True(error.ConnectionLost);
    }

    /// <summary>A Status with one kernel whose verdict byte, the frame's last, is 7.</summary>
    internal static byte[] MalformedStatus(ulong nonce)
    {
        var bytes = ScriptedServer.Encode(new StatusFrame(nonce, true, "scripted", "none", TimeSpan.Zero, 1e-5, [new KernelStatus(0, "step", "p", 0, KernelVerdict.Chosen)]));
        bytes[^1] = 7;
        return bytes;
    }

    /// <summary>A server in front of an engine whose service reports <paramref name="kernels"/> instead of its own.</summary>
    private sealed class ServiceScope : IAsyncDisposable
    {
        private readonly ActorSystem _system;
        private readonly RecurrentEngine _engine;
        private readonly StreamingServer _server;

        private ServiceScope(ActorSystem system, RecurrentEngine engine, StreamingServer server)
        {
            _system = system;
            _engine = engine;
            _server = server;
        }

        public int Port => _server.Endpoint.Port;

        public static async Task<ServiceScope> StartAsync(KernelReport kernels, ProtocolLimits? limits = null)
        {
            var weights = ModelWeights.CreateRandom(ServerScope.SmallLstm, seed: 7);
            var system = ActorSystem.Create("status-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters = off");
            try
            {
                var engine = await RecurrentEngine.StartAsync(system, ModelIdentity.Of("test-model", weights), weights);
                var options = ServerOptions.Default with { Host = "127.0.0.1", Port = 0, Limits = limits ?? ProtocolLimits.Default };
                return new ServiceScope(system, engine, await StreamingServer.StartAsync(system, new ReportingService(engine, kernels), options));
            }
            catch
            {
                await system.Terminate();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _server.StopAsync();
                await _engine.DisposeAsync();
            }
            finally
            {
                await _system.Terminate();
            }
        }
    }

    /// <summary>The engine's sessions with another kernel report: what a backend that fell back on some path would report.</summary>
    private sealed class ReportingService(ISessionService inner, KernelReport kernels) : ISessionService
    {
        public ModelIdentity Model => inner.Model;

        public ModelSpec Spec => inner.Spec;

        public KernelReport Kernels => kernels;

        public Task OpenAsync(string sessionId, InitialState? initialState = null) => inner.OpenAsync(sessionId, initialState);

        public Task<TokenOutput> PushAsync(string sessionId, Token token) => inner.PushAsync(sessionId, token);

        public Task<SessionSnapshot> SnapshotAsync(string sessionId) => inner.SnapshotAsync(sessionId);

        public Task RestoreAsync(string sessionId, SessionSnapshot snapshot) => inner.RestoreAsync(sessionId, snapshot);

        public Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null) => inner.ReplayAsync(sessionId, inputs, from);

        public Task ResetAsync(string sessionId) => inner.ResetAsync(sessionId);

        public Task CloseAsync(string sessionId) => inner.CloseAsync(sessionId);
    }
}
