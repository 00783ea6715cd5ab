using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Streaming.Cells.Model;
using Streaming.Generators.Models;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Training;

/// <summary>
/// <c>train [folder]</c>: trains the example model char-english on tests/Generators/Corpus and writes
/// <c>char-english.json</c>, <c>.safetensors</c> and <c>.vocab.json</c> (default config/models), then prints samples
/// written by the float64 reference of PyTorch's equations from the files as written.
/// </summary>
internal static class TrainCommand
{
    public const string ModelName = "char-english";

    public const string Prompt = "The ";

    public static void Run(string directory, TextWriter log)
    {
        var corpus = RepositoryPaths.Corpus();
        var train = CorpusText.Load(Path.Combine(corpus, "english.txt"));
        var heldOut = CorpusText.Load(Path.Combine(corpus, "english-heldout.txt"));
        var vocabulary = CorpusText.Vocabulary;
        var options = new TrainingOptions();

        log.WriteLine($"corpus: {train.Text.Length:N0} characters to train on, {heldOut.Text.Length:N0} held out; " +
            $"{train.Mapped + heldOut.Mapped} mapped into the {vocabulary.Count}-character alphabet, {train.Dropped + heldOut.Dropped} dropped");
        log.WriteLine($"training: {options.Describe()}; {TorchSharp.torch.get_num_threads()} libtorch thread(s)");

        var (weights, epochs) = CharModelTrainer.Train(options, vocabulary.Count, train.Ids(), heldOut.Ids(), e => log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"epoch {e.Epoch,3}: train loss {e.TrainLoss:F4}, held-out loss {e.HeldOutLoss:F4} ({e.HeldOutLoss / Math.Log(2):F3} bits/char), held-out accuracy {e.HeldOutAccuracy:P1}, {e.Elapsed.TotalSeconds:F0} s")));
        var last = epochs[^1];

        var manifest = ModelFiles.Write(directory, ModelName, weights, new Dictionary<string, string>
        {
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["trained_by"] = "tests/Generators train: " + options.Describe(),
            ["corpus"] = "tests/Generators/Corpus/english.txt (CC0), sha256 " + Sha256(train.Text),
            ["train_loss"] = last.TrainLoss.ToString("F4", CultureInfo.InvariantCulture),
            ["heldout_loss"] = last.HeldOutLoss.ToString("F4", CultureInfo.InvariantCulture),
        });
        var vocabularyPath = CharVocabulary.PathFor(manifest);
        File.WriteAllText(vocabularyPath, vocabulary.ToJson(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        if (!CharVocabulary.Load(vocabularyPath).Characters.SequenceEqual(vocabulary.Characters))
        {
            throw new InvalidOperationException($"{vocabularyPath} reads back as another vocabulary.");
        }

        var weightsPath = Path.ChangeExtension(manifest, ".safetensors");
        log.WriteLine($"{manifest}: weights {new FileInfo(weightsPath).Length:N0} bytes, sha256 {Sha256(File.ReadAllBytes(weightsPath))}; {vocabularyPath}");
        var baseline = MostFrequent(train.Text);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"held-out: loss {last.HeldOutLoss:F4}, greedy accuracy {last.HeldOutAccuracy:P1}; always guessing {Show(baseline)} (the commonest character) is right {heldOut.Text.Skip(1).Count(c => c == baseline) / (double)(heldOut.Text.Length - 1):P1}"));

        // The samples come from the files as written, through the float64 reference, not from libtorch.
        using var reference = Float64ReferenceModel.Of(ModelManifest.Load(manifest).LoadWeights());
        log.WriteLine($"greedy, 300 characters after \"{Prompt}\" (float64 reference):");
        log.WriteLine(Prompt + TextSampler.Greedy(reference, vocabulary, Prompt, 300));
        log.WriteLine($"temperature 0.8, seed 1, 300 characters after \"{Prompt}\" (float64 reference):");
        log.WriteLine(Prompt + TextSampler.Sample(reference, vocabulary, Prompt, 300, 0.8, seed: 1));
    }

    private static char MostFrequent(string text) => text.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;

    private static string Show(char c) => c == ' ' ? "space" : c == '\n' ? "newline" : $"'{c}'";

    private static string Sha256(string text) => Sha256(Encoding.UTF8.GetBytes(text));

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
