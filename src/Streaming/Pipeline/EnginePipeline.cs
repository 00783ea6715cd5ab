using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Streaming.Cells.Backends;

namespace Streaming.Pipeline;

/// <summary>
/// The running stream of one engine: a channel the session actors write into, one <see cref="BatchStage"/> per
/// recurrent layer, the head stage when the model has a head, each behind an async boundary so consecutive
/// stages compute consecutive batches at once, and a sink that sends each finished element back to its
/// session actor.
/// </summary>
internal sealed class EnginePipeline : IDisposable
{
    // Elements each async boundary requests at a time: fewer demand messages between stages.
    private const int BoundaryBuffer = 128;

    private readonly ActorMaterializer _materializer;

    private EnginePipeline(ChannelWriter<Element> input, Task completion, IReadOnlyList<StageCounters> layers, StageCounters? head, ActorMaterializer materializer)
    {
        Input = input;
        Completion = completion;
        Layers = layers;
        Head = head;
        _materializer = materializer;
    }

    /// <summary>Where session actors send elements; completing it drains and stops the pipeline.</summary>
    public ChannelWriter<Element> Input { get; }

    /// <summary>Completes when the pipeline has stopped: successfully after its input completed and drained, or with a stage's failure.</summary>
    public Task Completion { get; }

    public IReadOnlyList<StageCounters> Layers { get; }

    public StageCounters? Head { get; }

    public static EnginePipeline Start(ActorSystem system, IRecurrentBackend backend, EngineOptions options, EngineCounters counters)
    {
        // Unbounded on purpose: each session actor keeps at most MaxInFlightPerSession elements in flight.
        var channel = Channel.CreateUnbounded<Element>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        var settings = new BatchSettings(options.MaxBatchSize, options.MaxBatchSize, options.BatchWait);
        var layers = new List<StageCounters>();
        Source<Element, NotUsed> stream = ChannelSource.FromReader(channel.Reader);
        for (var i = 0; i < backend.Layers.Count; i++)
        {
            var index = i;
            var stageCounters = new StageCounters($"layer {index}");
            layers.Add(stageCounters);
            stream = stream
                .Via(new BatchStage(() => new LayerProcessor(backend, index, options.InitialSlots), settings, stageCounters, options.BatchObserver))
                .Async();
        }

        StageCounters? head = null;
        if (backend.Spec.Head is not null)
        {
            head = new StageCounters("head");
            stream = stream.Via(new BatchStage(() => new HeadProcessor(backend), settings, head, options.BatchObserver)).Async();
        }

        var materializer = system.Materializer(namePrefix: "recurrent-engine");
        var completion = stream
            .ToMaterialized(Sink.ForEach<Element>(element =>
            {
                counters.LeftPipeline();
                element.Session!.Completed(element);
            }), Keep.Right)
            .WithAttributes(Attributes.CreateInputBuffer(BoundaryBuffer, BoundaryBuffer))
            .Run(materializer);
        return new EnginePipeline(channel.Writer, completion, layers, head, materializer);
    }

    public void Dispose() => _materializer.Dispose();
}
