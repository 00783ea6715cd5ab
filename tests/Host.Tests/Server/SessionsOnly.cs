using Streaming;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Host.Tests.Server;

/// <summary>A session service that does not generate (as the cluster's ShardedSessions does not yet): the engine's sessions, nothing more.</summary>
internal sealed class SessionsOnly(ISessionService inner) : ISessionService
{
    public ModelIdentity Model => inner.Model;

    public ModelSpec Spec => inner.Spec;

    public KernelReport Kernels => inner.Kernels;

    public Task OpenAsync(string sessionId, InitialState? initialState = null) => inner.OpenAsync(sessionId, initialState);

    public Task<TokenOutput> PushAsync(string sessionId, Token token) => inner.PushAsync(sessionId, token);

    public Task<SessionSnapshot> SnapshotAsync(string sessionId) => inner.SnapshotAsync(sessionId);

    public Task RestoreAsync(string sessionId, SessionSnapshot snapshot) => inner.RestoreAsync(sessionId, snapshot);

    public Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null) => inner.ReplayAsync(sessionId, inputs, from);

    public Task ResetAsync(string sessionId) => inner.ResetAsync(sessionId);

    public Task CloseAsync(string sessionId) => inner.CloseAsync(sessionId);
}
