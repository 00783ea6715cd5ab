namespace Streaming.Pipeline;

/// <summary>One stage of an engine's pipeline: its counters (which name it) and how each materialization creates its processor.</summary>
/// <param name="Counters">The stage's batch counters; their name ("layer 0", "head") names the stage.</param>
/// <param name="CreateProcessor">Creates the stage's processor; the stage disposes it when it stops.</param>
internal sealed record PipelineStage(StageCounters Counters, Func<IBatchProcessor> CreateProcessor)
{
    /// <summary>The stages that compute <paramref name="backend"/>'s model: one per recurrent layer, then the head when there is one.</summary>
    /// <param name="backend">The model on its backend.</param>
    /// <param name="initialSlots">Slots each layer's state slab reserves up front.</param>
    public static IReadOnlyList<PipelineStage> Of(Cells.Backends.IRecurrentBackend backend, int initialSlots)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var stages = new List<PipelineStage>();
        for (var i = 0; i < backend.Layers.Count; i++)
        {
            var index = i;
            stages.Add(new PipelineStage(new StageCounters($"layer {index}"), () => new LayerProcessor(backend, index, initialSlots)));
        }

        if (backend.Spec.Head is not null)
        {
            stages.Add(new PipelineStage(new StageCounters("head"), () => new HeadProcessor(backend)));
        }

        return stages;
    }

    /// <summary>One stage that computes <paramref name="backend"/>'s whole model for each batch: every layer, then the head.</summary>
    /// <param name="backend">The model on its backend.</param>
    /// <param name="initialSlots">Slots each layer's state slab reserves up front.</param>
    public static IReadOnlyList<PipelineStage> Fused(Cells.Backends.IRecurrentBackend backend, int initialSlots)
    {
        var parts = Of(backend, initialSlots);
        return [new PipelineStage(new StageCounters("stack"), () => new StackProcessor(parts.Select(p => p.CreateProcessor()).ToArray()))];
    }
}
