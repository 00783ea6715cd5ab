using System.Text.RegularExpressions;
using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Weights;

/// <summary>Every manifest docs/model-format.md shows is one the reader accepts, describing the module its Python builds.</summary>
public sealed partial class DocumentedManifestTests
{
    [Fact]
    public void Every_manifest_on_the_page_reads_as_the_module_beside_it()
    {
        var manifests = Blocks().Select(json => ModelManifest.Parse(json, "/models")).ToDictionary(m => m.Name);

        Assert.Equal(["sensor-lstm", "relu-rnn", "char-model", "bigru"], manifests.Keys);
        Assert.Equal(new RecurrentSpec(RecurrentMode.Lstm, 8, 32, 2, Dropout: 0.1), manifests["sensor-lstm"].Spec.Recurrent);
        Assert.Equal("/models/sensor-lstm.safetensors", manifests["sensor-lstm"].WeightsPath);
        Assert.Equal(new RecurrentSpec(RecurrentMode.RnnRelu, 4, 16, Bias: false), manifests["relu-rnn"].Spec.Recurrent);

        var charModel = manifests["char-model"].Spec;
        Assert.Equal(new RecurrentSpec(RecurrentMode.Lstm, 16, 48, 2, ProjSize: 24), charModel.Recurrent);
        Assert.Equal(new EmbeddingSpec(64, 16), charModel.Embedding);
        Assert.Equal(new HeadSpec(64), charModel.Head);
        Assert.Equal(new WeightKeyPrefixes("rnn.", "embed.", "out."), charModel.KeyPrefixes);
        Assert.Equal(24, charModel.RecurrentOutputSize);

        var bigru = manifests["bigru"].Spec;
        Assert.True(bigru.Recurrent.Bidirectional);
        Assert.Equal(40, bigru.OutputSize);
    }

    private static IEnumerable<string> Blocks()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "docs", "model-format.md")))
        {
            folder = folder.Parent;
        }

        Assert.NotNull(folder);
        var page = File.ReadAllText(Path.Combine(folder.FullName, "docs", "model-format.md"));
        return JsonBlock().Matches(page).Select(m => m.Groups[1].Value);
    }

    [GeneratedRegex("```json\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
