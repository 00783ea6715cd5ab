using System.Text.Json;

namespace Streaming.Host.Recording;

/// <summary>
/// The fields of one JSON line, read strictly: every reader names the field, what was expected and what
/// was found, prefixed with the file and line. An absent field and a null one both read as absent.
/// </summary>
internal sealed class LineFields : IDisposable
{
    private readonly JsonDocument _document;
    private readonly Dictionary<string, JsonElement> _fields;
    private readonly string _source;
    private readonly int _line;

    private LineFields(JsonDocument document, Dictionary<string, JsonElement> fields, string source, int line)
    {
        _document = document;
        _fields = fields;
        _source = source;
        _line = line;
    }

    public static LineFields Parse(string text, string source, int line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new RecordingFormatException(source, line, null,
                $"not valid JSON ({e.Message.Split(" LineNumber:")[0].TrimEnd()}, at byte {e.BytePositionInLine}); expected one JSON object per line.");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = Describe(document.RootElement);
            document.Dispose();
            throw new RecordingFormatException(source, line, null, $"the line is {kind}; expected a JSON object.");
        }

        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var name = TryName(property);
            if (name is null)
            {
                document.Dispose();
                throw new RecordingFormatException(source, line, null,
                    "a field name is not valid Unicode (an unpaired surrogate escape such as \\ud800); expected the field names of docs/recording-format.md.");
            }

            if (!fields.TryAdd(name, property.Value))
            {
                document.Dispose();
                throw new RecordingFormatException(source, line, name, $"'{name}' appears twice; each field may appear once.");
            }
        }

        return new LineFields(document, fields, source, line);
    }

    public void Dispose() => _document.Dispose();

    public bool Has(string name) => _fields.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>Refuses any field not in <paramref name="allowed"/>.</summary>
    public void OnlyThese(string what, params string[] allowed)
    {
        foreach (var name in _fields.Keys)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                throw Error(name, $"unknown field '{name}' in {what}; expected only {string.Join(", ", allowed)}.");
            }
        }
    }

    public string RequiredString(string name, string expected)
    {
        if (!_fields.TryGetValue(name, out var value))
        {
            throw Error(name, $"'{name}' is missing; expected {expected}.");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Error(name, $"'{name}' must be {expected}; found {Describe(value)}.");
        }

        return TryString(value)
            ?? throw Error(name, $"'{name}' is {value.GetRawText()}, which is not valid Unicode (an unpaired surrogate escape); expected {expected}.");
    }

    public double? Number(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            throw Error(name, $"'{name}' must be a finite number; found {Describe(value)}.");
        }

        return number;
    }

    public bool Bool(string name)
    {
        if (!TryGet(name, out var value))
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(name, $"'{name}' must be true or false; found {Describe(value)}."),
        };
    }

    /// <summary>An optional string; null when absent.</summary>
    public string? String(string name, string expected)
    {
        if (!TryGet(name, out _))
        {
            return null;
        }

        return RequiredString(name, expected);
    }

    /// <summary>An optional integer of at least <paramref name="minimum"/>; null when absent.</summary>
    public int? Integer(string name, int minimum)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= minimum)
        {
            return number;
        }

        throw Error(name, $"'{name}' must be an integer from {minimum} to {int.MaxValue}; found {Describe(value)}.");
    }

    /// <summary>An optional signed 64-bit integer; null when absent.</summary>
    public long? Long(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            return number;
        }

        throw Error(name, $"'{name}' must be an integer from {long.MinValue} to {long.MaxValue}; found {Describe(value)}.");
    }

    public int? Id(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        return ReadId(value, name, $"'{name}'");
    }

    public int[]? Ids(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(name, $"'{name}' must be an array of integer ids; found {Describe(value)}.");
        }

        var ids = new int[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            ids[i] = ReadId(item, name, $"'{name}'[{i}]");
            i++;
        }

        return ids;
    }

    public float[]? Vector(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(name, $"'{name}' must be an array of numbers; found {Describe(value)}.");
        }

        return ReadFloats(value, name, $"'{name}'");
    }

    public FloatMatrix? Matrix(string name)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error(name, $"'{name}' must be an array of rows (arrays of numbers); found {Describe(value)}.");
        }

        var rows = new List<float[]>(value.GetArrayLength());
        foreach (var row in value.EnumerateArray())
        {
            var where = $"'{name}'[{rows.Count}]";
            if (row.ValueKind != JsonValueKind.Array)
            {
                throw Error(name, $"{where} must be an array of numbers (a row); found {Describe(row)}.");
            }

            var values = ReadFloats(row, name, where);
            if (rows.Count > 0 && values.Length != rows[0].Length)
            {
                throw Error(name, $"{where} has {values.Length} number(s) but '{name}'[0] has {rows[0].Length}; every row must have the same length.");
            }

            rows.Add(values);
        }

        return FloatMatrix.FromRows([.. rows]);
    }

    public RecordingFormatException Error(string? field, string problem) => new(_source, _line, field, problem);

    private bool TryGet(string name, out JsonElement value) =>
        _fields.TryGetValue(name, out value) && value.ValueKind != JsonValueKind.Null;

    private float[] ReadFloats(JsonElement array, string field, string where)
    {
        var values = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            values[i] = ReadFloat(item, field, $"{where}[{i}]");
            i++;
        }

        return values;
    }

    private float ReadFloat(JsonElement item, string field, string where)
    {
        switch (item.ValueKind)
        {
            case JsonValueKind.Number:
                // TryGetSingle parses the text straight to the nearest float (no double rounding);
                // it yields infinity for a number past the float range.
                if (item.TryGetSingle(out var value) && float.IsFinite(value))
                {
                    return value;
                }

                throw Error(field, $"{where} is {item.GetRawText()}, outside the range of a 32-bit float.");
            case JsonValueKind.String:
                // JSON has no NaN or infinity; recordings spell them as these strings (for expect_error cases).
                return TryString(item) switch
                {
                    "NaN" => float.NaN,
                    "Infinity" => float.PositiveInfinity,
                    "-Infinity" => float.NegativeInfinity,
                    _ => throw Error(field, $"{where} must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"); found {Describe(item)}."),
                };
            default:
                throw Error(field, $"{where} must be a number; found {Describe(item)}.");
        }
    }

    private int ReadId(JsonElement item, string field, string where)
    {
        if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var id))
        {
            return id;
        }

        throw Error(field, $"{where} must be an integer id from {int.MinValue} to {int.MaxValue}; found {Describe(item)}.");
    }

    // JSON escapes can spell an unpaired UTF-16 surrogate ("\ud800"): the line parses, but System.Text.Json throws
    // InvalidOperationException when asked for such a name or string. Null stands for it, refused as a format error.
    private static string? TryName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string? TryString(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "the number " + value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => value.ValueKind.ToString(),
    };
}
