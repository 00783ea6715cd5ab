using Streaming.Cells.Weights;

namespace Streaming.Generators.Reference;

/// <summary>
/// A model that computes expectations independently of the project's backends: libtorch's own modules,
/// or a float64 transcription of PyTorch's equations where libtorch has no module (proj_size).
/// </summary>
internal interface IReferenceModel : IDisposable
{
    /// <summary>The parameters, with the spec (and key prefixes) they were exported under.</summary>
    ModelWeights Weights { get; }

    /// <summary>What computes the expectations, for the documentation: "libtorch" or "float64 reference".</summary>
    string Oracle { get; }

    /// <summary>
    /// Runs the whole model (embedding, layers, head) over <paramref name="steps"/> as one sequence of
    /// batch 1 from <paramref name="initial"/>, like <c>module(input, (h_0, c_0))</c>.
    /// </summary>
    ForwardResult Forward(IReadOnlyList<Step> steps, RecurrentState initial);
}
