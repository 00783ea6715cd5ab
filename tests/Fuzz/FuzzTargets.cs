using Streaming.Fuzz.Targets;

namespace Streaming.Fuzz;

/// <summary>Every fuzz target, by name.</summary>
public static class FuzzTargets
{
    /// <summary>The targets, in the order the campaigns run.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
        [new FramesTarget(), new SnapshotTarget(), new ManifestTarget(), new SafetensorsTarget(), new RecordingTarget()];

    /// <summary>The target called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No target has that name; the message lists them.</exception>
    public static FuzzTarget Named(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no fuzz target is called '{name}'; expected one of: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    /// <summary>The target's seed corpus as committed, tests/Fuzz/corpus/&lt;name&gt;/, in file-name order.</summary>
    public static IReadOnlyList<byte[]> Corpus(FuzzTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return [.. Directory.GetFiles(CorpusFolder(RepositoryPaths.Root(), target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
    }

    /// <summary>The folder holding <paramref name="target"/>'s seed corpus under <paramref name="repositoryRoot"/>.</summary>
    public static string CorpusFolder(string repositoryRoot, FuzzTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Path.Combine(repositoryRoot, "tests", "Fuzz", "corpus", target.Name);
    }
}
