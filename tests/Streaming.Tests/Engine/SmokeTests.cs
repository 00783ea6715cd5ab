using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class SmokeTests
{
    [Fact]
    public async Task One_session_gets_the_bulk_outputs_token_by_token()
    {
        var (identity, weights) = TestModels.Create(TestModels.Lstm2);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var tokens = TestModels.RandomSequence(TestModels.Lstm2, new Random(3), 10);
        var expected = reference.Run(tokens);
        await scope.Engine.OpenAsync("a");
        for (var t = 0; t < tokens.Length; t++)
        {
            var output = await scope.Engine.PushAsync("a", tokens[t]);
            Assert.Equal(t + 1, output.Position);
            Expect.Close(expected.Outputs[t], output.Output.Span, $"step {t}");
        }
    }
}
