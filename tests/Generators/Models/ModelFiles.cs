using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Models;

/// <summary>Writes a model's safetensors weights and manifest side by side, then loads them back as the host would.</summary>
internal static class ModelFiles
{
    /// <summary>Writes <c>name.safetensors</c> and <c>name.json</c> into <paramref name="directory"/>; returns the manifest's path.</summary>
    public static string Write(string directory, ModelDefinition definition, IReferenceModel model)
    {
        Directory.CreateDirectory(directory);
        var weightsFile = definition.Name + ".safetensors";
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            ["generator"] = "tests/Generators",
            ["seed"] = definition.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["initialised_by"] = model is CrossCheckedReference or TorchReferenceModel ? "TorchSharp modules" : "libtorch uniform_ as RNNBase.reset_parameters",
        };
        Safetensors.Write(Path.Combine(directory, weightsFile), model.Weights.ToTensors(), metadata);
        var manifestPath = Path.Combine(directory, definition.Name + ".json");
        ManifestWriter.Write(manifestPath, definition.Name, weightsFile, definition.Spec);
        Check(manifestPath, definition, model);
        return manifestPath;
    }

    private static void Check(string manifestPath, ModelDefinition definition, IReferenceModel model)
    {
        var manifest = ModelManifest.Load(manifestPath);
        if (manifest.Spec != definition.Spec)
        {
            throw new InvalidOperationException($"{manifestPath} reads back as {manifest.Spec}; expected {definition.Spec}.");
        }

        if (manifest.LoadWeights().ComputeHash() != model.Weights.ComputeHash())
        {
            throw new InvalidOperationException($"{manifest.WeightsPath} reads back with different weights than were written.");
        }
    }
}
