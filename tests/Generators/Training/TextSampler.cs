using Streaming.Cells.Model;
using Streaming.Generators.Reference;

namespace Streaming.Generators.Training;

/// <summary>
/// Writes text with a model one character at a time, carrying its state as a served session does (fp32 between
/// steps): greedily (the most likely character) or by sampling the float64 softmax of logits / temperature with a
/// seeded <see cref="Random"/>. For the trainer's report; the server's own sampling is specified elsewhere.
/// </summary>
internal static class TextSampler
{
    public static string Greedy(IReferenceModel model, CharVocabulary vocabulary, string prompt, int length) =>
        Write(model, vocabulary, prompt, length, ArgMax);

    public static string Sample(IReferenceModel model, CharVocabulary vocabulary, string prompt, int length, double temperature, int seed)
    {
        var random = new Random(seed);
        return Write(model, vocabulary, prompt, length, logits => Draw(logits, temperature, random.NextDouble()));
    }

    private static string Write(IReferenceModel model, CharVocabulary vocabulary, string prompt, int length, Func<float[], int> choose)
    {
        var run = model.Forward(vocabulary.Encode(prompt).Select(Step.Of).ToArray(), RecurrentState.Zeros(model.Weights.Spec.Recurrent));
        var logits = run.Outputs[^1];
        var state = run.Final;
        var written = new List<int>(length);
        while (written.Count < length)
        {
            var next = choose(logits);
            written.Add(next);
            var step = model.Forward([Step.Of(next)], state);
            (logits, state) = (step.Outputs[0], step.Final);
        }

        return vocabulary.Decode(written);
    }

    private static int ArgMax(float[] logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            best = logits[i] > logits[best] ? i : best;
        }

        return best;
    }

    private static int Draw(float[] logits, double temperature, double uniform)
    {
        var max = logits.Max();
        var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        var target = uniform * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            target -= weights[i];
            if (target < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }
}
