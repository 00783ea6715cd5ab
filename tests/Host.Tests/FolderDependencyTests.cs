using Streaming.Host.Server;
using Tests.Shared;

namespace Host.Tests;

/// <summary>
/// The worker service's folders depend one way: Service -> Replay -> Recording -> Server -> Storage -> the root (logging).
/// The recorder is an interface Server owns, so recording depends on the server and never the reverse. Read from the
/// compiled assembly, method bodies included.
/// </summary>
public sealed class FolderDependencyTests
{
    // Lower layers first; a folder may use its own types and those of folders in lower layers only.
    private static readonly string[] Layers = ["(root)", "Storage", "Server", "Recording", "Replay", "Service"];

    [Fact]
    public void Every_folder_of_the_host_uses_only_itself_and_the_folders_below_it()
    {
        var assembly = typeof(StreamingServer).Assembly;
        var wrong = new SortedSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type) is not { } folder)
            {
                continue;
            }

            seen.Add(folder);
            foreach (var used in TypeUses.Of(type).Where(u => u.Assembly == assembly))
            {
                if (FolderOf(used) is { } usedFolder && usedFolder != folder && Array.IndexOf(Layers, usedFolder) >= Array.IndexOf(Layers, folder))
                {
                    wrong.Add($"{folder}/{Outermost(type).Name} uses {usedFolder}/{Outermost(used).Name}");
                }
            }
        }

        Assert.True(wrong.Count == 0, "upward or sideways dependencies:\n" + string.Join("\n", wrong));
        Assert.Equal(Layers.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_server_reaches_the_recorder_through_its_own_interface_only()
    {
        var recorderUses = TypeUses.Of(typeof(Streaming.Host.Recording.TrafficRecorder)).ToList();

        Assert.Contains(typeof(IRequestRecorder), recorderUses);
        Assert.DoesNotContain(typeof(ServerOptions).Assembly.GetTypes().Where(t => FolderOf(t) == "Server").SelectMany(TypeUses.Of),
            t => FolderOf(t) == "Recording");
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    private static string? FolderOf(Type type)
    {
        type = Outermost(type.IsGenericType && !type.IsGenericTypeDefinition ? type.GetGenericTypeDefinition() : type);
        return type.Namespace switch
        {
            "Streaming.Host" when type.Name != "Program" && !type.Name.StartsWith('<') => "(root)",
            { } ns when ns.StartsWith("Streaming.Host.", StringComparison.Ordinal) => ns["Streaming.Host.".Length..].Split('.')[0],
            _ => null,
        };
    }
}
