namespace Streaming.Client.Protocol;

/// <summary>What the server's kernel check made of one compute path.</summary>
public enum KernelVerdict : byte
{
    /// <summary>The path disagreed with the float64 reference (or failed): it is not used.</summary>
    Rejected = 0,

    /// <summary>The path agreed with the reference but another one serves the role.</summary>
    Passed = 1,

    /// <summary>The path agreed with the reference and serves the role.</summary>
    Chosen = 2,
}
