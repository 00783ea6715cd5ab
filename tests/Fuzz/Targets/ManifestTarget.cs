using System.Text;
using Streaming.Cells.Model;

namespace Streaming.Fuzz.Targets;

/// <summary>
/// A model manifest's bytes, read as <see cref="ModelManifest.Load"/> reads a file (UTF-8, byte order marks
/// honoured), through <see cref="ModelManifest.Parse(string, string)"/>. Contract: it throws only
/// <see cref="InvalidModelSpecException"/>; a manifest it accepts has a valid spec and an absolute weights path.
/// </summary>
internal sealed class ManifestTarget : FuzzTarget
{
    private static readonly string BaseDirectory = Path.Combine(Path.GetTempPath(), "fuzz-models");

    public override string Name => "manifest";

    public override string Description => "ModelManifest.Parse on a manifest file's bytes";

    public override IReadOnlyList<(string Assembly, string TypePrefixes)> Instrumented { get; } =
        [Instrument(typeof(ModelManifest), typeof(ModelManifest).Namespace!)];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds(string repositoryRoot)
    {
        foreach (var folder in new[] { Path.Combine("config", "models"), Path.Combine("tests", "recordings", "models") })
        {
            foreach (var path in Directory.GetFiles(Path.Combine(repositoryRoot, folder), "*.json").Order(StringComparer.Ordinal))
            {
                yield return ($"{folder.Split(Path.DirectorySeparatorChar)[0]}-{Path.GetFileName(path)}", File.ReadAllBytes(path));
            }
        }

        // The spellings the shipped manifests do not use: RNN with a nonlinearity, nulls, comments, a trailing comma.
        yield return ("rnn-nonlinearity.json", Encoding.UTF8.GetBytes(
            "{\"name\":\"r\",\"weights\":\"r.safetensors\",\"recurrent\":{\"mode\":\"RNN\",\"nonlinearity\":\"relu\",\"input_size\":3,\"hidden_size\":4,\"dropout\":0.5,\"batch_first\":true},\"head\":null}"));
        yield return ("comments.json", Encoding.UTF8.GetBytes(
            "// a manifest\n{\"name\":\"c\",\"weights\":\"/abs/c.safetensors\",\"recurrent\":{\"mode\":\"GRU\",\"input_size\":1,\"hidden_size\":1,},\"key_prefixes\":{\"recurrent\":null}}"));
    }

    protected override bool IsDocumented(Exception exception) => exception is InvalidModelSpecException;

    protected override void Run(byte[] input)
    {
        string json;
        using (var reader = new StreamReader(new MemoryStream(input), Encoding.UTF8, detectEncodingFromByteOrderMarks: true))
        {
            json = reader.ReadToEnd();
        }

        Attempt(() =>
        {
            var manifest = ModelManifest.Parse(json, BaseDirectory);
            manifest.Spec.Validate();
            if (!Path.IsPathFullyQualified(manifest.WeightsPath))
            {
                throw new ContractViolationException($"the manifest's weights path '{manifest.WeightsPath}' is not absolute.");
            }
        });
    }
}
