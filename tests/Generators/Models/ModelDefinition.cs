using Streaming.Cells.Model;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Models;

/// <summary>A generated model: its file name (without extension), description and the seed its weights come from.</summary>
internal sealed record ModelDefinition(string Name, ModelSpec Spec, int Seed)
{
    /// <summary>
    /// Builds the reference model: libtorch's modules, or the float64 reference for proj_size (which
    /// TorchSharp's nn.LSTM lacks).
    /// </summary>
    public IReferenceModel CreateReference() => Spec.Recurrent.ProjSize > 0
        ? Float64ReferenceModel.Create(Spec, Seed)
        : TorchReferenceModel.Create(Spec, Seed);
}
