using System.Text;
using Streaming.Client.Protocol;

namespace Streaming.Host.Recording;

/// <summary>
/// Reads a recording (docs/recording-format.md) line by line: the header when it is created, then one
/// <see cref="RecordedOperation"/> per <see cref="Read"/>, so a long recording never has to fit in memory.
/// Strict: unknown ops and fields, wrong types and ragged rows are <see cref="RecordingFormatException"/>s
/// naming the file, line and field. Blank lines are skipped. Not thread-safe.
/// </summary>
public sealed class RecordingReader : IDisposable
{
    private static readonly string[] Ops = ["open", "token", "replay", "snapshot", "reset", "close", "generate"];

    private readonly TextReader _reader;
    private readonly bool _leaveOpen;
    private int _line;

    /// <summary>Reads the header from <paramref name="reader"/>.</summary>
    /// <param name="reader">The recording's text.</param>
    /// <param name="sourceName">The name errors give the recording (its path, usually).</param>
    /// <param name="baseDirectory">The folder the header's model path is relative to.</param>
    /// <param name="leaveOpen">Whether disposing this reader leaves <paramref name="reader"/> open (default false).</param>
    /// <exception cref="RecordingFormatException">The header is missing or invalid.</exception>
    public RecordingReader(TextReader reader, string sourceName, string baseDirectory, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        _reader = reader;
        _leaveOpen = leaveOpen;
        SourceName = sourceName;
        Header = ReadHeader();
        ModelManifestPath = Path.GetFullPath(Header.Model, Path.GetFullPath(baseDirectory));
    }

    /// <summary>The name errors give the recording.</summary>
    public string SourceName { get; }

    /// <summary>The header.</summary>
    public RecordingHeader Header { get; }

    /// <summary>The header's model path resolved against the recording's folder.</summary>
    public string ModelManifestPath { get; }

