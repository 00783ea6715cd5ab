namespace Streaming.Pipeline;

/// <summary>
/// Every layer, then the head, over the same batch in turn: the fused layout, in which one stage steps the whole
/// stack for a batch with every core, instead of one stage per layer taking turns with the others.
/// </summary>
internal sealed class StackProcessor(IReadOnlyList<IBatchProcessor> parts) : IBatchProcessor
{
    public void Process(IReadOnlyList<Element> batch)
    {
        foreach (var part in parts)
        {
            part.Process(batch);
        }
    }

    public void Dispose()
    {
        foreach (var part in parts)
        {
            part.Dispose();
        }
    }
}
