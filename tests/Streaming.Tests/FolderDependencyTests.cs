using System.Reflection;
using System.Reflection.Emit;

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

            foreach (var used in Uses(type).Where(u => u.Assembly == assembly))
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
        Assert.Contains(typeof(Streaming.Sessions.SessionErrors), Uses(typeof(Streaming.Sessions.SessionEntry)));
        Assert.Contains(typeof(Streaming.Sessions.SessionErrors), typeof(RecurrentEngine).GetNestedTypes(BindingFlags.NonPublic).Append(typeof(RecurrentEngine)).SelectMany(Uses));
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

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> Uses(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t))
            {
                return;
            }

            if (t.HasElementType)
            {
                Add(t.GetElementType());
            }

            if (t.IsGenericType)
            {
                foreach (var argument in t.GetGenericArguments())
                {
                    Add(argument);
                }
            }
        }

        Add(type.BaseType);
        foreach (var face in type.GetInterfaces())
        {
            Add(face);
        }

        foreach (var field in type.GetFields(Everything))
        {
            Add(field.FieldType);
        }

        foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info)
            {
                Add(info.ReturnType);
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType);
            }

            foreach (var used in BodyUses(type, method))
            {
                Add(used);
            }
        }

        return found.Where(t => !t.IsGenericParameter).Select(t => t.IsGenericType ? t.GetGenericTypeDefinition() : t);
    }

    // The types named by the tokens of a method's IL: types, and the declaring types of the methods and fields it uses.
    private static IEnumerable<Type> BodyUses(Type type, MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArguments = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var code = il[at] == 0xFE ? TwoByte[il[at + 1]] : OneByte[il[at]];
            at += il[at] == 0xFE ? 2 : 1;
            if (code.OperandType is OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, at), typeArguments, methodArguments);
                yield return member as Type ?? member!.DeclaringType!;
                if (member is FieldInfo field)
                {
                    yield return field.FieldType;
                }
            }

            at += code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
                _ => 4,
            };
        }
    }

    private static readonly OpCode[] OneByte = new OpCode[256];
    private static readonly OpCode[] TwoByte = new OpCode[256];

#pragma warning disable CA1810 // the tables are filled from OpCodes' fields once
    static FolderDependencyTests()
    {
        foreach (var code in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!))
        {
            if (code.Size == 1)
            {
                OneByte[code.Value & 0xFF] = code;
            }
            else
            {
                TwoByte[code.Value & 0xFF] = code;
            }
        }
    }
#pragma warning restore CA1810
}
