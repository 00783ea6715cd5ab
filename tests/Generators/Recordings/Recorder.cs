using System.Globalization;
using Streaming.Cells.Model;
using Streaming.Client.Protocol;
using Streaming.Generators.Reference;
using Streaming.Host.Recording;
using Streaming.TestSupport;

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

    /// <summary>
    /// The smallest margin a recorded generation's decision may have (docs/generation.md, "Determinism"): a server's fp32
    /// logits differ from the float64 reference's by about 1e-6, which moves a decision by at most some 8e-6 / temperature;
    /// a decision closer to another choice than this could go either way on a correct server, so it is not recorded.
    /// </summary>
    public const double MinimumMargin = 1e-4;

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

    /// <summary>The number of valid ids (num_embeddings); 0 for a model of vectors.</summary>
    public int Vocabulary => _model.Weights.Spec.Embedding?.NumEmbeddings ?? 0;

    /// <summary>Whether the model generates (docs/generation.md): ids through an embedding and a head of one logit per id, or an output the size of its input; unidirectional.</summary>
    public bool CanGenerate
    {
        get
        {
            var spec = _model.Weights.Spec;
            return !spec.Recurrent.Bidirectional && (spec.Embedding is { } e
                ? spec.Head?.OutFeatures == e.NumEmbeddings
                : spec.OutputSize == spec.InputSize);
        }
    }

    /// <summary>The smallest margin of any generated decision so far (<see cref="MinimumMargin"/>), or null before the first generation of ids.</summary>
    public double? SmallestMargin { get; private set; }

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

    /// <summary>What the float64 reference generates from the session's state, without recording it or moving the session.</summary>
    public Generated Preview(string session, IReadOnlyList<int> prompt, int maxSteps, SamplingRule rule, IReadOnlyCollection<int>? stopIds = null) =>
        Live(session).Float64().Generate(prompt, maxSteps, rule, stopIds);

    /// <summary>
    /// A generation of ids, with the ids, their probabilities and its end from the float64 reference (PyTorch's equations in
    /// float64 and docs/generation.md's sampler, <see cref="Float64Generator"/>), never from this project's backends. Every
    /// decision must clear <see cref="MinimumMargin"/>, or nothing is written; afterwards the session is past the prompt
    /// and every generated id.
    /// </summary>
    public Generated Generate(string session, IReadOnlyList<int> prompt, int maxSteps, SamplingRule rule, IReadOnlyList<int>? stopIds = null)
    {
        var track = Live(session);
        var generated = track.Float64().Generate(prompt, maxSteps, rule, stopIds);
        var smallest = generated.Margins.Select((margin, step) => (margin, step)).MinBy(m => m.margin);
        if (smallest.margin < MinimumMargin)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"session '{session}': the generation's decision at step {smallest.step} ({rule}) is {smallest.margin:E2} from another choice, under {MinimumMargin:E0}; a correct server could pick differently there. Choose another seed or prompt."));
        }

        SmallestMargin = Math.Min(SmallestMargin ?? double.PositiveInfinity, smallest.margin);
        track.Consumed(prompt.Select(Step.Of).Concat(generated.Ids.Select(Step.Of)));
        var stopped = stopIds is not null && generated.Ids.Length > 0 && stopIds.Contains(generated.Ids[^1]);
        Write(new RecordedGenerate(0, session, maxSteps)
        {
            PromptTokens = prompt.ToArray(),
            Sampling = Rule(rule),
            StopIds = stopIds?.ToArray() ?? [],
            ExpectTokens = generated.Ids,
            ExpectProbabilities = generated.Ids.Select((id, t) => (float)Probability(generated.Logits[t], id)).ToArray(),
            ExpectEnd = stopped ? GenerationEndReason.StopId : GenerationEndReason.MaxSteps,
        });
        return generated;
    }

    /// <summary>
    /// A generation of a model whose output is its next input: the prompt, then <paramref name="steps"/> outputs fed back,
    /// each expected from the float64 reference (rounded to fp32 once); afterwards the session is past them all.
    /// </summary>
    public void GenerateVectors(string session, IReadOnlyList<float[]> prompt, int steps)
    {
        var track = Live(session);
        var outputs = track.Float64().GenerateVectors(prompt, steps).Select(o => o.Select(v => (float)v).ToArray()).ToArray();
        // What the session consumed: the prompt, then each output fed back (as the server feeds back its own fp32 output).
        track.Consumed(prompt.Select(Step.Of).Concat(outputs.Select(Step.Of)));
        Write(new RecordedGenerate(0, session, steps)
        {
            PromptInputs = prompt.Count == 0 ? null : Matrix(prompt.ToArray()),
            ExpectOutputs = Matrix(outputs),
            ExpectEnd = GenerationEndReason.MaxSteps,
        });
    }

    /// <summary>A generate the server must refuse; the session's state does not move.</summary>
    public void RefusedGenerate(RecordedGenerate generate) => Write(generate with { ExpectError = true });

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

    private static Client.SamplingRule Rule(SamplingRule rule) =>
        rule.IsGreedy ? Client.SamplingRule.Greedy : Client.SamplingRule.Random(rule.Seed, rule.Temperature, rule.TopK, rule.TopP);

    /// <summary>The float64 softmax of the logits at temperature 1, at <paramref name="id"/> (what a step reports as its probability).</summary>
    private static double Probability(double[] logits, int id)
    {
        var max = logits.Max();
        var sum = 0.0;
        foreach (var z in logits)
        {
            sum += Math.Exp(z - max);
        }

        return Math.Exp(logits[id] - max) / sum;
    }

    private static FloatMatrix? Matrix(float[]? values, int columns) =>
        values is null ? null : new FloatMatrix(values.Length / columns, columns, values);
}
