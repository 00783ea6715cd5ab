namespace Streaming.Pipeline;

/// <summary>
/// One operation of one session travelling through the pipeline. Tokens and control elements share the
/// stream, so each stage sees a session's operations in the order the session sent them. An element is
/// owned by one stage at a time (the stream hands it over), which writes its results into it.
/// </summary>
internal sealed class Element
{
    /// <param name="kind">What each stage does with it.</param>
    /// <param name="sessionId">The session it belongs to: a batch holds at most one element of a session.</param>
    /// <param name="layerCount">The model's layers (a snapshot collects one state per layer).</param>
    /// <param name="owner">Who the reply lane hands it back to (null only in stage tests, which read the stage's output).</param>
    public Element(ElementKind kind, string sessionId, int layerCount, IElementOwner? owner = null)
    {
        Kind = kind;
        SessionId = sessionId;
        Owner = owner;
        if (kind == ElementKind.Snapshot)
        {
            Collected = new LayerState[layerCount];
        }
    }

    public ElementKind Kind { get; }

    public string SessionId { get; }

    /// <summary>Who the completed element goes back to.</summary>
    public IElementOwner? Owner { get; }

    /// <summary>When the current stage received the element (Stopwatch ticks), for the queue-wait counter.</summary>
    public long ReceivedAt { get; set; }

    /// <summary>The session's position once this element has been applied.</summary>
    public long Position { get; init; }

    /// <summary>
    /// Token: the vector entering the next stage (the input, then each stage's output).
    /// Replay: the whole sequence, (Steps, features). Empty for an id before the embedding and for control elements.
    /// </summary>
    public float[] Data { get; set; } = [];

    /// <summary>Token ids (one for a token, Steps for a replay) for a model with an embedding; layer 0 looks them up.</summary>
    public int[]? Ids { get; set; }

    /// <summary>Replay: steps in the sequence.</summary>
    public int Steps { get; init; } = 1;

    /// <summary>Open (null: zeros), Restore, Replay (null: from the slot's state): one state per layer.</summary>
    public IReadOnlyList<LayerState>? States { get; init; }

    /// <summary>Where its time went (Stopwatch ticks, indexed as <see cref="PipelineTrace"/> says), while the pipeline is traced; else null.</summary>
    public long[]? Times { get; set; }

    /// <summary>Snapshot: each layer's state, filled in by the layer stages.</summary>
    public LayerState[]? Collected { get; }
}
