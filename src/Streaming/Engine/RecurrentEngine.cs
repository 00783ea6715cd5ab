using System.Runtime.CompilerServices;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams.Dsl;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Persistence;
using Streaming.Pipeline;
using Streaming.Sessions;

namespace Streaming;

/// <summary>
/// Serves one recurrent model to many sessions at once, token by token, with PyTorch's exact numbers:
/// each session's outputs equal those of the whole sequence run through the model in one call.
/// Tokens of different sessions are micro-batched per layer; each session's operations apply in the
/// order they were sent. Every refusal is an <see cref="EngineException"/>, and a refused operation
/// leaves its session (and every other) as if it had never been sent.
/// </summary>
public sealed class RecurrentEngine : ISessionService, IGenerationService, IAsyncDisposable
{
    private readonly IRecurrentBackend _backend;
    private readonly EnginePipeline _pipeline;
    private readonly EngineCounters _counters;
    private readonly EngineOptions _options;
    private readonly IActorRef _registry;
    private readonly SessionDirectory _directory;
    private readonly ActorSystem _system;
    private readonly Lock _gate = new();
    private Task? _disposal;

    private RecurrentEngine(ActorSystem system, ModelIdentity model, IRecurrentBackend backend, EnginePipeline pipeline, EngineCounters counters, EngineOptions options, SessionDirectory directory, IActorRef registry)
    {
        _directory = directory;
        _system = system;
        Model = model;
        _backend = backend;
        _pipeline = pipeline;
        _counters = counters;
        _options = options;
        _registry = registry;
    }

    /// <summary>The model served.</summary>
    public ModelSpec Spec => _backend.Spec;

    /// <inheritdoc />
    public KernelReport Kernels => _backend.Kernels;

    /// <summary>The model's identity; snapshots carry it and only restore into the same model.</summary>
    public ModelIdentity Model { get; }

    /// <summary>A reading of the engine's counters.</summary>
    public EngineStatistics Statistics => _counters.Read(_pipeline.Stages.Select(s => s.Read()).ToArray());

    /// <summary>Timestamps of elements through the pipeline's stages, off until a listener is set (the benchmark's latency breakdown).</summary>
    internal PipelineTrace Trace => _pipeline.Trace;

    /// <summary>The backend computing the model (tests reach it to break it on purpose).</summary>
    internal IRecurrentBackend Backend => _backend;

