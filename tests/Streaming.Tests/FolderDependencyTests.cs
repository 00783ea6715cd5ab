using System.Reflection;
using Tests.Shared;

namespace Streaming.Tests;

/// <summary>
/// The engine's folders depend one way: Cluster -> Engine -> Sessions -> (Pipeline | Persistence) -> Api -> Cells.
/// Read from the compiled assembly: every type's signatures and the types, methods and fields its method bodies use.
/// </summary>
public sealed class FolderDependencyTests
{
    // Lower layers first; a folder may use its own types and those of folders in lower layers only.
    private static readonly string[][] Layers =
    [
        ["Api"],
        ["Pipeline", "Persistence"],
        ["Sessions"],
        ["Engine"],
        ["Cluster"],
    ];

    // The public API's namespace holds two folders: the engine itself, and the values and contract it speaks (Api).
    private static readonly HashSet<string> EngineTypes = ["RecurrentEngine", "EngineOptions", "InputChecks", "GenerationChecks"];

    [Fact]
    public void Every_folder_uses_only_itself_and_the_folders_below_it()
    {
        var assembly = typeof(RecurrentEngine).Assembly;
        var wrong = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type) is not { } folder)
            {
                continue;
            }

            foreach (var used in TypeUses.Of(type).Where(u => u.Assembly == assembly))
            {
                if (FolderOf(used) is { } usedFolder && usedFolder != folder && LayerOf(usedFolder) >= LayerOf(folder))
                {
                    wrong.Add($"{folder}/{Outermost(type).Name} uses {usedFolder}/{Outermost(used).Name}");
                }
            }
        }

        Assert.True(wrong.Count == 0, "upward or sideways dependencies:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void The_check_sees_uses_inside_method_bodies()
    {
        // Only SessionEntry's method bodies name SessionErrors (and a lambda's closure class, RecurrentEngine's bodies).
        Assert.Contains(typeof(Streaming.Sessions.SessionErrors), TypeUses.Of(typeof(Streaming.Sessions.SessionEntry)));
        Assert.Contains(typeof(Streaming.Sessions.SessionErrors), typeof(RecurrentEngine).GetNestedTypes(BindingFlags.NonPublic).Append(typeof(RecurrentEngine)).SelectMany(TypeUses.Of));
    }

    private static int LayerOf(string folder) => Array.FindIndex(Layers, layer => layer.Contains(folder));

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
            "Streaming" => EngineTypes.Contains(type.Name) ? "Engine" : "Api",
            { } ns when ns.StartsWith("Streaming.", StringComparison.Ordinal) && !ns.StartsWith("Streaming.Cells", StringComparison.Ordinal) => ns["Streaming.".Length..].Split('.')[0],
            _ => null,
        };
    }
}
