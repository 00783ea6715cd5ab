using Akka.Actor;
using Streaming;
using Streaming.Cells.Model;
using Streaming.Host.Server;
using Streaming.Host.Service;

namespace Host.Tests.Service;

/// <summary>The generate command prints the prompt and exactly the continuation the engine generates for it.</summary>
public sealed class GenerateCommandTests
{
    private static readonly string Manifest = GenerateCommand.DefaultModel;

    /// <summary>The engine's own continuation, generated in process and decoded with the model's vocabulary.</summary>
    private static async Task<string> EngineContinuation(RecurrentEngine engine, string prompt, int steps, Streaming.SamplingRule sampling)
    {
        var vocabulary = CharVocabulary.Load(CharVocabulary.PathFor(Manifest));
        await engine.OpenAsync("reference");
        var ids = new List<int>();
        var request = Streaming.GenerationRequest.Of(steps, vocabulary.Encode(prompt).Select(Token.Id).ToArray()) with { Sampling = sampling };
        await foreach (var step in engine.GenerateAsync("reference", request))
        {
            ids.Add(step.TokenId!.Value);
        }

        return vocabulary.Decode(ids);
    }

    private static async Task<(int Code, string Output, string Errors)> Run(GenerateCommand.GenerateSettings settings)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var code = await GenerateCommand.RunAsync(settings, output, errors, CancellationToken.None);
        return (code, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task Generate_in_process_prints_the_prompt_and_the_greedy_continuation_the_engine_gives()
    {
        var run = await Run(new("The ", 120, Streaming.Client.SamplingRule.Greedy, Manifest, null, 0));

        using var system = ActorSystem.Create("generate-reference", "akka.loglevel = WARNING");
        await using var engine = await RecurrentEngine.StartAsync(system, Manifest);
        var expected = await EngineContinuation(engine, "The ", 120, Streaming.SamplingRule.Greedy);
        Assert.Equal((0, "The " + expected + Environment.NewLine, ""), run);
        Assert.Equal(120, expected.Length);
    }

    [Fact]
    public async Task Generate_against_a_running_server_prints_the_seeded_continuation_the_engine_gives()
    {
        using var system = ActorSystem.Create("generate-server", "akka.loglevel = WARNING");
        await using var engine = await RecurrentEngine.StartAsync(system, Manifest);
        await using var server = await StreamingServer.StartAsync(system, engine, ServerOptions.Default with { Host = "127.0.0.1", Port = 0 });
        var sampling = Streaming.Client.SamplingRule.Random(1, temperature: 0.8, topK: 20, topP: 0.95);

        var run = await Run(new("She said ", 80, sampling, Manifest, "127.0.0.1", server.Endpoint.Port));

        var expected = await EngineContinuation(engine, "She said ", 80, Streaming.SamplingRule.Random(1, temperature: 0.8, topK: 20, topP: 0.95));
        Assert.Equal((0, "She said " + expected + Environment.NewLine, ""), run);
    }

    [Fact]
    public async Task A_prompt_with_a_character_outside_the_vocabulary_exits_2_naming_it()
    {
        var run = await Run(new("snow \u2603", 5, Streaming.Client.SamplingRule.Greedy, Manifest, null, 0));
        Assert.Equal(2, run.Code);
        Assert.StartsWith("generate: ", run.Errors, StringComparison.Ordinal);
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task A_refused_parameter_exits_1_with_the_engines_message_naming_the_field()
    {
        var run = await Run(new("The ", 5, Streaming.Client.SamplingRule.Random(1, temperature: 0), Manifest, null, 0));
        Assert.Equal(1, run.Code);
        Assert.Contains("Temperature", run.Errors, StringComparison.Ordinal);
    }
}
