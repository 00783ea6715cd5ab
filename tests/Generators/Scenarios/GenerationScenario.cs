using Streaming.Generators.Recordings;
using Streaming.Host.Recording;
using Streaming.TestSupport;

namespace Streaming.Generators.Scenarios;

/// <summary>
/// Generations on sessions in every state a session can be in, with the expected ids from the float64 reference: for a
/// model of ids, greedy and sampled (temperature, top-k, top-p, together and alone, seeded), with and without a prompt
/// (short, so it runs token by token, and from 8 tokens up, so it runs as one bulk replay), ending at max steps and at a
/// stop id, from zeros, from a restored state (an open from h0/c0, as the format writes a restore), continuing a previous
/// generation, after a replay and after a reset; tokens and snapshots after each show the session is past every
/// generated token; every kind of refused generate, each followed by an operation that assumes it never happened. For a
/// model whose output is its next input, the same with vectors fed back (greedy only).
/// </summary>
internal static class GenerationScenario
{
    public static void Write(Recorder r, InputSource inputs)
    {
        if (r.TakesTokenIds)
        {
            Ids(r, inputs);
        }
        else
        {
            Vectors(r, inputs);
        }
    }

    private static int[] Ids(InputSource inputs, int length) => inputs.Sequence(length).Select(s => s.Id).ToArray();

    private static void Ids(Recorder r, InputSource inputs)
    {
        var vocabulary = r.Vocabulary;

        // g: a prompt and greedy steps to the maximum, then a sampled continuation without a prompt.
        r.Open("g");
        r.Token("g", inputs.Next());
        r.Generate("g", Ids(inputs, 5), 12, SamplingRule.Greedy);
        r.Generate("g", [], 10, SamplingRule.Random(17, temperature: 0.8, topK: 12));
        r.Token("g", inputs.Next());
        r.Snapshot("g");
        foreach (var refused in Refusals("g", vocabulary))
        {
            r.RefusedGenerate(refused);
        }

        r.Token("g", inputs.Next());
        r.Snapshot("g");

        // r: restored (opened from a given state), sampled with top-p, stopping at a stop id the reference reaches at step 5.
        r.Open("r", inputs.State());
        var prompt = Ids(inputs, 3);
        var rule = SamplingRule.Random(5, temperature: 1.2, topP: 0.9);
        r.Generate("r", prompt, 30, rule, [StopAt(r.Preview("r", prompt, 30, rule), 5)]);
        r.Snapshot("r");
        r.Token("r", inputs.Next());
        // The same seed again repeats the same random numbers; from another state they pick other ids.
        r.Generate("r", [], 6, rule);
        r.Snapshot("r");

        // b: a prompt of 10 (one bulk replay) with every sampling parameter, then a replay, greedy from its last output,
        // then a reset and a generation from the output of the zero state.
        r.Open("b");
        r.Generate("b", Ids(inputs, 10), 8, SamplingRule.Random(-3, temperature: 0.9, topK: 5, topP: 0.8));
        r.Replay("b", inputs.Sequence(4));
        r.Generate("b", [], 6, SamplingRule.Greedy);
        r.Token("b", inputs.Next());
        r.Reset("b");
        r.Generate("b", [], 5, SamplingRule.Random(long.MaxValue));
        r.Snapshot("b");
        // Every id stops it: the generation ends at its first step.
        r.Generate("b", Ids(inputs, 2), 7, SamplingRule.Random(9, topK: 3), Enumerable.Range(0, vocabulary).ToArray());
        r.Token("b", inputs.Next());

        r.RefusedGenerate(new RecordedGenerate(0, "never-opened", 4));
        r.Close("g");
        r.RefusedGenerate(new RecordedGenerate(0, "g", 4));
        r.Close("r");
        r.Snapshot("b");
        r.Close("b");
    }

    private static void Vectors(Recorder r, InputSource inputs)
    {
        // v: a short prompt (token by token), then outputs fed back; tokens and a snapshot after them.
        r.Open("v");
        r.Token("v", inputs.Next());
        r.GenerateVectors("v", Vectors(inputs, 3), 6);
        r.Token("v", inputs.Next());
        r.Snapshot("v");
        foreach (var refused in VectorRefusals("v", inputs))
        {
            r.RefusedGenerate(refused);
        }

        r.Token("v", inputs.Next());

        // w: restored, without a prompt (from the output of the given state), then a replay and a prompt of 9 (bulk).
        r.Open("w", inputs.State());
        r.GenerateVectors("w", [], 5);
        r.Snapshot("w");
        r.Replay("w", inputs.Sequence(3));
        r.GenerateVectors("w", Vectors(inputs, 9), 4);
        r.Token("w", inputs.Next());
        r.Snapshot("w");

        r.Close("v");
        r.RefusedGenerate(new RecordedGenerate(0, "v", 3));
        r.Close("w");
    }

    private static float[][] Vectors(InputSource inputs, int length) => inputs.Sequence(length).Select(s => s.Vector!).ToArray();

    /// <summary>The id the reference generates at <paramref name="step"/>, which must be its first appearance (so it stops the generation exactly there).</summary>
    private static int StopAt(Generated preview, int step)
    {
        var id = preview.Ids[step];
        if (Array.IndexOf(preview.Ids, id) != step)
        {
            throw new InvalidOperationException($"the reference generates id {id} before step {step}; a stop id there would end the generation earlier. Choose another step or seed.");
        }

        return id;
    }

    /// <summary>Generates the engine refuses, each naming its field: a bad temperature, top-p or maximum, an id past the vocabulary.</summary>
    private static IEnumerable<RecordedGenerate> Refusals(string session, int vocabulary)
    {
        var generate = new RecordedGenerate(0, session, 4);
        yield return generate with { Sampling = Client.SamplingRule.Random(1, temperature: 0) };
        yield return generate with { Sampling = Client.SamplingRule.Random(1, topP: 1.5) };
        yield return generate with { Sampling = Client.SamplingRule.Random(1, topP: 0) };
        yield return generate with { StopIds = new[] { vocabulary } };
        yield return generate with { PromptTokens = new[] { 1, -1 } };
        yield return generate with { PromptTokens = new[] { vocabulary } };
        yield return generate with { MaxSteps = 0 };
        yield return generate with { MaxSteps = Streaming.GenerationRequest.MaxStepsLimit + 1 };
    }

    /// <summary>Generates a vector model refuses: a random rule or stop ids (vectors are fed back as they are), a prompt of ids, a prompt row of the wrong width.</summary>
    private static IEnumerable<RecordedGenerate> VectorRefusals(string session, InputSource inputs)
    {
        var generate = new RecordedGenerate(0, session, 4);
        yield return generate with { Sampling = Client.SamplingRule.Random(1) };
        yield return generate with { StopIds = new[] { 0 } };
        yield return generate with { PromptTokens = new[] { 1 } };
        yield return generate with { PromptInputs = FloatMatrix.FromRows(inputs.Next().Vector![..^1]) };
    }
}
