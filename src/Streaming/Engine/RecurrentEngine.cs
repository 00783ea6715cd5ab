using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Sessions;

namespace Streaming;

/// <summary>
/// Serves one recurrent model to many sessions at once, token by token, with PyTorch's exact numbers:
/// each session's outputs equal those of the whole sequence run through the model in one call.
/// Tokens of different sessions are micro-batched per layer; each session's operations apply in the
/// order they were sent. Every refusal is an <see cref="EngineException"/>, and a refused operation
/// leaves its session (and every other) as if it had never been sent.
/// </summary>
public sealed class RecurrentEngine : IAsyncDisposable
{
    private RecurrentEngine(ModelIdentity model, ModelSpec spec)
    {
        Model = model;
        Spec = spec;
    }

    /// <summary>The model served.</summary>
    public ModelSpec Spec { get; }

    /// <summary>The model's identity; snapshots carry it and only restore into the same model.</summary>
    public ModelIdentity Model { get; }

    /// <summary>A reading of the engine's counters.</summary>
    public EngineStatistics Statistics => throw NotWired();

    /// <summary>Starts an engine for <paramref name="weights"/> in <paramref name="system"/>.</summary>
    /// <param name="system">The actor system that hosts the session actors and the pipeline; the engine does not terminate it.</param>
    /// <param name="model">The model's identity, e.g. <c>ModelIdentity.Of(name, weights)</c>.</param>
    /// <param name="weights">The model's weights.</param>
    /// <param name="options">Settings; null means <see cref="EngineOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range or the backend cannot be created.</exception>
    public static Task<RecurrentEngine> StartAsync(ActorSystem system, ModelIdentity model, ModelWeights weights, EngineOptions? options = null) =>
        throw NotWired();

    /// <summary>Loads the model of the manifest at <paramref name="manifestPath"/> and starts an engine for it.</summary>
    /// <exception cref="InvalidModelSpecException">The manifest is invalid.</exception>
    /// <exception cref="WeightsMismatchException">The weights file does not match the manifest.</exception>
    public static Task<RecurrentEngine> StartAsync(ActorSystem system, string manifestPath, EngineOptions? options = null) =>
        throw NotWired();

    /// <summary>Opens a session, from <paramref name="initialState"/> (PyTorch's h0/c0 without the batch axis) or zeros.</summary>
    /// <exception cref="EngineException">The session is already open, or the state does not fit the model.</exception>
    public Task OpenAsync(string sessionId, InitialState? initialState = null) => throw NotWired();

    /// <summary>Feeds one token to a session and returns the model's output for it.</summary>
    /// <exception cref="EngineException">The token does not fit the model, the model is bidirectional, or the session is not open.</exception>
    public Task<TokenOutput> PushAsync(string sessionId, Token token) => throw NotWired();

    /// <summary>
    /// A flow of one session's tokens to their outputs, in order and backpressured (at most
    /// <see cref="EngineOptions.MaxInFlightPerSession"/> tokens in flight). The session must be open; a
    /// refused token fails the flow with its <see cref="EngineException"/>.
    /// </summary>
    public Flow<Token, TokenOutput, NotUsed> SessionFlow(string sessionId) => throw NotWired();

    /// <summary>
    /// A flow of tokens of many open sessions, interleaved, to their outputs; outputs leave in the order the
    /// inputs came (so in each session's order), backpressured. A refused token fails the flow with its
    /// <see cref="EngineException"/>.
    /// </summary>
    public Flow<SessionInput, TokenOutput, NotUsed> Flow() => throw NotWired();

    /// <summary>The session's state after exactly the operations sent before this call.</summary>
    /// <exception cref="EngineException">The session is not open.</exception>
    public Task<SessionSnapshot> SnapshotAsync(string sessionId) => throw NotWired();

    /// <summary>Installs <paramref name="snapshot"/> as the session's state and position, opening the session if needed.</summary>
    /// <exception cref="EngineException">The snapshot is of another model or shape (<see cref="EngineErrorCode.ModelMismatch"/>).</exception>
    public Task RestoreAsync(string sessionId, SessionSnapshot snapshot) => throw NotWired();

    /// <summary>
    /// Runs the whole sequence <paramref name="inputs"/> through the model in bulk (each layer's sequence
    /// kernel, both directions for a bidirectional model), from <paramref name="from"/> or, when null, from
    /// the session's current state; the session's state becomes the final state.
    /// </summary>
    /// <exception cref="EngineException">An input does not fit the model, the state does not fit, or the session is not open.</exception>
    public Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null) => throw NotWired();

    /// <summary>Sets the session's state to zeros and its position to 0.</summary>
    /// <exception cref="EngineException">The session is not open.</exception>
    public Task ResetAsync(string sessionId) => throw NotWired();

    /// <summary>Closes the session and frees its state.</summary>
    /// <exception cref="EngineException">The session is not open.</exception>
    public Task CloseAsync(string sessionId) => throw NotWired();

    /// <summary>
    /// Stops gracefully: operations already accepted finish, open sessions are snapshotted into the store,
    /// then the pipeline stops and the backend is released. Later operations fail with
    /// <see cref="EngineErrorCode.EngineStopped"/>.
    /// </summary>
    public ValueTask DisposeAsync() => throw NotWired();

    private static NotSupportedException NotWired() => new("the engine's pipeline is not wired yet");
}
