using Streaming.Generators.Models;
using Streaming.Generators.Reference;
using Streaming.Host.Recording;

namespace Streaming.Generators.Recordings;

/// <summary>
/// Writes every recording of <see cref="RecordingCatalog"/> into a folder, with the models they use in its
/// <c>models/</c> subfolder, and reads each recording back with <see cref="RecordingReader"/>.
/// </summary>
internal static class RecordingGenerator
{
    public static void WriteAll(string directory, TextWriter log)
    {
        var modelsDirectory = Path.Combine(directory, "models");
        var models = new Dictionary<string, IReferenceModel>(StringComparer.Ordinal);
        try
        {
            foreach (var recording in RecordingCatalog.All)
            {
                if (!models.TryGetValue(recording.Model.Name, out var model))
                {
                    model = recording.Model.CreateReference();
                    models.Add(recording.Model.Name, model);
                    ModelFiles.Write(modelsDirectory, recording.Model, model);
                }

                var path = Path.Combine(directory, recording.Name + ".jsonl");
                int operations;
                double? margin;
                using (var recorder = new Recorder(path, $"models/{recording.Model.Name}.json", model))
                {
                    recording.Scenario(recorder, new InputSource(recording.Model.Spec, recording.Seed));
                    operations = recorder.Operations;
                    margin = recorder.SmallestMargin;
                }

                Check(path, operations);
                var generated = margin is { } m ? $"; generated ids from the float64 reference, smallest decision margin {m:E2} (at least {Recorder.MinimumMargin:E0})" : "";
                log.WriteLine($"{path}: {operations} operations, {new FileInfo(path).Length:N0} bytes, expectations from {model.Oracle}{generated}");
            }
        }
        finally
        {
            foreach (var model in models.Values)
            {
                model.Dispose();
            }
        }
    }

    private static void Check(string path, int operations)
    {
        using var reader = RecordingReader.Open(path);
        var read = reader.ReadToEnd().Count;
        if (read != operations)
        {
            throw new InvalidOperationException($"{path} reads back with {read} operations; {operations} were written.");
        }

        if (!File.Exists(reader.ModelManifestPath))
        {
            throw new InvalidOperationException($"{path} names the model '{reader.ModelManifestPath}', which does not exist.");
        }
    }
}
