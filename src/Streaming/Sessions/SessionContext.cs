using System.Threading.Channels;
using Akka.Event;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>What every session of one engine shares: the pipeline's entry, the model, the rules, the store, the clock, the counters and the log.</summary>
internal sealed record SessionContext(
    ChannelWriter<Element> Pipeline,
    ModelIdentity Model,
    int LayerCount,
    SessionRules Rules,
    ISnapshotStore Store,
    SessionClock Clock,
    EngineCounters Counters,
    ILoggingAdapter Log);
