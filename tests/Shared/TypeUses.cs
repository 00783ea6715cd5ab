using System.Reflection;
using System.Reflection.Emit;

namespace Tests.Shared;

/// <summary>
/// The types one type uses, read from the compiled assembly: its base type, interfaces, fields and signatures, and the
/// types, methods and fields its method bodies name; what the folder dependency tests check.
/// </summary>
internal static class TypeUses
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static IEnumerable<Type> Of(Type type)
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
    static TypeUses()
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
