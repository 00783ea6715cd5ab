using Akka.Actor;
using Akka.Cluster.Sharding;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Cluster;

/// <summary>
/// Sessions sharded over an Akka cluster: every node runs its own <see cref="RecurrentEngine"/> (micro-batching the
/// sessions it owns on its own backend) and one of these, and any node serves any session by routing the call to the
/// node that owns it. Session ids hash into <see cref="ShardingOptions.NumberOfShards"/> shards; Akka.Cluster.Sharding
/// places shards on nodes and moves them when nodes join or leave.
/// </summary>
/// <remarks>
/// <para>
/// The nodes share one <see cref="Persistence.ISnapshotStore"/> (the engines' <see cref="EngineOptions.Store"/>). When a shard
/// moves (rebalance, or its node leaving through <see cref="CoordinatedShutdown"/>), each of its sessions is evicted
/// on the old node (its accepted operations finish, then its state is saved) before the shard starts anywhere else,
/// and the new owner loads the session from the store on its next operation. Sessions therefore continue exactly
/// where they were, on the same backend bit for bit.
/// </para>
/// <para>
/// Order and loss: the operations one node sends for one session reach the owner in the order they were called (a
/// node's region forwards over one ordered connection per pair of nodes and, during a hand-off, buffers them until
/// the shard has its new home), and the owner's entity queues them in its engine in that order; a command still in the
/// entity's mailbox when its hand-off begins is sent back to the region and follows the shard. But sharding delivers
/// at most once: a region that is handing a shard off drops the messages other nodes forwarded to it in the meantime
/// ("dropping buffered messages to avoid re-ordering"), and on a busy cluster that happens at nearly every hand-off.
/// So a token sent with <see cref="Token.At"/> is resent every <see cref="ShardingOptions.ResendAfter"/> until it is
/// answered: the engine refuses a second copy (DuplicateToken; that refusal is ignored, the first copy's output comes,
/// since answers go straight to the caller and are not dropped), and a token that overtook a dropped one (PositionAhead)
/// is held and resent after it while that earlier token is pending from this node. With positions, no token is lost,
/// applied twice or reordered across a hand-off. Operations without a position are never resent (that could apply them
/// twice): one dropped fails after <see cref="ShardingOptions.AskTimeout"/> with an <see cref="EngineException"/> that
/// says it may or may not have been applied. Calls for one session made concurrently through different nodes have no
/// order between them (as for any two callers).
/// </para>
/// <para>
/// Stopping a node: run <c>CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClusterLeavingReason.Instance)</c>;
/// it hands every shard off (evicting its sessions into the store), leaves the cluster and terminates the actor
/// system; then dispose the engine.
/// </para>
/// </remarks>
public sealed class ShardedSessions : ISessionService
{
    private readonly IActorRef _region;
    private readonly ActorSystem _system;
    private readonly ShardingOptions _options;
    private readonly PendingCalls _calls;
    private readonly NodeReadiness _readiness;

    private readonly HandOffSaves _handOffs;

    private ShardedSessions(ActorSystem system, RecurrentEngine engine, IActorRef region, ShardingOptions options, HandOffSaves handOffs)
    {
        _system = system;
        _handOffs = handOffs;
        LocalEngine = engine;
        _region = region;
        _options = options;
        _calls = new PendingCalls(system, region, options);
        // Asked often: a node's readiness gates every operation it routes.
        _readiness = new NodeReadiness(system, region, TimeSpan.FromMilliseconds(200));
    }

    /// <summary>The model's identity (the local engine's; every node must serve the same model).</summary>
    public ModelIdentity Model => LocalEngine.Model;

    /// <summary>The model served.</summary>
    public ModelSpec Spec => LocalEngine.Spec;

    /// <inheritdoc />
    public KernelReport Kernels => LocalEngine.Kernels;

    /// <summary>
    /// Whether this node serves sessions: its cluster member is Up and the shard coordinator lists its region. Until then
    /// (and once it leaves) every operation through it is refused <see cref="EngineErrorCode.NotReady"/>; the actor
    /// system's log says when it becomes ready ("Ready: this node ... serves sessions").
    /// </summary>
    public bool IsReady => _readiness.IsReady;

    /// <summary>Completes the first time this node is ready (<see cref="IsReady"/>).</summary>
    public Task WhenReady => _readiness.WhenReady;

    /// <summary>Why the node is not ready, or how it became ready.</summary>
    public string Readiness => _readiness.Reason;

    /// <summary>This node's engine, which computes the sessions this node owns.</summary>
    public RecurrentEngine LocalEngine { get; }

    /// <summary>
    /// Sessions that left this node in a shard hand-off without their latest state: the store kept failing until
    /// <see cref="ShardingOptions.HandOffSaveDeadline"/>. Each resumes elsewhere from its last persisted snapshot.
    /// </summary>
    public int UnsavedHandOffs => _handOffs.Unsaved;

    /// <summary>The shard region of this node (tests and tools ask it for sharding state).</summary>
    internal IActorRef Region => _region;

    /// <summary>
    /// Starts this node's shard region, hosting entities bound to <paramref name="localEngine"/>, and returns the
    /// service that routes calls for any session to its owner. <paramref name="system"/> must be configured for the
    /// cluster (see <see cref="ClusterConfig"/>); call this once per node, on every node, with the same options.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static async Task<ShardedSessions> StartAsync(ActorSystem system, RecurrentEngine localEngine, ShardingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(localEngine);
        options ??= ShardingOptions.Default;
        options.Validate();
        // The extension first: it adds sharding's reference configuration, which the settings read.
        var sharding = ClusterSharding.Get(system);
        var settings = ClusterShardingSettings.Create(system).WithRememberEntities(false);
        if (options.Role is { } role)
        {
            settings = settings.WithRole(role);
        }

