using System.Globalization;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Models;

/// <summary>Writes a model's safetensors weights and manifest side by side, then loads them back as the host would.</summary>
internal static class ModelFiles
{
    /// <summary>Writes <c>name.safetensors</c> and <c>name.json</c> into <paramref name="directory"/>; returns the manifest's path.</summary>
    public static string Write(string directory, ModelDefinition definition, IReferenceModel model) =>
        Write(directory, definition.Name, model.Weights, new Dictionary<string, string>
        {
            ["seed"] = definition.Seed.ToString(CultureInfo.InvariantCulture),
            ["initialised_by"] = model is CrossCheckedReference or TorchReferenceModel ? "TorchSharp modules" : "libtorch uniform_ as RNNBase.reset_parameters",
        });

    /// <summary>
    /// Writes <c>name.safetensors</c> (with <paramref name="metadata"/> beside the generator's own) and <c>name.json</c>
    /// describing <paramref name="weights"/>' spec; returns the manifest's path.
    /// </summary>
    public static string Write(string directory, string name, ModelWeights weights, IReadOnlyDictionary<string, string> metadata)
    {
        Directory.CreateDirectory(directory);
        var weightsFile = name + ".safetensors";
        var allMetadata = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            ["generator"] = "tests/Generators",
        };
        foreach (var (key, value) in metadata)
        {
            allMetadata[key] = value;
        }

        Safetensors.Write(Path.Combine(directory, weightsFile), weights.ToTensors(), allMetadata);
        var manifestPath = Path.Combine(directory, name + ".json");
        ManifestWriter.Write(manifestPath, name, weightsFile, weights.Spec);
        Check(manifestPath, weights);
        return manifestPath;
    }

    private static void Check(string manifestPath, ModelWeights weights)
    {
        var manifest = ModelManifest.Load(manifestPath);
        if (manifest.Spec != weights.Spec)
        {
            throw new InvalidOperationException($"{manifestPath} reads back as {manifest.Spec}; expected {weights.Spec}.");
        }

        if (manifest.LoadWeights().ComputeHash() != weights.ComputeHash())
        {
            throw new InvalidOperationException($"{manifest.WeightsPath} reads back with different weights than were written.");
        }
    }
}
