namespace Streaming.Client.Protocol;

/// <summary>Why a generation ended (the reason byte of a <see cref="GenerationEndFrame"/>).</summary>
public enum GenerationEndReason : byte
{
    /// <summary>It generated one of the request's stop ids (that step was sent and consumed).</summary>
    StopId = 0,

    /// <summary>It took the request's maximum number of steps.</summary>
    MaxSteps = 1,

    /// <summary>A <see cref="CancelGenerationFrame"/>, or the end of the connection, stopped it at its next step.</summary>
    Cancelled = 2,

    /// <summary>A close, shutdown or eviction of the session stopped it (GenerationInterrupted, 16, in the engine).</summary>
    Interrupted = 3,
}
