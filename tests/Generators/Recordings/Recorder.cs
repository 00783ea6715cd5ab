using Streaming.Cells.Model;
using Streaming.Generators.Reference;
using Streaming.Host.Recording;

namespace Streaming.Generators.Recordings;

/// <summary>
/// Writes a recording operation by operation, with expectations from the reference model and the
/// semantics of the format: operations apply in file order, and an operation that expects an error
/// leaves its session exactly as it was.
/// </summary>
internal sealed class Recorder : IDisposable
{
    /// <summary>The absolute tolerance in every header: fp32 arithmetic in any order stays far inside it.</summary>
    public const double Tolerance = 1e-4;

    private readonly RecordingWriter _writer;
    private readonly IReferenceModel _model;
    private readonly Dictionary<string, SessionTrack> _sessions = new(StringComparer.Ordinal);

    public Recorder(string path, string modelPath, IReferenceModel model)
    {
        _writer = RecordingWriter.Create(path, new RecordingHeader(modelPath, Tolerance));
        _model = model;
    }

    public RecurrentSpec Spec => _model.Weights.Spec.Recurrent;

    public bool TakesTokenIds => _model.Weights.Spec.TakesTokenIds;

    /// <summary>How many operations have been written (the header not counted).</summary>
    public int Operations { get; private set; }

    public void Open(string session, RecurrentState? initial = null)
    {
        if (_sessions.TryGetValue(session, out var existing) && !existing.Closed)
        {
            throw new InvalidOperationException($"session '{session}' is already open; a re-open would be refused.");
        }

        _sessions[session] = new SessionTrack(_model, initial ?? RecurrentState.Zeros(Spec));
        Write(new RecordedOpen(0, session, Matrix(initial?.H, Spec.OutputSize), Matrix(initial?.C, Spec.HiddenSize)));
    }

    public void Token(string session, Step step)
    {
        var output = Live(session).Push(step);
        Write(TokenOf(session, step) with { Expect = output });
    }

    public void Replay(string session, IReadOnlyList<Step> steps, RecurrentState? from = null)
    {
        var outputs = Live(session).Replay(steps, from);
        Write(ReplayOf(session, steps, from) with { Expect = Matrix(outputs) });
    }

    public void Snapshot(string session)
    {
        var state = Live(session).Current();
        Write(new RecordedSnapshot(0, session, Matrix(state.H, Spec.OutputSize), Matrix(state.C, Spec.HiddenSize)));
    }

    public void Reset(string session)
    {
        Live(session).Reset(RecurrentState.Zeros(Spec));
        Write(new RecordedReset(0, session));
    }

    public void Close(string session)
    {
        Live(session).Closed = true;
        Write(new RecordedClose(0, session));
    }

    /// <summary>A token the server must refuse; the session's state does not move.</summary>
    public void RefusedToken(string session, Step step) => Write(TokenOf(session, step) with { ExpectError = true });

    /// <summary>A replay the server must refuse; the session's state does not move.</summary>
    public void RefusedReplay(string session, IReadOnlyList<Step> steps, RecurrentState? from = null) =>
        Write(ReplayOf(session, steps, from) with { ExpectError = true });

    /// <summary>Any other operation the server must refuse (an open of an open session, a close of a closed one).</summary>
    public void Refused(RecordedOperation operation) => Write(operation with { ExpectError = true });

    public void Dispose() => _writer.Dispose();

    private SessionTrack Live(string session) =>
        _sessions.TryGetValue(session, out var track) && !track.Closed
            ? track
            : throw new InvalidOperationException($"session '{session}' is not open; the server would refuse this operation.");

    private void Write(RecordedOperation operation)
    {
        _writer.Write(operation);
        Operations++;
    }

    private static RecordedToken TokenOf(string session, Step step) =>
        step.Vector is { } vector ? RecordedToken.OfVector(0, session, vector) : RecordedToken.OfId(0, session, step.Id);

    private RecordedReplay ReplayOf(string session, IReadOnlyList<Step> steps, RecurrentState? from)
    {
        var replay = steps[0].Vector is null
            ? RecordedReplay.OfIds(0, session, steps.Select(s => s.Id).ToArray())
            : RecordedReplay.OfVectors(0, session, Matrix(steps.Select(s => s.Vector!).ToArray()));
        return replay with { H0 = Matrix(from?.H, Spec.OutputSize), C0 = Matrix(from?.C, Spec.HiddenSize) };
    }

    private static FloatMatrix Matrix(float[][] rows) => FloatMatrix.FromRows(rows);

    private static FloatMatrix? Matrix(float[]? values, int columns) =>
        values is null ? null : new FloatMatrix(values.Length / columns, columns, values);
}
