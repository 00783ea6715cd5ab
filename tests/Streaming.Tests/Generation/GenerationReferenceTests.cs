using Streaming.Cells.Backends;
using Streaming.TestSupport;
using Streaming.Tests.Engine;
using Xunit.Abstractions;

namespace Streaming.Tests.Generation;

/// <summary>
/// Generation with the trained character model agrees id for id with the float64 reference (PyTorch's equations in
/// float64, docs/generation.md's sampling), on both backends, with every step's logits within 1e-5 of the reference's;
/// and each decision's margin, printed, is far above that error, so the agreement is not luck.
/// </summary>
public sealed class GenerationReferenceTests(ITestOutputHelper output)
{
    /// <summary>
    /// A logit error d moves a greedy gap or a top-k gap by at most 2d / T and a cumulative probability (c / S) by at most
    /// about 4d / T; a decision whose margin is not at least twice that could flip and make the comparison a coin toss.
    /// </summary>
    private static double SafeMargin(double worstLogitError, double temperature) => 8 * worstLogitError / temperature;

    public static TheoryData<BackendKind> Backends => new() { BackendKind.Managed, BackendKind.Torch };

    public static TheoryData<BackendKind, string> Rules()
    {
        var data = new TheoryData<BackendKind, string>();
        foreach (var backend in new[] { BackendKind.Managed, BackendKind.Torch })
        {
            foreach (var rule in RuleNames)
            {
                data.Add(backend, rule);
            }
        }

        return data;
    }

