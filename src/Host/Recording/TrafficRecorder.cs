using Streaming.Cells.Model;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Streaming.Host.Recording;

/// <summary>
/// Records the live traffic of chosen sessions into one recording (rnn-recording/1), so that a new model version can
/// be checked against real traffic with <c>replay --model</c>. Every request of a chosen session is written in the
/// session's order with what the server answered as its expectation: a token's output, a replay's outputs, a
/// snapshot's h and c; a request the engine refused is written with <c>"expect_error":true</c>, except tokens refused
/// for their position (DuplicateToken, PositionAhead), which changed nothing and are left out. Requests the
/// connection itself refused (protocol errors such as too many tokens in flight) depend on timing, not on the model,
/// and are left out. A restore is written as an open from the restored state (after a close when the session was
/// open), since the format has no restore. A generation is written with the ids (or vectors) it streamed, their
/// probabilities and how it ended; one cancelled or interrupted before its first step may have consumed part of its
/// prompt, which nothing the server sent says, so from there until the session's state is set again (open, reset, a
/// replay from a given state) its lines carry no expectations. Thread-safe: many connections record into the same file.
/// </summary>
public sealed class TrafficRecorder : IRequestRecorder, IDisposable
{
    private readonly RecordingWriter _writer;
    private readonly IReadOnlyList<string> _sessions;
    private readonly int _stateRows;
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);
    // Sessions whose state the server's answers no longer tell: their expectations are left out until it is set again.
    private readonly HashSet<string> _unknown = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _stopped;

    private TrafficRecorder(RecordingWriter writer, string path, IReadOnlyList<string> sessions, ModelSpec spec)
    {
        _writer = writer;
        Path = path;
        _sessions = sessions;
        _stateRows = spec.Recurrent.NumLayers * spec.Recurrent.Directions;
    }

    /// <summary>The recording file.</summary>
    public string Path { get; }

    /// <summary>Why recording stopped early (the file could not be written), or null.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// Starts a recording in <paramref name="directory"/>, named after the model and the time (UTC), whose header
    /// names <paramref name="manifestPath"/> relative to the directory.
    /// </summary>
    /// <param name="directory">Where the recording goes; created when missing.</param>
    /// <param name="manifestPath">The served model's manifest.</param>
    /// <param name="spec">The served model (for the layout of states).</param>
    /// <param name="sessions">Which sessions to record: exact ids, prefixes ending in <c>*</c>, or <c>*</c> for all.</param>
    public static TrafficRecorder Create(string directory, string manifestPath, ModelSpec spec, IReadOnlyList<string> sessions)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(manifestPath);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sessions);
        Directory.CreateDirectory(directory);
        var name = $"{System.IO.Path.GetFileNameWithoutExtension(manifestPath)}-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}.jsonl";
        var path = System.IO.Path.Combine(System.IO.Path.GetFullPath(directory), name);
        var model = System.IO.Path.GetRelativePath(System.IO.Path.GetFullPath(directory), System.IO.Path.GetFullPath(manifestPath));
        return new TrafficRecorder(RecordingWriter.Create(path, new RecordingHeader(model)), path, sessions.ToArray(), spec);
    }

    /// <summary>Whether <paramref name="session"/> is one of the recorded sessions.</summary>
    public bool Records(string session)
    {
        ArgumentNullException.ThrowIfNull(session);
        foreach (var pattern in _sessions)
        {
            var matches = pattern.EndsWith('*')
                ? session.StartsWith(pattern[..^1], StringComparison.Ordinal)
                : string.Equals(session, pattern, StringComparison.Ordinal);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Records one answered request of a session, if the session is recorded; called in each session's order.
    /// A Generate's <paramref name="reply"/> is its GenerationStep frames, then its GenerationEnd or Error.</summary>
    public void Record(SessionFrame request, bool succeeded, IReadOnlyList<Frame> reply)
    {
        if (!Records(request.Session))
        {
            return;
        }

        var refused = !succeeded;
        // A token refused for its position (a resend, or one ahead of a resumed session) changed nothing, and a
        // recording's tokens carry no positions: replayed, it would be applied.
        if (refused && reply[0] is ErrorFrame { Code: >= 100 or (ushort)EngineErrorCode.DuplicateToken or (ushort)EngineErrorCode.PositionAhead })
        {
            return;
        }

        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            try
            {
                foreach (var operation in Operations(request, reply, refused))
                {
                    _writer.Write(operation);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
            {
                Failure = e;
                _stopped = true;
            }
        }
    }

    /// <summary>Flushes and closes the recording; later requests are not recorded.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (!_stopped)
            {
                _stopped = true;
                _writer.Dispose();
            }
        }
    }

    private IEnumerable<RecordedOperation> Operations(SessionFrame request, IReadOnlyList<Frame> reply, bool refused)
    {
        var session = request.Session;
        var known = !_unknown.Contains(session);
        switch (request)
        {
            case OpenFrame open:
                if (!refused)
                {
                    _open.Add(session);
                    _unknown.Remove(session);
                }

                yield return new RecordedOpen(0, session, Matrix(open.H0), Matrix(open.C0)) { ExpectError = refused };
                break;
            case TokenFrame token:
                var recorded = token.Kind == TokenKind.Ids ? RecordedToken.OfId(0, session, token.Id) : RecordedToken.OfVector(0, session, token.Vector);
                yield return refused ? recorded with { ExpectError = true } : known ? recorded with { Expect = ((OutputFrame)reply[0]).Output } : recorded;
                break;
            case ReplayFrame replay:
                var steps = replay.Kind == TokenKind.Ids
                    ? RecordedReplay.OfIds(0, session, replay.Ids)
                    : RecordedReplay.OfVectors(0, session, new FloatMatrix(replay.Steps, replay.Width, replay.Inputs));
                steps = steps with { H0 = Matrix(replay.H0), C0 = Matrix(replay.C0) };
                if (!refused && !(replay.H0.IsEmpty && replay.C0.IsEmpty))
                {
                    // From a given state: what came before no longer matters.
                    _unknown.Remove(session);
                    known = true;
                }

                yield return refused ? steps with { ExpectError = true } : known ? steps with { Expect = Outputs(reply) } : steps;
                break;
            case SnapshotRequestFrame:
                if (refused)
                {
                    yield return new RecordedSnapshot(0, session) { ExpectError = true };
                }
                else if (!known)
                {
                    yield return new RecordedSnapshot(0, session);
                }
                else
                {
                    var snapshot = SessionSnapshot.FromBytes(((SnapshotReplyFrame)reply[0]).Snapshot.Span);
                    yield return new RecordedSnapshot(0, session, Matrix(snapshot.HiddenState()), Matrix(snapshot.CellState()));
                }

                break;
            case RestoreFrame restore when !refused:
                var state = SessionSnapshot.FromBytes(restore.Snapshot.Span);
                _unknown.Remove(session);
                if (!_open.Add(session))
                {
                    yield return new RecordedClose(0, session);
                }

                yield return new RecordedOpen(0, session, Matrix(state.HiddenState()), Matrix(state.CellState()));
                break;
            case ResetFrame:
                if (!refused)
                {
                    _unknown.Remove(session);
                }

                yield return new RecordedReset(0, session) { ExpectError = refused };
                break;
            case CloseFrame:
                if (!refused)
                {
                    _open.Remove(session);
                    _unknown.Remove(session);
                }

                yield return new RecordedClose(0, session) { ExpectError = refused };
                break;
            case GenerateFrame generate when Generation(generate, reply, refused, known) is { } generation:
                yield return generation;
                break;
            default:
                // A refused restore has no form in the format, nor has a generate whose values JSON cannot hold (a NaN
                // temperature, which the server refused): nothing is recorded.
                break;
        }
    }

    /// <summary>
    /// A generation as the format writes it: refused when it was refused before any step, else the ids (or vectors) it
    /// streamed and how it ended (an Error after some steps ended it like an interruption: every step sent was consumed).
    /// </summary>
    private RecordedGenerate? Generation(GenerateFrame frame, IReadOnlyList<Frame> reply, bool refused, bool known)
    {
        var generate = GenerationRequestOf(frame);
        var steps = reply.OfType<GenerationStepFrame>().ToList();
        if (refused && steps.Count == 0)
        {
            generate = generate with { ExpectError = true };
        }
        else
        {
            var end = reply[^1] is GenerationEndFrame ended ? ended.Reason : GenerationEndReason.Interrupted;

            // Stopped before its first step, during its prompt: how much of the prompt the session consumed is not in the
            // reply, so the session's later lines carry no expectations. The line itself says what happened (no step).
            var stoppedInPrompt = steps.Count == 0 && frame.PromptSteps > 0 && end is GenerationEndReason.Cancelled or GenerationEndReason.Interrupted;
            if (stoppedInPrompt)
            {
                _unknown.Add(frame.Session);
            }

            if (known || stoppedInPrompt)
            {
                generate = steps.Count == 0 && frame.PromptKind == TokenKind.Vectors
                    ? generate with { ExpectOutputs = Outputs(steps), ExpectEnd = end }
                    : steps.All(s => s.Kind == TokenKind.Ids)
                        ? generate with
                        {
                            ExpectTokens = steps.Select(s => s.TokenId).ToArray(),
                            ExpectProbabilities = steps.Select(s => (float)s.Probability).ToArray(),
                            ExpectEnd = end,
                        }
                        : generate with { ExpectOutputs = Outputs(steps), ExpectEnd = end };
            }
        }

        return GenerateRules.Check(generate) is null ? generate : null;
    }

    private static RecordedGenerate GenerationRequestOf(GenerateFrame frame) => new(0, frame.Session, frame.MaxSteps)
    {
        PromptTokens = frame.PromptKind == TokenKind.Ids ? frame.PromptIds.ToArray() : ReadOnlyMemory<int>.Empty,
        PromptInputs = frame.PromptKind == TokenKind.Vectors && frame.PromptSteps > 0
            ? new FloatMatrix(frame.PromptSteps, frame.PromptWidth, frame.PromptInputs.ToArray())
            : null,
        Sampling = frame.Random
            ? Client.SamplingRule.Random(frame.Seed, frame.Temperature, frame.TopK == 0 ? null : frame.TopK, frame.TopP)
            : Client.SamplingRule.Greedy,
        StopIds = frame.StopIds.ToArray(),
    };

    private static FloatMatrix Outputs(List<GenerationStepFrame> steps)
    {
        var width = steps.Count == 0 ? 0 : steps[0].Output.Length;
        var values = new float[steps.Count * width];
        for (var i = 0; i < steps.Count; i++)
        {
            steps[i].Output.Span.CopyTo(values.AsSpan(i * width, width));
        }

        return new FloatMatrix(steps.Count, width, values);
    }

    private static FloatMatrix Outputs(IReadOnlyList<Frame> reply)
    {
        var parts = reply.Cast<ReplayOutputsFrame>().ToList();
        var width = parts[0].Width;
        var values = new float[parts.Sum(p => p.Steps) * width];
        var at = 0;
        foreach (var part in parts)
        {
            part.Outputs.Span.CopyTo(values.AsSpan(at));
            at += part.Outputs.Length;
        }

        return new FloatMatrix(values.Length / width, width, values);
    }

    // A state in PyTorch's layout, (num_layers * num_directions, size); one row when it does not divide (a refused one).
    private FloatMatrix? Matrix(ReadOnlyMemory<float> values)
    {
        if (values.IsEmpty)
        {
            return null;
        }

        var rows = values.Length % _stateRows == 0 ? _stateRows : 1;
        return new FloatMatrix(rows, values.Length / rows, values.ToArray());
    }
}
