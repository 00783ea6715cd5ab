using System.Threading.Channels;
using Streaming.Cells.Model;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>What every session actor of one engine shares: the pipeline's entry, the model, the settings, the store and the counters.</summary>
internal sealed record SessionContext(
    ChannelWriter<Element> Pipeline,
    ModelIdentity Model,
    ModelSpec Spec,
    EngineOptions Options,
    ISnapshotStore Store,
    EngineCounters Counters)
{
    public int LayerCount => Spec.Recurrent.NumLayers;

    public static EngineException Stopped(string sessionId, string why) =>
        new(EngineErrorCode.EngineStopped, $"the engine has stopped ({why}); the operation was not applied.", sessionId);
}
