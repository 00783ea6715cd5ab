namespace Streaming.Pipeline;

/// <summary>What an element asks each stage to do for its session.</summary>
internal enum ElementKind
{
    /// <summary>One step: the stage computes the element's vector and replaces it with its output.</summary>
    Token,

    /// <summary>Allocate the session's slot and install its initial state (zeros when none is given).</summary>
    Open,

    /// <summary>Free the session's slot.</summary>
    Close,

    /// <summary>Set the session's state to zeros.</summary>
    Reset,

    /// <summary>Append the session's state in this layer to the element.</summary>
    Snapshot,

    /// <summary>Install the element's state, allocating the slot if the session has none.</summary>
    Restore,

    /// <summary>
    /// Read the output of the session's last step without a new one (a generation without a prompt): the top layer's h
    /// is that output, and the head, when there is one, is applied to it like to a token's. Unidirectional models only.
    /// </summary>
    Peek,

    /// <summary>Run the whole sequence in bulk from the slot's (or the given) state and keep the final state.</summary>
    Replay,
}
