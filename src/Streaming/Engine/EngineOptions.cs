using Streaming.Cells.Backends;
using Streaming.Persistence;

namespace Streaming;

/// <summary>How a <see cref="RecurrentEngine"/> computes, batches, bounds and passivates. Every setting has a default.</summary>
public sealed record EngineOptions
{
    /// <summary>The defaults.</summary>
    public static EngineOptions Default { get; } = new();

    /// <summary>
    /// The compute backend (default <see cref="BackendOptions.Managed"/>). With <see cref="BackendOptions.Threads"/>
    /// left at 0 the engine gives each layer stage an equal share of the cores (at least one thread), since the
    /// layers of the pipeline compute at the same time; a positive value is used as it is.
    /// </summary>
    public BackendOptions Backend { get; init; } = BackendOptions.Managed;

    /// <summary>
    /// How the pipeline lays the model out over stages (default <see cref="PipelineLayout.Auto"/>: the layout measured
    /// better for the backend): a stage per layer, or one stage for the whole stack.
    /// </summary>
    public PipelineLayout Layout { get; init; } = PipelineLayout.Auto;

    /// <summary>The most elements one stage computes in one batch (default 1024).</summary>
    public int MaxBatchSize { get; init; } = 1024;

    /// <summary>
    /// How long a stage that has just finished a batch waits for more elements before it starts a batch that is
    /// not full (default zero: it starts at once). An idle stage never waits: a lone token is computed at once.
    /// </summary>
    public TimeSpan BatchWait { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The most operations of one session inside the pipeline at once (default 64); further ones wait in the
    /// session's queue, so a fast producer is slowed rather than served out of memory.
    /// </summary>
    public int MaxInFlightPerSession { get; init; } = 64;

    /// <summary>
    /// After this long without any operation an open session is passivated: its state is snapshotted into
    /// <see cref="Store"/> and its compute slots are freed; its next operation restores it transparently.
    /// Default null: sessions stay resident until closed.
    /// </summary>
    public TimeSpan? PassivateAfter { get; init; }

    /// <summary>
    /// How often sessions that changed are persisted into <see cref="Store"/> while they stay resident (a
    /// checkpoint: the state is snapshotted in order with the session's tokens and saved; the session keeps
    /// running). After a crash a session resumes from its last checkpoint, and a token sent with
    /// <see cref="Token.At"/> beyond it is answered with <see cref="EngineErrorCode.PositionAhead"/> naming the
    /// position to resend from. Default null: no checkpoints (sessions persist only on passivation, eviction and
    /// shutdown).
    /// </summary>
    public TimeSpan? CheckpointEvery { get; init; }

    /// <summary>
    /// A session's time-to-live: one idle longer than this (resident or passivated) is deleted, and the store keeps
    /// a tombstone, so its next operation is refused with <see cref="EngineErrorCode.SessionExpired"/> rather than
    /// meeting a silent new session (an open starts it afresh). Default null: sessions never expire.
    /// </summary>
    public TimeSpan? ExpireAfter { get; init; }

    /// <summary>
    /// How many outputs of its most recent tokens a session keeps, in memory and in its persisted snapshot (default
    /// 256, the TCP server's default of tokens in flight per session; 0: none): a token sent with <see cref="Token.At"/>
    /// that the session applied already is refused <see cref="EngineErrorCode.DuplicateToken"/> with its original
    /// output (<see cref="EngineException.Output"/>), also after a crash, as long as it is among them. Keep at least as
    /// many as a client may have in flight, so that every answer a crash or a dropped connection could swallow can be
    /// given again. Bounded also by <see cref="KeptOutputBytes"/>.
    /// </summary>
    public int KeptOutputs { get; init; } = 256;

    /// <summary>
    /// The most bytes of outputs one session keeps (default 128 KiB): the number kept is
    /// <c>min(KeptOutputs, KeptOutputBytes / (4 x output size))</c>. A session's rows grow with its tokens up to that;
    /// its persisted snapshot carries them too (16 bytes plus 4 per float).
    /// </summary>
    public int KeptOutputBytes { get; init; } = 128 * 1024;

    /// <summary>
    /// How long a shutdown (<see cref="RecurrentEngine.DisposeAsync"/>) keeps trying to save a session whose save the store
    /// refuses, counted from the start of the shutdown (default 20 s, like a shard hand-off's
    /// <c>ShardingOptions.HandOffSaveDeadline</c>): such a session stays and is tried again, with back-off from 100 ms
    /// doubling to 2 s, so a store that returns within it loses nothing. One still unsaved at the deadline leaves without
    /// its state since its last persisted snapshot and is counted in <see cref="EngineStatistics.ShutdownSavesFailed"/>.
    /// The shutdown takes that long only while the store fails. Zero tries each save once.
    /// </summary>
    public TimeSpan ShutdownSaveDeadline { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Slots each layer's state slab reserves up front (default 1024); slabs grow beyond it on demand.</summary>
    public int InitialSlots { get; init; } = 1024;

    /// <summary>Where passivated sessions, and sessions open at shutdown, are saved (default: a new <see cref="InMemorySnapshotStore"/>).</summary>
    public ISnapshotStore? Store { get; init; }

    /// <summary>
    /// The backend options the engine creates its backend with: <see cref="Backend"/>, with automatic threads
    /// resolved to <c>max(1, cores / layers)</c> (every core for the <see cref="PipelineLayout.Fused"/> layout, whose one stage
    /// computes alone). Layer k+1 computes batch n while layer k computes batch n+1,
    /// so stages that each took every core would oversubscribe the machine (on 2 cores, two stages of two
    /// threads each ran the Managed engine at half the throughput of one thread each).
    /// </summary>
    internal BackendOptions ResolveBackend(int layers, int processors)
    {
        var computing = ResolveLayout() == PipelineLayout.Fused ? 1 : Math.Max(1, layers);
        return Backend.Threads > 0 ? Backend : Backend with { Threads = Math.Max(1, processors / computing) };
    }

    /// <summary>The layout the engine runs: <see cref="Layout"/>, with Auto resolved for the backend (Managed: Fused; Torch: PerLayer).</summary>
    internal PipelineLayout ResolveLayout() => Layout switch
    {
        PipelineLayout.Auto => Backend.Kind == Cells.Backends.BackendKind.Managed ? PipelineLayout.Fused : PipelineLayout.PerLayer,
        _ => Layout,
    };

    /// <summary>How many outputs of <paramref name="outputSize"/> floats a session keeps: <see cref="KeptOutputs"/>, within <see cref="KeptOutputBytes"/>.</summary>
    public int KeptOutputsFor(int outputSize) => (int)Math.Min(KeptOutputs, KeptOutputBytes / (4L * Math.Max(1, outputSize)));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Backend, nameof(Backend));
        Require(Enum.IsDefined(Layout), $"Layout is {(int)Layout}; expected PerLayer, Fused or Auto.");
        Require(MaxBatchSize >= 1, $"MaxBatchSize is {MaxBatchSize}; expected 1 or more.");
        Require(BatchWait >= TimeSpan.Zero, $"BatchWait is {BatchWait}; expected zero or a positive duration.");
        Require(MaxInFlightPerSession >= 1, $"MaxInFlightPerSession is {MaxInFlightPerSession}; expected 1 or more.");
        Require(PassivateAfter is null || PassivateAfter > TimeSpan.Zero, $"PassivateAfter is {PassivateAfter}; expected null (never) or a positive duration.");
        Require(CheckpointEvery is null || CheckpointEvery > TimeSpan.Zero, $"CheckpointEvery is {CheckpointEvery}; expected null (never) or a positive duration.");
        Require(ExpireAfter is null || ExpireAfter > TimeSpan.Zero, $"ExpireAfter is {ExpireAfter}; expected null (never) or a positive duration.");
        Require(ExpireAfter is null || PassivateAfter is null || ExpireAfter > PassivateAfter, $"ExpireAfter ({ExpireAfter}) is not longer than PassivateAfter ({PassivateAfter}); expected sessions to passivate before they expire.");
        Require(InitialSlots >= 0, $"InitialSlots is {InitialSlots}; expected 0 or more.");
        Require(ShutdownSaveDeadline >= TimeSpan.Zero, $"ShutdownSaveDeadline is {ShutdownSaveDeadline}; expected zero (each save tried once) or a positive duration.");
        Require(KeptOutputs >= 0, $"KeptOutputs is {KeptOutputs}; expected 0 (none) or more.");
        Require(KeptOutputBytes >= 0, $"KeptOutputBytes is {KeptOutputBytes}; expected 0 (none) or more.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException("engine options: " + message);
        }
    }
}
