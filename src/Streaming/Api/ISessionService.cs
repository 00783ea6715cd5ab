using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming;

/// <summary>
/// The operations on sessions, wherever the sessions live: <see cref="RecurrentEngine"/> serves them in this
/// process; a cluster's sharded sessions serve the same calls from whichever node owns each session. Every
/// refusal is an <see cref="EngineException"/> and leaves the session as if the call had never been made.
/// </summary>
public interface ISessionService
{
    /// <summary>The model's identity; snapshots carry it and only restore into the same model.</summary>
    ModelIdentity Model { get; }

    /// <summary>The model served.</summary>
    ModelSpec Spec { get; }

    /// <summary>
    /// The kernel check of the backend serving the model here: the compute path of each role of each layer, the paths
    /// rejected on this machine, and the largest error against the float64 reference of PyTorch's equations.
    /// </summary>
    KernelReport Kernels { get; }

    /// <summary>
    /// Whether it serves session operations now (default: always). A cluster node is not ready until it has joined its
    /// cluster and its shard region serves, nor once it leaves; meanwhile its operations are refused
    /// <see cref="EngineErrorCode.NotReady"/>, and the TCP server's Status frame says not ready.
    /// </summary>
    bool IsReady => true;

    /// <summary>Opens a session, from <paramref name="initialState"/> (PyTorch's h0/c0 without the batch axis) or zeros.</summary>
    Task OpenAsync(string sessionId, InitialState? initialState = null);

    /// <summary>Feeds one token to a session and returns the model's output for it.</summary>
    Task<TokenOutput> PushAsync(string sessionId, Token token);

    /// <summary>The session's state after exactly the operations sent before this call.</summary>
    Task<SessionSnapshot> SnapshotAsync(string sessionId);

    /// <summary>Installs <paramref name="snapshot"/> as the session's state and position, opening the session if needed.</summary>
    Task RestoreAsync(string sessionId, SessionSnapshot snapshot);

    /// <summary>Runs a whole sequence through the model in bulk, from <paramref name="from"/> or the session's current state.</summary>
    Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null);

    /// <summary>Sets the session's state to zeros and its position to 0.</summary>
    Task ResetAsync(string sessionId);

    /// <summary>Closes the session, frees its state and forgets what the store kept of it.</summary>
    Task CloseAsync(string sessionId);
}
