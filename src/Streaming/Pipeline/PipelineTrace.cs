using System.Diagnostics;

namespace Streaming.Pipeline;

/// <summary>
/// Where an element's time goes on its way through the pipeline, for finding what makes a latency tail (the benchmark's
/// breakdown of queue, compute and hand-over time). Off until a listener is set; off, an element carries no timestamps and
/// each stage checks one null reference an element as it receives it and one as its batch is computed. On, each element written into the channel carries
/// <see cref="Element.Times"/> (Stopwatch ticks, <see cref="Length"/> of them), which the stages fill in and the reply lane hands to
/// the listener, before the element's owner, once it has left the last stage.
/// </summary>
/// <param name="stages">The pipeline's stages.</param>
internal sealed class PipelineTrace(int stages)
{
    private volatile Action<Element>? _listener;

    /// <summary>The pipeline's stages.</summary>
    public int Stages { get; } = stages;

    /// <summary>Timestamps an element carries: one as it enters the channel, three a stage, one as the reply lane hands it back.</summary>
    public int Length => 2 + (3 * Stages);

    /// <summary>Index of the time the element was written into the channel.</summary>
    public const int Entered = 0;

    /// <summary>Index of the time the reply lane handed the element back (after the last stage computed it).</summary>
    public int Left => Length - 1;

    /// <summary>Index of the time stage <paramref name="stage"/> received the element.</summary>
    public static int Received(int stage) => 1 + (3 * stage);

    /// <summary>Index of the time stage <paramref name="stage"/> started the batch that holds the element.</summary>
    public static int Started(int stage) => 2 + (3 * stage);

    /// <summary>Index of the time stage <paramref name="stage"/> finished computing that batch.</summary>
    public static int Computed(int stage) => 3 + (3 * stage);

    /// <summary>Elements written into the channel from now on carry timestamps, and each goes to <paramref name="listener"/> (null: off again).</summary>
    public void Listen(Action<Element>? listener) => _listener = listener;

    /// <summary>A session writes <paramref name="element"/> into the channel: it carries timestamps while a listener is set.</summary>
    public void Enter(Element element)
    {
        if (_listener is not null)
        {
            element.Times = new long[Length];
            element.Times[Entered] = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The reply lane hands <paramref name="element"/> back: the listener gets it first, with its last timestamp.</summary>
    public void Leave(Element element)
    {
        if (element.Times is { } times && _listener is { } listener)
        {
            times[Left] = Stopwatch.GetTimestamp();
            listener(element);
        }
    }

    /// <summary>Stage <paramref name="stage"/> computed <paramref name="batch"/> from <paramref name="started"/> to <paramref name="computed"/>: both go into each traced element.</summary>
    public static void Stamp(IReadOnlyList<Element> batch, int stage, long started, long computed)
    {
        foreach (var element in batch)
        {
            if (element.Times is { } times)
            {
                times[Started(stage)] = started;
                times[Computed(stage)] = computed;
            }
        }
    }
}
