using System.Security.Cryptography;
using System.Text;
using Streaming.Sessions;

namespace Streaming.Host.Storage;

/// <summary>
/// An <see cref="ISnapshotStore"/> on disk: one file per session (<see cref="StoredSession.ToBytes"/>), in a folder of
/// its own per model (name and weights hash), so a new model version never resumes another's sessions. Each file is
/// written beside its target and then moved over it, so a crash never leaves half a snapshot.
/// </summary>
public sealed class FileSnapshotStore : ISnapshotStore
{
    /// <summary>Creates the store under <paramref name="directory"/> for <paramref name="model"/>; the folder is created when missing.</summary>
    public FileSnapshotStore(string directory, ModelIdentity model)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(model);
        var safeName = new string(model.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        Directory = Path.Combine(Path.GetFullPath(directory), $"{safeName}-{model.WeightsSha256[..Math.Min(16, model.WeightsSha256.Length)]}");
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The folder holding this model's snapshots.</summary>
    public string Directory { get; }

    /// <summary>Sessions stored now.</summary>
    public int Count => System.IO.Directory.EnumerateFiles(Directory, "*.snapshot").Count();

    /// <inheritdoc />
    public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var path = PathOf(sessionId);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temporary, stored.ToBytes(), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <inheritdoc />
    public async Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var path = PathOf(sessionId);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return StoredSession.FromBytes(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        File.Delete(PathOf(sessionId));
        return Task.CompletedTask;
    }

    // Hex of the id's UTF-8 bytes is a safe file name; ids over 64 bytes use their SHA-256 instead, to stay within
    // the 255-byte file name limit.
    private string PathOf(string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        var bytes = Encoding.UTF8.GetBytes(sessionId);
        var name = bytes.Length <= 64 ? Convert.ToHexString(bytes) : "sha256-" + Convert.ToHexString(SHA256.HashData(bytes));
        return Path.Combine(Directory, name + ".snapshot");
    }
}
