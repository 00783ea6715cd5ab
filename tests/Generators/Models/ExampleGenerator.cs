namespace Streaming.Generators.Models;

/// <summary>Writes the example models (<see cref="ModelCatalog.Examples"/>) that <c>serve</c> offers, into config/models.</summary>
internal static class ExampleGenerator
{
    public static void WriteAll(string directory, TextWriter log)
    {
        foreach (var definition in ModelCatalog.Examples)
        {
            using var model = definition.CreateReference();
            var manifest = ModelFiles.Write(directory, definition, model);
            var weights = Path.ChangeExtension(manifest, ".safetensors");
            log.WriteLine($"{manifest}: weights {new FileInfo(weights).Length:N0} bytes");
        }
    }
}
