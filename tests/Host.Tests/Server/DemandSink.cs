using System.Threading.Channels;
using Akka.Streams;
using Akka.Streams.Stage;

namespace Host.Tests.Server;

/// <summary>
/// A sink whose demand the test gives by hand (<see cref="Probe.Request"/>), so a test can hold a stage's output
/// back at an exact point; what arrives is read from <see cref="Probe.Received"/>, which completes with the stream.
/// </summary>
internal sealed class DemandSink<T> : GraphStageWithMaterializedValue<SinkShape<T>, DemandSink<T>.Probe>
{
    public DemandSink() => Shape = new SinkShape<T>(In);

    public Inlet<T> In { get; } = new("DemandSink.in");

    public override SinkShape<T> Shape { get; }

    public override ILogicAndMaterializedValue<Probe> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var probe = new Probe();
        return new LogicAndMaterializedValue<Probe>(new Logic(this, probe), probe);
    }

    /// <summary>The test's side: give demand, read elements.</summary>
    public sealed class Probe
    {
        private readonly Channel<T> _received = Channel.CreateUnbounded<T>();
        private readonly TaskCompletionSource<Action<int>> _request = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ChannelReader<T> Received => _received.Reader;

        internal ChannelWriter<T> Writer => _received.Writer;

        /// <summary>Lets the stage upstream push <paramref name="count"/> more elements.</summary>
        public async Task Request(int count) => (await _request.Task)(count);

        internal void Started(Action<int> request) => _request.TrySetResult(request);
    }

    private sealed class Logic : GraphStageLogic
    {
        private readonly DemandSink<T> _stage;
        private readonly Probe _probe;
        private long _demand;

        public Logic(DemandSink<T> stage, Probe probe)
            : base(stage.Shape)
        {
            _stage = stage;
            _probe = probe;
            SetHandler(stage.In,
                onPush: () =>
                {
                    _probe.Writer.TryWrite(Grab(_stage.In));
                    _demand--;
                    PullIfDemanded();
                },
                onUpstreamFinish: () =>
                {
                    _probe.Writer.TryComplete();
                    CompleteStage();
                },
                onUpstreamFailure: e =>
                {
                    _probe.Writer.TryComplete(e);
                    FailStage(e);
                });
        }

        public override void PreStart() => _probe.Started(GetAsyncCallback<int>(count =>
        {
            _demand += count;
            PullIfDemanded();
        }));

        private void PullIfDemanded()
        {
            if (_demand > 0 && !HasBeenPulled(_stage.In) && !IsClosed(_stage.In))
            {
                Pull(_stage.In);
            }
        }
    }
}
