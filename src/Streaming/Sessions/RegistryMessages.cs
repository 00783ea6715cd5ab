namespace Streaming.Sessions;

/// <summary>Registry to itself, every half passivation (or expiry) time: sweep the sessions for idle ones.</summary>
internal sealed record Sweep
{
    public static Sweep Instance { get; } = new();
}

/// <summary>Registry to itself, every checkpoint period: persist the sessions that changed.</summary>
internal sealed record Checkpoint
{
    public static Checkpoint Instance { get; } = new();
}

/// <summary>Engine to registry: every session finishes what it accepted, is saved if open and leaves; then the pipeline's input completes. Replies <see cref="ShutdownComplete"/>.</summary>
internal sealed record Shutdown
{
    public static Shutdown Instance { get; } = new();
}

/// <summary>Registry to engine: every session has been saved or closed and the pipeline's input is complete.</summary>
internal sealed record ShutdownComplete
{
    public static ShutdownComplete Instance { get; } = new();
}

/// <summary>Directory to registry (during the shutdown): every entry has left.</summary>
internal sealed record EntriesLeft
{
    public static EntriesLeft Instance { get; } = new();
}

/// <summary>The pipeline stopped (its stream finished and its reply lane delivered what was computed): with an error, or before the registry completed its input (both are failures then).</summary>
internal sealed record PipelineStopped(Exception? Error);
