namespace Streaming.Cells.Backends;

/// <summary>What a compute path does for a layer; each role gets its own path, checked on its own.</summary>
public enum KernelRole
{
    /// <summary>Batched single steps of many sessions (unidirectional layers only).</summary>
    Step,

    /// <summary>Bulk runs over whole sequences, both directions (replay, <c>RecurrentModel.Forward</c>).</summary>
    Bulk,

    /// <summary>The linear head on top of the last layer.</summary>
    Head,
}
