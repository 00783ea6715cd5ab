using Streaming.Cells.Model;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Models;

/// <summary>A generated model: its file name (without extension), description and the seed its weights come from.</summary>
internal sealed record ModelDefinition(string Name, ModelSpec Spec, int Seed)
{
    /// <summary>
    /// Builds the reference model: libtorch's modules checked value for value against the float64 reference, or the
    /// float64 reference alone for proj_size (which TorchSharp's nn.LSTM lacks).
    /// </summary>
    public IReferenceModel CreateReference()
    {
        if (Spec.Recurrent.ProjSize > 0)
        {
            return Float64ReferenceModel.Create(Spec, Seed);
        }

        var torch = TorchReferenceModel.Create(Spec, Seed);
        return new CrossCheckedReference(torch, Float64ReferenceModel.Of(torch.Weights));
    }
}
