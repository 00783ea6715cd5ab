using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Streaming.Client.Protocol;

namespace Streaming.Host.Recording;

/// <summary>
/// Writes a recording (docs/recording-format.md): the header when it is created, then one line per
/// operation, each flushed whole, so a recording of live traffic can be read while it grows. Floats are
/// written in their shortest exact form (they read back bit for bit); NaN and infinities as the strings
/// "NaN", "Infinity", "-Infinity". It writes only what <see cref="RecordingReader"/> reads back.
/// Thread-safe: lines of concurrent writers never interleave.
/// </summary>
public sealed class RecordingWriter : IDisposable
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Session ids and paths stay readable; the file is JSON Lines, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private readonly TextWriter _writer;
    private readonly bool _leaveOpen;
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly Lock _gate = new();
    private readonly int _version;
    private bool _disposed;

    /// <summary>Writes <paramref name="header"/> to <paramref name="writer"/> as the first line.</summary>
    /// <param name="writer">Where the lines go.</param>
    /// <param name="header">The recording's header.</param>
    /// <param name="leaveOpen">Whether disposing this writer leaves <paramref name="writer"/> open (default false).</param>
    /// <exception cref="ArgumentException">The header's model path is empty or its tolerance negative or not finite.</exception>
    public RecordingWriter(TextWriter writer, RecordingHeader header, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentException.ThrowIfNullOrEmpty(header.Model, nameof(header));
        if (!double.IsFinite(header.Tolerance) || header.Tolerance < 0)
        {
            throw new ArgumentException($"the tolerance is {header.Tolerance}; expected a finite number, 0 or more.", nameof(header));
        }

        if (header.Version is not (1 or RecordingHeader.LatestVersion))
        {
            throw new ArgumentException($"the header's version is {header.Version}; expected 1 or {RecordingHeader.LatestVersion}.", nameof(header));
        }

        _writer = writer;
        _version = header.Version;
        _leaveOpen = leaveOpen;
        WriteLine(json =>
        {
            json.WriteString("format", header.FormatName);
            json.WriteString("model", header.Model);
            json.WriteNumber("tolerance", header.Tolerance);
        });
    }

    /// <summary>Creates (or replaces) the file at <paramref name="path"/> and writes the header.</summary>
    public static RecordingWriter Create(string path, RecordingHeader header)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        try
        {
            return new RecordingWriter(file, header);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writes one operation as one line and flushes it. Its <see cref="RecordedOperation.Line"/> is ignored.</summary>
    /// <exception cref="ArgumentException">The operation would not read back: an empty or over-long session id, an expectation on an
    /// operation that expects an error, a generate in a version 1 recording, or a generate that breaks the format's rules (its message names the field).</exception>
    public void Write(RecordedOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(operation.Session, nameof(operation));
        var bytes = Encoding.UTF8.GetByteCount(operation.Session);
        if (bytes is 0 or > FrameCodec.MaxSessionIdBytes)
        {
            throw new ArgumentException($"the session id is {bytes} UTF-8 byte(s); expected 1 to {FrameCodec.MaxSessionIdBytes}.", nameof(operation));
        }

        if (operation.ExpectError && HasExpectation(operation))
        {
            throw new ArgumentException($"a {operation.Op} that expects an error cannot carry an expectation; a refused operation has no result.", nameof(operation));
        }

        if (operation is RecordedGenerate generate)
        {
            Check(generate);
        }

        WriteLine(json =>
        {
            json.WriteString("session", operation.Session);
            json.WriteString("op", operation.Op);
            WriteFields(json, operation);
            if (operation.ExpectError)
            {
                json.WriteBoolean("expect_error", true);
            }
        });
    }

    /// <summary>Flushes the underlying writer.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _writer.Flush();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _writer.Flush();
            if (!_leaveOpen)
            {
                _writer.Dispose();
            }
        }
    }

    private static bool HasExpectation(RecordedOperation operation) => operation switch
    {
        RecordedToken token => token.Expect is not null,
        RecordedReplay replay => replay.Expect is not null,
        RecordedSnapshot snapshot => snapshot.ExpectH is not null || snapshot.ExpectC is not null,
        RecordedGenerate generate => generate.ExpectEnd is not null || generate.ExpectTokens is not null || generate.ExpectOutputs is not null || generate.ExpectProbabilities is not null,
        _ => false,
    };

    private void Check(RecordedGenerate generate)
    {
        if (_version < 2)
        {
            throw new ArgumentException($"a generate cannot go into a {RecordingHeader.Format1} recording, which has no generate; write {RecordingHeader.Format}.", nameof(generate));
        }

        if (GenerateRules.Check(generate) is { } broken)
        {
            throw new ArgumentException($"the generate would not read back: {broken.Problem}", nameof(generate));
        }
    }

    private static void WriteFields(Utf8JsonWriter json, RecordedOperation operation)
    {
        switch (operation)
        {
            case RecordedOpen open:
                Matrix(json, "h0", open.H0);
                Matrix(json, "c0", open.C0);
                break;
            case RecordedToken token:
                if (token.Kind == TokenKind.Vectors)
                {
                    Vector(json, "input", token.Input.Span);
                }
                else
                {
                    json.WriteNumber("token", token.Id);
                }

                if (token.Expect is { } expect)
                {
                    Vector(json, "expect", expect.Span);
                }

                break;
            case RecordedReplay replay:
                if (replay.Kind == TokenKind.Vectors)
                {
                    Matrix(json, "inputs", replay.Inputs);
                }
                else
                {
                    Ids(json, "tokens", replay.Ids, always: true);
                }

                Matrix(json, "h0", replay.H0);
                Matrix(json, "c0", replay.C0);
                Matrix(json, "expect", replay.Expect);
                break;
            case RecordedSnapshot snapshot:
                Matrix(json, "expect_h", snapshot.ExpectH);
                Matrix(json, "expect_c", snapshot.ExpectC);
                break;
            case RecordedGenerate generate:
                WriteGenerate(json, generate);
                break;
            case RecordedReset or RecordedClose:
                break;
            default:
                throw new ArgumentException($"{operation.GetType().Name} is not an operation of the recording format.", nameof(operation));
        }
    }

    private static void WriteGenerate(Utf8JsonWriter json, RecordedGenerate generate)
    {
        Ids(json, "prompt_tokens", generate.PromptTokens, always: false);
        Matrix(json, "prompt_inputs", generate.PromptInputs);
        json.WriteNumber("max_steps", generate.MaxSteps);
        if (generate.Sampling is { IsGreedy: false } random)
        {
            json.WriteString("sampling", "random");
            json.WriteNumber("seed", random.Seed);
            json.WriteNumber("temperature", random.Temperature);
            if (random.TopK is { } topK)
            {
                json.WriteNumber("top_k", topK);
            }

            json.WriteNumber("top_p", random.TopP);
        }

        Ids(json, "stop_ids", generate.StopIds, always: false);
        if (generate.ExpectTokens is { } tokens)
        {
            Ids(json, "expect_tokens", tokens, always: true);
        }

        Matrix(json, "expect_outputs", generate.ExpectOutputs);
        if (generate.ExpectProbabilities is { } probabilities)
        {
            Vector(json, "expect_probabilities", probabilities.Span);
        }

        if (generate.ExpectEnd is { } end)
        {
            json.WriteString("expect_end", GenerateRules.EndText(end));
        }
    }

    private static void Ids(Utf8JsonWriter json, string name, ReadOnlyMemory<int> ids, bool always)
    {
        if (ids.IsEmpty && !always)
        {
            return;
        }

        json.WriteStartArray(name);
        foreach (var id in ids.Span)
        {
            json.WriteNumberValue(id);
        }

        json.WriteEndArray();
    }

    private static void Matrix(Utf8JsonWriter json, string name, FloatMatrix? matrix)
    {
        if (matrix is null)
        {
            return;
        }

        json.WriteStartArray(name);
        for (var row = 0; row < matrix.Rows; row++)
        {
            Values(json, matrix.Row(row).Span);
        }

        json.WriteEndArray();
    }

    private static void Vector(Utf8JsonWriter json, string name, ReadOnlySpan<float> values)
    {
        json.WritePropertyName(name);
        Values(json, values);
    }

    private static void Values(Utf8JsonWriter json, ReadOnlySpan<float> values)
    {
        json.WriteStartArray();
        foreach (var value in values)
        {
            if (float.IsFinite(value))
            {
                json.WriteNumberValue(value);
            }
            else
            {
                json.WriteStringValue(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
            }
        }

        json.WriteEndArray();
    }

    private void WriteLine(Action<Utf8JsonWriter> body)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_buffer, JsonOptions))
            {
                json.WriteStartObject();
                body(json);
                json.WriteEndObject();
            }

            // '\n' on every platform: one line per operation, whatever wrote it.
            _writer.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan) + "\n");
            _writer.Flush();
        }
    }
}
