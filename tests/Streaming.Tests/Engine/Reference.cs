using Streaming.Cells.Backends;
using Streaming.Cells.Sequences;
using Streaming.Cells.Weights;

namespace Streaming.Tests.Engine;

/// <summary>
/// The oracle: whole sequences run alone through <see cref="RecurrentModel.Forward"/> on a backend of its own
/// (the bulk call, itself proven against libtorch).
/// </summary>
internal sealed class Reference : IDisposable
{
    private readonly RecurrentModel _model;

    public Reference(ModelWeights weights, BackendOptions backend) =>
        _model = new RecurrentModel(RecurrentBackends.Create(weights, backend));

    /// <summary>Output steps, final h (PyTorch's h_n without the batch axis) and c, of one sequence from <paramref name="from"/> or zeros.</summary>
    public (float[][] Outputs, float[] H, float[] C) Run(IReadOnlyList<Token> tokens, InitialState? from = null)
    {
        var spec = _model.Spec;
        var input = spec.TakesTokenIds
            ? SequenceInput.FromTokenIds(tokens.Select(t => t.TokenId).ToArray(), tokens.Count, 1)
            : SequenceInput.FromVectors(tokens.SelectMany(t => t.Values.ToArray()).ToArray(), tokens.Count, 1);
        if (from is not null)
        {
            input = input with { H0 = from.H0, C0 = from.C0 };
        }

        var result = _model.Forward(input);
        var size = spec.OutputSize;
        var outputs = Enumerable.Range(0, tokens.Count).Select(t => result.Output.Slice(t * size, size).ToArray()).ToArray();
        return (outputs, result.HN.ToArray(), result.CN.ToArray());
    }

    public void Dispose() => _model.Dispose();
}
