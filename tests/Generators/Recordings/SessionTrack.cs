using Streaming.Generators.Reference;
using Streaming.TestSupport;

namespace Streaming.Generators.Recordings;

/// <summary>
/// What one session's state is, as the reference computes it: the state it last started from (open,
/// reset, the end of a replay) and the tokens sent since. Each expectation is one bulk forward over those
/// tokens from that state, never a chain of one-step calls.
/// </summary>
internal sealed class SessionTrack
{
    private readonly IReferenceModel _model;
    private readonly List<Step> _sinceStart = [];
    private RecurrentState _start;

    public SessionTrack(IReferenceModel model, RecurrentState start)
    {
        _model = model;
        _start = start;
    }

    public bool Closed { get; set; }

    /// <summary>Sends one token; returns its output.</summary>
    public float[] Push(Step step)
    {
        _sinceStart.Add(step);
        return _model.Forward(_sinceStart, _start).Outputs[^1];
    }

    /// <summary>The state after exactly the tokens sent so far.</summary>
    public RecurrentState Current() => _sinceStart.Count == 0 ? _start : _model.Forward(_sinceStart, _start).Final;

    /// <summary>Bulk mode from <paramref name="from"/> (null: the current state); the final state becomes the session's.</summary>
    public float[][] Replay(IReadOnlyList<Step> steps, RecurrentState? from)
    {
        var result = _model.Forward(steps, from ?? Current());
        _start = result.Final;
        _sinceStart.Clear();
        return result.Outputs;
    }

    /// <summary>
    /// The session in float64 (<see cref="Float64Generator"/>): from the state it last started from, past every token
    /// sent since, each step of PyTorch's equations in float64 with nothing rounded on the way.
    /// </summary>
    public Float64Generator Float64()
    {
        var model = new Float64Generator(_model.Weights, _start.H, _start.C);
        foreach (var step in _sinceStart)
        {
            if (step.Vector is { } vector)
            {
                model.Feed(vector.Select(v => (double)v).ToArray());
            }
            else
            {
                model.Feed(step.Id);
            }
        }

        return model;
    }

    /// <summary>Tokens the session consumed outside a push (a generation's prompt and generated tokens): later outputs follow them.</summary>
    public void Consumed(IEnumerable<Step> steps) => _sinceStart.AddRange(steps);

    public void Reset(RecurrentState zeros)
    {
        _start = zeros;
        _sinceStart.Clear();
    }
}
