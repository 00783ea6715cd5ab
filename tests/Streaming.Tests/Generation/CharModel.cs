using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Tests.Generation;

/// <summary>The trained example model (config/models/char-english.json: Embedding(96, 32), LSTM 2 x 128, Linear) and its vocabulary.</summary>
internal static class CharModel
{
    private static readonly Lazy<(ModelIdentity, ModelWeights, CharVocabulary)> Loaded = new(() =>
    {
        var path = Path.Combine(RepositoryRoot(), "config", "models", "char-english.json");
        var manifest = ModelManifest.Load(path);
        var weights = manifest.LoadWeights();
        return (ModelIdentity.Of(manifest.Name, weights), weights, CharVocabulary.Load(CharVocabulary.PathFor(path)));
    });

    public static ModelIdentity Identity => Loaded.Value.Item1;

    public static ModelWeights Weights => Loaded.Value.Item2;

    public static CharVocabulary Vocabulary => Loaded.Value.Item3;

    public static Token[] Prompt(string text) => Vocabulary.Encode(text).Select(Token.Id).ToArray();

    public static string Text(IEnumerable<int> ids) => Vocabulary.Decode(ids.ToArray());

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Streaming.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no folder above {AppContext.BaseDirectory} holds Streaming.sln");
    }
}
