namespace Streaming.Client.Protocol;

/// <summary>
/// A whole sequence for one session in bulk mode (build it with <see cref="OfVectors"/> or
/// <see cref="OfIds"/>): it starts from <see cref="H0"/>/<see cref="C0"/> when given, else from the
/// session's current state, and leaves the session in the final state. Answered by ReplayOutputs
/// frames covering every step, or one Error.
/// </summary>
public sealed record ReplayFrame : SessionFrame
{
    private ReplayFrame(string session, ulong sequence, TokenKind kind, int steps, int width, ReadOnlyMemory<float> inputs, ReadOnlyMemory<int> ids)
        : base(session, sequence)
    {
        Kind = kind;
        Steps = steps;
        Width = width;
        Inputs = inputs;
        Ids = ids;
    }

    /// <inheritdoc/>
    public override FrameType Type => FrameType.Replay;

    /// <summary>Whether the steps are vectors or ids.</summary>
    public TokenKind Kind { get; }

    /// <summary>The number of steps (seq_len).</summary>
    public int Steps { get; }

    /// <summary>Floats per step for vectors (input_size); 0 for ids.</summary>
    public int Width { get; }

    /// <summary>The inputs, (steps, width) row-major; empty for ids.</summary>
    public ReadOnlyMemory<float> Inputs { get; }

    /// <summary>The token ids, one per step; empty for vectors.</summary>
    public ReadOnlyMemory<int> Ids { get; }

    /// <summary>Initial hidden state, (num_layers * num_directions, output size); empty to start from the session's state.</summary>
    public ReadOnlyMemory<float> H0 { get; init; }

    /// <summary>Initial cell state (LSTM), (num_layers * num_directions, hidden_size); empty to start from the session's state.</summary>
    public ReadOnlyMemory<float> C0 { get; init; }

    /// <summary>A replay of float vectors: <paramref name="inputs"/> is (steps, width) row-major.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Steps is negative, width is not positive, or the inputs are not steps x width floats.</exception>
    public static ReplayFrame OfVectors(string session, ulong sequence, int steps, int width, ReadOnlyMemory<float> inputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((long)steps * width != inputs.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(inputs), inputs.Length,
                $"a replay of {steps} step(s) of {width} float(s) needs {(long)steps * width} floats; found {inputs.Length}.");
        }

        return new ReplayFrame(session, sequence, TokenKind.Vectors, steps, width, inputs, ReadOnlyMemory<int>.Empty);
    }

    /// <summary>A replay of token ids, one per step, for a model with an embedding.</summary>
    public static ReplayFrame OfIds(string session, ulong sequence, ReadOnlyMemory<int> ids) =>
        new(session, sequence, TokenKind.Ids, ids.Length, 0, ReadOnlyMemory<float>.Empty, ids);
}