    /// <summary>Starts an engine for <paramref name="weights"/> in <paramref name="system"/>.</summary>
    /// <param name="system">The actor system that hosts the sessions' registry and the pipeline; the engine does not terminate it.</param>
    /// <param name="model">The model's identity, e.g. <c>ModelIdentity.Of(name, weights)</c>.</param>
    /// <param name="weights">The model's weights.</param>
    /// <param name="options">Settings; null means <see cref="EngineOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range or the backend cannot be created.</exception>
    public static Task<RecurrentEngine> StartAsync(ActorSystem system, ModelIdentity model, ModelWeights weights, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        options ??= EngineOptions.Default;
        options.Validate();
        var backend = RecurrentBackends.Create(weights, options.ResolveBackend(weights.Spec.Recurrent.NumLayers, Environment.ProcessorCount));
        try
        {
            var counters = new EngineCounters();
            var stages = options.ResolveLayout() == PipelineLayout.Fused
                ? PipelineStage.Fused(backend, options.InitialSlots)
                : PipelineStage.Of(backend, options.InitialSlots);
            var pipeline = EnginePipeline.Start(system, stages, new BatchSettings(options.MaxBatchSize, options.MaxBatchSize, options.BatchWait));
            var rules = new SessionRules(options.MaxInFlightPerSession, Milliseconds(options.PassivateAfter), Milliseconds(options.ExpireAfter),
                options.KeptOutputsFor(backend.Spec.OutputSize), (long)options.ShutdownSaveDeadline.TotalMilliseconds);
            var context = new SessionContext(pipeline.Input, model, backend.Spec.Recurrent.NumLayers, backend.Spec.OutputSize, rules, options.Store ?? new InMemorySnapshotStore(),
                new SessionClock(), counters, Logging.GetLogger(system, typeof(RecurrentEngine))) { Trace = pipeline.Trace };
            var directory = new SessionDirectory(context);
            var registry = system.ActorOf(Props.Create(() => new SessionRegistry(directory, options.CheckpointEvery)));
            pipeline.Completion.PipeTo(registry, success: () => new PipelineStopped(null), failure: e => new PipelineStopped(e));
            return Task.FromResult(new RecurrentEngine(system, model, backend, pipeline, counters, options, directory, registry));
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Loads the model of the manifest at <paramref name="manifestPath"/> and starts an engine for it.</summary>
    /// <exception cref="InvalidModelSpecException">The manifest is invalid.</exception>
    /// <exception cref="WeightsMismatchException">The weights file does not match the manifest.</exception>
    public static Task<RecurrentEngine> StartAsync(ActorSystem system, string manifestPath, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        var manifest = ModelManifest.Load(manifestPath);
        var weights = manifest.LoadWeights();
        return StartAsync(system, ModelIdentity.Of(manifest.Name, weights), weights, options);
    }

    /// <summary>
    /// Opens a session, from <paramref name="initialState"/> (PyTorch's h0/c0 without the batch axis) or zeros.
    /// A session whose snapshot is in the store (passivated, or saved when an engine on the same store shut
    /// down) is open already: any operation on it resumes it transparently.
    /// </summary>
    /// <exception cref="EngineException">The session is already open, or the state does not fit the model.</exception>
    public Task OpenAsync(string sessionId, InitialState? initialState = null) =>
        Submit(sessionId, () => new OpenOperation(sessionId, Copy(initialState?.ToLayers(Spec.Recurrent))));

    /// <summary>Feeds one token to a session and returns the model's output for it.</summary>
    /// <exception cref="EngineException">The token does not fit the model, the model is bidirectional, or the session is not open.</exception>
    public Task<TokenOutput> PushAsync(string sessionId, Token token)
    {
        // The hot path: no closure, unlike the other operations.
        ArgumentNullException.ThrowIfNull(sessionId);
        PushOperation operation;
        try
        {
            operation = Push(sessionId, token);
        }
        catch (EngineException e)
        {
            return Task.FromException<TokenOutput>(e);
        }

        return Submit(sessionId, operation);
    }

    private PushOperation Push(string sessionId, Token token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (Spec.Recurrent.Bidirectional)
        {
            throw new EngineException(EngineErrorCode.TokensNotSupported,
                "the model is bidirectional: its reverse direction needs the whole sequence, so it serves whole-sequence replays (a Replay frame) only, not single tokens.", sessionId);
        }

        if (token.At is < 0)
        {
            throw new EngineException(EngineErrorCode.InvalidInput, $"the token's position (At) is {token.At}; expected 0 or more, or none.", sessionId);
        }

        // A span over the one token: no array a token.
        var (values, ids) = InputChecks.Copy(Spec, new ReadOnlySpan<Token>(in token), sessionId, single: true);
        return new PushOperation(sessionId, values, ids, token.At);
    }

    /// <summary>
    /// A flow of one session's tokens to their outputs, in order and backpressured (at most
    /// <see cref="EngineOptions.MaxInFlightPerSession"/> tokens in flight). The session must be open; a
    /// refused token fails the flow with its <see cref="EngineException"/>.
    /// </summary>
    public Flow<Token, TokenOutput, NotUsed> SessionFlow(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return Akka.Streams.Dsl.Flow.Create<Token>()
            .SelectAsync(_options.MaxInFlightPerSession, token => PushAsync(sessionId, token))
            .SelectError(Unwrap);
    }

    /// <summary>
    /// A flow of tokens of many open sessions, interleaved, to their outputs; outputs leave in the order the
    /// inputs came (so in each session's order), backpressured: at most <see cref="EngineOptions.MaxBatchSize"/>
    /// tokens are in flight. A refused token fails the flow with its <see cref="EngineException"/>.
    /// </summary>
    public Flow<SessionInput, TokenOutput, NotUsed> Flow() =>
        Akka.Streams.Dsl.Flow.Create<SessionInput>().SelectAsync(_options.MaxBatchSize, input =>
        {
            ArgumentNullException.ThrowIfNull(input);
            return PushAsync(input.SessionId, input.Token);
        }).SelectError(Unwrap);

    /// <summary>The session's state after exactly the operations sent before this call.</summary>
    /// <exception cref="EngineException">The session is not open.</exception>
    public Task<SessionSnapshot> SnapshotAsync(string sessionId) => Submit(sessionId, () => new SnapshotOperation(sessionId));

    /// <summary>Installs <paramref name="snapshot"/> as the session's state and position, opening the session if needed.</summary>
    /// <exception cref="EngineException">The snapshot is of another model or shape (<see cref="EngineErrorCode.ModelMismatch"/>), has a negative position (<see cref="EngineErrorCode.MalformedSnapshot"/>) or a non-finite state (<see cref="EngineErrorCode.InvalidState"/>).</exception>
    public Task RestoreAsync(string sessionId, SessionSnapshot snapshot) =>
        Submit(sessionId, () =>
        {
            ArgumentNullException.ThrowIfNull(snapshot);
            snapshot.EnsureFits(Model, Spec.Recurrent);
            return new RestoreOperation(sessionId, snapshot with { Layers = Copy(snapshot.Layers)! });
        });

    /// <summary>
    /// Runs the whole sequence <paramref name="inputs"/> through the model in bulk (each layer's sequence
    /// kernel, both directions for a bidirectional model), from <paramref name="from"/> or, when null, from
    /// the session's current state; the session's state becomes the final state and its position advances by
    /// the sequence's length.
    /// </summary>
    /// <exception cref="EngineException">An input does not fit the model, the state does not fit, or the session is not open.</exception>
    public Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null) =>
        Submit(sessionId, () =>
        {
            ArgumentNullException.ThrowIfNull(inputs);
            if (inputs.Count == 0)
            {
                throw new EngineException(EngineErrorCode.InvalidInput, "the replay has no inputs; expected a sequence of at least one token.", sessionId);
            }

            var (values, ids) = InputChecks.Copy(Spec, inputs, sessionId, single: false);
            return new ReplayOperation(sessionId, values, ids, inputs.Count, Copy(from?.ToLayers(Spec.Recurrent)));
        });

    /// <inheritdoc />
    /// <remarks>
    /// The prompt runs first: in bulk (one replay) from <see cref="GenerationPlan.BulkPromptFrom"/> tokens up, else token
    /// by token; without one, the first step is taken from the output of the session's last step. Each step then goes
    /// through the pipeline as one token, micro-batched with every other session's work; the session's other operations
    /// wait behind the generation, except a close, which stops it at its next step.
    /// </remarks>
    public IAsyncEnumerable<GenerationStep> GenerateAsync(string sessionId, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(request);
        return RunGeneration(sessionId, request, cancellationToken);
    }

    /// <inheritdoc />
    public Source<GenerationStep, NotUsed> Generate(string sessionId, GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(request);
        return Source.From(() => RunGeneration(sessionId, request, CancellationToken.None));
    }

    private async IAsyncEnumerable<GenerationStep> RunGeneration(string sessionId, GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Cancelled by the caller's token, or when the consumer stops early (the enumerator is disposed): the session stops at its next step.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        GenerateOperation? generation = null;
        var ended = Submit(sessionId, () => generation = new GenerateOperation(sessionId, GenerationChecks.Plan(Spec, request, sessionId), stop.Token));
        try
        {
            if (generation is not null)
            {
                // Not cancelled with the token: what the session consumed is delivered before the end.
                await foreach (var step in generation.Steps.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    yield return step;
                }
            }

            await ended.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Sets the session's state to zeros and its position to 0.</summary>
    /// <exception cref="EngineException">The session is not open.</exception>
    public Task ResetAsync(string sessionId) => Submit(sessionId, () => new ResetOperation(sessionId));

    /// <summary>Closes the session and frees its state.</summary>
    /// <exception cref="EngineException">The session is not open.</exception>
    public Task CloseAsync(string sessionId) => Submit(sessionId, () => new CloseOperation(sessionId));

    /// <summary>
    /// Moves the session out of this engine: once the operations it accepted have finished, its state is saved into
    /// the store and its compute slots are freed; its next operation loads it again, here or on any engine that
    /// shares the store (a cluster's shard hand-off uses this). True when it was evicted; false when it was not
    /// resident here, or when operations arrived meanwhile (it then stays resident).
    /// </summary>
    /// <exception cref="EngineException">The engine has stopped, or the store refused the save (the session stays resident).</exception>
    public Task<bool> EvictAsync(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        lock (_gate)
        {
            if (_disposal is not null || _system.WhenTerminated.IsCompleted)
            {
                return Task.FromException<bool>(SessionErrors.Stopped(sessionId, "it was disposed"));
            }

            if (_directory.Refusal is { } refusal)
            {
                return Task.FromException<bool>(SessionErrors.Stopped(sessionId, refusal));
            }

            return _directory.Find(sessionId)?.Evict() ?? Task.FromResult(false);
        }
    }

    /// <summary>
    /// Forgets the resident session without saving it, once its accepted operations finished: for a session whose shard
    /// moved to another owner without its latest state (its hand-off save kept failing), so that this stale copy never
    /// overwrites what the new owner saves. Nothing happens when it is not resident.
    /// </summary>
    internal void Drop(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        _directory.Find(sessionId)?.Drop();
    }

    /// <summary>
    /// Stops gracefully: operations already accepted finish, open sessions are snapshotted into the store,
    /// then the pipeline stops and the backend is released. Later operations fail with
    /// <see cref="EngineErrorCode.EngineStopped"/>. Calling it again waits for the same shutdown.
    /// A save the store refuses is tried again with back-off until <see cref="EngineOptions.ShutdownSaveDeadline"/> after
    /// the shutdown began; a session still unsaved then leaves without its state since its last persisted snapshot, and
    /// is counted in <see cref="EngineStatistics.ShutdownSavesFailed"/>.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposal ??= ShutDownAsync();
            return new ValueTask(_disposal);
        }
    }

    private async Task ShutDownAsync()
    {
        // An actor system terminated under the engine has stopped its registry and pipeline already: nothing would answer.
        await Task.WhenAny(_registry.Ask<ShutdownComplete>(Shutdown.Instance), _system.WhenTerminated).ConfigureAwait(false);
        // A pipeline that failed earlier has failed its pending operations then; its error needs no rethrowing here.
        await Task.WhenAny(_pipeline.Completion, _system.WhenTerminated).ConfigureAwait(false);
        _registry.Tell(PoisonPill.Instance);
        _pipeline.Dispose();
        _backend.Dispose();
    }

    private static long? Milliseconds(TimeSpan? time) => time is { } t ? (long)t.TotalMilliseconds : null;

    // The caller keeps its arrays; what was checked is what the session gets, even if they change later.
    private static LayerState[]? Copy(IReadOnlyList<LayerState>? layers) =>
        layers?.Select(l => new LayerState(l.H.ToArray(), l.C.ToArray())).ToArray();

    // SelectAsync fails the stream with the task's AggregateException; users expect the EngineException itself.
    private static Exception Unwrap(Exception error) =>
        error is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : error;

    // Validation runs on the caller's thread, so a refused operation never reaches the session.
    private Task<T> Submit<T>(string sessionId, Func<SessionOperation<T>> create)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        SessionOperation<T> operation;
        try
        {
            operation = create();
        }
        catch (EngineException e)
        {
            return Task.FromException<T>(e);
        }

        return Submit(sessionId, operation);
    }

    private Task<T> Submit<T>(string sessionId, SessionOperation<T> operation)
    {
        // No engine-wide lock on the hot path: an operation that races a shutdown is settled by the session's entry and the
        // directory, each under its own lock. The entry takes it while it is resident (and finishes it before it leaves), or
        // the entry has left and the directory, which refuses new entries once the shutdown began, refuses it.
        if (Volatile.Read(ref _disposal) is not null)
        {
            return Task.FromException<T>(SessionErrors.Stopped(sessionId, "it was disposed"));
        }

        if (_system.WhenTerminated.IsCompleted)
        {
            return Task.FromException<T>(SessionErrors.Stopped(sessionId, "its actor system has terminated"));
        }

        // A resident session takes the operation on this thread; a gone entry (closed, passivated) is looked up again.
        while (true)
        {
            var entry = _directory.GetOrAdd(sessionId);
            if (entry is null)
            {
                return Task.FromException<T>(SessionErrors.Stopped(sessionId, _directory.Refusal ?? "it is shutting down"));
            }

            if (entry.TrySubmit(operation))
            {
                return operation.Task;
            }
        }
    }
}