        IActorRef? region = null;
        var handOffs = new HandOffSaves(options.HandOffSaveDeadline);
        var started = await sharding.StartAsync(
            options.TypeName,
            sessionId => SessionEntity.Props(sessionId, localEngine, () => region!, handOffs),
            settings,
            new SessionShardExtractor(options.NumberOfShards),
            sharding.DefaultShardAllocationStrategy(settings),
            HandOffSession.Instance).ConfigureAwait(false);
        region = started;
        return new ShardedSessions(system, localEngine, started, options, handOffs);
    }

    /// <summary>
    /// The addresses of the nodes whose shard regions the coordinator knows (a node hosts sessions once it is
    /// listed); a readiness check for a node or a cluster.
    /// </summary>
    public async Task<IReadOnlyList<string>> RegionsAsync()
    {
        var regions = await _region.Ask<CurrentRegions>(GetCurrentRegions.Instance, _options.AskTimeout).ConfigureAwait(false);
        return regions.Regions.Select(a => a.ToString()).Order(StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc />
    public Task OpenAsync(string sessionId, InitialState? initialState = null)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return Checked(sessionId, () =>
        {
            _ = initialState?.ToLayers(Spec.Recurrent);
            return new OpenCommand(sessionId, initialState is null ? null : new InitialState(initialState.H0.ToArray(), initialState.C0.ToArray()));
        }, static (ISessionMessage _) => true);
    }

    /// <inheritdoc />
    public Task<TokenOutput> PushAsync(string sessionId, Token token)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(token);
        return Checked(sessionId, () =>
        {
            if (Spec.Recurrent.Bidirectional)
            {
                throw new EngineException(EngineErrorCode.TokensNotSupported,
                    "the model is bidirectional: its reverse direction needs the whole sequence, so it serves whole-sequence replays (a Replay frame) only, not single tokens.", sessionId);
            }

            var (values, ids) = InputChecks.Copy(Spec, [token], sessionId, single: true);
            var copy = ids is null ? Token.Vector(values) : Token.Id(ids[0]);
            return new PushCommand(sessionId, copy with { At = token.At });
        }, static (OutputReply reply) => reply.Output);
    }

    /// <inheritdoc />
    public Task<SessionSnapshot> SnapshotAsync(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return Checked(sessionId, () => new SnapshotCommand(sessionId), static (SnapshotReply reply) => reply.Snapshot);
    }

    /// <inheritdoc />
    public Task RestoreAsync(string sessionId, SessionSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(snapshot);
        return Checked(sessionId, () =>
        {
            snapshot.EnsureFits(Model, Spec.Recurrent);
            return new RestoreCommand(sessionId, snapshot);
        }, static (ISessionMessage _) => true);
    }

    /// <inheritdoc />
    public Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(inputs);
        return Checked(sessionId, () =>
        {
            if (inputs.Count == 0)
            {
                throw new EngineException(EngineErrorCode.InvalidInput, "the replay has no inputs; expected a sequence of at least one token.", sessionId);
            }

            var (values, ids) = InputChecks.Copy(Spec, inputs, sessionId, single: false);
            _ = from?.ToLayers(Spec.Recurrent);
            var size = Spec.InputSize;
            var tokens = new Token[inputs.Count];
            for (var t = 0; t < tokens.Length; t++)
            {
                tokens[t] = ids is null ? Token.Vector(values.AsMemory(t * size, size)) : Token.Id(ids[t]);
            }

            return new ReplayCommand(sessionId, tokens, from is null ? null : new InitialState(from.H0.ToArray(), from.C0.ToArray()));
        }, static (ReplayReply reply) => reply.Result);
    }

    /// <inheritdoc />
    public Task ResetAsync(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return Checked(sessionId, () => new ResetCommand(sessionId), static (ISessionMessage _) => true);
    }

    /// <inheritdoc />
    public Task CloseAsync(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return Checked(sessionId, () => new CloseCommand(sessionId), static (ISessionMessage _) => true);
    }

    // Inputs are checked here, on the calling node, exactly as the engine checks them: a refused call never travels.
    private Task<TResult> Checked<TReply, TResult>(string sessionId, Func<SessionCommand> create, Func<TReply, TResult> result)
        where TReply : ISessionMessage
    {
        SessionCommand command;
        try
        {
            command = create();
        }
        catch (EngineException e)
        {
            return Task.FromException<TResult>(e);
        }

        if (_system.WhenTerminated.IsCompleted)
        {
            return Task.FromException<TResult>(new EngineException(EngineErrorCode.EngineStopped,
                "this node's actor system has terminated, so it routes no more operations.", sessionId));
        }

        if (!_readiness.IsReady)
        {
            return Task.FromException<TResult>(new EngineException(EngineErrorCode.NotReady,
                $"this node is not ready to serve sessions ({_readiness.Reason}); nothing was applied. Retry later, or at another node.", sessionId));
        }

        return AskAsync(command, result);
    }

    private async Task<TResult> AskAsync<TReply, TResult>(SessionCommand command, Func<TReply, TResult> result)
        where TReply : ISessionMessage
    {
        var reply = await _calls.SendAsync(command).ConfigureAwait(false);
        return reply switch
        {
            ErrorReply error => throw error.ToException(),
            TReply expected => result(expected),
            _ => throw new EngineException(EngineErrorCode.EngineStopped,
                $"the session's owner answered {reply.GetType().Name}, expected {typeof(TReply).Name}; are all nodes running the same version?", command.SessionId),
        };
    }
}
