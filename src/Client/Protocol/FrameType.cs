namespace Streaming.Client.Protocol;

/// <summary>
/// The type byte that follows a frame's length prefix. 0x0_ frames are about the connection (only Error
/// carries a session header), 0x1_ frames go from client to server, 0x2_ frames from server to client.
/// </summary>
public enum FrameType : byte
{
    /// <summary>Client to server, first frame of a connection: magic and protocol version.</summary>
    Hello = 0x01,

    /// <summary>Server to client, the answer to Hello: version, model and limits.</summary>
    Welcome = 0x02,

    /// <summary>Either way: asks the peer for a <see cref="Pong"/> with the same nonce.</summary>
    Ping = 0x03,

    /// <summary>Either way: the answer to a <see cref="Ping"/>.</summary>
    Pong = 0x04,

    /// <summary>Server to client: a refused frame or a connection-level violation.</summary>
    Error = 0x05,

    /// <summary>Client to server: asks for a <see cref="Status"/> with the same nonce.</summary>
    StatusRequest = 0x06,

    /// <summary>Server to client: whether the server serves, and what its kernel check found.</summary>
    Status = 0x07,

    /// <summary>Client to server: opens a session, optionally from h0/c0.</summary>
    Open = 0x10,

    /// <summary>Client to server: one token (a float vector or an integer id) for a session.</summary>
    Token = 0x11,

    /// <summary>Client to server: asks for the session's state at this point of its stream.</summary>
    SnapshotRequest = 0x12,

    /// <summary>Client to server: gives the session the state of a snapshot.</summary>
    Restore = 0x13,

    /// <summary>Client to server: a whole sequence in bulk mode.</summary>
    Replay = 0x14,

    /// <summary>Client to server: the session's state goes back to zeros.</summary>
    Reset = 0x15,

    /// <summary>Client to server: the session ends and its state is freed.</summary>
    Close = 0x16,

    /// <summary>Client to server: generate in a session, streamed back step by step.</summary>
    Generate = 0x17,

    /// <summary>Client to server: stop a session's generation at its next step.</summary>
    CancelGeneration = 0x18,

    /// <summary>Server to client: the model's output for one token.</summary>
    Output = 0x20,

    /// <summary>Server to client: the snapshot a <see cref="SnapshotRequest"/> asked for.</summary>
    SnapshotReply = 0x21,

    /// <summary>Server to client: outputs of (part of) a replay.</summary>
    ReplayOutputs = 0x22,

    /// <summary>Server to client: an open, restore, reset or close succeeded.</summary>
    Ack = 0x23,

    /// <summary>Server to client: one generated step.</summary>
    GenerationStep = 0x24,

    /// <summary>Server to client: a generation ended, and why.</summary>
    GenerationEnd = 0x25,
}
