using Streaming.Cells.Model;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Recordings;

/// <summary>
/// Deterministic inputs for one recording (a seeded <see cref="Random"/>, whose sequence .NET keeps stable
/// for a given seed). Values are rounded to 3 decimals: they read back exactly as the floats the expectations
/// were computed from, and keep the files small.
/// </summary>
internal sealed class InputSource
{
    private readonly Random _random;
    private readonly ModelSpec _spec;

    public InputSource(ModelSpec spec, int seed)
    {
        _spec = spec;
        _random = new Random(seed);
    }

    public Random Random => _random;

    /// <summary>A valid step: a vector of input_size values in [-1, 1], or an id below num_embeddings.</summary>
    public Step Next() => _spec.Embedding is { } e ? Step.Of(_random.Next(e.NumEmbeddings)) : Step.Of(Vector(_spec.InputSize, 1));

    public Step[] Sequence(int length) => Enumerable.Range(0, length).Select(_ => Next()).ToArray();

    /// <summary>A state with every value in [-0.5, 0.5] (h0 and, for an LSTM, c0).</summary>
    public RecurrentState State()
    {
        var r = _spec.Recurrent;
        var rows = r.NumLayers * r.Directions;
        return new RecurrentState(Vector(rows * r.OutputSize, 0.5f), r.HasCellState ? Vector(rows * r.HiddenSize, 0.5f) : null);
    }

    /// <summary>
    /// Steps the server must refuse, each with what is wrong with it: for a vector model a wrong length, a
    /// NaN and an infinity; for a token-id model an id past the vocabulary, a negative id and a vector.
    /// </summary>
    public IReadOnlyList<Step> Invalid()
    {
        if (_spec.Embedding is { } e)
        {
            return [Step.Of(e.NumEmbeddings), Step.Of(-1), Step.Of(Vector(_spec.InputSize, 1))];
        }

        var wrongLength = Vector(_spec.InputSize + 1, 1);
        var nan = Vector(_spec.InputSize, 1);
        nan[_spec.InputSize / 2] = float.NaN;
        var infinity = Vector(_spec.InputSize, 1);
        infinity[0] = float.PositiveInfinity;
        return [Step.Of(wrongLength), Step.Of(nan), Step.Of(infinity)];
    }

    /// <summary>A replay the server must refuse: rows one value too short (a vector model) or an id past the vocabulary.</summary>
    public Step[] InvalidSequence(int length)
    {
        var steps = Sequence(length);
        if (_spec.Embedding is { } e)
        {
            steps[length - 1] = Step.Of(e.NumEmbeddings + 3);
            return steps;
        }

        return steps.Select(s => Step.Of(s.Vector![..^1])).ToArray();
    }

    private float[] Vector(int length, float scale)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)Math.Round((_random.NextDouble() * 2 - 1) * scale, 3);
        }

        return values;
    }
}
