using System.Threading.Channels;
using Akka.Event;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>What every session of one engine shares: the pipeline's entry, the model, the rules, the store, the clock, the counters and the log.</summary>
/// <remarks>
/// <c>OutputWidth</c> is the floats of one output step (the model's output size), the row of the outputs a session keeps.
/// <c>CheckpointFailures</c> gathers failed checkpoints for the registry's one line per checkpoint period, and
/// <c>ShutdownSaves</c> the saves the store refused during the shutdown.
/// </remarks>
internal sealed record SessionContext(
    ChannelWriter<Element> Pipeline,
    ModelIdentity Model,
    int LayerCount,
    int OutputWidth,
    SessionRules Rules,
    ISnapshotStore Store,
    SessionClock Clock,
    EngineCounters Counters,
    ILoggingAdapter Log)
{
    /// <summary>Timestamps elements written into the pipeline while it is traced (the benchmark's latency breakdown); null: never.</summary>
    public PipelineTrace? Trace { get; init; }

    public CheckpointFailures CheckpointFailures { get; } = new();

    public ShutdownSaves ShutdownSaves { get; } = new(Rules.ShutdownSaveMs);
}
