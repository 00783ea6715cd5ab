using System.Threading.Channels;
using Akka.Streams;
using Akka.Streams.Stage;

namespace Streaming.Pipeline;

/// <summary>
/// The first stage: a <see cref="BatchStage"/> that reads the channel the sessions write their elements into itself, instead
/// of taking them one at a time from a source. Whenever it may start a batch (idle, or its batch just computed) it first
/// takes every element the channel holds, up to its queue's capacity, in one go, so the batch it then starts holds all of
/// them. It waits on the channel only while it is not computing: while a batch computes, elements stay in the channel
/// until the batch is done, so a burst of writes costs no wake-up of the stream per element (measured:
/// docs/benchmarks.md).
/// <para>Emits, backpressures and cancels as a <see cref="BatchStage"/> does; it leaves elements in the channel while its
/// queue is full.</para>
/// <para>Completes when the channel is completed and every element read from it has been computed and emitted (or
/// delivered); fails when the channel is completed with an error.</para>
/// </summary>
internal sealed class ChannelBatchStage : GraphStage<SourceShape<Element>>
{
    private readonly ChannelReader<Element> _reader;
    private readonly BatchStageParts _parts;

    /// <param name="reader">The channel's reader; this stage is its only reader.</param>
    /// <param name="createProcessor">Creates the processor of one materialization; the stage disposes it when it stops.</param>
    /// <param name="settings">Batch sizes and waits.</param>
    /// <param name="counters">Where batch sizes are counted.</param>
    /// <param name="lane">When it is also the last stage: where its computed batches go (<see cref="BatchStage"/>).</param>
    public ChannelBatchStage(ChannelReader<Element> reader, Func<IBatchProcessor> createProcessor, BatchSettings settings, StageCounters counters, ReplyLane? lane = null)
    {
        _reader = reader;
        _parts = new BatchStageParts(createProcessor, settings, counters, 0, lane);
        Shape = new SourceShape<Element>(Out);
    }

    public Outlet<Element> Out { get; } = new("ChannelBatchStage.out");

    public override SourceShape<Element> Shape { get; }

    protected override Attributes InitialAttributes => Attributes.CreateName("ChannelBatchStage");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new BatchStageLogic(Shape, null, _reader, Out, _parts);
}
