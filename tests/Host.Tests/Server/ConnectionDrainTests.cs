using System.Net;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>The connection stage on its own, with the test holding its input and output demand: what a drain promises.</summary>
public sealed class ConnectionDrainTests
{
    [Fact]
    public async Task A_request_read_after_the_drain_began_is_not_applied_because_the_client_is_told_EngineStopped()
    {
        var system = ActorSystem.Create("drain-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        try
        {
            var weights = Streaming.Cells.Weights.ModelWeights.CreateRandom(ServerScope.SmallLstm, seed: 7);
            await using var engine = await RecurrentEngine.StartAsync(system, ModelIdentity.Of("test-model", weights), weights);
            using var draining = new CancellationTokenSource();
            var codec = new FrameCodec();
            var context = new ConnectionContext(engine, new RequestDispatcher(engine, codec, NullLogger.Instance), codec, ServerOptions.Default,
                new ServerCounters(), new PendingBytes(codec, engine.Spec), NullLogger.Instance, new IPEndPoint(IPAddress.Loopback, 0), draining.Token);
            var (input, output) = Source.Queue<Inbound>(0, OverflowStrategy.Backpressure)
                .Via(new ConnectionStage(context))
                .ToMaterialized(new DemandSink<ByteString>(), Keep.Both)
                .Run(system.Materializer());
            var frames = new FrameReaderOf(output, codec);

            await output.Request(1);
            await input.OfferAsync(new Inbound(HelloFrame.Current, null));
            Assert.IsType<WelcomeFrame>(await frames.NextAsync());
            await output.Request(1);
            await input.OfferAsync(new Inbound(new OpenFrame("a", 1), null));
            Assert.IsType<AckFrame>(await frames.NextAsync());

            // The drain begins while the client reads nothing: its farewell waits for demand, and the stage has
            // already asked for its next input, so a token can still arrive.
            await draining.CancelAsync();
            await input.OfferAsync(new Inbound(TokenFrame.OfVector("a", 2, new float[] { 0.1f, 0.2f, 0.3f }), null));

            // That token is covered by the farewell's EngineStopped ("not applied"), so it must not reach the engine.
            await output.Request(100);
            var farewell = Assert.IsType<ErrorFrame>(await frames.NextAsync());
            Assert.True(farewell.EndsConnection);
            Assert.Equal((ushort)EngineErrorCode.EngineStopped, farewell.Code);
            var after = await frames.RestAsync();

            Assert.Empty(after);
            Assert.Equal(0, (await engine.SnapshotAsync("a")).Position);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>Cuts the stage's output bytes into frames.</summary>
    private sealed class FrameReaderOf(DemandSink<ByteString>.Probe probe, FrameCodec codec)
    {
        private readonly Queue<Frame> _frames = new();
        private byte[] _buffered = [];

        public async Task<Frame> NextAsync()
        {
            while (_frames.Count == 0)
            {
                Append(await probe.Received.ReadAsync());
            }

            return _frames.Dequeue();
        }

        public async Task<IReadOnlyList<Frame>> RestAsync()
        {
            await foreach (var bytes in probe.Received.ReadAllAsync())
            {
                Append(bytes);
            }

            Assert.Empty(_buffered);
            var rest = _frames.ToList();
            _frames.Clear();
            return rest;
        }

        private void Append(ByteString bytes)
        {
            _buffered = [.. _buffered, .. bytes.ToArray()];
            while (codec.PeekFrameLength(new System.Buffers.ReadOnlySequence<byte>(_buffered)) is { } length && _buffered.Length >= length)
            {
                _frames.Enqueue(codec.Decode(_buffered.AsSpan(0, length)));
                _buffered = _buffered[length..];
            }
        }
    }
}
