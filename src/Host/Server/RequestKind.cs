namespace Streaming.Host.Server;

/// <summary>The session requests a connection forwards to the engine.</summary>
internal enum RequestKind
{
    Open,
    Token,
    Snapshot,
    Restore,
    Replay,
    Reset,
    Close,
    Generate,
}