    /// <summary>Opens the recording at <paramref name="path"/> and reads its header; its model path is relative to the file's folder.</summary>
    /// <exception cref="RecordingFormatException">The header is missing or invalid.</exception>
    public static RecordingReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var reader = new StreamReader(full, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        try
        {
            return new RecordingReader(reader, path, Path.GetDirectoryName(full)!);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The next operation, or null at the end of the file.</summary>
    /// <exception cref="RecordingFormatException">The line is not a valid operation.</exception>
    public RecordedOperation? Read()
    {
        var text = NextLine();
        if (text is null)
        {
            return null;
        }

        using var fields = LineFields.Parse(text, SourceName, _line);
        var op = fields.RequiredString("op", "one of " + string.Join(", ", Ops));
        var session = fields.RequiredString("session", "a session id (a string of 1 to 128 UTF-8 bytes)");
        var bytes = Encoding.UTF8.GetByteCount(session);
        if (bytes is 0 or > FrameCodec.MaxSessionIdBytes)
        {
            throw fields.Error("session", $"'session' is {bytes} UTF-8 byte(s) long; expected 1 to {FrameCodec.MaxSessionIdBytes}.");
        }

        RecordedOperation operation = op switch
        {
            "open" => Open(fields, session),
            "token" => Token(fields, session),
            "replay" => Replay(fields, session),
            "snapshot" => Snapshot(fields, session),
            "reset" => Plain(fields, "reset", new RecordedReset(_line, session)),
            "close" => Plain(fields, "close", new RecordedClose(_line, session)),
            "generate" => Generate(fields, session),
            _ => throw fields.Error("op", $"'op' is '{op}'; expected one of {string.Join(", ", Ops)}."),
        };
        return operation with { ExpectError = fields.Bool("expect_error") };
    }

    /// <summary>Every remaining operation.</summary>
    /// <exception cref="RecordingFormatException">A line is not a valid operation.</exception>
    public IReadOnlyList<RecordedOperation> ReadToEnd()
    {
        var operations = new List<RecordedOperation>();
        while (Read() is { } operation)
        {
            operations.Add(operation);
        }

        return operations;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _reader.Dispose();
        }
    }

    private RecordingHeader ReadHeader()
    {
        const string Expected = "{\"format\":\"" + RecordingHeader.Format + "\",\"model\":\"<manifest path>\",\"tolerance\":1e-4}";
        var text = NextLine() ?? throw new RecordingFormatException(SourceName, Math.Max(_line, 1), null,
            $"the recording is empty; expected the header line {Expected}.");
        using var fields = LineFields.Parse(text, SourceName, _line);
        fields.OnlyThese("the header", "format", "model", "tolerance");
        const string Formats = $"\"{RecordingHeader.Format}\" (or \"{RecordingHeader.Format1}\", which has no generate)";
        var format = fields.RequiredString("format", Formats);
        var version = format switch
        {
            RecordingHeader.Format => RecordingHeader.LatestVersion,
            RecordingHeader.Format1 => 1,
            _ => throw fields.Error("format", $"'format' is \"{format}\"; expected {Formats} (the header line is {Expected})."),
        };

        var model = fields.RequiredString("model", "the model manifest's path, relative to the recording");
        if (model.Length == 0)
        {
            throw fields.Error("model", "'model' is empty; expected the model manifest's path, relative to the recording.");
        }

        if (model.IndexOfAny(Path.GetInvalidPathChars()) is var at and >= 0)
        {
            throw fields.Error("model", $"'model' holds the character U+{(int)model[at]:X4} at index {at}, which no path may hold; expected the model manifest's path, relative to the recording.");
        }

        var tolerance = fields.Number("tolerance") ?? RecordingHeader.DefaultTolerance;
        if (tolerance < 0)
        {
            throw fields.Error("tolerance", $"'tolerance' is {tolerance}; expected 0 or more.");
        }

        return new RecordingHeader(model, tolerance) { Version = version };
    }

    private string? NextLine()
    {
        while (_reader.ReadLine() is { } text)
        {
            _line++;
            if (!string.IsNullOrWhiteSpace(text))
            {
                return text;
            }
        }

        return null;
    }

    private RecordedOpen Open(LineFields fields, string session)
    {
        fields.OnlyThese("an open", "session", "op", "h0", "c0", "expect_error");
        return new RecordedOpen(_line, session, fields.Matrix("h0"), fields.Matrix("c0"));
    }

    private RecordedToken Token(LineFields fields, string session)
    {
        fields.OnlyThese("a token", "session", "op", "input", "token", "expect", "expect_error");
        var token = OneOf(fields, "a token", "input", "a vector", "token", "an id") == "input"
            ? RecordedToken.OfVector(_line, session, fields.Vector("input")!)
            : RecordedToken.OfId(_line, session, fields.Id("token")!.Value);
        NoExpectationsOnErrors(fields, "expect");
        return fields.Vector("expect") is { } expect ? token with { Expect = expect } : token;
    }

    private RecordedReplay Replay(LineFields fields, string session)
    {
        fields.OnlyThese("a replay", "session", "op", "inputs", "tokens", "h0", "c0", "expect", "expect_error");
        var replay = OneOf(fields, "a replay", "inputs", "rows of input vectors", "tokens", "an array of ids") == "inputs"
            ? RecordedReplay.OfVectors(_line, session, fields.Matrix("inputs")!)
            : RecordedReplay.OfIds(_line, session, fields.Ids("tokens")!);
        NoExpectationsOnErrors(fields, "expect");
        var expect = fields.Matrix("expect");
        if (expect is not null && expect.Rows != replay.Steps)
        {
            throw fields.Error("expect", $"'expect' has {expect.Rows} row(s) but the replay has {replay.Steps} step(s); expected one output row per step.");
        }

        return replay with { H0 = fields.Matrix("h0"), C0 = fields.Matrix("c0"), Expect = expect };
    }

    private RecordedSnapshot Snapshot(LineFields fields, string session)
    {
        fields.OnlyThese("a snapshot", "session", "op", "expect_h", "expect_c", "expect_error");
        NoExpectationsOnErrors(fields, "expect_h", "expect_c");
        return new RecordedSnapshot(_line, session, fields.Matrix("expect_h"), fields.Matrix("expect_c"));
    }

    private RecordedGenerate Generate(LineFields fields, string session)
    {
        if (Header.Version < 2)
        {
            throw fields.Error("op", $"'op' is 'generate', which format {RecordingHeader.Format1} does not have; a recording with generate operations starts with the header {{\"format\":\"{RecordingHeader.Format}\",...}}.");
        }

        fields.OnlyThese("a generate", "session", "op", "prompt_tokens", "prompt_inputs", "max_steps", "sampling", "seed", "temperature", "top_k", "top_p",
            "stop_ids", "expect_tokens", "expect_outputs", "expect_probabilities", "expect_end", "expect_error");
        var maxSteps = fields.Integer("max_steps", 0)
            ?? throw fields.Error("max_steps", "'max_steps' is missing; expected the most steps to generate (an integer, 0 or more).");
        NoExpectationsOnErrors(fields, "expect_tokens", "expect_outputs", "expect_probabilities", "expect_end");
        var generate = new RecordedGenerate(_line, session, maxSteps)
        {
            PromptTokens = fields.Ids("prompt_tokens") ?? ReadOnlyMemory<int>.Empty,
            PromptInputs = fields.Matrix("prompt_inputs"),
            Sampling = Sampling(fields),
            StopIds = fields.Ids("stop_ids") ?? ReadOnlyMemory<int>.Empty,
            // A null literal would convert to an empty ReadOnlyMemory (through its conversion from an array), not to null.
            ExpectTokens = fields.Ids("expect_tokens") is { } ids ? ids : (ReadOnlyMemory<int>?)null,
            ExpectOutputs = fields.Matrix("expect_outputs"),
            ExpectProbabilities = fields.Vector("expect_probabilities") is { } probabilities ? probabilities : (ReadOnlyMemory<float>?)null,
            ExpectEnd = fields.String("expect_end", $"one of {GenerateRules.EndNames}") is { } end
                ? GenerateRules.EndOf(end) ?? throw fields.Error("expect_end", $"'expect_end' is \"{end}\"; expected one of {GenerateRules.EndNames}.")
                : null,
        };
        if (GenerateRules.Check(generate) is { } broken)
        {
            throw fields.Error(broken.Field, broken.Problem);
        }

        return generate;
    }

    /// <summary>Greedy unless <c>"sampling":"random"</c>, which needs a seed; the random rule's fields go with it only.</summary>
    private static Client.SamplingRule Sampling(LineFields fields)
    {
        const string Expected = "\"greedy\" or \"random\"";
        var sampling = fields.String("sampling", Expected) ?? "greedy";
        string[] randomOnly = ["seed", "temperature", "top_k", "top_p"];
        if (sampling == "greedy")
        {
            foreach (var name in randomOnly)
            {
                if (fields.Has(name))
                {
                    throw fields.Error(name, $"'{name}' goes with \"sampling\": \"random\" only; a greedy generate draws nothing.");
                }
            }

            return Client.SamplingRule.Greedy;
        }

        if (sampling != "random")
        {
            throw fields.Error("sampling", $"'sampling' is \"{sampling}\"; expected {Expected}.");
        }

        var seed = fields.Long("seed") ?? throw fields.Error("seed", "a random generate needs 'seed' (an integer, the random stream's key); found none.");
        return Client.SamplingRule.Random(seed, fields.Number("temperature") ?? 1.0, fields.Integer("top_k", 1), fields.Number("top_p") ?? 1.0);
    }

    private static RecordedOperation Plain(LineFields fields, string op, RecordedOperation operation)
    {
        fields.OnlyThese($"a {op}", "session", "op", "expect_error");
        return operation;
    }

    /// <summary>Exactly one of two alternative fields; returns the name of the one present.</summary>
    private static string OneOf(LineFields fields, string what, string first, string firstMeaning, string second, string secondMeaning)
    {
        bool hasFirst = fields.Has(first), hasSecond = fields.Has(second);
        if (hasFirst == hasSecond)
        {
            throw fields.Error(first,
                $"{what} needs either '{first}' ({firstMeaning}) or '{second}' ({secondMeaning}); found {(hasFirst ? "both" : "neither")}.");
        }

        return hasFirst ? first : second;
    }

    private static void NoExpectationsOnErrors(LineFields fields, params string[] expectations)
    {
        if (!fields.Bool("expect_error"))
        {
            return;
        }

        foreach (var name in expectations)
        {
            if (fields.Has(name))
            {
                throw fields.Error(name, $"'{name}' cannot go with \"expect_error\": true; a refused operation has no result to expect.");
            }
        }
    }
}
