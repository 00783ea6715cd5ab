using Streaming.Cells.Backends;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Generation;

/// <summary>Generating sessions contribute one step per batch, like pushed tokens: they batch together, and neither starves the others.</summary>
public sealed class GenerationBatchingTests
{
    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task Many_sessions_generating_at_once_run_as_many_row_steps_and_each_gets_its_own_ids(BackendKind backend)
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend));
        const int sessions = 256, steps = 24;
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => scope.Engine.OpenAsync($"s{s}")));
        var before = scope.Engine.Statistics.Stages[0];

        var runs = await Task.WhenAll(Enumerable.Range(0, sessions).Select(s =>
            scope.Engine.CollectAsync($"s{s}", GenerationRequest.Of(steps, CharModel.Prompt("The ")) with { Sampling = SamplingRule.Random(s % 4) })));

        var layer = scope.Engine.Statistics.Stages[0];
        var batches = layer.Batches - before.Batches;
        var elements = layer.Elements - before.Elements;
        Assert.Equal(sessions * (4 + steps), elements);
        // 28 rounds of one element per session; a session is never twice in a batch, so at least 28 batches.
        Assert.True(batches <= elements / 16, $"{batches} batches for {elements} elements");
        Assert.True(layer.LargestBatch >= sessions / 2, $"the largest batch held {layer.LargestBatch} rows");
        // Batch composition does not change the numbers: sessions with the same seed generate the same ids.
        for (var s = 4; s < sessions; s++)
        {
            Assert.Equal(runs[s % 4].Ids(), runs[s].Ids());
        }
    }

    [Fact]
    public async Task Tokens_pushed_by_another_session_are_not_starved_by_many_generations()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        const int generators = 128, steps = 300;
        await Task.WhenAll(Enumerable.Range(0, generators).Select(s => scope.Engine.OpenAsync($"g{s}")).Append(scope.Engine.OpenAsync("pusher")));
        var generations = Enumerable.Range(0, generators)
            .Select(s => scope.Engine.CollectAsync($"g{s}", GenerationRequest.Of(steps, CharModel.Prompt("A "))))
            .ToArray();

        // Thirty tokens one after another: each waits for the one before, so each needs a turn in the batches.
        for (var t = 0; t < 30; t++)
        {
            await scope.Engine.PushAsync("pusher", Token.Id(40));
        }

        // Each pushed token took a round through the pipeline as each generation step does: 30 rounds, not 300.
        Assert.True(generations.Count(g => g.IsCompleted) == 0, "the pushed tokens waited until generations had finished");
        await Task.WhenAll(generations);
    }

    [Fact]
    public async Task A_generation_is_not_starved_by_a_session_that_floods_tokens()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, new EngineOptions { MaxInFlightPerSession = 64 });
        await scope.Engine.OpenAsync("flood");
        await scope.Engine.OpenAsync("generator");
        const int flood = 4000;
        var pushes = Enumerable.Range(0, flood).Select(_ => scope.Engine.PushAsync("flood", Token.Id(7))).ToArray();

        var steps = await scope.Engine.CollectAsync("generator", GenerationRequest.Of(40, CharModel.Prompt("It ")));

        // One step per batch each: the generation finished while most of the flood still waited.
        var done = pushes.Count(p => p.IsCompleted);
        Assert.Equal(40, steps.Count);
        Assert.True(done < flood / 2, $"{done} of {flood} flooded tokens were done when the 40-step generation ended");
        await Task.WhenAll(pushes);
    }
}