    private static readonly string[] RuleNames = ["plain", "temperature", "top-k", "top-p", "all"];

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Greedy_generation_from_The_is_readable_english_and_matches_the_float64_reference_id_for_id(BackendKind backend)
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend));
        await scope.Engine.OpenAsync("a");
        var prompt = CharModel.Prompt("The ");

        var steps = await scope.Engine.CollectAsync("a", GenerationRequest.Of(200, prompt) with { ReportTop = 3 });

        var expected = Float64Generator.Run(CharModel.Weights, prompt.Select(t => t.TokenId).ToArray(), 200, SamplingRule.Greedy);
        var text = CharModel.Text(steps.Ids());
        output.WriteLine($"{backend}: \"The {text}\"");
        output.WriteLine($"smallest margin (logit gap) {expected.SmallestMargin:E2}, worst logit error {Generations.WorstLogitError(steps, expected):E2}");
        Assert.Equal(expected.Ids, steps.Ids());
        Assert.True(Generations.WorstLogitError(steps, expected) <= 1e-5);
        Assert.True(expected.SmallestMargin > SafeMargin(Generations.WorstLogitError(steps, expected), 1), $"a greedy choice was within {expected.SmallestMargin:E2} of a tie");

        // Readable: words of letters separated by single spaces, some of English's commonest among them.
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(text.Count(c => char.IsLetter(c) || c == ' ') >= 0.9 * text.Length, text);
        Assert.True(words.Count(w => w is "the" or "and" or "of" or "to" or "a" or "in" or "was" or "he" or "that" or "it" or "his" or "her") >= 3, text);
        Assert.All(steps, (s, t) =>
        {
            Assert.Equal(t, s.Step);
            Assert.Equal(prompt.Length + t + 1, s.Position);
            Assert.Equal(s.TokenId, s.Top[0].TokenId);
            Assert.Equal(s.Probability!.Value, s.Top[0].Probability, 12);
            Assert.True(s.Top[0].Probability >= s.Top[1].Probability && s.Top[1].Probability >= s.Top[2].Probability);
        });
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Sampled_generation_matches_the_float64_reference_id_for_id(BackendKind backend, string ruleName)
    {
        var rule = Rule(ruleName);
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend));
        await scope.Engine.OpenAsync("a");
        var prompt = CharModel.Prompt("She said that the ");

        var steps = await scope.Engine.CollectAsync("a", GenerationRequest.Of(120, prompt) with { Sampling = rule });

        var expected = Float64Generator.Run(CharModel.Weights, prompt.Select(t => t.TokenId).ToArray(), 120, rule);
        output.WriteLine($"{backend} {rule}: \"{CharModel.Text(steps.Ids())}\"");
        output.WriteLine($"smallest margin {expected.SmallestMargin:E2}, worst logit error {Generations.WorstLogitError(steps, expected):E2}");
        Assert.Equal(expected.Ids, steps.Ids());
        Assert.True(Generations.WorstLogitError(steps, expected) <= 1e-5);
        var required = SafeMargin(Generations.WorstLogitError(steps, expected), rule.Temperature);
        Assert.True(expected.SmallestMargin > required, $"a draw was within {expected.SmallestMargin:E2} of a boundary; {required:E2} needed");
        // The model's probability of each id, from its fp32 logits, as the reference computes it from its own.
        Assert.All(steps, (s, t) => Assert.True(Math.Abs(Softmax(expected.Logits[t])[s.TokenId!.Value] - s.Probability!.Value) <= 1e-5, $"step {t}"));
    }

    [Fact]
    public async Task Both_backends_and_a_second_run_generate_the_same_ids_for_the_same_seed()
    {
        // The prompt, rule and length of the reference test above, whose decisions are all far from a boundary.
        var request = GenerationRequest.Of(120, CharModel.Prompt("She said that the ")) with { Sampling = Rule("all") };
        var runs = new List<int[]>();
        foreach (var backend in new[] { BackendKind.Managed, BackendKind.Torch, BackendKind.Managed })
        {
            await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend));
            await scope.Engine.OpenAsync("a");
            runs.Add((await scope.Engine.CollectAsync("a", request)).Ids());
        }

        Assert.Equal(runs[0], runs[1]);
        Assert.Equal(runs[0], runs[2]);
        // A different seed draws differently.
        await using (var other = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights))
        {
            await other.Engine.OpenAsync("a");
            var reseeded = (await other.Engine.CollectAsync("a", request with { Sampling = request.Sampling with { Seed = 99 } })).Ids();
            Assert.NotEqual(runs[0], reseeded);
        }
    }

    [Fact]
    public void The_random_numbers_are_splitmix64_keyed_by_seed_and_step_as_documented()
    {
        // SplitMix64 from state 0: its first outputs are 0xE220A8397B1DCDAF and 0x6E789E6AA1B965F4 (the published sequence).
        Assert.Equal((0xE220A8397B1DCDAFUL >> 11) / 9007199254740992.0, Float64Generator.Uniform(0, 0));
        Assert.Equal((0x6E789E6AA1B965F4UL >> 11) / 9007199254740992.0, Float64Generator.Uniform(0, 1));
        Assert.Equal(Float64Generator.Uniform(1234, 17), Streaming.Sessions.TokenSampler.Uniform(1234, 17));
        Assert.Equal(Float64Generator.Uniform(-5, 0), Streaming.Sessions.TokenSampler.Uniform(-5, 0));
    }

    [Fact]
    public void The_engines_sampler_picks_what_the_documented_algorithm_picks_ties_going_to_the_smaller_id()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 5000; trial++)
        {
            // Logits on a coarse grid, so that ties (also at the top-k cut) are common.
            var vocabulary = random.Next(2, 40);
            var logits = Enumerable.Range(0, vocabulary).Select(_ => random.Next(-8, 9) / 4f).ToArray();
            var rule = (trial % 5) switch
            {
                0 => SamplingRule.Greedy,
                1 => SamplingRule.Random(random.NextInt64()),
                2 => SamplingRule.Random(random.NextInt64(), temperature: 0.3 + random.NextDouble() * 2),
                3 => SamplingRule.Random(random.NextInt64(), topK: random.Next(1, vocabulary + 3)),
                _ => SamplingRule.Random(random.NextInt64(), temperature: 0.5 + random.NextDouble(), topK: random.Next(1, vocabulary + 3), topP: 0.05 + random.NextDouble() * 0.95),
            };
            var step = random.Next(0, 1000);

            var (id, probability) = new Streaming.Sessions.TokenSampler(rule, vocabulary).Pick(logits, step);

            var (expected, _) = Float64Generator.Pick(logits.Select(v => (double)v).ToArray(), step, rule);
            Assert.True(expected == id, $"trial {trial}, {rule}, step {step}, logits [{string.Join(", ", logits)}]: expected {expected}, got {id}");
            Assert.Equal(Softmax(logits.Select(v => (double)v).ToArray())[id], probability, 12);
        }
    }

    // Seeds chosen, among 1-12, for margins well above what the logits' error can move (1.7e-3, 1.8e-3, 2.6e-3, 2.0e-4,
    // 2.4e-4 over these 120 steps): about a third of the seeds have a decision within 5e-5 of a boundary somewhere in 120
    // steps (one within 1.8e-7), where the backends' fp32 logits could pick another id than the float64 reference.
    internal static SamplingRule Rule(string name) => name switch
    {
        "plain" => SamplingRule.Random(seed: 10),
        "temperature" => SamplingRule.Random(seed: 10) with { Temperature = 0.7 },
        "top-k" => SamplingRule.Random(seed: 7) with { TopK = 5 },
        "top-p" => SamplingRule.Random(seed: 10) with { TopP = 0.9 },
        "all" => SamplingRule.Random(seed: 3) with { Temperature = 0.8, TopK = 20, TopP = 0.95 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static double[] Softmax(double[] z)
    {
        var max = z.Max();
        var e = z.Select(x => Math.Exp(x - max)).ToArray();
        var sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }
}
