using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using Streaming.Cells.Tests.Contract;
using Streaming.Cells.Tests.Oracle;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Examples;

/// <summary>
/// The trained example model that <c>serve</c> offers by default, as shipped in config/models: its files, its numbers on
/// both backends, and that it learned something (tests/Generators trains it: <c>-- train</c>).
/// </summary>
public sealed class CharEnglishModelTests
{
    private static readonly string Root = RepositoryRoot();

    private static readonly string ManifestPath = Path.Combine(Root, "config", "models", "char-english.json");

    public static TheoryData<string> Backends => new() { "managed", "torch" };

    [Fact]
    public void The_shipped_model_is_a_small_character_lstm_whose_vocabulary_has_one_character_per_embedding_row_and_logit()
    {
        var manifest = ModelManifest.Load(ManifestPath);
        var vocabulary = CharVocabulary.Load(CharVocabulary.PathFor(ManifestPath));

        Assert.Equal("char-english", manifest.Name);
        Assert.InRange(new FileInfo(manifest.WeightsPath).Length, 100_000, 4_000_000);
        Assert.Equal(RecurrentMode.Lstm, manifest.Spec.Recurrent.Mode);
        Assert.Equal(2, manifest.Spec.Recurrent.NumLayers);
        Assert.Equal(vocabulary.Count, manifest.Spec.Embedding!.NumEmbeddings);
        Assert.Equal(vocabulary.Count, manifest.Spec.Head!.OutFeatures);
        // Newline and printable ASCII, in code order: a client can compute an id without the file.
        Assert.Equal(96, vocabulary.Count);
        Assert.Equal('\n', vocabulary.Characters[0]);
        Assert.All(Enumerable.Range(1, 95), id => Assert.Equal((char)(id + 31), vocabulary.Characters[id]));
        // The weights load as the manifest describes them, under the wrapper's field names.
        Assert.Equal(new WeightKeyPrefixes("rnn.", "embedding.", "head."), manifest.Spec.KeyPrefixes);
        _ = manifest.LoadWeights();
        // Every character of the corpus has an id.
        Assert.Equal(Corpus("english.txt").Length, vocabulary.Encode(Corpus("english.txt")).Length);
        Assert.Equal(Corpus("english-heldout.txt").Length, vocabulary.Encode(Corpus("english-heldout.txt")).Length);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_backend_gives_the_float64_references_logits_for_corpus_text_in_bulk_and_token_by_token(string backendName)
    {
        var weights = ModelManifest.Load(ManifestPath).LoadWeights();
        var vocabulary = CharVocabulary.Load(CharVocabulary.PathFor(ManifestPath));
        var ids = vocabulary.Encode(Corpus("english.txt")[..400]);
        var expected = ReferenceLogits(weights, ids);
        using var model = new RecurrentModel(RecurrentBackends.Create(weights, backendName == "torch" ? BackendOptions.TorchCpu : BackendOptions.Managed));

        var bulk = model.Forward(SequenceInput.FromTokenIds(ids, ids.Length, 1)).Output.ToArray();
        Compare.Close(expected, bulk, $"{backendName} bulk logits");

        using var stepper = new SessionStepper(model.Backend, sessions: 1);
        var embedding = new float[weights.Spec.Recurrent.InputSize];
        var logits = new float[vocabulary.Count];
        for (var t = 0; t < ids.Length; t++)
        {
            model.Backend.Embed(new[] { ids[t] }, embedding);
            model.Backend.ApplyHead(stepper.Step(embedding), 1, logits);
            Compare.Close(expected.AsSpan(t * logits.Length, logits.Length), logits, $"{backendName} logits of token {t} ({vocabulary.Decode([ids[t]])})");
        }
    }

    [Fact]
    public void The_model_predicts_the_held_out_text_far_better_than_always_guessing_the_commonest_character()
    {
        var weights = ModelManifest.Load(ManifestPath).LoadWeights();
        var vocabulary = CharVocabulary.Load(CharVocabulary.PathFor(ManifestPath));
        var training = Corpus("english.txt");
        var heldOut = vocabulary.Encode(Corpus("english-heldout.txt"));
        using var model = new RecurrentModel(RecurrentBackends.Create(weights, BackendOptions.Managed));

        var logits = model.Forward(SequenceInput.FromTokenIds(heldOut, heldOut.Length, 1)).Output.ToArray();

        var v = vocabulary.Count;
        int predictions = heldOut.Length - 1, right = 0;
        double loss = 0;
        for (var t = 0; t < predictions; t++)
        {
            var row = logits.AsSpan(t * v, v);
            right += row.IndexOf(Max(row)) == heldOut[t + 1] ? 1 : 0;
            loss += LogSumExp(row) - row[heldOut[t + 1]];
        }

        // The baselines know the training text's statistics: its commonest character (space), and its character frequencies.
        var counts = vocabulary.Encode(training).CountBy(id => id).ToDictionary(p => p.Key, p => p.Value);
        var commonest = counts.MaxBy(p => p.Value).Key;
        var baselineAccuracy = heldOut.Skip(1).Count(id => id == commonest) / (double)predictions;
        var unigramLoss = heldOut.Skip(1).Average(id => -Math.Log((counts.GetValueOrDefault(id) + 1.0) / (training.Length + v)));
        var accuracy = right / (double)predictions;
        loss /= predictions;

        Assert.True(accuracy >= baselineAccuracy + 0.25,
            $"greedy next-character accuracy {accuracy:P1}; the commonest character alone gets {baselineAccuracy:P1}");
        Assert.True(loss <= unigramLoss - 1.0,
            $"cross-entropy {loss:F3} nats per character; character frequencies alone give {unigramLoss:F3}");
    }

    private static float[] ReferenceLogits(ModelWeights weights, int[] ids)
    {
        var spec = weights.Spec;
        var dim = spec.Embedding!.EmbeddingDim;
        var table = weights.Embedding!.Data;
        var input = ids.SelectMany(id => table.Slice(id * dim, dim).ToArray()).ToArray();
        var recurrent = Float64Reference.Run(weights, input, ids.Length, 1).Output;
        int features = spec.RecurrentOutputSize, outputs = spec.Head!.OutFeatures;
        var w = weights.HeadWeight!.Data.Span;
        var b = weights.HeadBias!.Data.Span;
        var logits = new float[ids.Length * outputs];
        for (var t = 0; t < ids.Length; t++)
        {
            for (var o = 0; o < outputs; o++)
            {
                double sum = b[o];
                for (var k = 0; k < features; k++)
                {
                    sum += (double)w[o * features + k] * recurrent[t * features + k];
                }

                logits[t * outputs + o] = (float)sum;
            }
        }

        return logits;
    }

    private static float Max(ReadOnlySpan<float> row) => System.Numerics.Tensors.TensorPrimitives.Max(row);

    private static double LogSumExp(ReadOnlySpan<float> row)
    {
        double max = Max(row), sum = 0;
        foreach (var x in row)
        {
            sum += Math.Exp(x - max);
        }

        return max + Math.Log(sum);
    }

    private static string Corpus(string name) => File.ReadAllText(Path.Combine(Root, "tests", "Generators", "Corpus", name));

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
