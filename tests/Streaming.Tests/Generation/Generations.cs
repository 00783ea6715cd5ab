using Streaming.Cells.Backends;
using Streaming.TestSupport;

namespace Streaming.Tests.Generation;

/// <summary>Helpers: run a generation to its end, and the engines the tests use.</summary>
internal static class Generations
{
    public static EngineOptions On(BackendKind backend) => new() { Backend = new BackendOptions(backend) };

    public static async Task<List<GenerationStep>> CollectAsync(this IGenerationService engine, string sessionId, GenerationRequest request, CancellationToken cancellation = default)
    {
        var steps = new List<GenerationStep>();
        await foreach (var step in engine.GenerateAsync(sessionId, request, cancellation))
        {
            steps.Add(step);
        }

        return steps;
    }

    public static int[] Ids(this IEnumerable<GenerationStep> steps) => steps.Select(s => s.TokenId!.Value).ToArray();

    /// <summary>Largest absolute difference between the engine's fp32 logits and the float64 reference's.</summary>
    public static double WorstLogitError(IReadOnlyList<GenerationStep> steps, Generated reference)
    {
        var worst = 0.0;
        for (var t = 0; t < steps.Count; t++)
        {
            var actual = steps[t].Output.Span;
            Assert.Equal(reference.Logits[t].Length, actual.Length);
            for (var i = 0; i < actual.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i] - reference.Logits[t][i]));
            }
        }

        return worst;
    }
}
