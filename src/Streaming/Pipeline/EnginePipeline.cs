using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Streaming.Pipeline;

/// <summary>
/// The running stream of one engine: a channel that the sessions write their elements into, one batch stage per stage
/// (each recurrent layer, then the head when the model has one: the first a <see cref="ChannelBatchStage"/>, which reads
/// the channel in bulk, the others <see cref="BatchStage"/>s), and a
/// <see cref="ReplyLane"/> into which the last stage hands each computed batch, which gives each element back to its
/// <see cref="Element.Owner"/> on the thread pool while the stage computes the next batch. The whole graph is one fused
/// island (no async boundary): consecutive stages still compute consecutive batches at once, because each stage computes its batch on
/// the thread pool, off the stream's thread; the island only moves elements between stages, which fused is a method
/// call rather than an actor message per hand-over (measured: about 200 bytes and, in the fused layout, half the CPU
/// time a token less; docs/benchmarks.md).
/// </summary>
internal sealed class EnginePipeline : IDisposable
{
    private readonly ActorMaterializer _materializer;

    private EnginePipeline(ChannelWriter<Element> input, Task completion, IReadOnlyList<StageCounters> stages, PipelineTrace trace, ActorMaterializer materializer)
    {
        Input = input;
        Completion = completion;
        Stages = stages;
        Trace = trace;
        _materializer = materializer;
    }

    /// <summary>Where sessions write their elements; completing it drains and stops the pipeline.</summary>
    public ChannelWriter<Element> Input { get; }

    /// <summary>Completes when the pipeline has stopped: successfully after its input completed and drained, or with a stage's failure.</summary>
    public Task Completion { get; }

    /// <summary>Each stage's counters, in stream order.</summary>
    public IReadOnlyList<StageCounters> Stages { get; }

    /// <summary>Timestamps of elements through the stages, off until a listener is set.</summary>
    public PipelineTrace Trace { get; }

    /// <summary>Materializes <paramref name="stages"/> in <paramref name="system"/>.</summary>
    /// <param name="system">The actor system that runs the stream.</param>
    /// <param name="stages">The stages in stream order (<see cref="PipelineStage.Of"/> for a model).</param>
    /// <param name="settings">How every stage forms its batches.</param>
    public static EnginePipeline Start(ActorSystem system, IReadOnlyList<PipelineStage> stages, BatchSettings settings)
    {
        // Unbounded on purpose: each session keeps at most its in-flight limit of elements in it.
        var channel = Channel.CreateUnbounded<Element>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        var trace = new PipelineTrace(stages.Count);
        var lane = new ReplyLane(element =>
        {
            trace.Leave(element);
            element.Owner?.Completed(element);
        });
        // The first stage reads the channel itself; each later one takes what the stage before it emits.
        var stream = Source.FromGraph(new ChannelBatchStage(channel.Reader, stages[0].CreateProcessor, settings, stages[0].Counters, stages.Count == 1 ? lane : null));
        for (var i = 1; i < stages.Count; i++)
        {
            stream = stream.Via(new BatchStage(stages[i].CreateProcessor, settings, stages[i].Counters, i, i == stages.Count - 1 ? lane : null));
        }

        var materializer = system.Materializer(namePrefix: "recurrent-engine");
        // The last stage delivers through the lane; nothing reaches the sink. The pipeline has stopped once the stream has and
        // the lane has delivered every batch computed before that (on success the last stage waits for it anyway).
        var stopped = stream.ToMaterialized(Sink.Ignore<Element>(), Keep.Right).Run(materializer);
        var completion = StoppedAfter(stopped, lane);
        return new EnginePipeline(channel.Writer, completion, stages.Select(s => s.Counters).ToArray(), trace, materializer);
    }

    public void Dispose() => _materializer.Dispose();

    private static async Task StoppedAfter(Task stream, ReplyLane lane)
    {
        try
        {
            await stream.ConfigureAwait(false);
        }
        finally
        {
            await lane.Drained.ConfigureAwait(false);
        }
    }
}
