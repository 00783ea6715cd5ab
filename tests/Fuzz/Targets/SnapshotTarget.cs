using Streaming.Cells.Model;
using Streaming.Persistence;

namespace Streaming.Fuzz.Targets;

/// <summary>
/// A session snapshot's bytes (a Restore frame's payload) through <see cref="SessionSnapshot.FromBytes"/>, and a
/// stored session's (a store row's payload) through <see cref="StoredSession.FromBytes"/>. Contract: each throws
/// only <see cref="EngineException"/> with code <see cref="EngineErrorCode.MalformedSnapshot"/>; what it reads
/// writes back to bytes that read back to the same value.
/// </summary>
internal sealed class SnapshotTarget : FuzzTarget
{
    public override string Name => "snapshot";

    public override string Description => "SessionSnapshot.FromBytes and StoredSession.FromBytes";

    public override IReadOnlyList<(string Assembly, string TypePrefixes)> Instrumented { get; } =
        [Instrument(typeof(SessionSnapshot), typeof(SessionSnapshot).Namespace + ".SnapshotBinary", typeof(SessionSnapshot).FullName!,
            typeof(StoredSession).FullName!, typeof(LayerState).FullName!, typeof(ModelIdentity).FullName!)];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds(string repositoryRoot)
    {
        var lastUsed = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        foreach (var manifestPath in Directory.GetFiles(Path.Combine(repositoryRoot, "tests", "recordings", "models"), "*.json").Order(StringComparer.Ordinal))
        {
            var manifest = ModelManifest.Load(manifestPath);
            var snapshot = Snapshot(manifest, ModelIdentity.Of(manifest.Name, manifest.LoadWeights()));
            yield return ($"{manifest.Name}.snapshot", snapshot.ToBytes());
            yield return ($"{manifest.Name}.stored", new StoredSession(snapshot, lastUsed).ToBytes());
        }

        yield return ("tombstone.stored", StoredSession.Expired(lastUsed).ToBytes());
    }

    protected override bool IsDocumented(Exception exception) =>
        exception is EngineException { Code: EngineErrorCode.MalformedSnapshot };

    protected override void Run(byte[] input)
    {
        Attempt(() => RoundTrip(SessionSnapshot.FromBytes(input)));
        Attempt(() =>
        {
            var stored = StoredSession.FromBytes(input);
            var bytes = stored.ToBytes();
            var again = StoredSession.FromBytes(bytes);
            if (again.LastUsed != stored.LastUsed || again.IsExpired != stored.IsExpired || !bytes.AsSpan().SequenceEqual(again.ToBytes()))
            {
                throw new ContractViolationException($"a stored session read from {input.Length} byte(s) does not read back the same from its own bytes.");
            }
        });
    }

    private static void RoundTrip(SessionSnapshot snapshot)
    {
        var bytes = snapshot.ToBytes();
        if (!bytes.AsSpan().SequenceEqual(SessionSnapshot.FromBytes(bytes).ToBytes()))
        {
            throw new ContractViolationException("a snapshot does not read back the same from its own bytes.");
        }
    }

    /// <summary>A snapshot with the model's own layer shapes (h, and c for LSTM) and distinct values.</summary>
    private static SessionSnapshot Snapshot(ModelManifest manifest, ModelIdentity identity)
    {
        var spec = manifest.Spec.Recurrent;
        var layers = Enumerable.Range(0, spec.NumLayers).Select(i =>
        {
            var shape = spec.Layer(i);
            return new LayerState(Values(shape.SlotHSize, i), Values(shape.SlotCSize, -i - 1));
        }).ToArray();
        return new SessionSnapshot(identity, 5, layers);
    }

    private static float[] Values(int count, int layer) => Enumerable.Range(0, count).Select(k => (layer * 0.25f) + (k * 0.125f) - 0.5f).ToArray();
}
