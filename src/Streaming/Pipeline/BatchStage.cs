using Akka.Streams;
using Akka.Streams.Stage;

namespace Streaming.Pipeline;

/// <summary>
/// A stage after the first: forms micro-batches of the elements its upstream stage emits and computes each batch off the
/// stream's thread with a processor (a layer with its state slab, or the head). When idle it starts on the first element at
/// once; while a batch computes it keeps pulling into a bounded queue, and the next batch takes every queued element it may,
/// up to the maximum batch size. A session appears at most once per batch: the queue is scanned in order, and an element
/// whose session is already in the batch (or blocked behind an earlier element of its own) waits for the next batch, so
/// each session's elements leave in the order they came (<see cref="BatchStageLogic"/>; the first stage, which reads the
/// sessions' channel itself, is a <see cref="ChannelBatchStage"/>).
/// <para>Emits when a computed element is waiting and downstream pulls; a stage given a <see cref="ReplyLane"/> (the last
/// one) hands each computed batch to it instead and emits nothing.</para>
/// <para>Backpressures when the queue is full, or a computed batch is still waiting to be emitted and the queue is full.</para>
/// <para>Completes when upstream completes and every queued element has been computed and emitted (or delivered).</para>
/// <para>Cancels when downstream cancels. A processor failure fails the stage (elements in the stage are lost).</para>
/// </summary>
internal sealed class BatchStage : GraphStage<FlowShape<Element, Element>>
{
    private readonly BatchStageParts _parts;

    /// <param name="createProcessor">Creates the processor of one materialization; the stage disposes it when it stops.</param>
    /// <param name="settings">Batch sizes and waits.</param>
    /// <param name="counters">Where batch sizes are counted.</param>
    /// <param name="index">The stage's place in the pipeline, for the timestamps of traced elements (<see cref="PipelineTrace"/>).</param>
    /// <param name="lane">
    /// For the last stage: where its computed batches go, instead of downstream (which then receives nothing); the stage
    /// starts its next batch while the lane delivers the previous one, and never runs more than one batch ahead of it.
    /// </param>
    public BatchStage(Func<IBatchProcessor> createProcessor, BatchSettings settings, StageCounters counters, int index = 0, ReplyLane? lane = null)
    {
        _parts = new BatchStageParts(createProcessor, settings, counters, index, lane);
        Shape = new FlowShape<Element, Element>(In, Out);
    }

    public Inlet<Element> In { get; } = new("BatchStage.in");

    public Outlet<Element> Out { get; } = new("BatchStage.out");

    public override FlowShape<Element, Element> Shape { get; }

    protected override Attributes InitialAttributes => Attributes.CreateName("BatchStage");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new BatchStageLogic(Shape, In, null, Out, _parts);
}
